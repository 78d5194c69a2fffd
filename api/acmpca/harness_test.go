package acmpca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/acmpca/types"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/audit"
	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/kek"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/store/sqlite"
)

var testScope = arn.Scope{Partition: "aws", Region: "us-east-1", AccountID: "123456789012"}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is the API on an httptest server, as the iamra server mounts
// it: the Handler for API calls and NewCRLHandler under /crl/. SigV4 is
// not checked here (the server does that); the SDK signs anyway.
type harness struct {
	srv    *httptest.Server
	svc    *ca.Service
	store  store.Store
	clock  *clock
	client *acmpca.Client

	mu     sync.Mutex
	events []audit.Event
}

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "iamra.db"), sqlite.Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newHarness(t testing.TB, rnd io.Reader) *harness {
	t.Helper()
	if rnd == nil {
		rnd = rand.Reader
	}
	k, err := kek.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{clock: &clock{t: time.Now().UTC().Truncate(time.Second)}, store: openStore(t)}
	var root http.Handler
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { root.ServeHTTP(w, r) }))
	t.Cleanup(h.srv.Close)
	h.svc, err = ca.New(ca.Config{
		Store: h.store, Scope: testScope, KeyStores: []ca.KeyStore{&ca.SoftwareKeyStore{Protector: k, Rand: rnd}},
		CRLBaseURL: h.srv.URL, Now: h.clock.Now, Rand: rnd,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(CRLPathPrefix, NewCRLHandler(h.svc, h.clock.Now, nil))
	mux.Handle("/", New(Config{Service: h.svc, Store: h.store, Scope: testScope, Now: h.clock.Now, Rand: rnd,
		Audit: func(_ context.Context, ev audit.Event) {
			h.mu.Lock()
			h.events = append(h.events, ev)
			h.mu.Unlock()
		}}))
	root = mux
	h.client = acmpca.New(acmpca.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(h.srv.URL), HTTPClient: h.srv.Client(),
		Credentials: awscreds.NewStaticCredentialsProvider("AKIAEXAMPLEEXAMPLE00", "secret", ""),
		Retryer:     aws.NopRetryer{},
	})
	return h
}

func (h *harness) lastEvent(t testing.TB) audit.Event {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		t.Fatal("no audit event")
	}
	return h.events[len(h.events)-1]
}

// createRoot runs PCA's root CA flow through the SDK and returns the
// ACTIVE CA's ARN and certificate.
func (h *harness) createRoot(t testing.TB, cn string, usage types.CertificateAuthorityUsageMode, crl bool) (string, *x509.Certificate) {
	t.Helper()
	ctx := context.Background()
	in := &acmpca.CreateCertificateAuthorityInput{
		CertificateAuthorityType: types.CertificateAuthorityTypeRoot,
		CertificateAuthorityConfiguration: &types.CertificateAuthorityConfiguration{
			KeyAlgorithm: types.KeyAlgorithmEcPrime256v1, SigningAlgorithm: types.SigningAlgorithmSha256withecdsa,
			Subject: &types.ASN1Subject{CommonName: aws.String(cn), Organization: aws.String("iamra test")},
		},
		UsageMode: usage,
	}
	if crl {
		in.RevocationConfiguration = &types.RevocationConfiguration{CrlConfiguration: &types.CrlConfiguration{Enabled: aws.Bool(true)}}
	}
	out, err := h.client.CreateCertificateAuthority(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	caARN := *out.CertificateAuthorityArn
	csr, err := h.client.GetCertificateAuthorityCsr(ctx, &acmpca.GetCertificateAuthorityCsrInput{CertificateAuthorityArn: &caARN})
	if err != nil {
		t.Fatal(err)
	}
	// Ten years even in short-lived mode: PCA does not apply the
	// seven-day limit to a root's own certificate.
	validity := &types.Validity{Type: types.ValidityPeriodTypeYears, Value: aws.Int64(10)}
	issued, err := h.client.IssueCertificate(ctx, &acmpca.IssueCertificateInput{
		CertificateAuthorityArn: &caARN, Csr: []byte(*csr.Csr), SigningAlgorithm: types.SigningAlgorithmSha256withecdsa,
		TemplateArn: aws.String("arn:aws:acm-pca:::template/RootCACertificate/V1"), Validity: validity,
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.client.GetCertificate(ctx, &acmpca.GetCertificateInput{CertificateAuthorityArn: &caARN, CertificateArn: issued.CertificateArn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.ImportCertificateAuthorityCertificate(ctx, &acmpca.ImportCertificateAuthorityCertificateInput{
		CertificateAuthorityArn: &caARN, Certificate: []byte(*got.Certificate),
	}); err != nil {
		t.Fatal(err)
	}
	return caARN, parseCert(t, *got.Certificate)
}

func parseCert(t testing.TB, pemText string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(pemText))
	if b == nil {
		t.Fatalf("no PEM in %q", pemText)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func csrPEM(t testing.TB, key crypto.Signer, tmpl *x509.CertificateRequest) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

// call posts a raw JSON 1.1 request and returns status, headers and body.
func (h *harness) call(t testing.TB, target, body string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ContentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: response %q is not JSON: %v", target, raw, err)
		}
	}
	return resp.StatusCode, resp.Header, out
}

// issuedCount is how many certificates the CA has on record.
func (h *harness) issuedCount(t testing.TB, caARN string) int {
	t.Helper()
	certs, _, err := h.svc.ListCertificates(context.Background(), caARN, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(certs)
}

var leafSubject = pkix.Name{CommonName: "workload", Organization: []string{"iamra test"}}

func rsaCSR(t testing.TB, bits int) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return csrPEM(t, k, &x509.CertificateRequest{Subject: leafSubject})
}

func caCreate(usage types.CertificateAuthorityUsageMode) ca.CreateRequest {
	return ca.CreateRequest{CertificateAuthorityType: ca.TypeRoot, UsageMode: string(usage),
		CertificateAuthorityConfiguration: ca.Configuration{KeyAlgorithm: ca.KeyECP256, SigningAlgorithm: ca.SHA256WithECDSA,
			Subject: ca.Subject{CommonName: "Pending"}}}
}
