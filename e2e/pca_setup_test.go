package e2e

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"

	"github.com/iamra/iamra/sigv4x509"
)

// The private CA through the running server: these tests need the server
// to route SigV4 requests of service "acm-pca" to api/acmpca, serve
// GET /crl/ with acmpca.NewCRLHandler, give trust anchors the pcasource
// Source and the control plane pcasource's ResolvePCA.

// pca is an ACM-PCA client signing with the server's admin key.
func (rs *runningServer) pca(t testing.TB) *acmpca.Client {
	t.Helper()
	k := rs.State.AdminKeys[0]
	return acmpca.New(acmpca.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(rs.Endpoint), HTTPClient: rs.Client,
		Credentials: awscreds.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, ""),
		Retryer:     aws.NopRetryer{},
	})
}

// pcaRoot creates an ACTIVE root CA with PCA's three-call flow and returns
// its ARN and certificate.
func pcaRoot(t testing.TB, c *acmpca.Client, cn string, usage pcatypes.CertificateAuthorityUsageMode, validity *pcatypes.Validity) (string, *x509.Certificate) {
	t.Helper()
	ctx := context.Background()
	out, err := c.CreateCertificateAuthority(ctx, &acmpca.CreateCertificateAuthorityInput{
		CertificateAuthorityType: pcatypes.CertificateAuthorityTypeRoot, UsageMode: usage,
		CertificateAuthorityConfiguration: &pcatypes.CertificateAuthorityConfiguration{
			KeyAlgorithm: pcatypes.KeyAlgorithmEcPrime256v1, SigningAlgorithm: pcatypes.SigningAlgorithmSha256withecdsa,
			Subject: &pcatypes.ASN1Subject{CommonName: aws.String(cn)},
		},
		RevocationConfiguration: &pcatypes.RevocationConfiguration{CrlConfiguration: &pcatypes.CrlConfiguration{Enabled: aws.Bool(true)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	caARN := *out.CertificateAuthorityArn
	csr, err := c.GetCertificateAuthorityCsr(ctx, &acmpca.GetCertificateAuthorityCsrInput{CertificateAuthorityArn: &caARN})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _ := pcaIssue(t, c, caARN, []byte(*csr.Csr), "RootCACertificate/V1", validity)
	if _, err := c.ImportCertificateAuthorityCertificate(ctx, &acmpca.ImportCertificateAuthorityCertificateInput{
		CertificateAuthorityArn: &caARN, Certificate: []byte(certPEM)}); err != nil {
		t.Fatal(err)
	}
	return caARN, pcaParse(t, certPEM)
}

// pcaIssue issues and fetches a certificate.
func pcaIssue(t testing.TB, c *acmpca.Client, caARN string, csr []byte, template string, validity *pcatypes.Validity) (cert, chain string) {
	t.Helper()
	ctx := context.Background()
	out, err := c.IssueCertificate(ctx, &acmpca.IssueCertificateInput{CertificateAuthorityArn: &caARN, Csr: csr,
		SigningAlgorithm: pcatypes.SigningAlgorithmSha256withecdsa, TemplateArn: aws.String("arn:aws:acm-pca:::template/" + template),
		Validity: validity})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetCertificate(ctx, &acmpca.GetCertificateInput{CertificateAuthorityArn: &caARN, CertificateArn: out.CertificateArn})
	if err != nil {
		t.Fatal(err)
	}
	return *got.Certificate, aws.ToString(got.CertificateChain)
}

func pcaParse(t testing.TB, p string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(p))
	if b == nil {
		t.Fatalf("no PEM in %q", p)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pcaWorkload makes a P-256 key and a CSR for it.
func pcaWorkload(t testing.TB, cn string) (crypto.Signer, []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, k)
	if err != nil {
		t.Fatal(err)
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

// pcaCreateSession calls CreateSession through the server as the
// official client does and returns the status and body.
func (rs *runningServer) pcaCreateSession(t testing.TB, leaf *x509.Certificate, key crypto.Signer, anchor, profile, role string) (int, string) {
	t.Helper()
	q := url.Values{"profileArn": {profile}, "roleArn": {role}, "trustAnchorArn": {anchor}}
	body := `{"durationSeconds":900}`
	req, err := http.NewRequest(http.MethodPost, rs.Endpoint+"/sessions?"+q.Encode(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := sigv4x509.Sign(req, []byte(body), sigv4x509.SignInput{Certificate: leaf, Signer: key, Region: "us-east-1", Time: rs.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	resp, err := rs.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}
