package ca

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"math/big"
)

// Audit report formats (PCA's AuditReportResponseFormat).
const (
	AuditReportJSON = "JSON"
	AuditReportCSV  = "CSV"
)

// auditTimeFormat is how PCA's audit reports print times.
const auditTimeFormat = "2006-01-02T15:04:05-0700"

// auditEntry is one row of PCA's audit report.
type auditEntry struct {
	AwsAccountID     string `json:"awsAccountId"`
	CertificateArn   string `json:"certificateArn"`
	Serial           string `json:"serial"`
	Subject          string `json:"subject"`
	NotBefore        string `json:"notBefore"`
	NotAfter         string `json:"notAfter"`
	IssuedAt         string `json:"issuedAt"`
	Status           string `json:"status"`
	RevokedAt        string `json:"revokedAt,omitempty"`
	RevocationReason string `json:"revocationReason,omitempty"`
	TemplateArn      string `json:"templateArn"`
}

var auditColumns = []string{"awsAccountId", "certificateArn", "serial", "subject", "notBefore", "notAfter", "issuedAt",
	"status", "revokedAt", "revocationReason", "templateArn"}

func (e auditEntry) row() []string {
	return []string{e.AwsAccountID, e.CertificateArn, e.Serial, e.Subject, e.NotBefore, e.NotAfter, e.IssuedAt,
		e.Status, e.RevokedAt, e.RevocationReason, e.TemplateArn}
}

// WriteAuditReport writes every certificate the CA issued, with its
// revocation state, as PCA's audit report (JSON array or CSV with a
// header), reading the store a page at a time.
func (s *Service) WriteAuditReport(ctx context.Context, caARN, format string, w io.Writer) error {
	if err := firstViolation(enumViolation("auditReportResponseFormat", format, AuditReportJSON, AuditReportCSV)); err != nil {
		return err
	}
	a, err := s.authority(ctx, caARN)
	if err != nil {
		return err
	}
	if a.Status == StatusPendingCertificate || a.Status == StatusDeleted {
		return invalidState(a, "CreateCertificateAuthorityAuditReport")
	}
	var cw *csv.Writer
	first := true
	if format == AuditReportCSV {
		cw = csv.NewWriter(w)
		if err := cw.Write(auditColumns); err != nil {
			return err
		}
	} else if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	after := ""
	for {
		page, next, err := s.ListCertificates(ctx, caARN, after, 500)
		if err != nil {
			return err
		}
		for _, c := range page {
			e := auditEntry{
				AwsAccountID: a.OwnerAccount, CertificateArn: c.Arn, Subject: c.Subject, Status: c.Status,
				NotBefore: c.NotBefore.UTC().Format(auditTimeFormat), NotAfter: c.NotAfter.UTC().Format(auditTimeFormat),
				IssuedAt: c.IssuedAt.UTC().Format(auditTimeFormat), RevocationReason: c.RevocationReason, TemplateArn: c.TemplateArn,
			}
			if n, ok := new(big.Int).SetString(c.Serial, 16); ok {
				e.Serial = serialColons(n)
			}
			if c.RevokedAt != nil {
				e.RevokedAt = c.RevokedAt.UTC().Format(auditTimeFormat)
			}
			if cw != nil {
				if err := cw.Write(e.row()); err != nil {
					return err
				}
				continue
			}
			b, _ := json.Marshal(e)
			if !first {
				b = append([]byte{','}, b...)
			}
			first = false
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	if cw != nil {
		cw.Flush()
		return cw.Error()
	}
	_, err = io.WriteString(w, "]")
	return err
}
