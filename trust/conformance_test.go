package trust

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// conformanceDir holds the captured certificates, read in place and never
// copied into the repository (see its README).
const conformanceDir = "../../shared/conformance/createsession"

func readConformance(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(conformanceDir, name))
	if os.IsNotExist(err) {
		t.Skipf("conformance vectors not present at %s", conformanceDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// conformanceNow is the RSA request's X-Amz-Date; the certificates are
// only valid around it.
var conformanceNow = time.Date(2026, 11, 22, 13, 28, 57, 0, time.UTC)

func TestParseAnchorBundleConformanceCA(t *testing.T) {
	certs, err := ParseAnchorBundle(string(readConformance(t, "ca.pem")), conformanceNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 1 || certs[0].Subject.CommonName != "Test Root CA" {
		t.Fatalf("got %d certificates", len(certs))
	}
	// The leaf is not a CA.
	_, err = ParseAnchorBundle(string(readConformance(t, "leaf-rsa.pem")), conformanceNow)
	want := `ValidationException: Invalid certificate bundle: certificate 1 "CN=workload-rsa,O=Example" (serial 0123456789abcdef) has basicConstraints CA:FALSE; CA:TRUE is required [anchor.not_ca] (certificate 1 "CN=workload-rsa,O=Example" (serial 0123456789abcdef) has basicConstraints CA:FALSE; CA:TRUE is required)`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}
