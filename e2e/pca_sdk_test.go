package e2e

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	smithy "github.com/aws/smithy-go"
)

// The AWS SDK for Go v2 acmpca client through the real server: SigV4
// verification, routing by credential scope, PCA's errors, the audit log,
// and the unauthenticated CRL distribution point the certificates name.
func TestPCAThroughServer(t *testing.T) {
	rs := startServer(t, time.Now().UTC().Truncate(time.Second))
	ctx := context.Background()
	pca := rs.pca(t)
	day := &pcatypes.Validity{Type: pcatypes.ValidityPeriodTypeDays, Value: aws.Int64(1)}
	caARN, caCert := pcaRoot(t, pca, "Server Root", pcatypes.CertificateAuthorityUsageModeShortLivedCertificate,
		&pcatypes.Validity{Type: pcatypes.ValidityPeriodTypeYears, Value: aws.Int64(10)})
	_, csr := pcaWorkload(t, "server-workload")
	_, chain := pcaIssue(t, pca, caARN, csr, "EndEntityClientAuthCertificate/V1", day)
	if !pcaParse(t, chain).Equal(caCert) {
		t.Fatal("chain is not the CA certificate")
	}

	// Writes are audited with the admin's identity.
	var issueAudited bool
	for _, ev := range rs.auditEvents(t) {
		if ev.EventSource == "acm-pca.amazonaws.com" && ev.EventName == "IssueCertificate" && ev.ErrorCode == "" &&
			ev.UserIdentity.Arn == rs.State.AdminKeys[0].Arn {
			issueAudited = true
		}
	}
	if !issueAudited {
		t.Error("IssueCertificate is not in the audit log with the admin's identity")
	}

	// The CRL distribution point is served without credentials. (The
	// test server has no PublicURL, so its certificates name no
	// distribution point; api/acmpca's tests check the URL written.)
	id := caARN[strings.LastIndex(caARN, "/")+1:]
	resp, err := rs.Client.Get(rs.Endpoint + "/crl/" + id + ".crl")
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rl, err := x509.ParseRevocationList(der)
	if resp.StatusCode != 200 || err != nil || rl.CheckSignatureFrom(caCert) != nil {
		t.Fatalf("GET CRL: %d %v", resp.StatusCode, err)
	}

	// PCA's errors, and nothing recorded for refused requests.
	pending, err := pca.CreateCertificateAuthority(ctx, &acmpca.CreateCertificateAuthorityInput{
		CertificateAuthorityType: pcatypes.CertificateAuthorityTypeRoot,
		CertificateAuthorityConfiguration: &pcatypes.CertificateAuthorityConfiguration{KeyAlgorithm: pcatypes.KeyAlgorithmEcPrime256v1,
			SigningAlgorithm: pcatypes.SigningAlgorithmSha256withecdsa, Subject: &pcatypes.ASN1Subject{CommonName: aws.String("Pending")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	unknown := caARN[:strings.LastIndex(caARN, "/")+1] + "00000000-0000-4000-8000-000000000000"
	issue := func(ca string, csr []byte, v *pcatypes.Validity) error {
		_, err := pca.IssueCertificate(ctx, &acmpca.IssueCertificateInput{CertificateAuthorityArn: &ca, Csr: csr,
			SigningAlgorithm: pcatypes.SigningAlgorithmSha256withecdsa, Validity: v})
		return err
	}
	for _, tc := range []struct {
		name string
		err  error
		code string
	}{
		{"malformed CSR", issue(caARN, []byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"), day), "MalformedCSRException"},
		{"beyond the short-lived limit", issue(caARN, csr, &pcatypes.Validity{Type: pcatypes.ValidityPeriodTypeDays, Value: aws.Int64(30)}), "InvalidArgsException"},
		{"unknown CA", issue(unknown, csr, day), "ResourceNotFoundException"},
		{"CA without a certificate", issue(*pending.CertificateAuthorityArn, csr, day), "InvalidStateException"},
	} {
		var ae smithy.APIError
		if !errors.As(tc.err, &ae) || ae.ErrorCode() != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, tc.err, tc.code)
		}
	}
	rep, err := pca.CreateCertificateAuthorityAuditReport(ctx, &acmpca.CreateCertificateAuthorityAuditReportInput{CertificateAuthorityArn: &caARN,
		S3BucketName: aws.String("audit"), AuditReportResponseFormat: pcatypes.AuditReportResponseFormatJson})
	if err != nil {
		t.Fatal(err)
	}
	// The report body is served to signed callers at its S3 key.
	reportURL := rs.Endpoint + "/" + *rep.S3Key
	if resp, err := rs.Client.Get(reportURL); err != nil || resp.StatusCode < 400 {
		t.Fatalf("unsigned GET of the audit report: %v %v", err, resp)
	}
	var rows []map[string]string
	if err := json.Unmarshal(pcaSignedGet(t, rs, reportURL), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 { // the CA's own certificate and the workload's
		t.Fatalf("audit report has %d rows after refused requests: %v", len(rows), rows)
	}

	// Authentication is the server's, as for every signed API.
	anon := acmpca.New(acmpca.Options{Region: "us-east-1", BaseEndpoint: aws.String(rs.Endpoint), HTTPClient: rs.Client,
		Credentials: aws.AnonymousCredentials{}})
	_, err = anon.ListCertificateAuthorities(ctx, &acmpca.ListCertificateAuthoritiesInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "MissingAuthenticationTokenException" {
		t.Errorf("anonymous: %v", err)
	}
	wrong := acmpca.New(acmpca.Options{Region: "us-east-1", BaseEndpoint: aws.String(rs.Endpoint), HTTPClient: rs.Client,
		Credentials: awscreds.NewStaticCredentialsProvider("AKIAUNKNOWNUNKNOWN00", "x", "")})
	if _, err = wrong.ListCertificateAuthorities(ctx, &acmpca.ListCertificateAuthoritiesInput{}); !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
		t.Errorf("unknown key: %v", err)
	}
}

// pcaSignedGet GETs url signed with the admin key for service acm-pca.
func pcaSignedGet(t *testing.T, rs *runningServer, url string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := rs.State.AdminKeys[0]
	const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey},
		req, emptySHA256, "acm-pca", "us-east-1", rs.clock.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := rs.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	return body
}
