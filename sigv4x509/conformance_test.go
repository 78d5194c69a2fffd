package sigv4x509

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// The values the vectors' README lists as independently checked (Go
// standard library and Python hashlib + OpenSSL).
const (
	rsaStringToSign = "AWS4-X509-RSA-SHA256\n20261122T132857Z\n20261122/us-east-1/rolesanywhere/aws4_request\n" +
		"856288053dd4f6369628b642f3ae03040dbf5567c9724abb570acb2affacc023"
	ecdsaStringToSign = "AWS4-X509-ECDSA-SHA256\n20261122T132953Z\n20261122/us-east-1/rolesanywhere/aws4_request\n" +
		"7fa12f6d70ddd5db641ca5f35e00359cee5a5a96ab713695cbf8fcda6c1bd02f"
)

func TestConformanceStringToSign(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"request-rsa.http", rsaStringToSign},
		{"request-ecdsa-chain.http", ecdsaStringToSign},
	} {
		r, body := conformanceRequest(t, tc.file)
		auth, err := ParseAuthorization(r.Header.Get(HeaderAuthorization))
		if err != nil {
			t.Fatal(err)
		}
		got := stringToSign(r, auth.Algorithm, r.Header.Get(HeaderDate), auth.Scope(), auth.SignedHeaders, body)
		if string(got) != tc.want {
			t.Errorf("%s: string to sign\n%s\nwant\n%s", tc.file, got, tc.want)
		}
	}
}

func TestConformanceVerify(t *testing.T) {
	ca := conformanceCert(t, "ca.pem")
	for _, tc := range []struct {
		file, alg, leaf string
		serial          string
		chain           int
		signed          string
	}{
		{"request-rsa.http", AlgorithmRSA, "leaf-rsa.pem", "81985529216486895", 0,
			"amz-sdk-invocation-id;amz-sdk-request;content-type;host;x-amz-date;x-amz-x509"},
		{"request-ecdsa-chain.http", AlgorithmECDSA, "leaf-ec.pem", "4242", 1,
			"amz-sdk-invocation-id;amz-sdk-request;content-type;host;x-amz-date;x-amz-x509;x-amz-x509-chain"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, body := conformanceRequest(t, tc.file)
			now := requestTime(t, r)
			v, err := Verify(r, body, VerifyOptions{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(v.Leaf.Raw, conformanceCert(t, tc.leaf).Raw) {
				t.Error("Leaf is not the certificate of X-Amz-X509")
			}
			if v.Leaf.SerialNumber.String() != tc.serial || v.Algorithm != tc.alg || v.Region != "us-east-1" ||
				!v.Time.Equal(now) || strings.Join(v.SignedHeaders, ";") != tc.signed || len(v.Signature) == 0 {
				t.Errorf("Verified = serial %s, %s, %s, %s, %q", v.Leaf.SerialNumber, v.Algorithm, v.Region, v.Time, v.SignedHeaders)
			}
			if len(v.Chain) != tc.chain {
				t.Fatalf("chain of %d, want %d", len(v.Chain), tc.chain)
			}
			if tc.chain > 0 && !bytes.Equal(v.Chain[0].Raw, ca.Raw) {
				t.Error("the chain must be the CA itself, as sent")
			}
			// The leaves chain to the test CA at the request's time: the
			// caller's next step, shown to work with what Verify returns.
			if err := v.Leaf.CheckSignatureFrom(ca); err != nil {
				t.Errorf("leaf does not chain to ca.pem: %v", err)
			}
		})
	}
}

// TestConformanceSignRSA pins the client signer byte for byte: with the
// headers the official client had at signing time, the same date, body and
// key, Sign must produce the captured Authorization header exactly.
func TestConformanceSignRSA(t *testing.T) {
	captured, body := conformanceRequest(t, "request-rsa.http")
	key := conformanceRSAKey(t)
	leaf := conformanceCert(t, "leaf-rsa.pem")
	in := SignInput{Certificate: leaf, Signer: key, Region: "us-east-1", Time: requestTime(t, captured)}

	t.Run("client request", func(t *testing.T) {
		// What iamra's helper builds: a client request for the endpoint,
		// the SDK's headers, then Sign. The transport later adds
		// Accept-Encoding and Content-Length, which are not signed.
		req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:18450/sessions?"+captured.URL.RawQuery, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{"Amz-Sdk-Invocation-Id", "Amz-Sdk-Request", "Content-Type", "User-Agent"} {
			req.Header.Set(h, captured.Header.Get(h))
		}
		if err := Sign(req, body, in); err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{HeaderAuthorization, HeaderDate, HeaderX509} {
			if got, want := req.Header.Get(h), captured.Header.Get(h); got != want {
				t.Errorf("%s:\n got %s\nwant %s", h, got, want)
			}
		}
		if _, ok := req.Header[HeaderX509Chain]; ok {
			t.Error("X-Amz-X509-Chain set without a chain")
		}
	})

	t.Run("captured request re-signed", func(t *testing.T) {
		// The server-side view: drop what Sign sets and what the Go
		// transport added after signing; Content-Length stays and is
		// excluded by Sign.
		r, _ := conformanceRequest(t, "request-rsa.http")
		for _, h := range []string{HeaderAuthorization, HeaderDate, HeaderX509, "Accept-Encoding"} {
			r.Header.Del(h)
		}
		if err := Sign(r, body, in); err != nil {
			t.Fatal(err)
		}
		if got, want := r.Header.Get(HeaderAuthorization), captured.Header.Get(HeaderAuthorization); got != want {
			t.Errorf("Authorization:\n got %s\nwant %s", got, want)
		}
	})
}

// TestConformanceNegative derives rejected variants from the captured
// requests, as the vectors' README suggests.
func TestConformanceNegative(t *testing.T) {
	key := conformanceRSAKey(t)
	ca := conformanceCert(t, "ca.pem")
	caB64 := base64.StdEncoding.EncodeToString(ca.Raw)
	baseSigned := []string{"amz-sdk-invocation-id", "amz-sdk-request", "content-type", "host", "x-amz-date", "x-amz-x509"}
	withChain := append(slices.Clone(baseSigned), "x-amz-x509-chain")

	type variant struct {
		name    string
		file    string
		mutate  func(r *http.Request, body []byte) []byte // returns the body to verify
		now     time.Duration                             // added to X-Amz-Date
		code    string                                    // "" = must verify
		status  int
		message string
		reason  string
		detail  string // substring of Detail, if set
	}
	denied := func(reason, detail string) variant {
		return variant{code: "AccessDeniedException", status: 403, message: "Invalid signature", reason: reason, detail: detail}
	}
	untrusted := func(reason, detail string) variant {
		return variant{code: "AccessDeniedException", status: 403, message: "Untrusted signing certificate", reason: reason, detail: detail}
	}
	invalid := func(message, reason, detail string) variant {
		return variant{code: "ValidationException", status: 400, message: message, reason: reason, detail: detail}
	}
	with := func(v variant, name, file string, mutate func(*http.Request, []byte) []byte) variant {
		v.name, v.file, v.mutate = name, file, mutate
		return v
	}
	const rsaFile, ecFile = "request-rsa.http", "request-ecdsa-chain.http"

	cases := []variant{
		with(denied("sig.bad_signature", "canonical request SHA-256"), "flipped body byte", rsaFile,
			func(r *http.Request, body []byte) []byte {
				b := slices.Clone(body)
				b[5] ^= 0x01
				return b
			}),
		with(denied("sig.bad_signature", "crypto/rsa: verification error"), "Host port changed", rsaFile,
			func(r *http.Request, body []byte) []byte { r.Host = "127.0.0.1:18451"; return body }),
		with(denied("sig.bad_signature", "ECDSA signature"), "ECDSA Host port changed", ecFile,
			func(r *http.Request, body []byte) []byte { r.Host = "127.0.0.1:18453"; return body }),
		func() variant {
			v := with(denied("sig.skew", "X-Amz-Date 20261122T132857Z is 6m0s behind server time 2026-11-22T13:34:57Z (allowed ±5m0s)"),
				"now = X-Amz-Date + 6 min", rsaFile, nil)
			v.now = 6 * time.Minute
			return v
		}(),
		func() variant {
			v := with(denied("sig.skew", "is 6m0s ahead of server time"), "now = X-Amz-Date - 6 min", ecFile, nil)
			v.now = -6 * time.Minute
			return v
		}(),
		func() variant {
			v := with(variant{}, "now = X-Amz-Date + 5 min is still inside", rsaFile, nil)
			v.now = 5 * time.Minute
			return v
		}(),
		with(denied("sig.serial_mismatch", "Credential serial 81985529216486896 is not the serial 81985529216486895"),
			"serial changed", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderAuthorization, strings.Replace(r.Header.Get(HeaderAuthorization),
					"Credential=81985529216486895/", "Credential=81985529216486896/", 1))
				return body
			}),
		with(denied("sig.algorithm_key_mismatch", "algorithm AWS4-X509-RSA-SHA256 does not match the leaf's ECDSA P-256 key"),
			"ECDSA relabelled as RSA", ecFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderAuthorization, strings.Replace(r.Header.Get(HeaderAuthorization), AlgorithmECDSA, AlgorithmRSA, 1))
				return body
			}),
		with(denied("sig.algorithm_key_mismatch", "does not match the leaf's RSA-2048 key"), "RSA relabelled as ML-DSA", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderAuthorization, strings.Replace(r.Header.Get(HeaderAuthorization), AlgorithmRSA, AlgorithmMLDSA, 1))
				return body
			}),
		with(denied("sig.unsigned_required_header", `SignedHeaders "amz-sdk-invocation-id;amz-sdk-request;content-type;host;x-amz-date" does not include x-amz-x509`),
			"x-amz-x509 not signed (re-signed)", rsaFile,
			func(r *http.Request, body []byte) []byte {
				resign(t, r, body, key, baseSigned[:5])
				return body
			}),
		with(denied("sig.unsigned_required_header", "does not include host"), "host not signed (re-signed)", rsaFile,
			func(r *http.Request, body []byte) []byte {
				resign(t, r, body, key, []string{"content-type", "x-amz-date", "x-amz-x509"})
				return body
			}),
		with(denied("sig.unsigned_required_header", "does not include x-amz-x509-chain"), "chain added but not signed", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderX509Chain, caB64)
				return body
			}),
		with(variant{}, "minimal signed set (re-signed) verifies", rsaFile,
			func(r *http.Request, body []byte) []byte {
				resign(t, r, body, key, []string{"host", "x-amz-date", "x-amz-x509"})
				return body
			}),
		with(variant{}, "path /prefix/sessions still verifies", rsaFile,
			func(r *http.Request, body []byte) []byte { r.URL.Path = "/prefix/sessions"; return body }),
		with(variant{}, "ECDSA at /prefix/sessions still verifies", ecFile,
			func(r *http.Request, body []byte) []byte { r.URL.Path = "/prefix/sessions"; return body }),
		with(denied("sig.bad_signature", ""), "POST replaced by PUT", rsaFile,
			func(r *http.Request, body []byte) []byte { r.Method = http.MethodPut; return body }),
		with(denied("sig.bad_signature", ""), "query parameter changed", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "test-role", "admin-role", 1)
				return body
			}),
		with(denied("sig.bad_signature", ""), "signed header value changed", ecFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set("Amz-Sdk-Request", "attempt=2; max=3")
				return body
			}),
		with(variant{}, "unsigned header changed still verifies", ecFile,
			func(r *http.Request, body []byte) []byte { r.Header.Set("User-Agent", "other"); return body }),
		with(denied("sig.signed_header_absent", "signed header amz-sdk-request is not in the request"),
			"signed header removed", rsaFile,
			func(r *http.Request, body []byte) []byte { r.Header.Del("Amz-Sdk-Request"); return body }),
		with(denied("sig.bad_signature", "crypto/rsa: verification error"), "RSA-PSS signature", rsaFile,
			func(r *http.Request, body []byte) []byte {
				auth, err := ParseAuthorization(r.Header.Get(HeaderAuthorization))
				if err != nil {
					t.Fatal(err)
				}
				digest := sha256.Sum256([]byte(rsaStringToSign))
				auth.Signature, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], nil)
				if err != nil {
					t.Fatal(err)
				}
				r.Header.Set(HeaderAuthorization, auth.String())
				return body
			}),
		with(untrusted("cert.malformed_x509_header", "X-Amz-X509 is not standard base64"), "garbage base64 in X-Amz-X509", rsaFile,
			func(r *http.Request, body []byte) []byte { r.Header.Set(HeaderX509, "MIID!!not*base64"); return body }),
		with(untrusted("cert.malformed_x509_header", "X-Amz-X509 is not a DER X.509 certificate"), "base64 of garbage in X-Amz-X509", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderX509, base64.StdEncoding.EncodeToString([]byte("not a certificate")))
				return body
			}),
		with(untrusted("cert.malformed_x509_header", "X-Amz-X509 is 65536 characters, more than the 21848-character limit"),
			"absurdly long X-Amz-X509", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderX509, strings.Repeat("A", 64<<10))
				return body
			}),
		with(untrusted("cert.missing_x509_header", "the request has no X-Amz-X509 header"), "X-Amz-X509 missing", rsaFile,
			func(r *http.Request, body []byte) []byte { r.Header.Del(HeaderX509); return body }),
		with(untrusted("cert.malformed_x509_header", "X-Amz-X509 header appears 2 times"), "X-Amz-X509 twice", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Add(HeaderX509, r.Header.Get(HeaderX509))
				return body
			}),
		with(invalid("X-Amz-X509-Chain must not hold more than 5 certificates.", "cert.chain_too_long",
			"X-Amz-X509-Chain holds 6 certificates; at most 5 are allowed"), "6-certificate chain (re-signed)", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderX509Chain, strings.Join(slices.Repeat([]string{caB64}, 6), ","))
				resign(t, r, body, key, withChain)
				return body
			}),
		with(variant{}, "5-certificate chain (re-signed) verifies", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderX509Chain, strings.Join(slices.Repeat([]string{caB64}, 5), ","))
				resign(t, r, body, key, withChain)
				return body
			}),
		with(invalid(msgMalformedChain, "cert.malformed_chain_header", "X-Amz-X509-Chain certificate 2 of 2: is not standard base64"),
			"garbage chain entry (re-signed)", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderX509Chain, caB64+",%%%")
				resign(t, r, body, key, withChain)
				return body
			}),
		with(invalid(msgMalformedChain, "cert.malformed_chain_header", "X-Amz-X509-Chain entry 2 of 3 is empty"),
			"empty chain entry", ecFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderX509Chain, caB64+",,"+caB64)
				return body
			}),
		with(denied("sig.missing_authorization", "the request has no Authorization header"), "no Authorization", rsaFile,
			func(r *http.Request, body []byte) []byte { r.Header.Del(HeaderAuthorization); return body }),
		with(denied("sig.malformed_authorization", "Authorization header appears 2 times"), "two Authorization headers", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Add(HeaderAuthorization, r.Header.Get(HeaderAuthorization))
				return body
			}),
		with(denied("sig.unknown_algorithm", `Authorization algorithm "AWS4-HMAC-SHA256" is not one of`), "SigV4-HMAC algorithm", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderAuthorization, strings.Replace(r.Header.Get(HeaderAuthorization), AlgorithmRSA, "AWS4-HMAC-SHA256", 1))
				return body
			}),
		with(denied("sig.scope_service", `credential scope service is "sts", want "rolesanywhere"`), "service sts", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderAuthorization, strings.Replace(r.Header.Get(HeaderAuthorization), "/rolesanywhere/", "/sts/", 1))
				return body
			}),
		with(denied("sig.scope_terminal", `credential scope ends in "aws5_request", want "aws4_request"`), "terminal changed", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderAuthorization, strings.Replace(r.Header.Get(HeaderAuthorization), "aws4_request", "aws5_request", 1))
				return body
			}),
		with(denied("sig.scope_date", "credential scope date 20261121 is not the date of X-Amz-Date 20261122T132857Z"), "scope date changed", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderAuthorization, strings.Replace(r.Header.Get(HeaderAuthorization), "/20261122/", "/20261121/", 1))
				return body
			}),
		with(denied("sig.bad_signature", "scope 20261122/eu-west-1/rolesanywhere/aws4_request"), "region changed", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderAuthorization, strings.Replace(r.Header.Get(HeaderAuthorization), "/us-east-1/", "/eu-west-1/", 1))
				return body
			}),
		with(denied("sig.missing_date", "the request has no X-Amz-Date header"), "X-Amz-Date missing", rsaFile,
			func(r *http.Request, body []byte) []byte { r.Header.Del(HeaderDate); return body }),
		with(denied("sig.malformed_date", `X-Amz-Date "2026-11-22T13:28:57Z" is not in the form YYYYMMDDTHHMMSSZ`), "X-Amz-Date in RFC 3339", rsaFile,
			func(r *http.Request, body []byte) []byte {
				r.Header.Set(HeaderDate, "2026-11-22T13:28:57Z")
				return body
			}),
		with(denied("sig.bad_signature", ""), "signature bit flipped", ecFile,
			func(r *http.Request, body []byte) []byte {
				a := r.Header.Get(HeaderAuthorization)
				last := a[len(a)-1]
				flip := byte('0')
				if last == '0' {
					flip = '1'
				}
				r.Header.Set(HeaderAuthorization, a[:len(a)-1]+string(flip))
				return body
			}),
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, body := conformanceRequest(t, tc.file)
			now := requestTime(t, r).Add(tc.now)
			if tc.mutate != nil {
				body = tc.mutate(r, body)
			}
			v, err := Verify(r, body, VerifyOptions{Now: now})
			if tc.code == "" {
				if err != nil {
					t.Fatalf("must verify, got %v", err)
				}
				if v == nil || v.Leaf == nil {
					t.Fatal("no Verified")
				}
				return
			}
			if v != nil {
				t.Errorf("Verified returned with an error")
			}
			e := wantError(t, err, tc.code, tc.status, tc.message, tc.reason)
			if !strings.Contains(e.Detail, tc.detail) {
				t.Errorf("Detail %q does not contain %q", e.Detail, tc.detail)
			}
		})
	}
}
