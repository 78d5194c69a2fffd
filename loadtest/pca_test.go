package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/sigv4"
)

// The pre-signed IssueCertificate requests, as Run sends them, verify as
// SigV4 for acm-pca and carry each its own CSR; Run sends every one of
// them once before any twice.
func TestSignIssueAndRoundRobin(t *testing.T) {
	const n = 5
	csrs, err := NewCSRs(n)
	if err != nil {
		t.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: "AKIALOADLOADLOADLOAD", SecretAccessKey: "secret"}
	var mu sync.Mutex
	seen := map[string]int{} // CSR subject → requests
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readSigned(r, creds)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		csr, err := decodeIssue(r, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		seen[csr.Subject.CommonName]++
		mu.Unlock()
		fmt.Fprintf(w, `{"CertificateArn":"arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/x/certificate/%s"}`, csr.Subject.CommonName)
	}))
	defer srv.Close()

	reqs, err := csrs.SignIssue(context.Background(), PCATarget{Endpoint: srv.URL, Region: "us-east-1", CAArn: "arn:ca"}, creds, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	issued := NewIssued(n)
	res := Run(context.Background(), reqs, Options{Concurrency: 3, Duration: time.Minute, Client: srv.Client(), MaxRequests: 2 * n, Accept: issued.Accept})
	if res.Requests != 2*n || res.Failures() != 0 {
		t.Fatalf("%d requests, %d failures (statuses %v)", res.Requests, res.Failures(), res.Statuses)
	}
	for i := range n {
		if cn := fmt.Sprintf("load-%06d", i); seen[cn] != 2 {
			t.Errorf("CSR %s sent %d times in %d requests, want 2", cn, seen[cn], 2*n)
		}
		if issued.Arn(i) == "" {
			t.Errorf("no ARN recorded for CSR %d", i)
		}
	}
	if got := issued.Sample(3); len(got) != 3 || got[0] != 0 || got[2] >= n {
		t.Errorf("sample %v", got)
	}
}

// readSigned reads r's body and checks that r is SigV4-signed for
// acm-pca with creds.
func readSigned(r *http.Request, creds aws.Credentials) ([]byte, error) {
	body, _ := io.ReadAll(r.Body)
	res, err := sigv4.Verify(r.Context(), r, body, sigv4.VerifyOptions{Now: time.Now(), Service: "acm-pca",
		Lookup: func(context.Context, string, string) (string, error) { return creds.SecretAccessKey, nil }})
	if err == nil && res.AccessKeyID != creds.AccessKeyID {
		err = fmt.Errorf("access key %s", res.AccessKeyID)
	}
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	return body, nil
}

// The request floor's DescribeCertificateAuthority verifies as SigV4 for
// acm-pca, is shaped as the SDKs shape it, and can be sent again and
// again.
func TestSignDescribe(t *testing.T) {
	creds := aws.Credentials{AccessKeyID: "AKIALOADLOADLOADLOAD", SecretAccessKey: "secret"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readSigned(r, creds)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		var in map[string]string
		if r.Method != http.MethodPost || r.URL.Path != "/" || r.Header.Get("X-Amz-Target") != "ACMPrivateCA.DescribeCertificateAuthority" ||
			r.Header.Get("Content-Type") != "application/x-amz-json-1.1" || json.Unmarshal(body, &in) != nil ||
			len(in) != 1 || in["CertificateAuthorityArn"] != "arn:ca" {
			http.Error(w, fmt.Sprintf("%s %s %v %s", r.Method, r.URL, r.Header, body), http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, `{"CertificateAuthority":{"Arn":"arn:ca","Status":"ACTIVE"}}`)
	}))
	defer srv.Close()
	reqs, err := SignDescribe(context.Background(), PCATarget{Endpoint: srv.URL, Region: "us-east-1", CAArn: "arn:ca"}, creds, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res := Run(context.Background(), reqs, Options{Concurrency: 2, Duration: time.Minute, Client: srv.Client(), MaxRequests: 4, Accept: AcceptStatus(http.StatusOK)})
	if res.Requests != 4 || res.Failures() != 0 {
		t.Fatalf("%d requests, %d failures (statuses %v)", res.Requests, res.Failures(), res.Statuses)
	}
}

// The crypto floor's operation succeeds on the run's CSRs (it stops at
// the first error) and is counted.
func TestCryptoFloor(t *testing.T) {
	csrs, err := NewCSRs(3)
	if err != nil {
		t.Fatal(err)
	}
	b, err := csrs.CryptoFloor(20 * time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if !(b.PerSecond > 0) {
		t.Errorf("bound %+v: nothing counted", b)
	}
}

// The split's arithmetic, with rates whose reciprocals are exact.
func TestSplitCost(t *testing.T) {
	for _, c := range []struct {
		name                            string
		raw, issued, cryptoFloor, floor float64 // per CPU-second
		want                            CostSplit
	}{
		{"all measured", 8000, 4000, 10000, 40000,
			CostSplit{RawCreateMicros: 125, IssuanceMicros: 250, CryptoFloorMicros: 100, RequestFloorMicros: 25, RestMicros: 125, Ceiling: 1}},
		{"ceiling below 1", 10000, 2500, 12500, 20000,
			CostSplit{RawCreateMicros: 100, IssuanceMicros: 400, CryptoFloorMicros: 80, RequestFloorMicros: 50, RestMicros: 270, Ceiling: 100.0 / 130}},
		{"floors above the issuance", 10000, 10000, 12500, 20000,
			CostSplit{RawCreateMicros: 100, IssuanceMicros: 100, CryptoFloorMicros: 80, RequestFloorMicros: 50, RestMicros: -30, Ceiling: 100.0 / 130}},
		{"no server CPU", 8000, 0, 10000, 0,
			CostSplit{RawCreateMicros: 125, CryptoFloorMicros: 100}},
		{"no certificate issued", 8000, 0, 10000, 40000,
			CostSplit{RawCreateMicros: 125, CryptoFloorMicros: 100, RequestFloorMicros: 25, Ceiling: 1}},
	} {
		if got := splitCost(c.raw, c.issued, c.cryptoFloor, c.floor); got != c.want {
			t.Errorf("%s: splitCost(%v, %v, %v, %v) = %+v, want %+v", c.name, c.raw, c.issued, c.cryptoFloor, c.floor, got, c.want)
		}
	}
}

// decodeIssue checks an IssueCertificate request's protocol headers and
// body and returns its CSR, whose signature it verifies.
func decodeIssue(r *http.Request, body []byte) (*x509.CertificateRequest, error) {
	if r.Header.Get("X-Amz-Target") != "ACMPrivateCA.IssueCertificate" || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		return nil, fmt.Errorf("headers %v", r.Header)
	}
	var in struct {
		CertificateAuthorityArn, SigningAlgorithm, TemplateArn string
		Csr                                                    []byte
		Validity                                               struct {
			Type  string
			Value int
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	if in.CertificateAuthorityArn != "arn:ca" || in.SigningAlgorithm != "SHA256WITHECDSA" ||
		in.TemplateArn != "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1" || in.Validity.Type != "HOURS" || in.Validity.Value != 24 {
		return nil, fmt.Errorf("input %+v", in)
	}
	b, _ := pem.Decode(in.Csr)
	if b == nil {
		return nil, fmt.Errorf("Csr is not PEM: %q", in.Csr)
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		return nil, err
	}
	return csr, csr.CheckSignature()
}

// A response is an issuance only if it is a 200 naming the certificate.
func TestIssuedAccept(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		ok     bool
	}{
		{200, `{"CertificateArn":"arn:c"}`, true},
		{200, `{}`, false},
		{200, `not json`, false},
		{400, `{"__type":"MalformedCSRException"}`, false},
		{500, `{"CertificateArn":"arn:c"}`, false},
	} {
		issued := NewIssued(1)
		if got := issued.Accept(0, c.status, []byte(c.body)); got != c.ok || (issued.Arn(0) != "") != c.ok {
			t.Errorf("%d %s: accepted %v, ARN %q", c.status, c.body, got, issued.Arn(0))
		}
	}
}

// Flags of the other mode are refused rather than silently ignored.
func TestCommandFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--api", "acm-pca", "--dev-env", "x", "--certs", "5"},
		{"--dev-env", "x", "--csrs", "5"},
		{"--api", "s3", "--dev-env", "x"},
		{"--api", "acm-pca"},
		{"--api", "acm-pca", "--dev-env", "x", "--duration", "5m"},
	} {
		var out, errs strings.Builder
		if code := Command(context.Background(), args, &out, &errs); code != 2 || errs.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs.String())
		}
	}
}

// The raw bound signs the certificate the server issued, not a lighter
// one: what CreateCertificate makes from rawTemplate(like) has like's
// subject, extensions (by OID, in order) and validity length.
func TestRawTemplateIsLike(t *testing.T) {
	csrs, err := NewCSRs(2)
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := ca.GenerateKey("EC_prime256v1", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	root, err := ca.NewSelfSignedRoot(pkix.Name{CommonName: "test CA"}, caKey, now.Add(-time.Hour), now.Add(48*time.Hour), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := ca.ParseCSR(csrs.PEM[0])
	if err != nil {
		t.Fatal(err)
	}
	like, err := ca.Issue(root, caKey, ca.IssueRequest{
		Template: "EndEntityClientAuthCertificate/V1", CSR: csr, NotBefore: now, NotAfter: now.Add(24 * time.Hour),
		CRLDistributionPoint: "https://127.0.0.1:8443/crl/ca.crl",
	}, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, rawTemplate(like, new(big.Int).Lsh(big.NewInt(1), 126), now), root, csrs.Keys[1].Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	oids := func(c *x509.Certificate) (s []string) {
		for _, e := range c.Extensions {
			s = append(s, fmt.Sprintf("%v critical=%v", e.Id, e.Critical))
		}
		return s
	}
	if g, w := oids(got), oids(like); !slices.Equal(g, w) {
		t.Errorf("extensions %v, want %v", g, w)
	}
	if !bytes.Equal(got.RawSubject, like.RawSubject) || got.NotAfter.Sub(got.NotBefore) != like.NotAfter.Sub(like.NotBefore) {
		t.Errorf("subject %q validity %v, want %q %v", got.Subject, got.NotAfter.Sub(got.NotBefore), like.Subject, like.NotAfter.Sub(like.NotBefore))
	}
	if d := len(got.Raw) - len(like.Raw); d < -2 || d > 2 { // signatures vary by a byte or two
		t.Errorf("raw certificate %d bytes, like %d", len(got.Raw), len(like.Raw))
	}
}
