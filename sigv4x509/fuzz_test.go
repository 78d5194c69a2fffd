package sigv4x509

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/iamra/iamra/awserr"
)

func FuzzParseAuthorization(f *testing.F) {
	f.Add(goodAuthorization)
	f.Add("AWS4-X509-MLDSA Signature=ab,SignedHeaders=host,Credential=0/20240229/eu-west-1/x/y")
	f.Fuzz(func(t *testing.T, header string) {
		a, err := ParseAuthorization(header)
		if err != nil {
			var e *awserr.Error
			if !errors.As(err, &e) || e.Status != 403 || e.Message != MessageInvalidSignature ||
				(e.Reason != "sig.malformed_authorization" && e.Reason != "sig.unknown_algorithm") {
				t.Fatalf("unexpected error %#v", err)
			}
			return
		}
		if a.Serial == nil || len(a.SignedHeaders) == 0 || len(a.Signature) == 0 || len(a.Signature) > MaxSignatureBytes {
			t.Fatalf("accepted %q as %+v", header, a)
		}
		// What was accepted formats to a header that parses to the same.
		b, err := ParseAuthorization(a.String())
		if err != nil {
			t.Fatalf("String() of an accepted header does not parse: %v", err)
		}
		if b.String() != a.String() || b.Serial.Cmp(a.Serial) != 0 || !slices.Equal(a.SignedHeaders, b.SignedHeaders) ||
			!bytes.Equal(a.Signature, b.Signature) {
			t.Fatalf("round trip changed %+v into %+v", a, b)
		}
	})
}

// FuzzVerify feeds whole HTTP/1.1 requests to Verify: whatever the
// headers and body, it must return a Verified or an AWS-shaped error,
// never panic. The checked-in seeds include requests that verify at
// signTime, so the fuzzer starts from the deep paths.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("POST /sessions HTTP/1.1\r\nHost: h\r\nAuthorization: AWS4-X509-RSA-SHA256 x\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			return
		}
		v, err := Verify(r, body, VerifyOptions{Now: signTime})
		if err != nil {
			var e *awserr.Error
			if !errors.As(err, &e) || e.Reason == "" || e.Detail == "" || v != nil {
				t.Fatalf("Verify returned %v, %#v", v, err)
			}
			switch e.Message {
			case MessageInvalidSignature, MessageUntrustedCertificate, msgMalformedChain,
				fmt.Sprintf("X-Amz-X509-Chain must not hold more than %d certificates.", DefaultMaxChain):
			default:
				t.Fatalf("unexpected client message %q", e.Message)
			}
			return
		}
		if v == nil || v.Leaf == nil || v.Leaf.PublicKey == nil || len(v.Signature) == 0 {
			t.Fatalf("Verified %+v", v)
		}
	})
}

// TestWriteFuzzSeeds regenerates testdata/fuzz/FuzzVerify/ with requests
// signed by fresh test keys at signTime. It only runs on demand:
//
//	SIGV4X509_WRITE_SEEDS=1 go test -run TestWriteFuzzSeeds ./sigv4x509/
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SIGV4X509_WRITE_SEEDS") == "" {
		t.Skip("set SIGV4X509_WRITE_SEEDS=1 to regenerate the FuzzVerify seed corpus")
	}
	pki := newTestPKI(t, signTime)
	body := []byte(`{"durationSeconds":900,"roleSessionName":"seed"}`)
	signed := func(kind, path string, chain bool, mutate func(*http.Request)) []byte {
		k := pki.newTestKey(t, kind)
		req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:18450"+path+
			"?profileArn=arn%3Aaws%3Arolesanywhere%3Aus-east-1%3A123456789012%3Aprofile%2Fp&roleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
		in := SignInput{Certificate: k.cert, Signer: k.signer, Region: "us-east-1", Time: signTime}
		if chain {
			in.Chain = []*x509.Certificate{pki.ca}
		}
		if err := Sign(req, body, in); err != nil {
			t.Fatal(err)
		}
		if mutate != nil {
			mutate(req)
		}
		var wire bytes.Buffer
		if err := req.Write(&wire); err != nil {
			t.Fatal(err)
		}
		return wire.Bytes()
	}
	seeds := map[string][]byte{
		"valid-ecdsa-p256-chain": signed("P-256", "/sessions", true, nil),
		"valid-rsa-prefix":       signed("RSA-2048", "/prefix/sessions", false, nil),
		"valid-mldsa44":          signed("ML-DSA-44", "/sessions", false, nil),
		"valid-p384-chunked": signed("P-384", "/sessions", false, func(r *http.Request) {
			r.ContentLength = -1
			r.Body = io.NopCloser(bytes.NewReader(body))
		}),
		"garbage-chain": signed("P-256", "/sessions", true, func(r *http.Request) {
			r.Header.Set(HeaderX509Chain, "AAAA,,====")
		}),
		"duplicate-date": signed("P-256", "/sessions", false, func(r *http.Request) {
			r.Header.Add(HeaderDate, "20261122T132857Z")
		}),
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzVerify")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, raw := range seeds {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		_, verr := Verify(r, b, VerifyOptions{Now: signTime})
		if (verr == nil) != (name[:6] == "valid-") {
			t.Fatalf("seed %s: Verify = %v", name, verr)
		}
		content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(raw)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
