package sigv4x509

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/iamra/iamra/awserr"
)

var signTime = time.Date(2026, 11, 22, 13, 28, 57, 0, time.UTC)

// verifyServer is a loopback CreateSession endpoint that only verifies the
// signature, so the round trips cross a real Go client transport (which
// adds Accept-Encoding and Content-Length after signing) and a real
// server parser.
type verifyServer struct {
	*httptest.Server
	got chan verifyResult
}

type verifyResult struct {
	v   *Verified
	err error
}

func newVerifyServer(t *testing.T, now time.Time) *verifyServer {
	s := &verifyServer{got: make(chan verifyResult, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		v, err := Verify(r, body, VerifyOptions{Now: now})
		s.got <- verifyResult{v, err}
		if err != nil {
			e := awserr.As(err)
			w.Header().Set("X-Amzn-ErrorType", e.Code)
			http.Error(w, e.Message, e.Status)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(s.Close)
	return s
}

// send signs a CreateSession request shaped like the official client's
// and posts it to path on the server.
func (s *verifyServer) send(t *testing.T, path string, k testKey, chain []*x509.Certificate) verifyResult {
	t.Helper()
	body := []byte(`{"durationSeconds":900,"roleSessionName":"round trip"}`)
	q := "profileArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A123456789012%3Aprofile%2Fp&roleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fa%20b&trustAnchorArn=arn"
	req, err := http.NewRequest(http.MethodPost, s.URL+path+"?"+q, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Amz-Sdk-Invocation-Id", "c2c34cca-36c9-48e3-a0bc-ba34c8497fc0")
	req.Header.Set("Amz-Sdk-Request", "attempt=1;  max=3") // collapsed to one space when signed
	req.Header.Set("User-Agent", "iamra-test")
	req.Header.Set("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793")
	if err := Sign(req, body, SignInput{Certificate: k.cert, Chain: chain, Signer: k.signer, Region: "us-east-1", Time: signTime}); err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	res := <-s.got
	if (resp.StatusCode == http.StatusCreated) != (res.err == nil) {
		t.Fatalf("status %d with error %v", resp.StatusCode, res.err)
	}
	return res
}

func TestSignVerifyRoundTrip(t *testing.T) {
	pki := newTestPKI(t, signTime)
	srv := newVerifyServer(t, signTime.Add(90*time.Second))
	for _, kind := range []string{"RSA-2048", "P-256", "P-384", "P-521", "ML-DSA-44", "ML-DSA-65", "ML-DSA-87", "ML-DSA-65-self"} {
		t.Run(kind, func(t *testing.T) {
			k := pki.newTestKey(t, kind)
			for _, path := range []string{"/sessions", "/prefix/sessions"} {
				res := srv.send(t, path, k, []*x509.Certificate{pki.ca, k.cert})
				if res.err != nil {
					t.Fatalf("%s: %v", path, res.err)
				}
				v := res.v
				if v.Algorithm != k.alg || v.Region != "us-east-1" || !v.Time.Equal(signTime) ||
					v.Leaf.SerialNumber.Cmp(k.cert.SerialNumber) != 0 || len(v.Chain) != 2 ||
					!bytes.Equal(v.Chain[0].Raw, pki.ca.Raw) || !bytes.Equal(v.Chain[1].Raw, k.cert.Raw) {
					t.Fatalf("Verified = %+v", v)
				}
				if got := strings.Join(v.SignedHeaders, ";"); got != "amz-sdk-invocation-id;amz-sdk-request;content-type;host;x-amz-date;x-amz-x509;x-amz-x509-chain" {
					t.Errorf("SignedHeaders %s", got)
				}
				if !sameKey(k.signer.Public(), v.Leaf.PublicKey) {
					t.Error("Leaf.PublicKey is not the signer's key")
				}
			}
			if k.alg == AlgorithmMLDSA && kind != "ML-DSA-65-self" {
				// The CA's ECDSA signature over an ML-DSA leaf is still
				// checkable by crypto/x509, so chain building works.
				if err := k.cert.CheckSignatureFrom(pki.ca); err != nil {
					t.Errorf("ML-DSA leaf does not chain to the CA: %v", err)
				}
			}
		})
	}
}

// TestSignVerifyWire verifies a signed client request as
// written to the wire and parsed back, without a server.
func TestSignVerifyWire(t *testing.T) {
	pki := newTestPKI(t, signTime)
	k := pki.newTestKey(t, "P-256")
	body := []byte(`{}`)
	req, err := http.NewRequest(http.MethodPost, "https://rolesanywhere.example:8443/sessions", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := Sign(req, body, SignInput{Certificate: k.cert, Signer: k.signer, Region: "eu-central-1", Time: signTime}); err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get(HeaderAuthorization); !strings.HasPrefix(got, "AWS4-X509-ECDSA-SHA256 Credential="+k.cert.SerialNumber.String()+
		"/20261122/eu-central-1/rolesanywhere/aws4_request, SignedHeaders=host;x-amz-date;x-amz-x509, Signature=") {
		t.Fatalf("Authorization %s", got)
	}
	r := wireRoundTrip(t, req)
	v, err := Verify(r, body, VerifyOptions{Now: signTime.Add(-4 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if v.Region != "eu-central-1" || v.Chain != nil {
		t.Fatalf("Verified = %+v", v)
	}
}

func wireRoundTrip(t testing.TB, req *http.Request) *http.Request {
	t.Helper()
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadRequest(bufioReader(&wire))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rawECDSASigner returns fixed-width r‖s, like PKCS#11 tokens and CNG.
type rawECDSASigner struct{ *ecdsa.PrivateKey }

func (s rawECDSASigner) Sign(rnd io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	der, err := s.PrivateKey.Sign(rnd, digest, opts)
	if err != nil {
		return nil, err
	}
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		return nil, err
	}
	size := (s.Curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, nil
}

func TestSignRawECDSASigner(t *testing.T) {
	pki := newTestPKI(t, signTime)
	for _, kind := range []string{"P-256", "P-384", "P-521"} {
		k := pki.newTestKey(t, kind)
		body := []byte(`{"durationSeconds":3600}`)
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9/sessions", bytes.NewReader(body))
		in := SignInput{Certificate: k.cert, Signer: rawECDSASigner{k.signer.(*ecdsa.PrivateKey)}, Region: "us-east-1", Time: signTime}
		if err := Sign(req, body, in); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		auth, err := ParseAuthorization(req.Header.Get(HeaderAuthorization))
		if err != nil {
			t.Fatal(err)
		}
		if auth.Signature[0] != 0x30 {
			t.Errorf("%s: signature not re-encoded as DER: %x", kind, auth.Signature)
		}
		if _, err := Verify(wireRoundTrip(t, req), body, VerifyOptions{Now: signTime}); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
}

type brokenSigner struct {
	crypto.Signer
	sig []byte
	err error
}

func (s brokenSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) { return s.sig, s.err }

func TestSignErrors(t *testing.T) {
	pki := newTestPKI(t, signTime)
	rsaKey := pki.newTestKey(t, "RSA-2048")
	ecKey := pki.newTestKey(t, "P-256")
	mlKey := pki.newTestKey(t, "ML-DSA-44")
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	ok := SignInput{Certificate: ecKey.cert, Signer: ecKey.signer, Region: "us-east-1", Time: signTime}
	with := func(f func(*SignInput)) SignInput { in := ok; f(&in); return in }
	newReq := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9/sessions", nil)
		return r
	}
	for _, tc := range []struct {
		name string
		req  *http.Request
		in   SignInput
		want string
	}{
		{"nil request", nil, ok, "sigv4x509: nil request or request URL"},
		{"no certificate", newReq(), with(func(in *SignInput) { in.Certificate = nil }), "sigv4x509: no certificate (SignInput.Certificate must be a parsed certificate)"},
		{"no signer", newReq(), with(func(in *SignInput) { in.Signer = nil }), "sigv4x509: no signer"},
		{"zero time", newReq(), with(func(in *SignInput) { in.Time = time.Time{} }), "sigv4x509: SignInput.Time is zero"},
		{"empty region", newReq(), with(func(in *SignInput) { in.Region = "" }), `sigv4x509: region "": region must be 1 to 64 characters`},
		{"region with slash", newReq(), with(func(in *SignInput) { in.Region = "us-east-1/x" }), `sigv4x509: region "us-east-1/x": region may hold only a-z, 0-9 and -`},
		{"nil chain entry", newReq(), with(func(in *SignInput) { in.Chain = []*x509.Certificate{pki.ca, nil} }), "sigv4x509: chain certificate 1 is empty"},
		{"key of another certificate", newReq(), with(func(in *SignInput) { in.Signer = rsaKey.signer }),
			"sigv4x509: the signer's RSA-2048 key is not the key of the certificate (serial " + ecKey.cert.SerialNumber.String() + ", ECDSA P-256 key)"},
		{"ML-DSA key for an ECDSA certificate", newReq(), with(func(in *SignInput) { in.Signer = mlKey.signer }),
			"sigv4x509: the signer's ML-DSA-44 key is not the key of the certificate (serial " + ecKey.cert.SerialNumber.String() + ", ECDSA P-256 key)"},
		{"Ed25519 signer", newReq(), with(func(in *SignInput) { in.Signer = edPriv }), "sigv4x509: ed25519.PublicKey keys are not supported (RSA, ECDSA or ML-DSA)"},
		{"P-224 signer", newReq(), with(func(in *SignInput) { in.Signer = p224 }), "sigv4x509: ECDSA curve P-224 is not supported (P-256, P-384 or P-521)"},
		{"signer fails", newReq(), with(func(in *SignInput) { in.Signer = brokenSigner{ecKey.signer, nil, errors.New("token removed")} }),
			"sigv4x509: AWS4-X509-ECDSA-SHA256 signing failed: token removed"},
		{"signer returns garbage", newReq(), with(func(in *SignInput) { in.Signer = brokenSigner{ecKey.signer, []byte{1, 2, 3}, nil} }),
			"sigv4x509: the signer returned a AWS4-X509-ECDSA-SHA256 signature that does not verify with its own public key: ECDSA signature (ASN.1 DER over SHA-256) does not verify"},
		{"RSA signer returns garbage", newReq(), SignInput{Certificate: rsaKey.cert, Signer: brokenSigner{rsaKey.signer, make([]byte, 256), nil}, Region: "us-east-1", Time: signTime},
			"sigv4x509: the signer returned a AWS4-X509-RSA-SHA256 signature that does not verify with its own public key: crypto/rsa: verification error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Sign(tc.req, nil, tc.in)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
			if tc.req != nil && tc.req.Header.Get(HeaderAuthorization) != "" {
				t.Error("Authorization set despite the error")
			}
		})
	}
}

// TestSignAgain re-signs a request, as a retry does: the stale date,
// chain and Authorization (in any letter case) must not survive or be signed.
func TestSignAgain(t *testing.T) {
	pki := newTestPKI(t, signTime)
	k := pki.newTestKey(t, "P-256")
	body := []byte(`{}`)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9/sessions", bytes.NewReader(body))
	in := SignInput{Certificate: k.cert, Chain: []*x509.Certificate{pki.ca}, Signer: k.signer, Region: "us-east-1", Time: signTime}
	if err := Sign(req, body, in); err != nil {
		t.Fatal(err)
	}
	req.Header["x-amz-date"] = []string{"19990101T000000Z"} // non-canonical key, as a hand-built map might hold
	in.Chain, in.Time = nil, signTime.Add(time.Minute)
	if err := Sign(req, body, in); err != nil {
		t.Fatal(err)
	}
	if len(req.Header) != 3 || req.Header.Get(HeaderDate) != "20261122T132957Z" || req.Header.Get(HeaderX509Chain) != "" {
		t.Fatalf("headers after re-signing: %v", req.Header)
	}
	v, err := Verify(wireRoundTrip(t, req), body, VerifyOptions{Now: signTime})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(v.SignedHeaders, ";") != "host;x-amz-date;x-amz-x509" || v.Chain != nil {
		t.Fatalf("Verified = %+v", v)
	}
}

// TestMLDSAStandardLibrary records why the package parses ML-DSA keys
// itself: Go 1.26's crypto/x509 parses an ML-DSA certificate but leaves
// its key nil, and cannot create one.
func TestMLDSAStandardLibrary(t *testing.T) {
	pki := newTestPKI(t, signTime)
	k := pki.newTestKey(t, "ML-DSA-65")
	std, err := x509.ParseCertificate(k.cert.Raw)
	if err != nil {
		t.Fatalf("crypto/x509 no longer parses ML-DSA certificates: %v", err)
	}
	if std.PublicKey != nil {
		t.Skipf("crypto/x509 now returns a %T for ML-DSA; ParseCertificate could use it", std.PublicKey)
	}
	if std.PublicKeyAlgorithm != x509.UnknownPublicKeyAlgorithm {
		t.Errorf("PublicKeyAlgorithm %v", std.PublicKeyAlgorithm)
	}
	if _, err := x509.CreateCertificate(rand.Reader, pki.template("x"), pki.ca, k.signer.Public(), pki.caKey); err == nil {
		t.Error("crypto/x509 created an ML-DSA certificate; the tests could stop splicing")
	}
	if _, err := AlgorithmFor(std.PublicKey); err == nil {
		t.Error("a nil key must have no algorithm")
	}
	pub, err := CertificatePublicKey(std)
	if err != nil || !sameKey(pub, k.signer.Public()) {
		t.Fatalf("CertificatePublicKey = %T, %v", pub, err)
	}
	if alg, err := AlgorithmFor(pub); alg != AlgorithmMLDSA || err != nil {
		t.Fatalf("AlgorithmFor = %s, %v", alg, err)
	}
	// Sign accepts a certificate parsed by crypto/x509 as well.
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9/sessions", nil)
	if err := Sign(req, nil, SignInput{Certificate: std, Signer: k.signer, Region: "us-east-1", Time: signTime}); err != nil {
		t.Fatal(err)
	}
}

func TestParseCertificateMLDSAKeys(t *testing.T) {
	pki := newTestPKI(t, signTime)
	pub, _, err := mldsa44.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	raw := pub.Bytes()
	withParams, err := asn1.Marshal(struct {
		Algorithm struct {
			OID    asn1.ObjectIdentifier
			Params asn1.RawValue
		}
		Key asn1.BitString
	}{struct {
		OID    asn1.ObjectIdentifier
		Params asn1.RawValue
	}{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 17}, asn1.NullRawValue}, asn1.BitString{Bytes: raw, BitLength: 8 * len(raw)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		spki []byte
		want string
	}{
		{"ML-DSA-44 key under the ML-DSA-65 OID", mldsaSPKI(t, 18, raw), "sigv4x509: ML-DSA-65 public key is 1312 bytes, want 1952"},
		{"truncated key", mldsaSPKI(t, 17, raw[:100]), "sigv4x509: ML-DSA-44 public key is 100 bytes, want 1312"},
		{"NULL parameters", withParams, "sigv4x509: ML-DSA-44 key algorithm parameters must be absent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pki.certDER(t, "broken", tc.spki, nil)
			if _, err := ParseCertificate(c); err == nil || err.Error() != tc.want {
				t.Fatalf("ParseCertificate: %v, want %s", err, tc.want)
			}
			// Through the header it is a malformed certificate.
			_, err := decodeCertificate(base64.StdEncoding.EncodeToString(c))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("decodeCertificate: %v", err)
			}
		})
	}
	// An unknown key algorithm is not a parse error; AlgorithmFor refuses it.
	unknown := pki.certDER(t, "broken", mldsaSPKI(t, 20, raw), nil)
	c, err := ParseCertificate(unknown)
	if err != nil || c.PublicKey != nil {
		t.Fatalf("unknown algorithm: %v, %T", err, c.PublicKey)
	}
	if _, err := CertificatePublicKey(c); err == nil || err.Error() != "sigv4x509: unsupported public key algorithm 2.16.840.1.101.3.4.3.20" {
		t.Fatalf("CertificatePublicKey: %v", err)
	}
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }

// craftRequest builds a server-side request carrying leaf, with an
// Authorization whose signature is arbitrary: enough for the checks that
// come before the signature.
func craftRequest(t *testing.T, leaf *x509.Certificate, alg string, chain string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9/sessions", nil)
	r.Header.Set(HeaderDate, signTime.Format(DateLayout))
	r.Header.Set(HeaderX509, base64.StdEncoding.EncodeToString(leaf.Raw))
	signed := "host;x-amz-date;x-amz-x509"
	if chain != "" {
		r.Header.Set(HeaderX509Chain, chain)
		signed += ";x-amz-x509-chain"
	}
	r.Header.Set(HeaderAuthorization, alg+" Credential="+leaf.SerialNumber.String()+
		"/20261122/us-east-1/rolesanywhere/aws4_request, SignedHeaders="+signed+", Signature=00")
	return r
}

func TestVerifyUnsupportedKeys(t *testing.T) {
	pki := newTestPKI(t, signTime)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	for _, tc := range []struct {
		name   string
		pub    crypto.PublicKey
		detail string
	}{
		{"Ed25519", edPub, "has a ed25519.PublicKey key: sigv4x509: ed25519.PublicKey keys are not supported (RSA, ECDSA or ML-DSA)"},
		{"P-224", &p224.PublicKey, "has a ECDSA P-224 key: sigv4x509: ECDSA curve P-224 is not supported (P-256, P-384 or P-521)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaf := pki.issue(t, tc.name, tc.pub)
			_, err := Verify(craftRequest(t, leaf, AlgorithmECDSA, ""), nil, VerifyOptions{Now: signTime})
			e := wantError(t, err, "AccessDeniedException", 403, "Invalid signature", "sig.unsupported_key")
			if !strings.HasSuffix(e.Detail, tc.detail) {
				t.Fatalf("Detail %s", e.Detail)
			}
		})
	}
}

func TestVerifyOptions(t *testing.T) {
	pki := newTestPKI(t, signTime)
	k := pki.newTestKey(t, "P-256")
	body := []byte(`{}`)
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9/sessions", bytes.NewReader(body))
	if err := Sign(req, body, SignInput{Certificate: k.cert, Chain: []*x509.Certificate{pki.ca, pki.ca}, Signer: k.signer, Region: "us-east-1", Time: signTime}); err != nil {
		t.Fatal(err)
	}
	r := wireRoundTrip(t, req)

	_, err := Verify(r, body, VerifyOptions{})
	wantError(t, err, "InternalFailure", 500, "An internal error occurred.", "internal")
	_, err = Verify(nil, body, VerifyOptions{Now: signTime})
	wantError(t, err, "InternalFailure", 500, "An internal error occurred.", "internal")

	_, err = Verify(r, body, VerifyOptions{Now: signTime, MaxChain: 1})
	wantError(t, err, "ValidationException", 400, "X-Amz-X509-Chain must not hold more than 1 certificates.", "cert.chain_too_long")
	_, err = Verify(r, body, VerifyOptions{Now: signTime, MaxChain: -1})
	wantError(t, err, "ValidationException", 400, "X-Amz-X509-Chain must not hold more than 0 certificates.", "cert.chain_too_long")
	if _, err = Verify(r, body, VerifyOptions{Now: signTime, MaxChain: 2}); err != nil {
		t.Fatal(err)
	}

	late := signTime.Add(10 * time.Minute)
	_, err = Verify(r, body, VerifyOptions{Now: late})
	wantError(t, err, "AccessDeniedException", 403, "Invalid signature", "sig.skew")
	if _, err = Verify(r, body, VerifyOptions{Now: late, Skew: 10 * time.Minute}); err != nil {
		t.Fatalf("a 10-minute skew window must accept a 10-minute-old request: %v", err)
	}
	_, err = Verify(r, body, VerifyOptions{Now: late, Skew: -time.Hour})
	wantError(t, err, "AccessDeniedException", 403, "Invalid signature", "sig.skew")
}
