package loadtest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/iamra/iamra/ca"
)

// CSRs are client-made P-256 keys and a certificate signing request for
// each: every IssueCertificate of a run asks for a different key, so the
// server verifies a different CSR signature every time.
type CSRs struct {
	Keys []crypto.Signer
	PEM  [][]byte
}

// NewCSRs makes n keys and their CSRs.
func NewCSRs(n int) (*CSRs, error) {
	c := &CSRs{Keys: make([]crypto.Signer, n), PEM: make([][]byte, n)}
	for i := range n {
		key, err := ca.GenerateKey("EC_prime256v1", rand.Reader)
		if err != nil {
			return nil, err
		}
		csr, err := ca.CreateCSR(key, pkix.Name{CommonName: fmt.Sprintf("load-%06d", i), Organization: []string{"iamra load"}}, "", rand.Reader)
		if err != nil {
			return nil, err
		}
		c.Keys[i], c.PEM[i] = key, csr
	}
	return c, nil
}

// PCATarget names the CA the requests ask to issue from.
type PCATarget struct {
	Endpoint string // https://host:port
	Region   string
	CAArn    string
}

// Issuance parameters of the load: PCA's client-authentication template
// and a day's validity, which a SHORT_LIVED_CERTIFICATE CA allows.
const (
	issueTemplateArn = "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1"
	issueSigningAlg  = "SHA256WITHECDSA"
)

// issueRequest is IssueCertificate's JSON 1.1 input; Csr is a blob, so
// encoding/json writes it in base64 as the protocol wants.
type issueRequest struct {
	CertificateAuthorityArn string
	Csr                     []byte
	SigningAlgorithm        string
	TemplateArn             string
	Validity                struct {
		Type  string
		Value int64
	}
}

// SignIssue signs one IssueCertificate request per CSR with creds (SigV4,
// service acm-pca) at now, as the AWS SDKs shape them.
func (c *CSRs) SignIssue(ctx context.Context, t PCATarget, creds aws.Credentials, now time.Time) ([]*Prepared, error) {
	signer := v4.NewSigner()
	u := t.Endpoint + "/"
	out := make([]*Prepared, 0, len(c.PEM))
	for _, csr := range c.PEM {
		in := issueRequest{CertificateAuthorityArn: t.CAArn, Csr: csr, SigningAlgorithm: issueSigningAlg, TemplateArn: issueTemplateArn}
		in.Validity.Type, in.Validity.Value = "HOURS", 24
		body, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "ACMPrivateCA.IssueCertificate")
		sum := sha256.Sum256(body)
		if err := signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "acm-pca", t.Region, now); err != nil {
			return nil, err
		}
		out = append(out, &Prepared{URL: u, Header: req.Header, Body: body})
	}
	return out, nil
}

// RawCreateBound measures, on all cores for about d, raw
// x509.CreateCertificate of a client-authentication certificate for the
// client keys with a P-256 CA key: the signing no issuance can avoid,
// without the CSR check, policy or recording.
func (c *CSRs) RawCreateBound(d time.Duration) (Bound, error) {
	caKey, err := ca.GenerateKey("EC_prime256v1", rand.Reader)
	if err != nil {
		return Bound{}, err
	}
	now := time.Now()
	root, err := ca.NewSelfSignedRoot(pkix.Name{CommonName: "iamra load test raw CA"}, caKey, now.Add(-time.Hour), now.Add(24*time.Hour), rand.Reader)
	if err != nil {
		return Bound{}, err
	}
	return measureBound(d, func(w, i int) error {
		tmpl := &x509.Certificate{
			SerialNumber: new(big.Int).SetInt64(int64(w)<<40 | int64(i)),
			Subject:      pkix.Name{CommonName: "raw", Organization: []string{"iamra load"}},
			NotBefore:    now, NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		_, err := x509.CreateCertificate(rand.Reader, tmpl, root, c.Keys[i%len(c.Keys)].Public(), caKey)
		return err
	})
}
