package trust

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// conformanceDir holds the captured certificates, read in place and never
// copied into the repository (see its README).
const conformanceDir = "../../shared/conformance/createsession"

// conformanceSHA256 pins the files as the README lists them, so an edited
// or re-saved copy fails loudly instead of testing something else.
var conformanceSHA256 = map[string]string{
	"ca.pem":       "ab236ea551e41c273347a89d6a919dca7f136833c60c2d42dacc6511a9e2a223",
	"leaf-rsa.pem": "613e063d630f0a7b6da1be98dbc74095375cedb1662617bb2952ca81ec45df3b",
	"leaf-ec.pem":  "ab9394f7a35c150df3ec273b17c1cd4080ebeb4c71423af3ba7404a4d9036e49",
}

func readConformance(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(conformanceDir, name))
	if os.IsNotExist(err) {
		t.Skipf("conformance vectors not present at %s", conformanceDir)
	}
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != conformanceSHA256[name] {
		t.Fatalf("%s: SHA-256 %x does not match the README", name, sum)
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
