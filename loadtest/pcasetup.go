package loadtest

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/acmpca/types"
)

// SetupCA creates an ACTIVE P-256 root CA in short-lived-certificate mode
// through the ACM-PCA API, with PCA's own flow (create, get the CSR, issue
// the CA certificate with RootCACertificate/V1, import it), and returns
// its ARN and certificate.
func SetupCA(ctx context.Context, c *acmpca.Client) (string, *x509.Certificate, error) {
	out, err := c.CreateCertificateAuthority(ctx, &acmpca.CreateCertificateAuthorityInput{
		CertificateAuthorityType: types.CertificateAuthorityTypeRoot, UsageMode: types.CertificateAuthorityUsageModeShortLivedCertificate,
		CertificateAuthorityConfiguration: &types.CertificateAuthorityConfiguration{
			KeyAlgorithm: types.KeyAlgorithmEcPrime256v1, SigningAlgorithm: types.SigningAlgorithmSha256withecdsa,
			Subject: &types.ASN1Subject{CommonName: aws.String(fmt.Sprintf("iamra load test %d", time.Now().UnixNano())), Organization: aws.String("iamra load")},
		},
	})
	if err != nil {
		return "", nil, fmt.Errorf("create certificate authority: %w", err)
	}
	caArn := out.CertificateAuthorityArn
	csr, err := c.GetCertificateAuthorityCsr(ctx, &acmpca.GetCertificateAuthorityCsrInput{CertificateAuthorityArn: caArn})
	if err != nil {
		return "", nil, fmt.Errorf("get CA CSR: %w", err)
	}
	issued, err := c.IssueCertificate(ctx, &acmpca.IssueCertificateInput{
		CertificateAuthorityArn: caArn, Csr: []byte(*csr.Csr), SigningAlgorithm: types.SigningAlgorithmSha256withecdsa,
		TemplateArn: aws.String("arn:aws:acm-pca:::template/RootCACertificate/V1"),
		Validity:    &types.Validity{Type: types.ValidityPeriodTypeDays, Value: aws.Int64(7)},
	})
	if err != nil {
		return "", nil, fmt.Errorf("issue CA certificate: %w", err)
	}
	caCert, err := getCertificate(ctx, c, *caArn, *issued.CertificateArn)
	if err != nil {
		return "", nil, fmt.Errorf("get CA certificate: %w", err)
	}
	if _, err := c.ImportCertificateAuthorityCertificate(ctx, &acmpca.ImportCertificateAuthorityCertificateInput{
		CertificateAuthorityArn: caArn, Certificate: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw}),
	}); err != nil {
		return "", nil, fmt.Errorf("import CA certificate: %w", err)
	}
	return *caArn, caCert, waitActive(ctx, c, *caArn)
}

// waitActive polls the CA until it is ACTIVE, as PCA's users must after
// an import.
func waitActive(ctx context.Context, c *acmpca.Client, caArn string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := c.DescribeCertificateAuthority(ctx, &acmpca.DescribeCertificateAuthorityInput{CertificateAuthorityArn: &caArn})
		if err != nil {
			return fmt.Errorf("describe certificate authority: %w", err)
		}
		if s := d.CertificateAuthority.Status; s == types.CertificateAuthorityStatusActive {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("loadtest: CA %s is %s, not ACTIVE, after import", caArn, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// getCertificate fetches and parses an issued certificate.
func getCertificate(ctx context.Context, c *acmpca.Client, caArn, certArn string) (*x509.Certificate, error) {
	got, err := c.GetCertificate(ctx, &acmpca.GetCertificateInput{CertificateAuthorityArn: &caArn, CertificateArn: &certArn})
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode([]byte(aws.ToString(got.Certificate)))
	if b == nil {
		return nil, errors.New("no PEM certificate in GetCertificate's answer")
	}
	return x509.ParseCertificate(b.Bytes)
}

// IssueOne issues a certificate for CSR i through the SDK with the load's
// parameters and returns it, for the raw bound to create its like.
func IssueOne(ctx context.Context, c *acmpca.Client, caArn string, csrs *CSRs, i int) (*x509.Certificate, error) {
	out, err := c.IssueCertificate(ctx, &acmpca.IssueCertificateInput{
		CertificateAuthorityArn: &caArn, Csr: csrs.PEM[i], SigningAlgorithm: issueSigningAlg,
		TemplateArn: aws.String(issueTemplateArn), Validity: &types.Validity{Type: issueValidityType, Value: aws.Int64(issueValidityValue)},
	})
	if err != nil {
		return nil, fmt.Errorf("issue certificate: %w", err)
	}
	return getCertificate(ctx, c, caArn, aws.ToString(out.CertificateArn))
}

// VerifySample fetches the certificates issued for the sampled CSRs and
// checks that each parses, is signed by caCert and certifies the CSR's
// key. It returns one error per certificate that fails.
func VerifySample(ctx context.Context, c *acmpca.Client, caArn string, caCert *x509.Certificate, csrs *CSRs, issued *Issued, sample []int) []error {
	var errs []error
	for _, i := range sample {
		certArn := issued.Arn(i)
		cert, err := getCertificate(ctx, c, caArn, certArn)
		switch {
		case err != nil:
		case cert.CheckSignatureFrom(caCert) != nil:
			err = errors.New("not signed by the CA")
		case !samePublicKey(cert, csrs, i):
			err = errors.New("does not certify the CSR's key")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s (CSR %d): %w", certArn, i, err))
		}
	}
	return errs
}

func samePublicKey(cert *x509.Certificate, csrs *CSRs, i int) bool {
	k, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(csrs.Keys[i].Public())
}
