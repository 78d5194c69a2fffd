package sigv4x509

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"net/http"
	"testing"
	"time"
)

// benchRequest is a signed request as a server receives it, plus what
// the raw-crypto baseline needs: the leaf DER, string to sign, signature.
type benchRequest struct {
	r    *http.Request
	body []byte
	der  []byte
	sts  []byte
	sig  []byte
}

func newBenchRequest(b *testing.B, kind string) benchRequest {
	b.Helper()
	pki := newTestPKI(b, signTime)
	k := pki.newTestKey(b, kind)
	body := []byte(`{"durationSeconds":3600}`)
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:18450/sessions?profileArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A123456789012%3Aprofile%2Fp&roleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&trustAnchorArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A123456789012%3Atrust-anchor%2Ft", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	for h, v := range map[string]string{"Content-Type": "application/json", "Amz-Sdk-Request": "attempt=1; max=3",
		"Amz-Sdk-Invocation-Id": "c2c34cca-36c9-48e3-a0bc-ba34c8497fc0", "User-Agent": "CredHelper/1.8.0 (go1.26.8; linux; amd64)"} {
		req.Header.Set(h, v)
	}
	if err := Sign(req, body, SignInput{Certificate: k.cert, Signer: k.signer, Region: "us-east-1", Time: signTime}); err != nil {
		b.Fatal(err)
	}
	r := wireRoundTrip(b, req)
	auth, err := ParseAuthorization(r.Header.Get(HeaderAuthorization))
	if err != nil {
		b.Fatal(err)
	}
	sts := stringToSign(r, auth.Algorithm, r.Header.Get(HeaderDate), auth.Scope(), auth.SignedHeaders, body)
	return benchRequest{r: r, body: body, der: k.cert.Raw, sts: sts, sig: auth.Signature}
}

// rawCrypto is the floor no verifier can beat: parse the leaf certificate
// and check one signature over a precomputed string to sign.
func (br benchRequest) rawCrypto(b *testing.B) {
	cert, err := x509.ParseCertificate(br.der)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256(br.sts)
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], br.sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest[:], br.sig) {
			b.Fatal("baseline signature does not verify")
		}
	}
	if err != nil {
		b.Fatal(err)
	}
}

// benchVerify times full Verify calls, then the raw-crypto floor for as
// many iterations (timer stopped), and reports their ratio as
// "x_raw": the overhead of everything Verify does beyond the
// unavoidable parse and signature check, measured in the same run.
func benchVerify(b *testing.B, kind string) {
	br := newBenchRequest(b, kind)
	opts := VerifyOptions{Now: signTime}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Verify(br.r, br.body, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	full := b.Elapsed()
	start := time.Now()
	for range b.N {
		br.rawCrypto(b)
	}
	if raw := time.Since(start); raw > 0 {
		b.ReportMetric(float64(full)/float64(raw), "x_raw")
	}
}

func benchRaw(b *testing.B, kind string) {
	br := newBenchRequest(b, kind)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		br.rawCrypto(b)
	}
}

func BenchmarkVerifyRSA2048(b *testing.B)    { benchVerify(b, "RSA-2048") }
func BenchmarkVerifyECDSAP256(b *testing.B)  { benchVerify(b, "P-256") }
func BenchmarkRawCryptoRSA2048(b *testing.B) { benchRaw(b, "RSA-2048") }
func BenchmarkRawCryptoP256(b *testing.B)    { benchRaw(b, "P-256") }
