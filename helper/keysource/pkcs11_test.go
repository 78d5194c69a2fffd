//go:build cgo

package keysource_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"github.com/iamra/iamra/ca/pkcs11/softhsmtest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/pkcs11"

	"github.com/iamra/iamra/helper/keysource"
	kt "github.com/iamra/iamra/helper/keysource/keysourcetest"
)

// softHSM sets up a SoftHSM2 token "iamra" (user PIN 1234) in a temporary
// directory and returns the module path. It skips the test when SoftHSM2 is
// not installed (Debian/Ubuntu: apt-get install softhsm2); CI installs it.
func softHSM(t *testing.T) string {
	t.Helper()
	return softhsmtest.New(t, "iamra").Module
}

func hsm(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("softhsm2-util", args...).CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// putCertificate stores cert on the token as a CKO_CERTIFICATE object;
// softhsm2-util only imports keys.
func putCertificate(t *testing.T, lib string, cert *x509.Certificate, label string, id []byte) {
	t.Helper()
	p := pkcs11.New(lib)
	if err := p.Initialize(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Finalize(); p.Destroy() }()
	slots, err := p.GetSlotList(true)
	if err != nil || len(slots) == 0 {
		t.Fatalf("slots: %v %v", slots, err)
	}
	for _, slot := range slots {
		ti, err := p.GetTokenInfo(slot)
		if err != nil || ti.Label != "iamra" {
			continue
		}
		sh, err := p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			t.Fatal(err)
		}
		defer p.CloseSession(sh)
		if err := p.Login(sh, pkcs11.CKU_USER, "1234"); err != nil {
			t.Fatal(err)
		}
		if _, err := p.CreateObject(sh, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_CERTIFICATE),
			pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
			pkcs11.NewAttribute(pkcs11.CKA_SUBJECT, cert.RawSubject),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, cert.Raw),
		}); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("token iamra not found")
}

func TestPKCS11SoftHSM(t *testing.T) {
	lib := softHSM(t)
	dir := t.TempDir()
	pki := kt.NewPKI(t)
	rsaKey, ecKey := kt.RSAKey(t), kt.ECKey(t)
	rsaLeaf := pki.Issue(t, rsaKey.Public(), 0x1111, "hsm-rsa")
	ecLeaf := pki.Issue(t, ecKey.Public(), 0x2222, "hsm-ec")
	hsm(t, "--import", kt.Write(t, dir, "rsa.key", kt.KeyPEM(t, rsaKey)), "--token", "iamra", "--label", "rsa", "--id", "01", "--pin", "1234")
	hsm(t, "--import", kt.Write(t, dir, "ec.key", kt.KeyPEM(t, ecKey)), "--token", "iamra", "--label", "ec", "--id", "02", "--pin", "1234")
	putCertificate(t, lib, rsaLeaf, "rsa", []byte{1})
	putCertificate(t, lib, ecLeaf, "ec", []byte{2})
	ecCertFile := kt.Write(t, dir, "ec.pem", kt.CertPEM(ecLeaf))
	interFile := kt.Write(t, dir, "inter.pem", kt.CertPEM(pki.CA))

	sel, err := keysource.ParseSelector("Key=x509Subject,Value=CN=hsm-ec,O=Example", os.ReadFile)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		opts  keysource.Options
		leaf  *x509.Certificate
		chain int
	}{
		{"certificate and key URIs", keysource.Options{Certificate: "pkcs11:token=iamra;object=rsa;type=cert?pin-value=1234",
			PrivateKey: "pkcs11:token=iamra;object=rsa;type=private?pin-value=1234"}, rsaLeaf, 0},
		{"certificate URI only, key by CKA_ID", keysource.Options{Certificate: "pkcs11:token=iamra;id=%02?pin-value=1234"}, ecLeaf, 0},
		{"key URI only, certificate by label", keysource.Options{PrivateKey: "pkcs11:token=iamra;object=rsa?pin-value=1234"}, rsaLeaf, 0},
		{"file certificate, token key, intermediates", keysource.Options{Certificate: ecCertFile, Intermediates: interFile,
			PrivateKey: "pkcs11:token=iamra;object=ec?pin-value=1234"}, ecLeaf, 1},
		{"file certificate, key found by test signature", keysource.Options{Certificate: ecCertFile,
			PrivateKey: "pkcs11:token=iamra?pin-value=1234"}, ecLeaf, 0},
		{"cert selector with PIN prompt", keysource.Options{Selector: sel,
			Prompt: func(string) (string, error) { return "1234", nil }}, ecLeaf, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.opts.PKCS11Lib = lib
			src, err := keysource.Open(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			for range 2 { // a second load reuses the proven key
				id, err := src.Load(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if !id.Certificate.Equal(c.leaf) || len(id.Chain) != c.chain {
					t.Fatalf("loaded %q with %d chain certificates, want %q with %d", id.Certificate.Subject, len(id.Chain), c.leaf.Subject, c.chain)
				}
				checkSigns(t, id)
			}
		})
	}

	t.Run("list", func(t *testing.T) {
		certs, err := keysource.ListPKCS11Certificates(keysource.Options{Certificate: "pkcs11:token=iamra?pin-value=1234", PKCS11Lib: lib})
		if err != nil {
			t.Fatal(err)
		}
		if len(certs) != 2 {
			t.Fatalf("listed %d certificates, want 2", len(certs))
		}
		for _, c := range certs {
			if !strings.Contains(c.URI, "token=iamra") || !strings.Contains(c.URI, "type=cert") || strings.Contains(c.URI, "1234") {
				t.Errorf("URI %q", c.URI)
			}
		}
	})

	errCases := []struct {
		name string
		opts keysource.Options
		want string
		is   error
	}{
		{"wrong PIN", keysource.Options{PrivateKey: "pkcs11:token=iamra;object=rsa?pin-value=9999"},
			`PKCS#11: login to token "iamra" failed: pkcs11: 0xA0: CKR_PIN_INCORRECT`, nil},
		{"no PIN", keysource.Options{PrivateKey: "pkcs11:token=iamra;object=rsa"},
			`PKCS#11 token "iamra" requires a PIN: add ?pin-value=… (or pin-source=file) to the URI`, nil},
		{"no such token", keysource.Options{PrivateKey: "pkcs11:token=other?pin-value=1234"},
			`PKCS#11 module "` + lib + `": no token matches pkcs11:token=other`, nil},
		{"bad module", keysource.Options{PrivateKey: "pkcs11:token=iamra", PKCS11Lib: filepath.Join(dir, "missing.so")},
			`cannot load PKCS#11 module "` + filepath.Join(dir, "missing.so") + `" (set --pkcs11-lib to the module's path)`, nil},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			if c.opts.PKCS11Lib == "" {
				c.opts.PKCS11Lib = lib
			}
			src, err := keysource.Open(c.opts)
			if err == nil {
				_, err = src.Load(context.Background())
				src.Close()
			}
			if err == nil || err.Error() != c.want {
				t.Fatalf("error = %v\nwant    %s", err, c.want)
			}
		})
	}

	t.Run("mismatched file certificate", func(t *testing.T) {
		src, err := keysource.Open(keysource.Options{PKCS11Lib: lib, Certificate: ecCertFile,
			PrivateKey: "pkcs11:token=iamra;object=rsa?pin-value=1234"})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		if _, err := src.Load(context.Background()); !errors.Is(err, keysource.ErrKeyMismatch) {
			t.Fatalf("error = %v, want ErrKeyMismatch", err)
		}
	})

	t.Run("two sources share the module", func(t *testing.T) {
		a, err := keysource.Open(keysource.Options{PKCS11Lib: lib, PrivateKey: "pkcs11:token=iamra;object=rsa?pin-value=1234"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := keysource.Open(keysource.Options{PKCS11Lib: lib, PrivateKey: "pkcs11:token=iamra;object=ec?pin-value=1234"})
		if err != nil {
			t.Fatal(err)
		}
		a.Close() // must not finalize the module under b
		id, err := b.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := id.Signer.Sign(nil, make([]byte, 32), crypto.SHA256); err != nil {
			t.Fatal(err)
		}
		b.Close()
	})
}
