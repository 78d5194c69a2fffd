package trust

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/trust/trusttest"
)

var writeSeeds = flag.Bool("write-seeds", false, "rewrite the checked-in fuzz seed corpora under testdata/fuzz")

// fuzzInputs are the seeds of both fuzzers: valid bundles and CRLs, and
// near misses of each.
func fuzzInputs(tb testing.TB) (bundles []string, crls [][]byte) {
	pki := trusttest.New(tb, rand.Reader, testNow)
	root := pki.Root("Root")
	rsaRoot := pki.Root("RSA Root", trusttest.WithKeyType(trusttest.RSA2048))
	leaf := pki.Leaf(root, "leaf")
	crl := pki.CRL(root, trusttest.Revoke(leaf.Cert))
	bundles = []string{
		root.PEM(),
		root.PEM() + rsaRoot.PEM(),
		leaf.PEM(),
		root.PEM() + "trailing",
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\n" + root.PEM(),
		string(trusttest.CRLPEM(crl)),
		"",
	}
	crls = [][]byte{crl.Raw, trusttest.CRLPEM(crl), pki.CRL(rsaRoot).Raw, []byte(root.PEM()), root.Cert.Raw, {0x30, 0x00}}
	return bundles, crls
}

func TestWriteFuzzSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-seeds to regenerate testdata/fuzz")
	}
	bundles, crls := fuzzInputs(t)
	write := func(target string, i int, v any) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("go test fuzz v1\n%T(%q)\n", v, v)
		if b, ok := v.([]byte); ok {
			body = fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, b := range bundles {
		write("FuzzParseAnchorBundle", i, b)
	}
	for i, c := range crls {
		write("FuzzParseCRL", i, c)
	}
}

// checkRejection asserts a parser refused input the way the API needs:
// a ValidationException with a reason.
func checkRejection(t *testing.T, err error) {
	var e *awserr.Error
	if !errors.As(err, &e) || e.Code != "ValidationException" || e.Status != 400 || e.Reason == "" || e.Message == "" {
		t.Fatalf("rejection is not a ValidationException with a reason: %#v", err)
	}
}

func FuzzParseAnchorBundle(f *testing.F) {
	bundles, _ := fuzzInputs(f)
	for _, b := range bundles {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, s string) {
		certs, err := ParseAnchorBundle(s, testNow)
		if err != nil {
			checkRejection(t, err)
			return
		}
		if len(certs) < 1 || len(certs) > MaxAnchorCertificates {
			t.Fatalf("accepted %d certificates", len(certs))
		}
		for _, c := range certs {
			if c.Version != 3 || !c.IsCA || c.KeyUsage&x509.KeyUsageCertSign == 0 {
				t.Fatalf("accepted a certificate that is not a v3 CA: %s", Name(c))
			}
		}
		// Whatever was accepted must be usable as an anchor.
		NewAnchor("id", "arn", certs, true)
	})
}

func FuzzParseCRL(f *testing.F) {
	_, crls := fuzzInputs(f)
	for _, c := range crls {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		crl, err := ParseCRL(data)
		if err != nil {
			checkRejection(t, err)
			return
		}
		// Whatever was accepted must index without trouble.
		NewRevocationIndex([]CRL{{List: crl}}).Stale(testNow)
	})
}
