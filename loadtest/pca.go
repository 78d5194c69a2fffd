package loadtest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
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
	issueTemplateArn   = "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1"
	issueSigningAlg    = "SHA256WITHECDSA"
	issueValidityType  = "HOURS"
	issueValidityValue = 24
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
	out := make([]*Prepared, 0, len(c.PEM))
	for _, csr := range c.PEM {
		in := issueRequest{CertificateAuthorityArn: t.CAArn, Csr: csr, SigningAlgorithm: issueSigningAlg, TemplateArn: issueTemplateArn}
		in.Validity.Type, in.Validity.Value = issueValidityType, issueValidityValue
		p, err := signPCA(ctx, signer, t, creds, now, "IssueCertificate", in)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// SignDescribe signs one DescribeCertificateAuthority request for the
// target's CA with creds at now: the cheapest signed ACM-PCA call, which
// carries what every call carries (TLS, HTTP, SigV4, JSON, a store read)
// and nothing of issuance. The server neither audits nor remembers reads,
// so the one request can be sent any number of times.
func SignDescribe(ctx context.Context, t PCATarget, creds aws.Credentials, now time.Time) ([]*Prepared, error) {
	p, err := signPCA(ctx, v4.NewSigner(), t, creds, now, "DescribeCertificateAuthority", struct{ CertificateAuthorityArn string }{t.CAArn})
	if err != nil {
		return nil, err
	}
	return []*Prepared{p}, nil
}

// signPCA signs the ACM-PCA JSON 1.1 call op with input in, as the AWS
// SDKs shape it: POST / with the operation in X-Amz-Target.
func signPCA(ctx context.Context, signer *v4.Signer, t PCATarget, creds aws.Credentials, now time.Time, op string, in any) (*Prepared, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	u := t.Endpoint + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "ACMPrivateCA."+op)
	sum := sha256.Sum256(body)
	if err := signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "acm-pca", t.Region, now); err != nil {
		return nil, err
	}
	return &Prepared{URL: u, Header: req.Header, Body: body}, nil
}

// RawCreateBound measures, on all cores for about d, raw
// x509.CreateCertificate of the certificate like (one the server issued
// from these CSRs) for each of the client keys in turn, with a P-256 CA key
// of its own: same subject, extensions and validity, so the bound does
// the encoding, signing and self-check of the very certificate the server
// makes, without the CSR check, policy or recording. A nil like stands for
// a bare client-authentication certificate (subject, key usage, extended
// key usage): a lower bound that leaves out the extensions issuance must
// write (basic constraints, key identifiers, the CRL distribution point).
func (c *CSRs) RawCreateBound(d time.Duration, like *x509.Certificate) (Bound, error) {
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
		// 16-byte serials, as iamra's.
		serial := new(big.Int).SetInt64(int64(w)<<40 | int64(i))
		serial.SetBit(serial, 126, 1)
		_, err := x509.CreateCertificate(rand.Reader, rawTemplate(like, serial, now), root, c.Keys[i%len(c.Keys)].Public(), caKey)
		return err
	})
}

// rawTemplate is the template RawCreateBound signs: like's contents, or
// the bare client certificate when like is nil, with serial and a validity
// starting now.
func rawTemplate(like *x509.Certificate, serial *big.Int, now time.Time) *x509.Certificate {
	if like == nil {
		return &x509.Certificate{
			SerialNumber: serial,
			Subject:      pkix.Name{CommonName: "raw", Organization: []string{"iamra load"}},
			NotBefore:    now, NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
	}
	return &x509.Certificate{
		SerialNumber: serial, Subject: like.Subject,
		NotBefore: now, NotAfter: now.Add(like.NotAfter.Sub(like.NotBefore)),
		KeyUsage: like.KeyUsage, ExtKeyUsage: like.ExtKeyUsage, UnknownExtKeyUsage: like.UnknownExtKeyUsage,
		BasicConstraintsValid: like.BasicConstraintsValid, IsCA: like.IsCA,
		MaxPathLen: like.MaxPathLen, MaxPathLenZero: like.MaxPathLenZero,
		SubjectKeyId: like.SubjectKeyId, CRLDistributionPoints: like.CRLDistributionPoints,
		OCSPServer: like.OCSPServer, IssuingCertificateURL: like.IssuingCertificateURL, Policies: like.Policies,
		DNSNames: like.DNSNames, EmailAddresses: like.EmailAddresses, IPAddresses: like.IPAddresses, URIs: like.URIs,
	}
}

// CryptoFloor measures, on all cores for about d, the cryptography no
// issuance can skip, whatever the server: verify the client's CSR
// signature (on a CSR parsed beforehand, so parsing is not counted) and
// make one P-256 ECDSA signature with the CA key over a SHA-256 digest,
// here of the CSR's signed part, about a certificate's size. Raw
// CreateCertificate costs more than this: it also builds and encodes the
// certificate and checks the signature it made.
func (c *CSRs) CryptoFloor(d time.Duration) (Bound, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Bound{}, err
	}
	parsed := make([]*x509.CertificateRequest, len(c.PEM))
	for i, p := range c.PEM {
		if parsed[i], err = ca.ParseCSR(p); err != nil {
			return Bound{}, fmt.Errorf("loadtest: CSR %d: %w", i, err)
		}
	}
	return measureBound(d, func(_, i int) error {
		csr := parsed[i%len(parsed)]
		if err := csr.CheckSignature(); err != nil {
			return err
		}
		digest := sha256.Sum256(csr.RawTBSCertificateRequest)
		_, err := ecdsa.SignASN1(rand.Reader, caKey, digest[:])
		return err
	})
}
