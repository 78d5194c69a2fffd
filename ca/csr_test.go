package ca

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseCSRMatchesStdlib holds parseCSR to its promise: whatever it
// accepts, x509.ParseCertificateRequest accepts too, into a
// CertificateRequest equal in every field. (What it declines, ParseCSR
// hands to crypto/x509, so declining is always safe.) The seed corpus has
// CSRs made by OpenSSL and by crypto/x509, with and without SANs and
// other extensions, and shapes parseCSR leaves to crypto/x509.
func FuzzParseCSRMatchesStdlib(f *testing.F) {
	f.Fuzz(func(t *testing.T, der []byte) {
		ours, ok := parseCSR(der)
		if !ok {
			return
		}
		std, err := x509.ParseCertificateRequest(der)
		if err != nil {
			t.Fatalf("parseCSR accepted what crypto/x509 refuses: %v", err)
		}
		if field := differentField(ours, std); field != "" {
			t.Fatalf("%s differs from crypto/x509's:\nours   %#v\nstdlib %#v", field,
				reflect.ValueOf(*ours).FieldByName(field).Interface(), reflect.ValueOf(*std).FieldByName(field).Interface())
		}
	})
}

// differentField names the first field in which a and b differ, or is "".
func differentField(a, b *x509.CertificateRequest) string {
	va, vb := reflect.ValueOf(*a), reflect.ValueOf(*b)
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			return va.Type().Field(i).Name
		}
	}
	return ""
}

// readSeed reads one []byte fuzz corpus file.
func readSeed(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, lit, _ := strings.Cut(strings.TrimSpace(string(data)), "\n[]byte(")
	s, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(s)
}

// TestParseCSRShapes checks which of the seed CSRs parseCSR reads itself
// (those clients send: its speed is only worth having if it does) and
// which it leaves to crypto/x509, and that ParseCSR reads all of them as
// crypto/x509 does.
func TestParseCSRShapes(t *testing.T) {
	declined := map[string]bool{
		"openssl-challenge-password": true, // an attribute besides extensionRequest
		"openssl-ed25519":            true,
		"openssl-rsa-pss":            true,
		"openssl-uri-san":            true,
	}
	paths, err := filepath.Glob("testdata/fuzz/FuzzParseCSRMatchesStdlib/*")
	if err != nil || len(paths) < 10 {
		t.Fatalf("seed corpus: %d files, %v", len(paths), err)
	}
	for _, path := range paths {
		name := filepath.Base(path)
		der := readSeed(t, path)
		std, err := x509.ParseCertificateRequest(der)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ours, ok := parseCSR(der)
		if ok == declined[name] {
			t.Errorf("%s: parseCSR ok = %v", name, ok)
		}
		if ok {
			if field := differentField(ours, std); field != "" {
				t.Errorf("%s: %s differs from crypto/x509's", name, field)
			}
		}
		got, err := ParseCSR(der)
		if err != nil || differentField(got, std) != "" {
			t.Errorf("%s: ParseCSR differs from crypto/x509 (%v)", name, err)
		}
	}
}

// BenchmarkParseCSR parses the CSR of BenchmarkIssueP256 (PEM, P-256, a
// common name) with ParseCSR, and reports the cost as a multiple of
// crypto/x509's parse of the same PEM measured in the same run (metric
// "x-stdlib").
func BenchmarkParseCSR(b *testing.B) {
	data := csrPEM(b, mustKey(b, KeyECP256), &x509.CertificateRequest{Subject: pkix.Name{CommonName: "bench"}})
	benchAgainst(b, "x-stdlib", func() error {
		block, _ := pem.Decode(data)
		_, err := x509.ParseCertificateRequest(block.Bytes)
		return err
	}, func() error {
		_, err := ParseCSR(data)
		return err
	})
}

// FuzzDecodeCSRPEM holds decodeCSRPEM to pem.Decode: whatever it decodes,
// pem.Decode reads as a CERTIFICATE REQUEST block of the same bytes.
func FuzzDecodeCSRPEM(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		der, ok := decodeCSRPEM(data)
		if !ok {
			return
		}
		b, _ := pem.Decode(data)
		if b == nil || b.Type != "CERTIFICATE REQUEST" || !bytes.Equal(b.Bytes, der) {
			t.Fatalf("decodeCSRPEM read %x, pem.Decode %+v", der, b)
		}
	})
}
