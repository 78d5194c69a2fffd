package acmpca

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/store"
)

// Audit reports are kept as store.KindSetting records under this prefix,
// outside package ca's layout: like PCA's S3 objects, they outlive the CA.
const reportPrefix = "acm-pca/audit-report/"

// AuditReportSuccess is the only status iamra reports: the report is
// written before CreateCertificateAuthorityAuditReport returns.
const AuditReportSuccess = "SUCCESS"

// report is one stored audit report.
type report struct {
	CertificateAuthorityArn string    `json:"certificateAuthorityArn"`
	AuditReportID           string    `json:"auditReportId"`
	S3BucketName            string    `json:"s3BucketName"`
	S3Key                   string    `json:"s3Key"`
	Format                  string    `json:"format"`
	CreatedAt               time.Time `json:"createdAt"`
	Body                    []byte    `json:"body"`
}

// reportKey is PCA's S3 key of a report.
func reportKey(caID, reportID, format string) string {
	return "audit-report/" + caID + "/" + reportID + "." + strings.ToLower(format)
}

func reportRecordID(caID, reportID string) string { return reportPrefix + caID + "/" + reportID }

var reportIDPattern = regexp.MustCompile(`^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$`)

// caIDOf is the id in a CA ARN, "" if the ARN cannot be one.
func caIDOf(caARN string) string {
	a, err := arn.Parse(caARN)
	if err != nil || a.ResourceType() != "certificate-authority" {
		return ""
	}
	return a.ResourceID()
}

func (h *Handler) storeOrFail() (store.Store, error) {
	if h.cfg.Store == nil {
		return nil, awserr.New(ca.CodeRequestFailed, http.StatusBadRequest, "Audit reports are not available on this server.").
			Because("internal", "acmpca.Config.Store is not set")
	}
	return h.cfg.Store, nil
}

func (h *Handler) createAuditReport(ctx context.Context, body []byte, c *call) (any, error) {
	var in createReportInput
	if err := decode(body, c, &in); err != nil {
		return nil, err
	}
	var vs []*awserr.Violation
	vs = append(vs, in.arn(), requiredString("s3BucketName", in.S3BucketName, 3, 255))
	if in.AuditReportResponseFormat == nil {
		vs = append(vs, null("auditReportResponseFormat"))
	}
	vs = append(vs, enum("auditReportResponseFormat", in.AuditReportResponseFormat, ca.AuditReportJSON, ca.AuditReportCSV))
	if err := check(vs...); err != nil {
		return nil, err
	}
	st, err := h.storeOrFail()
	if err != nil {
		return nil, err
	}
	caARN, format := *in.CertificateAuthorityArn, *in.AuditReportResponseFormat
	var buf bytes.Buffer
	if err := h.cfg.Service.WriteAuditReport(ctx, caARN, format, &buf); err != nil {
		return nil, err
	}
	id, err := newUUID(h.cfg.Rand)
	if err != nil {
		return nil, awserr.Internal("reading randomness: " + err.Error())
	}
	caID := caIDOf(caARN) // WriteAuditReport has resolved the ARN
	rep := report{
		CertificateAuthorityArn: caARN, AuditReportID: id, S3BucketName: *in.S3BucketName,
		S3Key: reportKey(caID, id, format), Format: format, CreatedAt: h.cfg.Now().UTC(), Body: buf.Bytes(),
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		_, err := store.Put(tx, store.KindSetting, reportRecordID(caID, id), 0, rep)
		return err
	})
	if err != nil {
		return nil, awserr.Internal(fmt.Sprintf("store: audit report %s: %v", id, err))
	}
	return createReportOutput{AuditReportId: id, S3Key: rep.S3Key}, nil
}

func (h *Handler) describeAuditReport(ctx context.Context, body []byte, c *call) (any, error) {
	var in describeReportInput
	if err := decode(body, c, &in); err != nil {
		return nil, err
	}
	vs := []*awserr.Violation{in.arn(), requiredString("auditReportId", in.AuditReportId, 36, 36)}
	if in.AuditReportId != nil && len(*in.AuditReportId) == 36 && !reportIDPattern.MatchString(*in.AuditReportId) {
		vs = append(vs, &awserr.Violation{Value: *in.AuditReportId, Field: "auditReportId",
			Constraint: "Member must satisfy regular expression pattern: [a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}"})
	}
	if err := check(vs...); err != nil {
		return nil, err
	}
	// The CA must exist (and the ARN be this server's) before its reports
	// are looked at, so the errors are the CA's.
	if _, err := h.cfg.Service.DescribeCertificateAuthority(ctx, *in.CertificateAuthorityArn); err != nil {
		return nil, err
	}
	rep, err := h.loadReport(ctx, caIDOf(*in.CertificateAuthorityArn), strings.ToLower(*in.AuditReportId))
	if err != nil {
		return nil, err
	}
	return describeReportOutput{AuditReportStatus: AuditReportSuccess, S3BucketName: rep.S3BucketName, S3Key: rep.S3Key,
		CreatedAt: at(rep.CreatedAt)}, nil
}

func (h *Handler) loadReport(ctx context.Context, caID, reportID string) (report, error) {
	st, err := h.storeOrFail()
	if err != nil {
		return report{}, err
	}
	var rep report
	err = st.View(ctx, func(tx store.Tx) error {
		var err error
		rep, _, err = store.Get[report](tx, store.KindSetting, reportRecordID(caID, reportID))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return report{}, awserr.New(ca.CodeResourceNotFound, http.StatusBadRequest, fmt.Sprintf("Could not find audit report %s.", reportID)).
			Because(ReasonReportNotFound, "no audit report %s for CA %s", reportID, caID)
	}
	if err != nil {
		return report{}, awserr.Internal(fmt.Sprintf("store: audit report %s: %v", reportID, err))
	}
	return rep, nil
}

// reportPath matches an audit report's S3 key at the end of a path:
// /audit-report/<ca-id>/<report-id>.<ext>, optionally after /<bucket>.
var reportPath = regexp.MustCompile(`(?:^|/)audit-report/([A-Za-z0-9-]{1,64})/([a-fA-F0-9-]{36})\.(json|csv)$`)

// serveReport sends an audit report's body (GET, HEAD).
func (h *Handler) serveReport(w http.ResponseWriter, r *http.Request) {
	m := reportPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		h.refuse(w, r, "GetAuditReport", unknownOperation("%s %s", r.Method, r.URL.EscapedPath()))
		return
	}
	rep, err := h.loadReport(r.Context(), m[1], strings.ToLower(m[2]))
	if err == nil && !strings.EqualFold(rep.Format, m[3]) {
		err = awserr.New(ca.CodeResourceNotFound, http.StatusNotFound, "Could not find audit report "+m[2]+".").
			Because(ReasonReportNotFound, "report %s is %s, not %s", m[2], rep.Format, m[3])
	}
	if err != nil {
		e := *awserr.As(err)
		if e.Code == ca.CodeResourceNotFound {
			e.Status = http.StatusNotFound // a plain GET, as S3 answers it
		}
		h.refuse(w, r, "GetAuditReport", &e)
		return
	}
	ct := "application/json"
	if rep.Format == ca.AuditReportCSV {
		ct = "text/csv"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", rep.CreatedAt, bytes.NewReader(rep.Body))
}
