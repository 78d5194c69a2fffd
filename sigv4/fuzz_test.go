package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// wire serialises a client request as it would travel.
func wire(t testing.TB, req *http.Request) []byte {
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// seedRequests are SDK-signed requests of every shape the package handles.
func seedRequests(t testing.TB) [][]byte {
	presigned := clientRequest(t, "GET", presignedSTS(t, session, t0, "60"), "", nil)
	k8s := clientRequest(t, "GET", "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", "", http.Header{"X-K8s-Aws-Id": {"c"}})
	u, h := presign(t, k8s, session, "sts", "us-east-1", t0)
	rest := clientRequest(t, "GET", "https://rolesanywhere.eu-west-3.amazonaws.com/trustanchors?nextToken=a%2Bb&pageSize=5", "", nil)
	sign(t, rest, "", longTerm, "rolesanywhere", "eu-west-3", t0)
	return [][]byte{
		wire(t, stsRequest(t, session, t0)),
		wire(t, presigned),
		wire(t, clientRequest(t, "GET", u, "", h)),
		wire(t, rest),
		[]byte("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=host, Signature=00\r\n\r\n"),
		[]byte("GET /?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=1 HTTP/1.1\r\nHost: x\r\n\r\n"),
	}
}

func readRequest(data []byte) (*http.Request, []byte, bool) {
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		return nil, nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return nil, nil, false
	}
	return r, body, true
}

// FuzzParseRequest: arbitrary requests never panic ParseRequest, and a
// parsed scope never contains the separator.
func FuzzParseRequest(f *testing.F) {
	for _, s := range seedRequests(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, _, ok := readRequest(data)
		if !ok {
			return
		}
		c, signed, err := ParseRequest(r)
		if err != nil && signed {
			t.Fatal("error and signed")
		}
		for _, s := range []string{c.AccessKeyID, c.Date, c.Region, c.Service} {
			if strings.Contains(s, "/") {
				t.Fatalf("scope part %q contains '/'", s)
			}
		}
	})
}

// FuzzVerify: arbitrary requests never panic Verify (every key's secret
// is known to the lookup, so the fuzzer reaches canonicalisation and the
// signature check), and VerifyParsed after Parse answers as Verify does,
// in both dialects.
func FuzzVerify(f *testing.F) {
	seeds := seedRequests(f)
	for _, s := range seeds {
		f.Add(s)
	}
	lk := func(_ context.Context, akid, token string) (string, error) {
		if akid == session.AccessKeyID {
			return session.SecretAccessKey, nil
		}
		return longTerm.SecretAccessKey, nil
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, body, ok := readRequest(data)
		if !ok {
			return
		}
		for _, d := range []Dialect{JSON, Query} {
			o := VerifyOptions{Now: t0, Lookup: lk, PresignedLifetime: 15 * time.Minute, Dialect: d}
			res, err := Verify(context.Background(), r, body, o)
			p := Parse(r)
			pres, perr := VerifyParsed(context.Background(), r, body, &p, o)
			if fmt.Sprintf("%+v %#v", res, err) != fmt.Sprintf("%+v %#v", pres, perr) {
				t.Fatalf("Verify %+v %#v\nVerifyParsed %+v %#v", res, err, pres, perr)
			}
		}
	})
}

// BenchmarkVerify verifies a header-signed STS request with a session
// token, deriving the signing key every time.
func BenchmarkVerify(b *testing.B) {
	benchVerify(b, nil)
}

// BenchmarkVerifyKeyCache is BenchmarkVerify with a KeyCache.
func BenchmarkVerifyKeyCache(b *testing.B) {
	benchVerify(b, NewKeyCache(1024))
}

func benchVerify(b *testing.B, keys *KeyCache) {
	r, body := toServer(b, stsRequest(b, session, t0))
	o := opts(t0)
	o.Keys = keys
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(context.Background(), r, body, o); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := b.Elapsed()
	start := time.Now()
	for range b.N {
		rawHMACs()
	}
	if raw := time.Since(start); raw > 0 {
		b.ReportMetric(float64(elapsed)/float64(raw), "x-raw-hmac")
	}
}

// BenchmarkRawHMAC is the bound: the four HMAC-SHA256 of the signing-key
// derivation and the one over a string to sign, nothing else.
func BenchmarkRawHMAC(b *testing.B) {
	for b.Loop() {
		rawHMACs()
	}
}

var benchStringToSign = []byte("AWS4-HMAC-SHA256\n20261122T100000Z\n20261122/us-east-1/sts/aws4_request\n" + strings.Repeat("0", 64))

func rawHMACs() [sha256.Size]byte {
	var k [sha256.Size]byte
	key := []byte("AWS4" + session.SecretAccessKey)
	for _, msg := range [][]byte{[]byte("20261122"), []byte("us-east-1"), []byte("sts"), []byte("aws4_request"), benchStringToSign} {
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		m.Sum(k[:0])
		key = k[:]
	}
	return k
}
