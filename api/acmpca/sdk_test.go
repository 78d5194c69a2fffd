package acmpca

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	smithy "github.com/aws/smithy-go"
)

// The AWS SDK for Go v2 drives every operation: the root CA flow,
// issuance, revocation reaching the served CRL, listing, tags, the state
// machine and audit reports.
func TestOperationsWithSDK(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	caARN, caCert := h.createRoot(t, "SDK Root", types.CertificateAuthorityUsageModeShortLivedCertificate, true)

	d, err := h.client.DescribeCertificateAuthority(ctx, &acmpca.DescribeCertificateAuthorityInput{CertificateAuthorityArn: &caARN})
	if err != nil {
		t.Fatal(err)
	}
	a := d.CertificateAuthority
	if a.Status != types.CertificateAuthorityStatusActive || a.Type != types.CertificateAuthorityTypeRoot ||
		a.UsageMode != types.CertificateAuthorityUsageModeShortLivedCertificate || *a.OwnerAccount != testScope.AccountID ||
		*a.CertificateAuthorityConfiguration.Subject.CommonName != "SDK Root" ||
		a.CertificateAuthorityConfiguration.KeyAlgorithm != types.KeyAlgorithmEcPrime256v1 ||
		!*a.RevocationConfiguration.CrlConfiguration.Enabled || a.Serial == nil ||
		!a.NotAfter.Equal(caCert.NotAfter) || !a.CreatedAt.Equal(h.clock.Now()) {
		t.Fatalf("describe: %+v", a)
	}

	// A workload certificate from a client-made key.
	csr := csrPEM(t, newKey(t), &x509.CertificateRequest{Subject: leafSubject, DNSNames: []string{"w.example"}})
	issueIn := &acmpca.IssueCertificateInput{
		CertificateAuthorityArn: &caARN, Csr: csr, SigningAlgorithm: types.SigningAlgorithmSha256withecdsa,
		TemplateArn: aws.String("arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1"),
		Validity:    &types.Validity{Type: types.ValidityPeriodTypeDays, Value: aws.Int64(1)}, IdempotencyToken: aws.String("tok-1"),
	}
	issued, err := h.client.IssueCertificate(ctx, issueIn)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(*issued.CertificateArn, caARN+"/certificate/") {
		t.Fatalf("certificate ARN %s", *issued.CertificateArn)
	}
	// Same idempotency token, same CSR: the same certificate.
	if again, err := h.client.IssueCertificate(ctx, issueIn); err != nil || *again.CertificateArn != *issued.CertificateArn {
		t.Fatalf("idempotent retry: %v %v", err, again)
	}
	if n := h.issuedCount(t, caARN); n != 2 { // the CA's own certificate and this one
		t.Fatalf("%d certificates recorded", n)
	}
	got, err := h.client.GetCertificate(ctx, &acmpca.GetCertificateInput{CertificateAuthorityArn: &caARN, CertificateArn: issued.CertificateArn})
	if err != nil {
		t.Fatal(err)
	}
	leaf := parseCert(t, *got.Certificate)
	if chain := parseCert(t, *got.CertificateChain); !chain.Equal(caCert) {
		t.Fatal("chain is not the CA certificate")
	}
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: h.clock.Now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatal(err)
	}
	caID := caARN[strings.LastIndex(caARN, "/")+1:]
	if want := h.srv.URL + "/crl/" + caID + ".crl"; !slices.Equal(leaf.CRLDistributionPoints, []string{want}) {
		t.Fatalf("CRL distribution points %v, want %s", leaf.CRLDistributionPoints, want)
	}
	if !leaf.NotAfter.Equal(h.clock.Now().AddDate(0, 0, 1)) || leaf.DNSNames[0] != "w.example" {
		t.Fatalf("leaf notAfter %v DNS %v", leaf.NotAfter, leaf.DNSNames)
	}

	// Revocation reaches the CRL at the distribution point at once.
	serial := leaf.SerialNumber.Text(16)
	if crl := fetchCRL(t, h, leaf.CRLDistributionPoints[0], caCert); len(crl.RevokedCertificateEntries) != 0 {
		t.Fatalf("fresh CRL lists %d certificates", len(crl.RevokedCertificateEntries))
	}
	if _, err := h.client.RevokeCertificate(ctx, &acmpca.RevokeCertificateInput{CertificateAuthorityArn: &caARN,
		CertificateSerial: aws.String(serial), RevocationReason: types.RevocationReasonKeyCompromise}); err != nil {
		t.Fatal(err)
	}
	crl := fetchCRL(t, h, leaf.CRLDistributionPoints[0], caCert)
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(leaf.SerialNumber) != 0 ||
		crl.RevokedCertificateEntries[0].ReasonCode != 1 {
		t.Fatalf("CRL after revocation: %+v", crl.RevokedCertificateEntries)
	}
	if ev := h.lastEvent(t); ev.EventName != "RevokeCertificate" || ev.EventSource != EventSource || ev.ErrorCode != "" {
		t.Fatalf("audit %+v", ev)
	}

	cc, err := h.client.GetCertificateAuthorityCertificate(ctx, &acmpca.GetCertificateAuthorityCertificateInput{CertificateAuthorityArn: &caARN})
	if err != nil || !parseCert(t, *cc.Certificate).Equal(caCert) || cc.CertificateChain != nil {
		t.Fatalf("GetCertificateAuthorityCertificate: %v %+v", err, cc)
	}

	// Listing pages.
	second, _ := h.createRoot(t, "Second Root", "", false)
	var listed []string
	p := acmpca.NewListCertificateAuthoritiesPaginator(h.client, &acmpca.ListCertificateAuthoritiesInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.CertificateAuthorities) > 1 {
			t.Fatalf("page of %d", len(page.CertificateAuthorities))
		}
		for _, a := range page.CertificateAuthorities {
			listed = append(listed, *a.Arn)
		}
	}
	slices.Sort(listed)
	want := []string{caARN, second}
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Fatalf("listed %v, want %v", listed, want)
	}
	other, err := h.client.ListCertificateAuthorities(ctx, &acmpca.ListCertificateAuthoritiesInput{ResourceOwner: types.ResourceOwnerOtherAccounts})
	if err != nil || len(other.CertificateAuthorities) != 0 {
		t.Fatalf("OTHER_ACCOUNTS: %v %d", err, len(other.CertificateAuthorities))
	}

	// Tags.
	if _, err := h.client.TagCertificateAuthority(ctx, &acmpca.TagCertificateAuthorityInput{CertificateAuthorityArn: &caARN,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}, {Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("x")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.UntagCertificateAuthority(ctx, &acmpca.UntagCertificateAuthorityInput{CertificateAuthorityArn: &caARN,
		Tags: []types.Tag{{Key: aws.String("x")}}}); err != nil {
		t.Fatal(err)
	}
	var tags []string
	tp := acmpca.NewListTagsPaginator(h.client, &acmpca.ListTagsInput{CertificateAuthorityArn: &caARN, MaxResults: aws.Int32(1)})
	for tp.HasMorePages() {
		page, err := tp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range page.Tags {
			tags = append(tags, *tag.Key+"="+aws.ToString(tag.Value))
		}
	}
	if !slices.Equal(tags, []string{"team=a", "env=prod"}) {
		t.Fatalf("tags %v", tags)
	}

	// Audit report: written at once, served at its S3 key.
	rep, err := h.client.CreateCertificateAuthorityAuditReport(ctx, &acmpca.CreateCertificateAuthorityAuditReportInput{
		CertificateAuthorityArn: &caARN, S3BucketName: aws.String("reports"), AuditReportResponseFormat: types.AuditReportResponseFormatJson})
	if err != nil {
		t.Fatal(err)
	}
	if want := "audit-report/" + caID + "/" + *rep.AuditReportId + ".json"; *rep.S3Key != want {
		t.Fatalf("S3Key %s, want %s", *rep.S3Key, want)
	}
	dr, err := h.client.DescribeCertificateAuthorityAuditReport(ctx, &acmpca.DescribeCertificateAuthorityAuditReportInput{
		CertificateAuthorityArn: &caARN, AuditReportId: rep.AuditReportId})
	if err != nil || dr.AuditReportStatus != types.AuditReportStatusSuccess || *dr.S3BucketName != "reports" || *dr.S3Key != *rep.S3Key ||
		!dr.CreatedAt.Equal(h.clock.Now()) {
		t.Fatalf("describe report: %v %+v", err, dr)
	}
	for _, path := range []string{"/" + *rep.S3Key, "/reports/" + *rep.S3Key} {
		resp, err := h.srv.Client().Get(h.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var rows []map[string]string
		err = json.NewDecoder(resp.Body).Decode(&rows)
		resp.Body.Close()
		if err != nil || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s: %v %s", path, err, resp.Header.Get("Content-Type"))
		}
		statuses := map[string]string{}
		for _, r := range rows {
			statuses[r["certificateArn"]] = r["status"]
		}
		if statuses[*issued.CertificateArn] != "REVOKED" || len(rows) < 2 {
			t.Fatalf("report rows %v", rows)
		}
	}

	// States: disable, delete, restore.
	if _, err := h.client.UpdateCertificateAuthority(ctx, &acmpca.UpdateCertificateAuthorityInput{CertificateAuthorityArn: &second,
		Status: types.CertificateAuthorityStatusDisabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.DeleteCertificateAuthority(ctx, &acmpca.DeleteCertificateAuthorityInput{CertificateAuthorityArn: &second,
		PermanentDeletionTimeInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	d, err = h.client.DescribeCertificateAuthority(ctx, &acmpca.DescribeCertificateAuthorityInput{CertificateAuthorityArn: &second})
	if err != nil || d.CertificateAuthority.Status != types.CertificateAuthorityStatusDeleted ||
		!d.CertificateAuthority.RestorableUntil.Equal(h.clock.Now().AddDate(0, 0, 7)) {
		t.Fatalf("after delete: %v %+v", err, d)
	}
	if _, err := h.client.RestoreCertificateAuthority(ctx, &acmpca.RestoreCertificateAuthorityInput{CertificateAuthorityArn: &second}); err != nil {
		t.Fatal(err)
	}
	d, _ = h.client.DescribeCertificateAuthority(ctx, &acmpca.DescribeCertificateAuthorityInput{CertificateAuthorityArn: &second})
	if d.CertificateAuthority.Status != types.CertificateAuthorityStatusDisabled {
		t.Fatalf("after restore: %s", d.CertificateAuthority.Status)
	}
}

// fetchCRL GETs a distribution point and checks the CRL's signature.
func fetchCRL(t *testing.T, h *harness, url string, issuer *x509.Certificate) *x509.RevocationList {
	t.Helper()
	resp, err := h.srv.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	der, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pkix-crl" {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		t.Fatal(err)
	}
	return crl
}

// sdkErr runs fn and returns its AWS error code and message.
func sdkErr(t *testing.T, err error) (string, string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an AWS error, got %v", err)
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != http.StatusBadRequest {
		t.Errorf("status %d, want 400", re.HTTPStatusCode())
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

// Bad input gets PCA's error types through the SDK (which maps them to
// its typed exceptions), and nothing is issued or recorded.
func TestErrorsWithSDK(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	caARN, _ := h.createRoot(t, "Errors Root", types.CertificateAuthorityUsageModeShortLivedCertificate, true)
	pending, err := h.client.CreateCertificateAuthority(ctx, &acmpca.CreateCertificateAuthorityInput{
		CertificateAuthorityType: types.CertificateAuthorityTypeRoot,
		CertificateAuthorityConfiguration: &types.CertificateAuthorityConfiguration{KeyAlgorithm: types.KeyAlgorithmEcPrime256v1,
			SigningAlgorithm: types.SigningAlgorithmSha256withecdsa, Subject: &types.ASN1Subject{CommonName: aws.String("Pending")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	goodCSR := csrPEM(t, newKey(t), &x509.CertificateRequest{Subject: leafSubject})
	badSig := []byte(strings.Replace(string(goodCSR), string(goodCSR[len(goodCSR)-60:len(goodCSR)-50]), "AAAAAAAAAA", 1))
	rsa1024 := rsaCSR(t, 1024)
	unknownCA := strings.Replace(caARN, caARN[len(caARN)-12:], "000000000000", 1)
	issue := func(mod func(*acmpca.IssueCertificateInput)) func() error {
		return func() error {
			in := &acmpca.IssueCertificateInput{CertificateAuthorityArn: aws.String(caARN), Csr: goodCSR,
				SigningAlgorithm: types.SigningAlgorithmSha256withecdsa,
				Validity:         &types.Validity{Type: types.ValidityPeriodTypeDays, Value: aws.Int64(1)}}
			mod(in)
			_, err := h.client.IssueCertificate(ctx, in)
			return err
		}
	}
	tests := []struct {
		name, code, message string
		call                func() error
		typed               any
	}{
		{"garbage CSR", "MalformedCSRException", "The certificate signing request is invalid.",
			issue(func(in *acmpca.IssueCertificateInput) { in.Csr = []byte("not a csr") }), new(*types.MalformedCSRException)},
		{"CSR with a bad signature", "MalformedCSRException", "The certificate signing request is invalid.",
			issue(func(in *acmpca.IssueCertificateInput) { in.Csr = badSig }), new(*types.MalformedCSRException)},
		{"weak RSA key", "MalformedCSRException", "The certificate signing request is invalid.",
			issue(func(in *acmpca.IssueCertificateInput) { in.Csr = rsa1024 }), new(*types.MalformedCSRException)},
		{"beyond the short-lived limit", "InvalidArgsException", "A CA in SHORT_LIVED_CERTIFICATE mode issues certificates valid for at most 7 days.",
			issue(func(in *acmpca.IssueCertificateInput) { in.Validity.Value = aws.Int64(8) }), new(*types.InvalidArgsException)},
		{"unknown template", "InvalidArgsException", "The template NoSuchTemplate/V1 is not supported.",
			issue(func(in *acmpca.IssueCertificateInput) {
				in.TemplateArn = aws.String("arn:aws:acm-pca:::template/NoSuchTemplate/V1")
			}), new(*types.InvalidArgsException)},
		{"signing algorithm of the wrong family", "InvalidArgsException", "The signing algorithm SHA256WITHRSA does not match the algorithm family of the CA's key.",
			issue(func(in *acmpca.IssueCertificateInput) { in.SigningAlgorithm = types.SigningAlgorithmSha256withrsa }), new(*types.InvalidArgsException)},
		{"passthrough extension iamra cannot write", "InvalidArgsException",
			"ApiPassthrough.Extensions.KeyUsage is not supported by iamra; only Subject and SubjectAlternativeNames are.",
			issue(func(in *acmpca.IssueCertificateInput) {
				in.TemplateArn = aws.String("arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1")
				in.ApiPassthrough = &types.ApiPassthrough{Extensions: &types.Extensions{KeyUsage: &types.KeyUsage{DigitalSignature: true}}}
			}), new(*types.InvalidArgsException)},
		{"passthrough SAN iamra cannot write", "InvalidArgsException",
			"ApiPassthrough.Extensions.SubjectAlternativeNames[0]: IpAddress \"300.1.1.1\" is not an IPv4 or IPv6 address",
			issue(func(in *acmpca.IssueCertificateInput) {
				in.TemplateArn = aws.String("arn:aws:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1")
				in.ApiPassthrough = &types.ApiPassthrough{Extensions: &types.Extensions{SubjectAlternativeNames: []types.GeneralName{{IpAddress: aws.String("300.1.1.1")}}}}
			}), new(*types.InvalidArgsException)},
		{"unknown CA", "ResourceNotFoundException", "Could not find certificate authority with ARN " + unknownCA + ".",
			issue(func(in *acmpca.IssueCertificateInput) { in.CertificateAuthorityArn = aws.String(unknownCA) }), new(*types.ResourceNotFoundException)},
		{"malformed CA ARN", "InvalidArnException", "The ARN arn:aws:s3:::bucket is not a valid certificate authority ARN.",
			issue(func(in *acmpca.IssueCertificateInput) { in.CertificateAuthorityArn = aws.String("arn:aws:s3:::bucket") }), new(*types.InvalidArnException)},
		{"CA without a certificate", "InvalidStateException",
			"The certificate authority " + *pending.CertificateAuthorityArn + " is in the PENDING_CERTIFICATE state, which does not allow IssueCertificate.",
			issue(func(in *acmpca.IssueCertificateInput) { in.CertificateAuthorityArn = pending.CertificateAuthorityArn }), new(*types.InvalidStateException)},
		{"delete an ACTIVE CA", "InvalidStateException",
			"The certificate authority " + caARN + " is in the ACTIVE state, which does not allow DeleteCertificateAuthority.",
			func() error {
				_, err := h.client.DeleteCertificateAuthority(ctx, &acmpca.DeleteCertificateAuthorityInput{CertificateAuthorityArn: &caARN})
				return err
			}, new(*types.InvalidStateException)},
		{"unknown certificate", "ResourceNotFoundException", "Could not find certificate " + caARN + "/certificate/0123456789abcdef0123456789abcdef.",
			func() error {
				_, err := h.client.GetCertificate(ctx, &acmpca.GetCertificateInput{CertificateAuthorityArn: &caARN,
					CertificateArn: aws.String(caARN + "/certificate/0123456789abcdef0123456789abcdef")})
				return err
			}, new(*types.ResourceNotFoundException)},
		{"revoke an unknown serial", "ResourceNotFoundException", "Could not find certificate with serial 0a:0b issued by " + caARN + ".",
			func() error {
				_, err := h.client.RevokeCertificate(ctx, &acmpca.RevokeCertificateInput{CertificateAuthorityArn: &caARN,
					CertificateSerial: aws.String("0a:0b"), RevocationReason: types.RevocationReasonUnspecified})
				return err
			}, new(*types.ResourceNotFoundException)},
		{"unknown audit report", "ResourceNotFoundException", "Could not find audit report 00000000-0000-4000-8000-000000000000.",
			func() error {
				_, err := h.client.DescribeCertificateAuthorityAuditReport(ctx, &acmpca.DescribeCertificateAuthorityAuditReportInput{
					CertificateAuthorityArn: &caARN, AuditReportId: aws.String("00000000-0000-4000-8000-000000000000")})
				return err
			}, new(*types.ResourceNotFoundException)},
		{"bad ListTags token", "InvalidNextTokenException", "The token specified in the NextToken argument is not valid.",
			func() error {
				_, err := h.client.ListTags(ctx, &acmpca.ListTagsInput{CertificateAuthorityArn: &caARN, NextToken: aws.String("99")})
				return err
			}, new(*types.InvalidNextTokenException)},
		{"CSR extensions", "InvalidArgsException", "CsrExtensions are not supported by iamra; create the CA without them.",
			func() error {
				_, err := h.client.CreateCertificateAuthority(ctx, &acmpca.CreateCertificateAuthorityInput{
					CertificateAuthorityType: types.CertificateAuthorityTypeRoot,
					CertificateAuthorityConfiguration: &types.CertificateAuthorityConfiguration{KeyAlgorithm: types.KeyAlgorithmEcPrime256v1,
						SigningAlgorithm: types.SigningAlgorithmSha256withecdsa, Subject: &types.ASN1Subject{CommonName: aws.String("x")},
						CsrExtensions: &types.CsrExtensions{KeyUsage: &types.KeyUsage{KeyCertSign: true}}},
				})
				return err
			}, new(*types.InvalidArgsException)},
		{"bad CA type", "ValidationException", "1 validation error detected: Value 'INTERMEDIATE' at 'certificateAuthorityType' failed to satisfy constraint: Member must satisfy enum value set: [ROOT, SUBORDINATE]",
			func() error {
				_, err := h.client.CreateCertificateAuthority(ctx, &acmpca.CreateCertificateAuthorityInput{
					CertificateAuthorityType: "INTERMEDIATE",
					CertificateAuthorityConfiguration: &types.CertificateAuthorityConfiguration{KeyAlgorithm: types.KeyAlgorithmEcPrime256v1,
						SigningAlgorithm: types.SigningAlgorithmSha256withecdsa, Subject: &types.ASN1Subject{CommonName: aws.String("x")}},
				})
				return err
			}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := h.issuedCount(t, caARN)
			err := tc.call()
			code, msg := sdkErr(t, err)
			if code != tc.code || (tc.message != "" && msg != tc.message) {
				t.Fatalf("got %s %q, want %s %q", code, msg, tc.code, tc.message)
			}
			if tc.typed != nil && !errors.As(err, tc.typed) {
				t.Errorf("the SDK did not map %s to %T", code, tc.typed)
			}
			if after := h.issuedCount(t, caARN); after != before {
				t.Errorf("%d certificates recorded after a refused request", after-before)
			}
		})
	}

	// Revoking twice: the second is RequestAlreadyProcessedException.
	key := newKey(t)
	out, err := h.client.IssueCertificate(ctx, &acmpca.IssueCertificateInput{CertificateAuthorityArn: &caARN,
		Csr: csrPEM(t, key, &x509.CertificateRequest{Subject: leafSubject}), SigningAlgorithm: types.SigningAlgorithmSha256withecdsa,
		Validity: &types.Validity{Type: types.ValidityPeriodTypeDays, Value: aws.Int64(1)}})
	if err != nil {
		t.Fatal(err)
	}
	serial := (*out.CertificateArn)[strings.LastIndex(*out.CertificateArn, "/")+1:]
	revoke := func() error {
		_, err := h.client.RevokeCertificate(ctx, &acmpca.RevokeCertificateInput{CertificateAuthorityArn: &caARN,
			CertificateSerial: aws.String(serial), RevocationReason: types.RevocationReasonSuperseded})
		return err
	}
	if err := revoke(); err != nil {
		t.Fatal(err)
	}
	err = revoke()
	if code, _ := sdkErr(t, err); code != "RequestAlreadyProcessedException" || !errors.As(err, new(*types.RequestAlreadyProcessedException)) {
		t.Fatalf("second revoke: %v", err)
	}
	// Refusals are audited with iamra's reason.
	if ev := h.lastEvent(t); ev.EventName != "RevokeCertificate" || ev.ErrorCode != "RequestAlreadyProcessedException" ||
		ev.AdditionalEventData["reason"] != "ca.revoke.already" {
		t.Fatalf("audit %+v", ev)
	}
}
