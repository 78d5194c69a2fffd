package ca

import (
	"bytes"
	"cmp"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/store"
)

// Validity types: PCA's, plus HOURS (an iamra extension for short-lived
// workload certificates).
const (
	ValidityEndDate  = "END_DATE"
	ValidityAbsolute = "ABSOLUTE"
	ValidityDays     = "DAYS"
	ValidityMonths   = "MONTHS"
	ValidityYears    = "YEARS"
	ValidityHours    = "HOURS"
)

// Backdate is how far before issuance notBefore is set by default, as PCA
// does, to absorb clock skew.
const Backdate = time.Hour

// Validity is PCA's Validity: a Value interpreted per Type.
type Validity struct {
	Type  string `json:"Type"`
	Value int64  `json:"Value"`
}

// maxYear keeps computed dates inside what X.509 GeneralizedTime encodes.
const maxYear = 9999

// Time resolves v at now: relative types count from now, ABSOLUTE is Unix
// seconds, END_DATE is YYMMDDHHMMSS (UTCTime) or YYYYMMDDHHMMSS.
func (v Validity) Time(now time.Time, field string) (time.Time, error) {
	switch v.Type {
	case ValidityEndDate, ValidityAbsolute, ValidityDays, ValidityMonths, ValidityYears, ValidityHours:
	default:
		return time.Time{}, firstViolation(enumViolation(field+".type", v.Type, ValidityEndDate, ValidityAbsolute, ValidityDays, ValidityMonths, ValidityYears, ValidityHours))
	}
	if v.Value < 1 {
		return time.Time{}, awserr.Violations(awserr.Violation{Value: strconv.FormatInt(v.Value, 10), Field: field + ".value",
			Constraint: "Member must have value greater than or equal to 1"})
	}
	tooFar := func() error {
		return invalidArgs("ca.validity.too_far", "The %s value %d is too far in the future.", field, v.Value)
	}
	var t time.Time
	// The limits keep the arithmetic below far from overflow; maxYear
	// decides.
	switch n := int(v.Value); v.Type {
	case ValidityHours:
		if v.Value > 10000*8784 {
			return time.Time{}, tooFar()
		}
		t = now.Add(time.Duration(n) * time.Hour)
	case ValidityDays:
		if v.Value > 10000*366 {
			return time.Time{}, tooFar()
		}
		t = now.AddDate(0, 0, n)
	case ValidityMonths:
		if v.Value > 10000*12 {
			return time.Time{}, tooFar()
		}
		t = now.AddDate(0, n, 0)
	case ValidityYears:
		if v.Value > 10000 {
			return time.Time{}, tooFar()
		}
		t = now.AddDate(n, 0, 0)
	case ValidityAbsolute:
		if v.Value > 253402300799 { // 9999-12-31T23:59:59Z
			return time.Time{}, tooFar()
		}
		t = time.Unix(v.Value, 0).UTC()
	case ValidityEndDate:
		var err error
		if t, err = parseEndDate(v.Value); err != nil {
			return time.Time{}, invalidArgs("ca.validity.end_date",
				"The END_DATE value %d is not a date in YYMMDDHHMMSS or YYYYMMDDHHMMSS format.", v.Value)
		}
	}
	if t.Year() > maxYear {
		return time.Time{}, tooFar()
	}
	return t, nil
}

func parseEndDate(v int64) (time.Time, error) {
	s := strconv.FormatInt(v, 10)
	switch len(s) {
	case 11, 12: // UTCTime; a leading zero year (2000-2009) drops a digit
		s = fmt.Sprintf("%012d", v)
		yy, _ := strconv.Atoi(s[:2])
		century := "20"
		if yy >= 50 {
			century = "19"
		}
		s = century + s
	case 14:
	default:
		return time.Time{}, errors.New("bad length")
	}
	return time.Parse("20060102150405", s)
}

// IssueCertificateRequest is IssueCertificate's input (PCA's shape;
// ApiPassthrough already converted to pkix/net types by the API layer).
type IssueCertificateRequest struct {
	CertificateAuthorityArn string
	// Csr is PEM (as PCA takes it) or DER.
	Csr []byte
	// SigningAlgorithm is a PCA name; "" uses the CA's configured one.
	SigningAlgorithm string
	// TemplateArn is a template ARN or name; "" = EndEntityCertificate/V1.
	TemplateArn       string
	Validity          Validity
	ValidityNotBefore *Validity
	IdempotencyToken  string
	ApiPassthrough    *Passthrough
}

// maxCSRSize is PCA's limit on the Csr member.
const maxCSRSize = 32768

// IssueCertificate signs a CSR and records the certificate, returning its
// ARN (<ca-arn>/certificate/<serial>). Everything is checked before
// anything is signed, and the record is written in the same transaction
// that makes the certificate retrievable, so a failed request leaves no
// trace. A repeated IdempotencyToken with the same CSR within the window
// returns the first certificate's ARN.
func (s *Service) IssueCertificate(ctx context.Context, req IssueCertificateRequest) (string, error) {
	if len(req.Csr) == 0 {
		return "", awserr.Violations(awserr.Violation{Null: true, Field: "csr", Constraint: "Member must not be null"})
	}
	if len(req.Csr) > maxCSRSize {
		return "", awserr.Violations(awserr.Violation{Value: "<csr>", Field: "csr", Constraint: "Member must have length less than or equal to 32768"})
	}
	t, err := LookupTemplate(req.TemplateArn)
	if err != nil {
		return "", err
	}
	csr, err := ParseCSR(req.Csr)
	if err != nil {
		return "", err
	}
	// The CA record is read from the store only when this process has not
	// decoded it before: the transaction that records the certificate
	// compares the stored bytes with the ones signed from anyway, and if
	// they differ the issuance starts over from what it found there.
	a, rawCA, cached := s.cachedAuthority(req.CertificateAuthorityArn)
	if !cached {
		if a, rawCA, err = s.authorityRecord(ctx, req.CertificateAuthorityArn); err != nil {
			return "", err
		}
	}
	for attempt := 1; ; attempt++ {
		certARN, changed, err := s.issueFrom(ctx, req, t, csr, a, rawCA)
		switch {
		case changed != nil:
			a, rawCA = changed.auth, changed.raw
		case err == nil || !cached:
			return certARN, err
		default:
			// Refused on what the cache said: decide on the stored record.
			fresh, freshRaw, ferr := s.authorityRecord(ctx, req.CertificateAuthorityArn)
			if ferr != nil || bytes.Equal(freshRaw, rawCA) {
				return "", cmp.Or(ferr, err)
			}
			a, rawCA = fresh, freshRaw
		}
		cached = false
		if attempt == maxIssueAttempts {
			return "", pcaError(CodeConcurrentModification, "A previous update to your private CA is still ongoing.", "ca.issue.raced",
				"%s changed during each of %d attempts to issue", a.Arn, attempt)
		}
	}
}

// maxIssueAttempts bounds how often IssueCertificate starts over because
// the CA changed while it signed.
const maxIssueAttempts = 3

// storedAuthority is a CA record and its decode.
type storedAuthority struct {
	raw  []byte
	auth Authority
}

// issuing is what of a CA record goes into the certificates it issues and
// into the decision to issue at all. The rest (tags, the CRL sequence,
// which every revocation advances) may change while a certificate is
// signed without making it wrong.
type issuing struct {
	status, usageMode, signingAlgorithm, crlDistributionPoint, certificatePEM, keyFP string
}

func (s *Service) issuing(a Authority) issuing {
	return issuing{status: a.Status, usageMode: a.UsageMode, signingAlgorithm: a.CertificateAuthorityConfiguration.SigningAlgorithm,
		crlDistributionPoint: s.CRLDistributionPoint(a), certificatePEM: a.CertificatePEM, keyFP: keyFingerprint(a.Key)}
}

// issueFrom issues from a, the CA record decoded from rawCA. If, when the
// certificate is to be recorded, the stored record differs from a in what
// issuance depends on, nothing is recorded and the stored record is
// returned as changed instead.
func (s *Service) issueFrom(ctx context.Context, req IssueCertificateRequest, t *Template, csr *x509.CertificateRequest,
	a Authority, rawCA []byte) (certARN string, changed *storedAuthority, err error) {
	if err := s.canIssue(a, t); err != nil {
		return "", nil, err
	}
	// From here on the issuance counts as in progress, so that records
	// written meanwhile wait to share a transaction with this one.
	tk := s.records.begin()
	defer tk.abandon()
	now := s.now()
	notAfter, err := req.Validity.Time(now, "validity")
	if err != nil {
		return "", nil, err
	}
	notBefore := now.Add(-Backdate)
	if req.ValidityNotBefore != nil {
		if req.ValidityNotBefore.Type != ValidityAbsolute && req.ValidityNotBefore.Type != ValidityEndDate {
			return "", nil, invalidArgs("ca.validity.not_before_type", "ValidityNotBefore must be of type ABSOLUTE or END_DATE.")
		}
		if notBefore, err = req.ValidityNotBefore.Time(now, "validityNotBefore"); err != nil {
			return "", nil, err
		}
	}
	if !notAfter.After(now) {
		return "", nil, invalidArgs("ca.validity.past", "The certificate validity must end in the future.")
	}
	// The cap is for what the CA issues, not for its own root certificate
	// (self-issued with RootCACertificate/V1), which PCA lets live for years.
	if a.UsageMode == UsageModeShortLived && !t.Root && notAfter.Sub(now) > ShortLivedMaxValidity {
		return "", nil, invalidArgs("ca.validity.short_lived",
			"A CA in SHORT_LIVED_CERTIFICATE mode issues certificates valid for at most 7 days.")
	}
	sigAlg := req.SigningAlgorithm
	if sigAlg == "" {
		sigAlg = a.CertificateAuthorityConfiguration.SigningAlgorithm
	}

	var tokenID string
	if req.IdempotencyToken != "" {
		tokenID = issueTokenID(a.ID, hashHex([]byte(req.IdempotencyToken), csr.Raw))
		if certARN, ok, err := s.lookupToken(ctx, store.KindCertificate, tokenID, now); err != nil || ok {
			return certARN, nil, err
		}
	}

	signer, err := s.signer(ctx, a)
	if err != nil {
		return "", nil, err
	}
	var issuer *x509.Certificate
	if !t.Root {
		if issuer, err = s.certificate(a); err != nil {
			return "", nil, err
		}
	}
	cert, err := issueForRecord(issuer, signer, IssueRequest{
		Template: t.Name, CSR: csr, NotBefore: notBefore, NotAfter: notAfter, SigningAlgorithm: sigAlg,
		CRLDistributionPoint: s.CRLDistributionPoint(a), Passthrough: req.ApiPassthrough,
	}, s.cfg.Rand)
	if err != nil {
		return "", nil, err
	}
	serial := serialHex(cert.serial)
	rec := IssuedCertificate{
		Arn: a.Arn + "/certificate/" + serial, CertificateAuthorityArn: a.Arn, Serial: serial,
		Subject: cert.subject, NotBefore: cert.notBefore, NotAfter: cert.notAfter, IssuedAt: now,
		TemplateArn: t.ARN(s.cfg.Scope.Partition), Status: CertificateIssued, CertificatePEM: certificatePEM(cert.der),
	}
	data, err := marshalIssued(&rec)
	if err != nil {
		return "", nil, storeError(fmt.Errorf("store: encode %s/%s: %w", store.KindCertificate, certID(a.ID, serial), err))
	}
	m := &issueRecord{caID: a.ID, rawCA: rawCA, auth: a, id: certID(a.ID, serial), data: data,
		tokenID: tokenID, token: idempotencyToken{Arn: rec.Arn, ExpiresAt: now.Add(s.cfg.IdempotencyWindow)}, now: now}
	s.records.submit(tk, m, s.writeRecords)
	if m.stored != nil {
		// Whether or not it committed, the transaction read the stored
		// record: later issuances start from it.
		s.keepDecoded(req.CertificateAuthorityArn, m.stored.raw, m.stored.auth)
	}
	switch {
	case m.err != nil:
		return "", nil, s.notFound(req.CertificateAuthorityArn, m.err)
	case m.changed:
		return "", m.stored, nil
	case m.existing != "":
		return m.existing, nil, nil
	}
	return rec.Arn, nil, nil
}

// canIssue checks the CA's state for a template: RootCACertificate
// templates are for a root CA's own certificate (pending, or renewing);
// everything else needs an ACTIVE, unexpired CA.
func (s *Service) canIssue(a Authority, t *Template) error {
	if t.Root {
		if a.Type != TypeRoot {
			return invalidArgs("ca.template.root_on_subordinate", "The %s template can only be used by a root CA.", t.Name)
		}
		if a.Status == StatusPendingCertificate || a.Status == StatusActive {
			return nil
		}
		return invalidState(a, "IssueCertificate")
	}
	if e := s.effective(a); e.Status != StatusActive {
		return invalidState(e, "IssueCertificate")
	}
	return nil
}

// CRLDistributionPoint is the CRL URL written into a's certificates, ""
// when CRLs are disabled, the extension is omitted, or no base URL is set:
// <base>/crl/<ca-id>.crl, with CustomCname giving http://<cname> as base
// and CustomPath replacing "crl".
func (s *Service) CRLDistributionPoint(a Authority) string {
	c := a.RevocationConfiguration.CrlConfiguration
	if c == nil || !c.Enabled || (c.CrlDistributionPointExtensionConfiguration != nil && c.CrlDistributionPointExtensionConfiguration.OmitExtension) {
		return ""
	}
	base := s.cfg.CRLBaseURL
	if c.CustomCname != "" {
		base = "http://" + c.CustomCname
	}
	if base == "" {
		return ""
	}
	path := "crl"
	if c.CustomPath != "" {
		path = strings.Trim(c.CustomPath, "/")
	}
	return base + "/" + path + "/" + a.ID + ".crl"
}

// GetCertificate returns an issued certificate and its chain (the CA's
// certificate and the CA's own chain; "" for a root's self-issued one).
func (s *Service) GetCertificate(ctx context.Context, caARN, certARN string) (cert, chain string, err error) {
	rec, a, err := s.issued(ctx, caARN, certARN)
	if err != nil {
		return "", "", err
	}
	if t, _ := LookupTemplate(rec.TemplateArn); t != nil && t.Root {
		return rec.CertificatePEM, "", nil
	}
	return rec.CertificatePEM, a.CertificatePEM + a.CertificateChainPEM, nil
}

// DescribeCertificate returns the record of an issued certificate (iamra
// extension; PCA has only the audit report).
func (s *Service) DescribeCertificate(ctx context.Context, caARN, certARN string) (IssuedCertificate, error) {
	rec, _, err := s.issued(ctx, caARN, certARN)
	return rec, err
}

func (s *Service) issued(ctx context.Context, caARN, certARN string) (IssuedCertificate, Authority, error) {
	prefix := caARN + "/certificate/"
	n, ok := parseSerial(strings.TrimPrefix(certARN, prefix))
	if !strings.HasPrefix(certARN, prefix) || !ok {
		return IssuedCertificate{}, Authority{}, pcaError(CodeInvalidArn, fmt.Sprintf("The ARN %s is not a valid certificate ARN of %s.", certARN, caARN),
			"ca.arn.certificate", "expected %s<hex serial>", prefix)
	}
	a, err := s.authority(ctx, caARN)
	if err != nil {
		return IssuedCertificate{}, Authority{}, err
	}
	var rec IssuedCertificate
	err = s.cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		rec, _, err = store.Get[IssuedCertificate](tx, store.KindCertificate, certID(a.ID, serialHex(n)))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return IssuedCertificate{}, Authority{}, pcaError(CodeResourceNotFound, fmt.Sprintf("Could not find certificate %s.", certARN),
			"ca.certificate.not_found", "no certificate %s", certARN)
	}
	if err != nil {
		return IssuedCertificate{}, Authority{}, storeError(err)
	}
	return rec, a, nil
}

// ListCertificates pages through a CA's issued certificates in serial
// order: up to limit (0 = 1000) after the serial afterSerial ("" = from
// the start); next is "" at the end.
func (s *Service) ListCertificates(ctx context.Context, caARN, afterSerial string, limit int) (certs []IssuedCertificate, next string, err error) {
	id, err := s.caID(caARN)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	after := certPrefix(id)
	if afterSerial != "" {
		n, ok := parseSerial(afterSerial)
		if !ok {
			return nil, "", pcaError(CodeInvalidNextToken, "The token is not valid.", "ca.list.token", "bad serial %q", afterSerial)
		}
		after += serialHex(n)
	}
	err = s.cfg.Store.View(ctx, func(tx store.Tx) error {
		certs, next = nil, ""
		if _, err := tx.Get(store.KindCA, id); err != nil {
			return err
		}
		recs, more, err := tx.List(store.KindCertificate, store.ListOptions{After: after, Limit: limit})
		if err != nil {
			return err
		}
		for _, r := range recs {
			if !strings.HasPrefix(r.ID, certPrefix(id)) {
				return nil
			}
			var c IssuedCertificate
			if err := json.Unmarshal(r.Data, &c); err != nil {
				return err
			}
			certs = append(certs, c)
		}
		if more != "" && len(certs) > 0 {
			next = certs[len(certs)-1].Serial
		}
		return nil
	})
	if err != nil {
		return nil, "", s.notFound(caARN, err)
	}
	return certs, next, nil
}
