package sigv4x509

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
)

const goodAuthorization = "AWS4-X509-RSA-SHA256 Credential=81985529216486895/20261122/us-east-1/rolesanywhere/aws4_request, " +
	"SignedHeaders=content-type;host;x-amz-date;x-amz-x509, Signature=00ff10"

func TestParseAuthorization(t *testing.T) {
	a, err := ParseAuthorization(goodAuthorization)
	if err != nil {
		t.Fatal(err)
	}
	if a.Algorithm != AlgorithmRSA || a.Serial.String() != "81985529216486895" || a.Date != "20261122" || a.Region != "us-east-1" ||
		a.Service != Service || a.Terminal != Terminal || strings.Join(a.SignedHeaders, ",") != "content-type,host,x-amz-date,x-amz-x509" ||
		!bytes.Equal(a.Signature, []byte{0x00, 0xff, 0x10}) {
		t.Fatalf("parsed %+v", a)
	}
	if a.String() != goodAuthorization {
		t.Fatalf("String() = %s", a.String())
	}
	// Tolerated: parts in another order, no space after commas, upper-case hex.
	b, err := ParseAuthorization("AWS4-X509-MLDSA Signature=ABCD,SignedHeaders=host,Credential=0/20240229/eu-west-1/x/y")
	if err != nil {
		t.Fatal(err)
	}
	if b.Serial.Sign() != 0 || b.Service != "x" || b.Terminal != "y" || !bytes.Equal(b.Signature, []byte{0xab, 0xcd}) {
		t.Fatalf("parsed %+v", b)
	}

	replace := func(old, new string) string { return strings.Replace(goodAuthorization, old, new, 1) }
	for _, tc := range []struct {
		header, reason, detail string
	}{
		{"", "sig.malformed_authorization", `Authorization "" has no space after the algorithm`},
		{"AWS4-X509-RSA-SHA256", "sig.malformed_authorization", `Authorization "AWS4-X509-RSA-SHA256" has no space after the algorithm`},
		{replace("AWS4-X509-RSA-SHA256", "AWS4-HMAC-SHA256"), "sig.unknown_algorithm",
			`Authorization algorithm "AWS4-HMAC-SHA256" is not one of AWS4-X509-RSA-SHA256, AWS4-X509-ECDSA-SHA256, AWS4-X509-MLDSA`},
		{replace("AWS4-X509-RSA-SHA256", "aws4-x509-rsa-sha256"), "sig.unknown_algorithm",
			`Authorization algorithm "aws4-x509-rsa-sha256" is not one of AWS4-X509-RSA-SHA256, AWS4-X509-ECDSA-SHA256, AWS4-X509-MLDSA`},
		{replace("AWS4-X509-RSA-SHA256", "AWS4-X509-RSA-SHA384"), "sig.unknown_algorithm",
			`Authorization algorithm "AWS4-X509-RSA-SHA384" is not one of AWS4-X509-RSA-SHA256, AWS4-X509-ECDSA-SHA256, AWS4-X509-MLDSA`},
		{replace(", Signature=00ff10", ""), "sig.malformed_authorization", "Authorization has no Signature"},
		{replace("Credential=", "Credentials="), "sig.malformed_authorization", `Authorization has unknown part "Credentials"`},
		{goodAuthorization + ", Signature=00", "sig.malformed_authorization", "Authorization repeats Signature"},
		{goodAuthorization + ",", "sig.malformed_authorization", `Authorization part "" is not key=value`},
		{replace("81985529216486895/", ""), "sig.malformed_authorization",
			`Credential "20261122/us-east-1/rolesanywhere/aws4_request" has 4 /-separated parts, want 5 (serial/date/region/service/aws4_request)`},
		{replace("81985529216486895", "0123456789abcdef"), "sig.malformed_authorization", `Credential serial "0123456789abcdef" is not a decimal certificate serial number`},
		{replace("81985529216486895", "081985529216486895"), "sig.malformed_authorization", `Credential serial "081985529216486895" is not a decimal certificate serial number`},
		{replace("81985529216486895", "-5"), "sig.malformed_authorization", `Credential serial "-5" is not a decimal certificate serial number`},
		{replace("81985529216486895", strings.Repeat("9", 65)), "sig.malformed_authorization",
			`Credential serial "` + strings.Repeat("9", 64) + `…" is not a decimal certificate serial number`},
		{replace("/20261122/", "/2026-11-22/"), "sig.malformed_authorization", `Credential date "2026-11-22" is not YYYYMMDD`},
		{replace("/20261122/", "/20261131/"), "sig.malformed_authorization", `Credential date "20261131" is not a calendar date`},
		{replace("/us-east-1/", "/US-EAST-1/"), "sig.malformed_authorization", `Credential region "US-EAST-1": region may hold only a-z, 0-9 and -`},
		{replace("/us-east-1/", "//"), "sig.malformed_authorization", `Credential region "": region must be 1 to 64 characters`},
		{replace("/rolesanywhere/", "//"), "sig.malformed_authorization",
			`Credential "81985529216486895/20261122/us-east-1//aws4_request" has an empty service or terminal`},
		{replace("content-type;host", "Content-Type;host"), "sig.malformed_authorization", `SignedHeaders entry "Content-Type" is not a lower-case header name`},
		{replace("content-type;host", "content-type;;host"), "sig.malformed_authorization", `SignedHeaders entry "" is not a lower-case header name`},
		{replace("content-type;host", "host;host"), "sig.malformed_authorization", `SignedHeaders names "host" twice`},
		{replace("content-type;host;x-amz-date;x-amz-x509", ""), "sig.malformed_authorization", "SignedHeaders is empty"},
		{replace("content-type;host", strings.Repeat("a;", 200)+"host"), "sig.malformed_authorization", "SignedHeaders names 203 headers, more than the limit of 128"},
		{replace("00ff10", ""), "sig.malformed_authorization", "Authorization Signature is empty"},
		{replace("00ff10", "00ff1"), "sig.malformed_authorization", `Signature "00ff1" is not hex: encoding/hex: odd length hex string`},
		{replace("00ff10", "zz"), "sig.malformed_authorization", `Signature "zz" is not hex: encoding/hex: invalid byte: U+007A 'z'`},
		{replace("00ff10", strings.Repeat("00", MaxSignatureBytes+1)), "sig.malformed_authorization", "Signature is 10242 hex digits, more than the limit of 10240"},
		{goodAuthorization + strings.Repeat(" ", MaxAuthorizationBytes), "sig.malformed_authorization", fmt.Sprintf("Authorization is %d bytes, more than the 16384-byte limit", len(goodAuthorization)+MaxAuthorizationBytes)},
	} {
		_, err := ParseAuthorization(tc.header)
		e := wantError(t, err, "AccessDeniedException", 403, "Invalid signature", tc.reason)
		if e.Detail != tc.detail {
			t.Errorf("ParseAuthorization(%.80q):\n Detail %s\n   want %s", tc.header, e.Detail, tc.detail)
		}
	}
}

// TestMLDSARules checks what is special about ML-DSA: the signature is
// deterministic, and only the pure variant with an empty context verifies.
func TestMLDSARules(t *testing.T) {
	pki := newTestPKI(t, signTime)
	k := pki.newTestKey(t, "ML-DSA-44")
	body := []byte(`{"durationSeconds":3600}`)
	sign := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9/sessions", bytes.NewReader(body))
		if err := Sign(req, body, SignInput{Certificate: k.cert, Signer: k.signer, Region: "us-east-1", Time: signTime}); err != nil {
			t.Fatal(err)
		}
		return req
	}
	r1, r2 := sign(), sign()
	if r1.Header.Get(HeaderAuthorization) != r2.Header.Get(HeaderAuthorization) {
		t.Error("ML-DSA signatures must be deterministic (randomized=false), as the official client's are")
	}
	auth, err := ParseAuthorization(r1.Header.Get(HeaderAuthorization))
	if err != nil {
		t.Fatal(err)
	}
	if len(auth.Signature) != mldsa44.SignatureSize {
		t.Fatalf("signature of %d bytes", len(auth.Signature))
	}
	sts := stringToSign(r1, AlgorithmMLDSA, r1.Header.Get(HeaderDate), auth.Scope(), auth.SignedHeaders, body)

	withContext := make([]byte, mldsa44.SignatureSize)
	if err := mldsa44.SignTo(k.signer.(*mldsa44.PrivateKey), sts, []byte("rolesanywhere"), true, withContext); err != nil {
		t.Fatal(err)
	}
	randomized := make([]byte, mldsa44.SignatureSize)
	if err := mldsa44.SignTo(k.signer.(*mldsa44.PrivateKey), sts, nil, true, randomized); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, alg string
		sig       []byte
		reason    string
	}{
		{"as signed", AlgorithmMLDSA, auth.Signature, ""},
		{"randomized variant also verifies", AlgorithmMLDSA, randomized, ""},
		{"non-empty context", AlgorithmMLDSA, withContext, "sig.bad_signature"},
		{"truncated", AlgorithmMLDSA, auth.Signature[:100], "sig.bad_signature"},
		{"labelled ECDSA", AlgorithmECDSA, auth.Signature, "sig.algorithm_key_mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := wireRoundTrip(t, sign())
			a := auth
			a.Algorithm, a.Signature = tc.alg, tc.sig
			r.Header.Set(HeaderAuthorization, a.String())
			_, err := Verify(r, body, VerifyOptions{Now: signTime})
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantError(t, err, "AccessDeniedException", 403, "Invalid signature", tc.reason)
		})
	}
}
