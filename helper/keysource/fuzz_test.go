package keysource

import (
	"os"
	"testing"
)

// FuzzParseFile feeds arbitrary file contents to the parser the file source
// uses for certificates, keys, bundles and PKCS#12: it must return an error,
// never panic.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parseFile("fuzz", data, []byte("password"))
		if err == nil && len(b.certs) > 0 && b.key != nil {
			_, _ = assemble(b.certs[0], b.certs[1:], b.key)
		}
	})
}

// FuzzParsePKCS11URI: arbitrary URIs parse or fail cleanly, and whatever
// parses formats back into a URI that parses to the same attributes.
func FuzzParsePKCS11URI(f *testing.F) {
	f.Add("pkcs11:token=a;object=b;type=private?pin-value=1")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParsePKCS11URI(s)
		if err != nil {
			return
		}
		again, err := ParsePKCS11URI(u.String())
		if err != nil {
			t.Fatalf("String() of %q = %q does not parse: %v", s, u.String(), err)
		}
		for k, v := range u.Path {
			if again.Path[k] != v {
				t.Fatalf("%q: path attribute %s = %q after round trip, want %q", s, k, again.Path[k], v)
			}
		}
	})
}

// FuzzParseSelector: arbitrary --cert-selector strings never panic.
func FuzzParseSelector(f *testing.F) {
	f.Add("Key=x509Subject,Value=CN=a Key=x509Serial,Value=0a")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = ParseSelector(s, func(string) ([]byte, error) { return nil, os.ErrNotExist })
	})
}
