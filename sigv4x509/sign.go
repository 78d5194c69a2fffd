package sigv4x509

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// SignInput is what Sign needs besides the request.
type SignInput struct {
	Certificate *x509.Certificate   // leaf
	Chain       []*x509.Certificate // sent in X-Amz-X509-Chain, in this order (may be empty)
	// Signer is the private key matching Certificate (RSA, ECDSA, ML-DSA via
	// circl). It may be a PKCS#11 or TPM signer: an ECDSA signer may return
	// ASN.1 DER or fixed-width r‖s; the latter is re-encoded to DER.
	Signer crypto.Signer
	Region string
	Time   time.Time
	// Rand is passed to Signer.Sign; nil means crypto/rand.Reader. (The
	// standard library's signers ignore it since Go 1.26.)
	Rand io.Reader
}

// Sign signs a CreateSession request the way the official client does. It
// sets X-Amz-Date, X-Amz-X509, X-Amz-X509-Chain (removing a stale one when
// Chain is empty) and Authorization on req.
//
// Signed are host (req.Host, else req.URL.Host) and every header present
// in req.Header except Authorization, User-Agent and X-Amzn-Trace-Id, as
// the official client does, and except Host, Content-Length,
// Transfer-Encoding and Trailer, which the Go transport writes itself
// whatever the map says. So set the request's other headers before
// calling Sign, and do not change them after; the transport's own
// additions (Accept-Encoding, Content-Length) are never signed. A request
// must be signed afresh for every attempt.
//
// The canonical URI is always "/sessions", the canonical query is
// req.URL.Query().Encode() with "+" as "%20", and body is the exact
// payload (it is only hashed; req.Body is left alone).
//
// The algorithm follows from the signer's key, which must be the
// certificate's key. The signature is checked against that key before it
// is used, so a faulty token or key store fails here, not at the server.
func Sign(req *http.Request, body []byte, in SignInput) error {
	if req == nil || req.URL == nil {
		return errors.New("sigv4x509: nil request or request URL")
	}
	if in.Certificate == nil || len(in.Certificate.Raw) == 0 {
		return errors.New("sigv4x509: no certificate (SignInput.Certificate must be a parsed certificate)")
	}
	if in.Signer == nil {
		return errors.New("sigv4x509: no signer")
	}
	if in.Time.IsZero() {
		return errors.New("sigv4x509: SignInput.Time is zero")
	}
	if err := checkRegion(in.Region); err != nil {
		return fmt.Errorf("sigv4x509: region %q: %w", in.Region, err)
	}
	for i, c := range in.Chain {
		if c == nil || len(c.Raw) == 0 {
			return fmt.Errorf("sigv4x509: chain certificate %d is empty", i)
		}
	}
	pub := in.Signer.Public()
	alg, err := AlgorithmFor(pub)
	if err != nil {
		return err
	}
	certPub, err := CertificatePublicKey(in.Certificate)
	if err != nil {
		return fmt.Errorf("sigv4x509: certificate (serial %s): %w", in.Certificate.SerialNumber, err)
	}
	if !sameKey(pub, certPub) {
		return fmt.Errorf("sigv4x509: the signer's %s key is not the key of the certificate (serial %s, %s key)",
			keyType(pub), in.Certificate.SerialNumber, keyType(certPub))
	}

	date := in.Time.UTC().Format(DateLayout)
	if req.Header == nil {
		req.Header = make(http.Header)
	}
	for _, h := range []string{HeaderAuthorization, HeaderDate, HeaderX509, HeaderX509Chain} {
		deleteHeader(req.Header, strings.ToLower(h))
	}
	req.Header.Set(HeaderDate, date)
	req.Header.Set(HeaderX509, base64.StdEncoding.EncodeToString(in.Certificate.Raw))
	if len(in.Chain) > 0 {
		enc := make([]string, len(in.Chain))
		for i, c := range in.Chain {
			enc[i] = base64.StdEncoding.EncodeToString(c.Raw)
		}
		req.Header.Set(HeaderX509Chain, strings.Join(enc, ","))
	}

	auth := Authorization{
		Algorithm:     alg,
		Serial:        in.Certificate.SerialNumber,
		Date:          date[:8],
		Region:        in.Region,
		Service:       Service,
		Terminal:      Terminal,
		SignedHeaders: namesToSign(req),
	}
	sts := stringToSign(req, alg, date, auth.Scope(), auth.SignedHeaders, body)
	rnd := in.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	auth.Signature, err = signStringToSign(in.Signer, rnd, alg, pub, sts)
	if err != nil {
		return err
	}
	req.Header.Set(HeaderAuthorization, auth.String())
	return nil
}

// signStringToSign asks the signer for the signature of sts: over its
// SHA-256 for RSA and ECDSA, over the message itself for ML-DSA (pure
// ML-DSA; crypto.Hash(0) is the crypto.Signer convention for "no
// pre-hash"). It returns only a signature that verifies under pub.
func signStringToSign(s crypto.Signer, rnd io.Reader, alg string, pub crypto.PublicKey, sts []byte) ([]byte, error) {
	msg, opts := sts, crypto.SignerOpts(crypto.Hash(0))
	if alg != AlgorithmMLDSA {
		digest := sha256.Sum256(sts)
		msg, opts = digest[:], crypto.SHA256
	}
	sig, err := s.Sign(rnd, msg, opts)
	if err != nil {
		return nil, fmt.Errorf("sigv4x509: %s signing failed: %w", alg, err)
	}
	err = checkSignature(pub, sts, sig)
	if k, ok := pub.(*ecdsa.PublicKey); ok && err != nil {
		if der, ok := rawECDSAToDER(k, sig); ok && checkSignature(pub, sts, der) == nil {
			return der, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sigv4x509: the signer returned a %s signature that does not verify with its own public key: %v", alg, err)
	}
	return sig, nil
}
