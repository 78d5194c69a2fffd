package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/kek"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/store/sqlite"
)

var testScope = arn.Scope{Partition: "aws", Region: "eu-west-1", AccountID: "123456789012"}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type crlEvent struct {
	ca  string
	der []byte
}

type harness struct {
	svc   *Service
	clock *fakeClock
	store store.Store
	kek   *kek.KEK
	mu    sync.Mutex
	crls  []crlEvent
}

func (h *harness) events() []crlEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.crls)
}

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "iamra.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newHarness(t testing.TB, keyStores ...KeyStore) *harness {
	t.Helper()
	k, err := kek.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{clock: &fakeClock{t: t0}, store: openStore(t), kek: k}
	if len(keyStores) == 0 {
		keyStores = []KeyStore{&SoftwareKeyStore{Protector: k, Rand: rand.Reader}}
	}
	h.svc, err = New(Config{
		Store: h.store, Scope: testScope, KeyStores: keyStores, CRLBaseURL: "https://127.0.0.1:8443/",
		Now: h.clock.Now, Rand: rand.Reader,
		OnCRL: func(caARN string, der []byte) {
			h.mu.Lock()
			h.crls = append(h.crls, crlEvent{caARN, der})
			h.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func crlEnabled() RevocationConfiguration {
	return RevocationConfiguration{CrlConfiguration: &CrlConfiguration{Enabled: true, ExpirationInDays: 7}}
}

func (h *harness) create(t testing.TB, typ, keyAlg, sigAlg, cn string) string {
	t.Helper()
	caARN, err := h.svc.CreateCertificateAuthority(context.Background(), CreateRequest{
		CertificateAuthorityType: typ,
		CertificateAuthorityConfiguration: Configuration{KeyAlgorithm: keyAlg, SigningAlgorithm: sigAlg,
			Subject: Subject{CommonName: cn, Organization: "iamra", Country: "DE"}},
		RevocationConfiguration: crlEnabled(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return caARN
}

// activeRoot runs PCA's root flow: create → CSR → self-issue with
// RootCACertificate/V1 → import.
func (h *harness) activeRoot(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	caARN := h.create(t, TypeRoot, KeyECP256, SHA256WithECDSA, "iamra root")
	csr, err := h.svc.GetCertificateAuthorityCsr(ctx, caARN)
	if err != nil {
		t.Fatal(err)
	}
	certARN, err := h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: caARN, Csr: []byte(csr),
		SigningAlgorithm: SHA256WithECDSA, TemplateArn: "arn:aws:acm-pca:::template/RootCACertificate/V1",
		Validity: Validity{Type: ValidityYears, Value: 10}})
	if err != nil {
		t.Fatal(err)
	}
	cert, chain, err := h.svc.GetCertificate(ctx, caARN, certARN)
	if err != nil || chain != "" {
		t.Fatalf("GetCertificate: chain %q, %v", chain, err)
	}
	if err := h.svc.ImportCertificateAuthorityCertificate(ctx, caARN, []byte(cert), nil); err != nil {
		t.Fatal(err)
	}
	return caARN
}

func csrPEM(t testing.TB, key crypto.Signer, tmpl *x509.CertificateRequest) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func pemCert(t testing.TB, s string) *x509.Certificate {
	t.Helper()
	c, err := parseCertificatePEM([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantCode(t testing.TB, err error, code string) *awserr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want %s, got success", code)
	}
	var e *awserr.Error
	if !errors.As(err, &e) || e.Code != code || e.Status != 400 {
		t.Fatalf("want %s/400, got %v", code, err)
	}
	return e
}

func TestRootCAFlow(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	caARN := h.create(t, TypeRoot, KeyECP384, SHA384WithECDSA, "iamra root")
	if !strings.HasPrefix(caARN, "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/") {
		t.Fatalf("ARN %s", caARN)
	}
	a, err := h.svc.DescribeCertificateAuthority(ctx, caARN)
	if err != nil || a.Status != StatusPendingCertificate || a.Key.Store != "" || a.UsageMode != UsageModeGeneralPurpose {
		t.Fatalf("%+v %v", a, err)
	}
	// Nothing but the root's own certificate can be issued while pending.
	leafKey := mustKey(t, KeyECP256)
	_, err = h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: caARN,
		Csr: csrPEM(t, leafKey, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}), Validity: Validity{Type: ValidityDays, Value: 1}})
	wantCode(t, err, CodeInvalidState)
	_, _, err = h.svc.GetCertificateAuthorityCertificate(ctx, caARN)
	wantCode(t, err, CodeInvalidState)
	if _, err := h.svc.CurrentCRL(ctx, caARN); err == nil {
		t.Fatal("a pending CA has no CRL")
	}

	csr, err := h.svc.GetCertificateAuthorityCsr(ctx, caARN)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseCSR([]byte(csr))
	if err != nil || parsed.Subject.String() != "CN=iamra root,O=iamra,C=DE" || parsed.SignatureAlgorithm != x509.ECDSAWithSHA384 {
		t.Fatalf("CSR %v %v %v", parsed.Subject, parsed.SignatureAlgorithm, err)
	}
	certARN, err := h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: caARN, Csr: []byte(csr),
		SigningAlgorithm: SHA384WithECDSA, TemplateArn: TemplateRootCA, Validity: Validity{Type: ValidityYears, Value: 10}})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _, err := h.svc.GetCertificate(ctx, caARN, certARN)
	if err != nil {
		t.Fatal(err)
	}
	root := pemCert(t, certPEM)
	if !root.IsCA || root.CheckSignatureFrom(root) != nil || !root.NotAfter.Equal(t0.AddDate(10, 0, 0)) || !root.NotBefore.Equal(t0.Add(-time.Hour)) {
		t.Fatalf("root: CA %v, %v–%v", root.IsCA, root.NotBefore, root.NotAfter)
	}
	if len(root.CRLDistributionPoints) != 0 {
		t.Fatalf("a root carries no CDP: %v", root.CRLDistributionPoints)
	}
	if err := h.svc.ImportCertificateAuthorityCertificate(ctx, caARN, []byte(certPEM), nil); err != nil {
		t.Fatal(err)
	}
	a, _ = h.svc.DescribeCertificateAuthority(ctx, caARN)
	if a.Status != StatusActive || a.Serial != serialColons(root.SerialNumber) || !a.NotAfter.Equal(root.NotAfter) || a.CRL.Number != 1 {
		t.Fatalf("after import: %+v", a)
	}
	got, chain, err := h.svc.GetCertificateAuthorityCertificate(ctx, caARN)
	if err != nil || got != certPEM || chain != "" {
		t.Fatalf("GetCertificateAuthorityCertificate: %v", err)
	}
	ev := h.events()
	if len(ev) != 1 || ev[0].ca != caARN {
		t.Fatalf("OnCRL events %v", ev)
	}
	crl, err := x509.ParseRevocationList(ev[0].der)
	if err != nil || crl.CheckSignatureFrom(root) != nil || crl.Number.Int64() != 1 || len(crl.RevokedCertificateEntries) != 0 {
		t.Fatalf("initial CRL: %v", err)
	}
	// Renewal: the same key, imported again, stays ACTIVE.
	csr2, _ := h.svc.GetCertificateAuthorityCsr(ctx, caARN)
	renewARN, err := h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: caARN, Csr: []byte(csr2),
		TemplateArn: TemplateRootCA, Validity: Validity{Type: ValidityYears, Value: 20}})
	if err != nil {
		t.Fatal(err)
	}
	renewed, _, _ := h.svc.GetCertificate(ctx, caARN, renewARN)
	if err := h.svc.ImportCertificateAuthorityCertificate(ctx, caARN, []byte(renewed), nil); err != nil {
		t.Fatal(err)
	}
	if a, _ = h.svc.DescribeCertificateAuthority(ctx, caARN); a.Status != StatusActive || !a.NotAfter.Equal(t0.AddDate(20, 0, 0)) {
		t.Fatalf("after renewal: %+v", a)
	}
}

func TestSubordinateFlow(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	rootARN := h.activeRoot(t)
	subARN := h.create(t, TypeSubordinate, KeyRSA2048, SHA256WithRSA, "iamra issuing")
	subCSR, _ := h.svc.GetCertificateAuthorityCsr(ctx, subARN)

	// A subordinate cannot use the root template, even on its own CSR.
	_, err := h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: subARN, Csr: []byte(subCSR),
		TemplateArn: TemplateRootCA, Validity: Validity{Type: ValidityYears, Value: 1}})
	wantCode(t, err, CodeInvalidArgs)

	subCertARN, err := h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: rootARN, Csr: []byte(subCSR),
		SigningAlgorithm: SHA256WithECDSA, TemplateArn: TemplateSubordinateCAPathLen0, Validity: Validity{Type: ValidityYears, Value: 5}})
	if err != nil {
		t.Fatal(err)
	}
	subCert, subChain, err := h.svc.GetCertificate(ctx, rootARN, subCertARN)
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, _, _ := h.svc.GetCertificateAuthorityCertificate(ctx, rootARN)
	if subChain != rootPEM {
		t.Fatal("chain of a certificate from a root is the root")
	}
	// The chain is required for a subordinate.
	wantCode(t, h.svc.ImportCertificateAuthorityCertificate(ctx, subARN, []byte(subCert), nil), CodeInvalidRequest)
	if err := h.svc.ImportCertificateAuthorityCertificate(ctx, subARN, []byte(subCert), []byte(subChain)); err != nil {
		t.Fatal(err)
	}
	sub, _ := h.svc.DescribeCertificateAuthority(ctx, subARN)
	if sub.Status != StatusActive {
		t.Fatalf("sub %s", sub.Status)
	}
	subX := pemCert(t, subCert)
	if want := "https://127.0.0.1:8443/crl/" + strings.TrimPrefix(rootARN, "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/") + ".crl"; len(subX.CRLDistributionPoints) != 1 || subX.CRLDistributionPoints[0] != want {
		t.Fatalf("CDP %v, want %s", subX.CRLDistributionPoints, want)
	}

	// The subordinate issues; the chain goes sub → root.
	leafKey := mustKey(t, KeyECP256)
	leafARN, err := h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: subARN,
		Csr: csrPEM(t, leafKey, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "workload"}}), SigningAlgorithm: SHA256WithRSA,
		TemplateArn: TemplateEndEntityClientAuth, Validity: Validity{Type: ValidityHours, Value: 12}})
	if err != nil {
		t.Fatal(err)
	}
	leafPEM, chain, err := h.svc.GetCertificate(ctx, subARN, leafARN)
	if err != nil || chain != subCert+rootPEM {
		t.Fatalf("chain: %v", err)
	}
	leaf := pemCert(t, leafPEM)
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(pemCert(t, rootPEM))
	inter.AddCert(subX)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: t0,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatal(err)
	}
	if !leaf.NotAfter.Equal(t0.Add(12*time.Hour)) || leaf.SignatureAlgorithm != x509.SHA256WithRSA {
		t.Fatalf("leaf %v %v", leaf.NotAfter, leaf.SignatureAlgorithm)
	}
	// PathLen0 forbids the subordinate from issuing CAs.
	_, err = h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: subARN,
		Csr:         csrPEM(t, leafKey, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "ca"}}),
		TemplateArn: TemplateSubordinateCAPathLen0, Validity: Validity{Type: ValidityDays, Value: 1}})
	wantCode(t, err, CodeInvalidArgs)
}

func TestSubordinateOfOutsideCA(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	outside, outsideKey := mustRoot(t) // valid from t0
	subARN := h.create(t, TypeSubordinate, KeyECP256, SHA256WithECDSA, "issuing under outside root")
	csr, _ := h.svc.GetCertificateAuthorityCsr(ctx, subARN)
	req, _ := ParseCSR([]byte(csr))
	cert, err := Issue(outside, outsideKey, IssueRequest{Template: TemplateSubordinateCAPathLen0, CSR: req, NotBefore: t0, NotAfter: t0.AddDate(2, 0, 0)}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherKey := mustKey(t, KeyECP256)
	stranger, _ := Issue(outside, outsideKey, IssueRequest{Template: TemplateSubordinateCAPathLen0, PublicKey: otherKey.Public(),
		Subject: pkix.Name{CommonName: "stranger"}, NotBefore: t0, NotAfter: t0.AddDate(2, 0, 0)}, rand.Reader)
	otherRoot, _ := mustRoot(t)

	for _, tc := range []struct {
		name        string
		cert, chain string
		code        string
	}{
		{"not PEM", "garbage", encodePEM(outside), CodeMalformedCertificate},
		{"another key", encodePEM(stranger), encodePEM(outside), CodeCertificateMismatch},
		{"wrong chain", encodePEM(cert), encodePEM(otherRoot), CodeCertificateMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, h.svc.ImportCertificateAuthorityCertificate(ctx, subARN, []byte(tc.cert), []byte(tc.chain)), tc.code)
			if a, _ := h.svc.DescribeCertificateAuthority(ctx, subARN); a.Status != StatusPendingCertificate {
				t.Fatalf("status %s", a.Status)
			}
		})
	}
	if err := h.svc.ImportCertificateAuthorityCertificate(ctx, subARN, []byte(encodePEM(cert)), []byte(encodePEM(outside))); err != nil {
		t.Fatal(err)
	}
	if a, _ := h.svc.DescribeCertificateAuthority(ctx, subARN); a.Status != StatusActive || a.CertificateChainPEM != encodePEM(outside) {
		t.Fatalf("%+v", a)
	}
}

func TestCreateActiveRoot(t *testing.T) {
	h := newHarness(t)
	caARN, err := h.svc.CreateActiveRoot(context.Background(), CreateRequest{
		CertificateAuthorityConfiguration: Configuration{KeyAlgorithm: KeyECP256, SigningAlgorithm: SHA256WithECDSA, Subject: Subject{CommonName: "dev"}},
	}, Validity{Type: ValidityYears, Value: 1})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := h.svc.DescribeCertificateAuthority(context.Background(), caARN)
	if a.Status != StatusActive || a.Type != TypeRoot || !a.NotAfter.Equal(t0.AddDate(1, 0, 0)) {
		t.Fatalf("%+v", a)
	}
}

// Concurrent issuance and revocation: every certificate recorded once,
// CRL numbers strictly increasing.
func TestConcurrentIssueAndRevoke(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	caARN := h.activeRoot(t)
	csr := csrPEM(t, mustKey(t, KeyECP256), &x509.CertificateRequest{Subject: pkix.Name{CommonName: "c"}})
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 4 {
		wg.Go(func() {
			for range 5 {
				certARN, err := h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: caARN, Csr: csr,
					Validity: Validity{Type: ValidityDays, Value: 1}})
				if err == nil {
					err = h.svc.RevokeCertificate(ctx, caARN, certARN[strings.LastIndex(certARN, "/")+1:], ReasonSuperseded)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := h.count(t, caARN); n != 21 {
		t.Fatalf("%d records, want 21", n)
	}
	var last int64
	for _, ev := range h.events() {
		crl, err := x509.ParseRevocationList(ev.der)
		if err != nil {
			t.Fatal(err)
		}
		if crl.Number.Int64() <= last {
			t.Fatalf("CRL number %d after %d", crl.Number.Int64(), last)
		}
		last = crl.Number.Int64()
	}
	der, _ := h.svc.CurrentCRL(ctx, caARN)
	crl, _ := x509.ParseRevocationList(der)
	if crl.Number.Int64() != 21 || len(crl.RevokedCertificateEntries) != 20 {
		t.Fatalf("final CRL #%d with %d entries", crl.Number.Int64(), len(crl.RevokedCertificateEntries))
	}
}

// TestHashHex pins hashHex to its definition, SHA-256 over each part as
// "<decimal length>:<bytes>", in hex: stored idempotency token IDs and key
// fingerprints depend on it.
func TestHashHex(t *testing.T) {
	for _, parts := range [][][]byte{nil, {nil}, {[]byte("token"), []byte("csr")}, {bytes.Repeat([]byte{7}, 1234), {}, []byte(":")}} {
		h := sha256.New()
		for _, p := range parts {
			fmt.Fprintf(h, "%d:", len(p))
			h.Write(p)
		}
		if got, want := hashHex(parts...), hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("hashHex(%q) = %s, want %s", parts, got, want)
		}
	}
}
