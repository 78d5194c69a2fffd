package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/store"
)

func (h *harness) count(t testing.TB, caARN string) int {
	t.Helper()
	certs, _, err := h.svc.ListCertificates(context.Background(), caARN, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(certs)
}

func TestValidityTime(t *testing.T) {
	now := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    Validity
		want time.Time
		err  string
	}{
		{Validity{ValidityHours, 5}, now.Add(5 * time.Hour), ""},
		{Validity{ValidityDays, 90}, now.AddDate(0, 0, 90), ""},
		{Validity{ValidityMonths, 1}, time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC), ""}, // Go's AddDate normalises Feb 31
		{Validity{ValidityYears, 2}, now.AddDate(2, 0, 0), ""},
		{Validity{ValidityAbsolute, 2524608000}, time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{Validity{ValidityEndDate, 491231235959}, time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), ""},
		{Validity{ValidityEndDate, 20491231235959}, time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), ""},
		{Validity{ValidityEndDate, 91231235959}, time.Date(2009, 12, 31, 23, 59, 59, 0, time.UTC), ""},
		{Validity{ValidityEndDate, 20491331235959}, time.Time{},
			"InvalidArgsException: The END_DATE value 20491331235959 is not a date in YYMMDDHHMMSS or YYYYMMDDHHMMSS format. [ca.validity.end_date] (The END_DATE value 20491331235959 is not a date in YYMMDDHHMMSS or YYYYMMDDHHMMSS format.)"},
		{Validity{"WEEKS", 1}, time.Time{},
			"ValidationException: 1 validation error detected: Value 'WEEKS' at 'validity.type' failed to satisfy constraint: Member must satisfy enum value set: [END_DATE, ABSOLUTE, DAYS, MONTHS, YEARS, HOURS] [validation.constraint] (Value 'WEEKS' at 'validity.type' failed to satisfy constraint: Member must satisfy enum value set: [END_DATE, ABSOLUTE, DAYS, MONTHS, YEARS, HOURS])"},
		{Validity{ValidityDays, 0}, time.Time{},
			"ValidationException: 1 validation error detected: Value '0' at 'validity.value' failed to satisfy constraint: Member must have value greater than or equal to 1 [validation.constraint] (Value '0' at 'validity.value' failed to satisfy constraint: Member must have value greater than or equal to 1)"},
		{Validity{ValidityYears, 1 << 40}, time.Time{},
			"InvalidArgsException: The validity value 1099511627776 is too far in the future. [ca.validity.too_far] (The validity value 1099511627776 is too far in the future.)"},
	} {
		got, err := tc.v.Time(now, "validity")
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%v: got %v\nwant %s", tc.v, err, tc.err)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("%v: got %v, %v; want %v", tc.v, got, err, tc.want)
		}
	}
}

// Every rejected request leaves nothing behind: no certificate record.
func TestIssueRejectionsRecordNothing(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	rootARN := h.activeRoot(t)
	shortARN, err := h.svc.CreateCertificateAuthority(ctx, CreateRequest{CertificateAuthorityType: TypeRoot, UsageMode: UsageModeShortLived,
		CertificateAuthorityConfiguration: Configuration{KeyAlgorithm: KeyECP256, SigningAlgorithm: SHA256WithECDSA, Subject: Subject{CommonName: "short"}}})
	if err != nil {
		t.Fatal(err)
	}
	shortCSR, _ := h.svc.GetCertificateAuthorityCsr(ctx, shortARN)
	shortRoot, err := h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: shortARN, Csr: []byte(shortCSR),
		TemplateArn: TemplateRootCA, Validity: Validity{Type: ValidityDays, Value: 7}})
	if err != nil {
		t.Fatal(err)
	}
	pemRoot, _, _ := h.svc.GetCertificate(ctx, shortARN, shortRoot)
	if err := h.svc.ImportCertificateAuthorityCertificate(ctx, shortARN, []byte(pemRoot), nil); err != nil {
		t.Fatal(err)
	}
	before := h.count(t, rootARN)
	key := mustKey(t, KeyECP256)
	good := csrPEM(t, key, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "w"}})
	tampered := []byte(strings.Replace(string(good), string(good[100:104]), "AAAA", 1))
	day := Validity{Type: ValidityDays, Value: 1}
	for _, tc := range []struct {
		name string
		req  IssueCertificateRequest
		want string
	}{
		{"no CSR", IssueCertificateRequest{CertificateAuthorityArn: rootARN, Validity: day},
			"ValidationException: 1 validation error detected: Value null at 'csr' failed to satisfy constraint: Member must not be null [validation.constraint] (Value null at 'csr' failed to satisfy constraint: Member must not be null)"},
		{"garbage CSR", IssueCertificateRequest{CertificateAuthorityArn: rootARN, Csr: []byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"), Validity: day},
			"MalformedCSRException: The certificate signing request is invalid. [ca.csr.parse] (cannot parse CSR: "},
		{"tampered CSR", IssueCertificateRequest{CertificateAuthorityArn: rootARN, Csr: tampered, Validity: day}, "MalformedCSRException"},
		{"beyond the CA", IssueCertificateRequest{CertificateAuthorityArn: rootARN, Csr: good, Validity: Validity{Type: ValidityYears, Value: 11}},
			"InvalidArgsException: The certificate validity specified exceeds the certificate authority validity (2036-11-20T12:00:00Z). [ca.validity.beyond_ca] (The certificate validity specified exceeds the certificate authority validity (2036-11-20T12:00:00Z).)"},
		{"in the past", IssueCertificateRequest{CertificateAuthorityArn: rootARN, Csr: good, Validity: Validity{Type: ValidityAbsolute, Value: t0.Unix() - 1}},
			"InvalidArgsException: The certificate validity must end in the future. [ca.validity.past] (The certificate validity must end in the future.)"},
		{"short-lived cap", IssueCertificateRequest{CertificateAuthorityArn: shortARN, Csr: good, Validity: Validity{Type: ValidityHours, Value: 7*24 + 1}},
			"InvalidArgsException: A CA in SHORT_LIVED_CERTIFICATE mode issues certificates valid for at most 7 days. [ca.validity.short_lived] (A CA in SHORT_LIVED_CERTIFICATE mode issues certificates valid for at most 7 days.)"},
		{"not-before type", IssueCertificateRequest{CertificateAuthorityArn: rootARN, Csr: good, Validity: day, ValidityNotBefore: &Validity{Type: ValidityDays, Value: 1}},
			"InvalidArgsException: ValidityNotBefore must be of type ABSOLUTE or END_DATE. [ca.validity.not_before_type] (ValidityNotBefore must be of type ABSOLUTE or END_DATE.)"},
		{"unknown template", IssueCertificateRequest{CertificateAuthorityArn: rootARN, Csr: good, Validity: day, TemplateArn: "arn:aws:acm-pca:::template/Nope/V1"},
			"InvalidArgsException: The template Nope/V1 is not supported. [ca.template.unknown] (The template Nope/V1 is not supported.)"},
		{"RSA algorithm on EC CA", IssueCertificateRequest{CertificateAuthorityArn: rootARN, Csr: good, Validity: day, SigningAlgorithm: SHA256WithRSA},
			"InvalidArgsException: The signing algorithm SHA256WITHRSA does not match the algorithm family of the CA's key. [ca.signing_algorithm.family] (The signing algorithm SHA256WITHRSA does not match the algorithm family of the CA's key.)"},
		{"root template for a workload", IssueCertificateRequest{CertificateAuthorityArn: rootARN, Csr: good, Validity: day, TemplateArn: TemplateRootCA},
			"InvalidArgsException: The RootCACertificate/V1 template can only be used by a root CA to issue its own certificate from its own CSR. [ca.template.root_not_self] (The RootCACertificate/V1 template can only be used by a root CA to issue its own certificate from its own CSR.)"},
		{"bad CA ARN", IssueCertificateRequest{CertificateAuthorityArn: "arn:aws:acm-pca:eu-west-1:123456789012:ca/x", Csr: good, Validity: day},
			"InvalidArnException: The ARN arn:aws:acm-pca:eu-west-1:123456789012:ca/x is not a valid certificate authority ARN. [ca.arn.malformed] (not arn:<partition>:acm-pca:<region>:<account>:certificate-authority/<id>: \"arn:aws:acm-pca:eu-west-1:123456789012:ca/x\")"},
		{"unknown CA", IssueCertificateRequest{CertificateAuthorityArn: "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/nope", Csr: good, Validity: day},
			"ResourceNotFoundException: Could not find certificate authority with ARN arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/nope. [ca.not_found] (no CA arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/nope)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.svc.IssueCertificate(ctx, tc.req)
			if err == nil {
				t.Fatal("issued")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got  %s\nwant %s", err, tc.want)
			}
		})
	}
	if n := h.count(t, rootARN); n != before {
		t.Fatalf("rejected requests recorded %d certificates", n-before)
	}
	if n := h.count(t, shortARN); n != 1 {
		t.Fatalf("short-lived CA has %d records, want its own root only", n)
	}
	// Exactly 7 days is fine in short-lived mode.
	if _, err := h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: shortARN, Csr: good, Validity: Validity{Type: ValidityDays, Value: 7}}); err != nil {
		t.Fatal(err)
	}

	// A disabled CA issues nothing; enabled again, it does.
	disabled := StatusDisabled
	if err := h.svc.UpdateCertificateAuthority(ctx, rootARN, &disabled, nil); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: rootARN, Csr: good, Validity: day})
	e := wantCode(t, err, CodeInvalidState)
	if e.Message != "The certificate authority "+rootARN+" is in the DISABLED state, which does not allow IssueCertificate." {
		t.Fatalf("message %q", e.Message)
	}
	active := StatusActive
	if err := h.svc.UpdateCertificateAuthority(ctx, rootARN, &active, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: rootARN, Csr: good, Validity: day}); err != nil {
		t.Fatal(err)
	}
	if n := h.count(t, rootARN); n != before+1 {
		t.Fatalf("%d records, want %d", n, before+1)
	}
}

func TestIdempotency(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	rootARN := h.activeRoot(t)
	k1, k2 := mustKey(t, KeyECP256), mustKey(t, KeyECP256)
	csr1 := csrPEM(t, k1, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "one"}})
	csr2 := csrPEM(t, k2, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "two"}})
	issue := func(csr []byte, token string) string {
		t.Helper()
		a, err := h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: rootARN, Csr: csr,
			Validity: Validity{Type: ValidityDays, Value: 1}, IdempotencyToken: token})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	base := h.count(t, rootARN)
	a := issue(csr1, "tok")
	if b := issue(csr1, "tok"); b != a {
		t.Fatalf("same token and CSR gave %s and %s", a, b)
	}
	if h.count(t, rootARN) != base+1 {
		t.Fatal("a repeated request recorded a second certificate")
	}
	if c := issue(csr2, "tok"); c == a {
		t.Fatal("another CSR under the same token must be another certificate")
	}
	if d := issue(csr1, ""); d == a {
		t.Fatal("no token, new certificate")
	}
	h.clock.Advance(DefaultIdempotencyWindow + time.Second)
	if e := issue(csr1, "tok"); e == a {
		t.Fatal("an expired token must not return the old certificate")
	}
	if n := h.count(t, rootARN); n != base+4 {
		t.Fatalf("%d certificates, want %d", n-base, 4)
	}
	// Expired tokens are swept.
	if err := h.svc.Maintain(ctx); err != nil {
		t.Fatal(err)
	}

	// CreateCertificateAuthority honours its token too.
	req := CreateRequest{CertificateAuthorityType: TypeRoot, IdempotencyToken: "ca-token",
		CertificateAuthorityConfiguration: Configuration{KeyAlgorithm: KeyECP256, SigningAlgorithm: SHA256WithECDSA, Subject: Subject{CommonName: "r"}}}
	x, err := h.svc.CreateCertificateAuthority(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	y, err := h.svc.CreateCertificateAuthority(ctx, req)
	if err != nil || x != y {
		t.Fatalf("%s %s %v", x, y, err)
	}
	list, _, _ := h.svc.ListCertificateAuthorities(ctx, "", 0)
	if len(list) != 2 {
		t.Fatalf("%d CAs", len(list))
	}
}

// CSRs made by the openssl CLI, the way PCA's documentation makes them.
func TestIssueFromOpenSSLCSR(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl CLI not installed")
	}
	h := newHarness(t)
	ctx := context.Background()
	rootARN := h.activeRoot(t)
	for _, tc := range []struct{ name, newkey string }{
		{"ec-p256", "ec:"},
		{"rsa-2048", "rsa:2048"},
		{"ec-p384", "ec:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"req", "-new", "-nodes", "-keyout", filepath.Join(dir, "key.pem"), "-out", filepath.Join(dir, "csr.pem"),
				"-subj", "/C=DE/O=Example/CN=openssl-" + tc.name,
				"-addext", "subjectAltName=DNS:" + tc.name + ".example.org,IP:127.0.0.1,URI:spiffe://example.org/" + tc.name}
			if strings.HasPrefix(tc.newkey, "ec") {
				curve := "prime256v1"
				if tc.name == "ec-p384" {
					curve = "secp384r1"
				}
				args = append(args, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:"+curve)
			} else {
				args = append(args, "-newkey", tc.newkey)
			}
			if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
				t.Fatalf("openssl: %v\n%s", err, out)
			}
			csr, err := os.ReadFile(filepath.Join(dir, "csr.pem"))
			if err != nil {
				t.Fatal(err)
			}
			certARN, err := h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: rootARN, Csr: csr,
				SigningAlgorithm: SHA256WithECDSA, TemplateArn: "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1",
				Validity: Validity{Type: ValidityDays, Value: 30}})
			if err != nil {
				t.Fatal(err)
			}
			certPEM, chain, err := h.svc.GetCertificate(ctx, rootARN, certARN)
			if err != nil {
				t.Fatal(err)
			}
			c := pemCert(t, certPEM)
			if c.Subject.CommonName != "openssl-"+tc.name || c.DNSNames[0] != tc.name+".example.org" || !c.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) ||
				c.URIs[0].String() != "spiffe://example.org/"+tc.name {
				t.Fatalf("names %v %v %v %v", c.Subject, c.DNSNames, c.IPAddresses, c.URIs)
			}
			// openssl itself accepts the chain.
			os.WriteFile(filepath.Join(dir, "cert.pem"), []byte(certPEM), 0o600)
			os.WriteFile(filepath.Join(dir, "ca.pem"), []byte(chain), 0o600)
			out, err := exec.Command("openssl", "verify", "-attime", strconv.FormatInt(t0.Unix()+3600, 10), "-purpose", "sslclient",
				"-CAfile", filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem")).CombinedOutput()
			if err != nil || !strings.Contains(string(out), ": OK") {
				t.Fatalf("openssl verify: %v\n%s", err, out)
			}
		})
	}
}

// Short-lived mode caps what the CA issues, not its own root certificate:
// the AWS post issues the short-lived CA's root for years.
func TestShortLivedRootCertificateMayBeLong(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	arn, err := h.svc.CreateActiveRoot(ctx, CreateRequest{UsageMode: UsageModeShortLived,
		CertificateAuthorityConfiguration: Configuration{KeyAlgorithm: KeyECP256, SigningAlgorithm: SHA256WithECDSA, Subject: Subject{CommonName: "short"}}},
		Validity{Type: ValidityYears, Value: 10})
	if err != nil {
		t.Fatalf("a 10-year root for a short-lived CA: %v", err)
	}
	// Its end-entity certificates are still capped at 7 days.
	key, _ := GenerateKey(KeyECP256, rand.Reader)
	csr, _ := CreateCSR(key, pkix.Name{CommonName: "w"}, "", rand.Reader)
	_, err = h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: arn, Csr: csr,
		TemplateArn: TemplateEndEntityClientAuth, Validity: Validity{Type: ValidityDays, Value: 8}})
	if e := awserr.As(err); e.Reason != "ca.validity.short_lived" {
		t.Fatalf("8-day end-entity certificate from a short-lived CA: %v", err)
	}
}

// hookStore runs before at the start of the next times Updates (not
// counting the hook's own): in IssueCertificate that is after the CA was
// read and the certificate signed, just before the record is written.
type hookStore struct {
	store.Store
	mu     sync.Mutex
	before func()
	times  int
	inHook bool
}

func (s *hookStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	s.mu.Lock()
	run := s.times > 0 && !s.inHook
	if run {
		s.times--
		s.inHook = true
	}
	before := s.before
	s.mu.Unlock()
	if run {
		before()
		s.mu.Lock()
		s.inHook = false
		s.mu.Unlock()
	}
	return s.Store.Update(ctx, fn)
}

func (s *hookStore) setBefore(times int, fn func()) {
	s.mu.Lock()
	s.before, s.times = fn, times
	s.mu.Unlock()
}

// TestIssueRechecksCAInTransaction changes the CA between the moment
// IssueCertificate signs and the transaction that records the
// certificate, through this Service and through another one on the same
// store (another process), which this Service's cache does not see: a CA
// disabled meanwhile issues nothing, a CA changed otherwise issues from
// its new record, and a refusal based on the cache is checked against the
// store.
func TestIssueRechecksCAInTransaction(t *testing.T) {
	h := newHarness(t)
	hs := &hookStore{Store: h.store}
	h.svc.cfg.Store = hs
	other, err := New(h.svc.cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	caARN := h.activeRoot(t)
	csr := csrPEM(t, mustKey(t, KeyECP256), &x509.CertificateRequest{Subject: pkix.Name{CommonName: "w"}})
	req := IssueCertificateRequest{CertificateAuthorityArn: caARN, Csr: csr, Validity: Validity{Type: ValidityDays, Value: 1}}
	disabled, active := StatusDisabled, StatusActive
	setStatus := func(svc *Service, status *string) func() {
		return func() {
			if err := svc.UpdateCertificateAuthority(ctx, caARN, status, nil); err != nil {
				t.Error(err)
			}
		}
	}
	issue := func(svc *Service) error {
		_, err := svc.IssueCertificate(ctx, req)
		return err
	}
	if err := issue(h.svc); err != nil {
		t.Fatal(err)
	}
	if err := issue(other); err != nil {
		t.Fatal(err)
	}
	count := h.count(t, caARN)
	wantIssued := func(what string, n int) {
		t.Helper()
		if got := h.count(t, caARN); got != count+n {
			t.Fatalf("%s: %d certificates recorded, want %d", what, got-count, n)
		}
		count += n
	}
	wantDisabled := func(what string, err error) {
		t.Helper()
		if e := wantCode(t, err, CodeInvalidState); !strings.Contains(e.Message, "is in the DISABLED state") {
			t.Errorf("%s: %v, want the state the store has", what, err)
		}
	}

	hs.setBefore(1, setStatus(h.svc, &disabled))
	wantDisabled("disabled before the commit", issue(h.svc))
	wantIssued("disabled before the commit", 0)
	wantDisabled("disabled", issue(h.svc))
	// other still has the CA cached as ACTIVE.
	wantDisabled("disabled, stale cache", issue(other))
	wantIssued("disabled", 0)

	setStatus(other, &active)()
	// h.svc has it cached as DISABLED.
	if err := issue(h.svc); err != nil {
		t.Fatalf("re-enabled by another Service: %v", err)
	}
	wantIssued("re-enabled", 1)

	// Tags and the CRL sequence (every revocation advances it) change
	// nothing a certificate depends on.
	hs.setBefore(1, func() {
		if err := other.TagCertificateAuthority(ctx, caARN, []Tag{{Key: "k", Value: "v"}}); err != nil {
			t.Error(err)
		}
		if err := other.RevokeCertificate(ctx, caARN, firstSerial(t, h, caARN), ReasonSuperseded); err != nil {
			t.Error(err)
		}
	})
	if err := issue(h.svc); err != nil {
		t.Fatalf("CA tagged and CRL re-signed before the commit: %v", err)
	}
	wantIssued("tagged", 1)

	// A new CRL distribution point must be in the certificate.
	cname := func(n int) *RevocationConfiguration {
		return &RevocationConfiguration{CrlConfiguration: &CrlConfiguration{Enabled: true, CustomCname: fmt.Sprintf("crl%d.example.com", n)}}
	}
	hs.setBefore(1, func() {
		if err := other.UpdateCertificateAuthority(ctx, caARN, nil, cname(1)); err != nil {
			t.Error(err)
		}
	})
	certARN, err := h.svc.IssueCertificate(ctx, req)
	if err != nil {
		t.Fatalf("CRL configuration changed before the commit: %v", err)
	}
	wantIssued("CRL configuration changed", 1)
	certPEM, _, err := h.svc.GetCertificate(ctx, caARN, certARN)
	if err != nil {
		t.Fatal(err)
	}
	if dp := pemCert(t, certPEM).CRLDistributionPoints; len(dp) != 1 || !strings.HasPrefix(dp[0], "http://crl1.example.com/") {
		t.Fatalf("certificate's CRL distribution points %q, want the new one", dp)
	}

	n := 1
	hs.setBefore(maxIssueAttempts, func() {
		n++
		if err := other.UpdateCertificateAuthority(ctx, caARN, nil, cname(n)); err != nil {
			t.Error(err)
		}
	})
	wantCode(t, issue(h.svc), CodeConcurrentModification)
	wantIssued("changed at every attempt", 0)
	if err := issue(h.svc); err != nil {
		t.Fatal(err)
	}
	wantIssued("after the changes", 1)
}

// firstSerial is the serial of the CA's first certificate not revoked.
func firstSerial(t *testing.T, h *harness, caARN string) string {
	t.Helper()
	certs, _, err := h.svc.ListCertificates(context.Background(), caARN, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range certs {
		if c.Status == CertificateIssued && c.CertificateAuthorityArn == caARN && !strings.Contains(c.TemplateArn, "RootCA") {
			return c.Serial
		}
	}
	t.Fatal("no certificate to revoke")
	return ""
}
