package keysource_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"

	"github.com/iamra/iamra/helper/keysource"
	kt "github.com/iamra/iamra/helper/keysource/keysourcetest"
)

func noSleep(context.Context, time.Duration) error { return nil }

func load(t *testing.T, o keysource.Options) (*keysource.Identity, error) {
	t.Helper()
	if o.Sleep == nil {
		o.Sleep = noSleep
	}
	src, err := keysource.Open(o)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return src.Load(context.Background())
}

// checkSigns proves the identity's signer holds the certificate's key.
func checkSigns(t *testing.T, id *keysource.Identity) {
	t.Helper()
	msg := []byte("string to sign")
	digest := sha256.Sum256(msg)
	switch pub := id.Certificate.PublicKey.(type) {
	case *rsa.PublicKey:
		sig, err := id.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
			t.Fatalf("RSA signature does not verify (err %v)", err)
		}
	case *ecdsa.PublicKey:
		sig, err := id.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil || !ecdsa.VerifyASN1(pub, digest[:], sig) {
			t.Fatalf("ECDSA signature does not verify (err %v)", err)
		}
	case nil: // ML-DSA
		sig, err := id.Signer.Sign(rand.Reader, msg, crypto.Hash(0))
		if err != nil {
			t.Fatal(err)
		}
		pk := id.Signer.Public().(sign.PublicKey)
		if !pk.Scheme().Verify(pk, msg, sig, nil) {
			t.Fatal("ML-DSA signature does not verify")
		}
	default:
		t.Fatalf("unexpected key %T", pub)
	}
}

func haveOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not on PATH; it generates the encrypted-key and PKCS#12 fixtures")
	}
}

func openssl(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestFormats(t *testing.T) {
	dir := t.TempDir()
	pki := kt.NewPKI(t)
	inter := pki.Intermediate(t, "Test Intermediate")
	rsaKey, ecKey := kt.RSAKey(t), kt.ECKey(t)
	rsaLeaf := inter.Issue(t, rsaKey.Public(), 101, "workload-rsa")
	ecLeaf := inter.Issue(t, ecKey.Public(), 102, "workload-ec")

	w := func(name string, data []byte) string { return kt.Write(t, dir, name, data) }
	rsaCert := w("rsa.pem", kt.CertPEM(rsaLeaf))
	ecCert := w("ec.pem", kt.CertPEM(ecLeaf))
	rsaFull := w("rsa-full.pem", kt.CertPEM(rsaLeaf, inter.CA))
	interPEM := w("inter.pem", kt.CertPEM(inter.CA, pki.CA))
	rsaDER := w("rsa.der", rsaLeaf.Raw)
	pkcs8RSA := w("rsa-pkcs8.key", kt.KeyPEM(t, rsaKey))
	pkcs8EC := w("ec-pkcs8.key", kt.KeyPEM(t, ecKey))
	pkcs1 := w("rsa-pkcs1.key", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	sec1DER, _ := x509.MarshalECPrivateKey(ecKey)
	sec1 := w("ec-sec1.key", append([]byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1DER})...))
	// What the kubelet writes for a podCertificate credentialBundlePath:
	// the key, then the chain, leaf first.
	combined := w("bundle.pem", append(kt.KeyPEM(t, ecKey), kt.CertPEM(ecLeaf, inter.CA)...))

	type tc struct {
		name      string
		opts      keysource.Options
		leaf      *x509.Certificate
		chainLen  int
		wantChain []*x509.Certificate
	}
	cases := []tc{
		{name: "PEM cert + PKCS#1 RSA", opts: keysource.Options{Certificate: rsaCert, PrivateKey: pkcs1}, leaf: rsaLeaf},
		{name: "PEM cert + PKCS#8 RSA", opts: keysource.Options{Certificate: rsaCert, PrivateKey: pkcs8RSA}, leaf: rsaLeaf},
		{name: "PEM cert + SEC1 EC with EC PARAMETERS", opts: keysource.Options{Certificate: ecCert, PrivateKey: sec1}, leaf: ecLeaf},
		{name: "PEM cert + PKCS#8 EC", opts: keysource.Options{Certificate: ecCert, PrivateKey: pkcs8EC}, leaf: ecLeaf},
		{name: "DER cert", opts: keysource.Options{Certificate: rsaDER, PrivateKey: pkcs8RSA}, leaf: rsaLeaf},
		{name: "chain in cert file", opts: keysource.Options{Certificate: rsaFull, PrivateKey: pkcs1}, leaf: rsaLeaf,
			wantChain: []*x509.Certificate{inter.CA}},
		{name: "chain in cert file + intermediates, deduplicated", opts: keysource.Options{Certificate: rsaFull, PrivateKey: pkcs1, Intermediates: interPEM},
			leaf: rsaLeaf, wantChain: []*x509.Certificate{inter.CA, pki.CA}},
		{name: "combined bundle as --certificate", opts: keysource.Options{Certificate: combined}, leaf: ecLeaf, wantChain: []*x509.Certificate{inter.CA}},
		{name: "combined bundle as --private-key", opts: keysource.Options{PrivateKey: combined}, leaf: ecLeaf, wantChain: []*x509.Certificate{inter.CA}},
		{name: "combined bundle as both", opts: keysource.Options{Certificate: combined, PrivateKey: combined}, leaf: ecLeaf, wantChain: []*x509.Certificate{inter.CA}},
	}

	// ML-DSA in each of RFC 9881's private key forms and every level.
	for _, scheme := range []sign.Scheme{mldsa44.Scheme(), mldsa65.Scheme(), mldsa87.Scheme()} {
		pub, priv, err := scheme.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		leaf := inter.Issue(t, pub, 200, "workload-"+scheme.Name())
		cert := w(scheme.Name()+".pem", kt.CertPEM(leaf))
		for _, form := range []string{"seed", "expanded", "both"} {
			key := w(scheme.Name()+"-"+form+".key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kt.MLDSAPKCS8(t, priv, form)}))
			cases = append(cases, tc{name: scheme.Name() + " " + form, opts: keysource.Options{Certificate: cert, PrivateKey: key}, leaf: leaf})
		}
	}

	if _, err := exec.LookPath("openssl"); err == nil {
		for _, enc := range []struct{ name, args string }{
			{"encrypted PKCS#8 aes-256-cbc (OpenSSL default)", "-v2 aes-256-cbc"},
			{"encrypted PKCS#8 aes-128-cbc hmacWithSHA1", "-v2 aes-128-cbc -v2prf hmacWithSHA1"},
			{"encrypted PKCS#8 aes-192-cbc hmacWithSHA512", "-v2 aes-192-cbc -v2prf hmacWithSHA512"},
			{"encrypted PKCS#8 des3", "-v2 des3"},
			{"encrypted PKCS#8 scrypt", "-scrypt"},
		} {
			out := filepath.Join(dir, strings.NewReplacer(" ", "_", "#", "", "(", "", ")", "").Replace(enc.name)+".key")
			openssl(t, append([]string{"pkcs8", "-topk8", "-in", pkcs8RSA, "-out", out, "-passout", "pass:s3cret"}, strings.Fields(enc.args)...)...)
			cases = append(cases, tc{name: enc.name, opts: keysource.Options{Certificate: rsaCert, PrivateKey: out, Password: "s3cret"}, leaf: rsaLeaf})
		}
		legacy := filepath.Join(dir, "legacy.key")
		openssl(t, "ec", "-in", pkcs8EC, "-out", legacy, "-aes128", "-passout", "pass:s3cret")
		if b, _ := os.ReadFile(legacy); !strings.Contains(string(b), "Proc-Type: 4,ENCRYPTED") {
			t.Fatalf("openssl did not write a legacy encrypted PEM:\n%s", b)
		}
		cases = append(cases, tc{name: "legacy encrypted PEM", opts: keysource.Options{Certificate: ecCert, PrivateKey: legacy, Password: "s3cret"}, leaf: ecLeaf})

		for _, p := range []struct {
			name, pass string
			extra      []string
		}{
			{"PKCS#12 empty password", "", nil},
			{"PKCS#12 with password", "p12pass", nil},
			{"PKCS#12 legacy 3DES/RC2", "p12pass", []string{"-legacy"}},
		} {
			out := filepath.Join(dir, strings.ReplaceAll(strings.ReplaceAll(p.name, " ", "_"), "/", "_")+".p12")
			args := append([]string{"pkcs12", "-export", "-in", rsaFull, "-inkey", pkcs8RSA, "-certfile", interPEM, "-out", out, "-passout", "pass:" + p.pass}, p.extra...)
			openssl(t, args...)
			cases = append(cases, tc{name: p.name, opts: keysource.Options{Certificate: out, Password: p.pass}, leaf: rsaLeaf, chainLen: 2})
		}
	} else {
		t.Log("openssl not on PATH: encrypted PKCS#8, legacy PEM and PKCS#12 cases skipped")
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id, err := load(t, c.opts)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !id.Certificate.Equal(c.leaf) {
				t.Fatalf("leaf = %q, want %q", id.Certificate.Subject, c.leaf.Subject)
			}
			if c.wantChain != nil {
				if len(id.Chain) != len(c.wantChain) {
					t.Fatalf("chain has %d certificates, want %d", len(id.Chain), len(c.wantChain))
				}
				for i := range c.wantChain {
					if !id.Chain[i].Equal(c.wantChain[i]) {
						t.Fatalf("chain[%d] = %q, want %q", i, id.Chain[i].Subject, c.wantChain[i].Subject)
					}
				}
			} else if len(id.Chain) != c.chainLen {
				t.Fatalf("chain has %d certificates, want %d", len(id.Chain), c.chainLen)
			}
			checkSigns(t, id)
		})
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	pki := kt.NewPKI(t)
	rsaKey, ecKey := kt.RSAKey(t), kt.ECKey(t)
	rsaLeaf := pki.Issue(t, rsaKey.Public(), 7, "workload")
	w := func(name string, data []byte) string { return kt.Write(t, dir, name, data) }
	cert := w("cert.pem", kt.CertPEM(rsaLeaf))
	otherKey := w("ec.key", kt.KeyPEM(t, ecKey))
	rsaKeyFile := w("rsa.key", kt.KeyPEM(t, rsaKey))
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKCS8PrivateKey(edKey)
	ed := w("ed.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER}))
	garbage := w("garbage.pem", []byte("not a key"))
	twoKeys := w("two.key", append(kt.KeyPEM(t, rsaKey), kt.KeyPEM(t, ecKey)...))
	interWithKey := w("inter.pem", append(kt.CertPEM(pki.CA), kt.KeyPEM(t, ecKey)...))

	cases := []struct {
		name string
		opts keysource.Options
		want string
		is   error
	}{
		{"nothing given", keysource.Options{}, "no certificate given: use --certificate (and --private-key), a pkcs11: URI, or --cert-selector with --pkcs11-lib", nil},
		{"key does not match", keysource.Options{Certificate: cert, PrivateKey: otherKey},
			`private key does not match the certificate's public key (certificate serial 7, subject "CN=workload,O=Example")`, keysource.ErrKeyMismatch},
		{"missing key file", keysource.Options{Certificate: cert, PrivateKey: filepath.Join(dir, "nope.key")},
			"lstat " + filepath.Join(dir, "nope.key") + ": no such file or directory", os.ErrNotExist},
		{"cert without key", keysource.Options{Certificate: cert},
			cert + " holds no private key; pass --private-key (only PKCS#12 files and combined key+certificate PEM files carry their own key)", nil},
		{"key file without key", keysource.Options{Certificate: cert, PrivateKey: cert}, cert + ": no private key found", nil},
		{"garbage", keysource.Options{Certificate: cert, PrivateKey: garbage},
			garbage + ": not a PEM file (no -----BEGIN line), DER certificate or PKCS#12 file", nil},
		{"ed25519", keysource.Options{Certificate: cert, PrivateKey: ed}, ed + ": Ed25519 keys are not supported by IAM Roles Anywhere (use RSA, ECDSA or ML-DSA)", nil},
		{"two keys", keysource.Options{Certificate: cert, PrivateKey: twoKeys}, twoKeys + ": more than one private key", nil},
		{"key in intermediates", keysource.Options{Certificate: cert, PrivateKey: rsaKeyFile, Intermediates: interWithKey},
			interWithKey + ": the intermediates bundle must hold only certificates, not a private key", nil},
	}
	if _, err := exec.LookPath("openssl"); err == nil {
		enc := filepath.Join(dir, "enc.key")
		openssl(t, "pkcs8", "-topk8", "-in", rsaKeyFile, "-out", enc, "-passout", "pass:right", "-v2", "aes-256-cbc")
		p12 := filepath.Join(dir, "id.p12")
		openssl(t, "pkcs12", "-export", "-in", cert, "-inkey", rsaKeyFile, "-out", p12, "-passout", "pass:right")
		cases = append(cases, []struct {
			name string
			opts keysource.Options
			want string
			is   error
		}{
			{"encrypted key without password", keysource.Options{Certificate: cert, PrivateKey: enc}, enc + ": private key is encrypted; pass --pkcs8-password", nil},
			{"encrypted key wrong password", keysource.Options{Certificate: cert, PrivateKey: enc, Password: "wrong"}, enc + ": incorrect password", keysource.ErrIncorrectPassword},
			{"p12 without password", keysource.Options{Certificate: p12}, p12 + ": PKCS#12 file is password-protected; pass --pkcs8-password: private key is encrypted; pass --pkcs8-password", nil},
			{"p12 wrong password", keysource.Options{Certificate: p12, Password: "wrong"}, p12 + ": PKCS#12: incorrect password", keysource.ErrIncorrectPassword},
		}...)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, c.opts)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if err.Error() != c.want {
				t.Fatalf("error\n got: %s\nwant: %s", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("error %v is not %v", err, c.is)
			}
		})
	}
}

// TestPromptedPassword: without --pkcs8-password the source asks once and
// remembers the answer for the following loads.
func TestPromptedPassword(t *testing.T) {
	haveOpenSSL(t)
	dir := t.TempDir()
	pki := kt.NewPKI(t)
	key := kt.ECKey(t)
	cert := kt.Write(t, dir, "c.pem", kt.CertPEM(pki.Issue(t, key.Public(), 3, "w")))
	plain := kt.Write(t, dir, "k.pem", kt.KeyPEM(t, key))
	enc := filepath.Join(dir, "enc.pem")
	openssl(t, "pkcs8", "-topk8", "-in", plain, "-out", enc, "-passout", "pass:asked")
	asked := 0
	src, err := keysource.Open(keysource.Options{Certificate: cert, PrivateKey: enc, Sleep: noSleep,
		Prompt: func(string) (string, error) { asked++; return "asked", nil }})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := src.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if asked != 1 {
		t.Fatalf("prompted %d times, want 1", asked)
	}
}

func TestSelector(t *testing.T) {
	pki := kt.NewPKI(t)
	leaf := pki.Issue(t, kt.ECKey(t).Public(), 0x0a1b, "sel")
	dir := t.TempDir()
	jsonFile := kt.Write(t, dir, "sel.json", []byte(`[{"Key":"x509Subject","Value":"CN=sel,O=Example"},{"Key":"x509Serial","Value":"0A1B"}]`))
	cases := []struct {
		in, err string
		match   bool
	}{
		{in: "Key=x509Subject,Value=CN=sel,O=Example", match: true},
		{in: "Key=x509Subject,Value=CN=sel,O=Example Key=x509Issuer,Value=CN=Test Root CA Key=x509Serial,Value=0a1b", match: true},
		{in: "Key=x509Serial,Value=0a1c", match: false},
		{in: "file://" + jsonFile, match: true},
		{in: "Key=x509Foo,Value=1", err: "cert selector contained invalid key"},
		{in: "Key=x509Serial,Value=1 Key=x509Serial,Value=2", err: "duplicate x509Serial keys can't be present in cert selector"},
		{in: "Subject=foo", err: "unable to parse cert selector string"},
		{in: "Key=x509Serial,Value=zz", err: `cert selector x509Serial "zz" is not a hexadecimal number`},
		{in: "file://" + filepath.Join(dir, "missing.json"), err: "unable to read cert selector file"},
	}
	for _, c := range cases {
		sel, err := keysource.ParseSelector(c.in, os.ReadFile)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("ParseSelector(%q) error = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSelector(%q): %v", c.in, err)
			continue
		}
		if got := sel.Matches(leaf); got != c.match {
			t.Errorf("ParseSelector(%q).Matches = %v, want %v", c.in, got, c.match)
		}
	}
}

func TestPKCS11URI(t *testing.T) {
	cases := []struct{ in, err, str string }{
		{in: "pkcs11:token=My%20Token;object=key%2F1;type=private?pin-value=1234&module-path=/usr/lib/x.so",
			str: "pkcs11:token=My%20Token;object=key%2F1;type=private?module-path=%2Fusr%2Flib%2Fx.so"},
		{in: "pkcs11:", str: "pkcs11:"},
		{in: "pkcs11:id=%01%02;slot-id=3", str: "pkcs11:slot-id=3;id=%01%02"},
		{in: "file:foo", err: `PKCS#11 URI must start with "pkcs11:"`},
		{in: "pkcs11:token=a;token=b", err: `PKCS#11 URI: attribute "token" appears twice`},
		{in: "pkcs11:bogus=1", err: `PKCS#11 URI: unknown attribute "bogus"`},
		{in: "pkcs11:token", err: `PKCS#11 URI: attribute "token" has no value`},
		{in: "pkcs11:type=wrong", err: `PKCS#11 URI: unknown object type "wrong"`},
		{in: "pkcs11:slot-id=x", err: `PKCS#11 URI: slot-id "x" is not a decimal number`},
		{in: "pkcs11:object=%zz", err: `PKCS#11 URI: attribute "object": bad percent-encoding`},
	}
	for _, c := range cases {
		u, err := keysource.ParsePKCS11URI(c.in)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("ParsePKCS11URI(%q) error = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePKCS11URI(%q): %v", c.in, err)
			continue
		}
		if got := u.String(); got != c.str {
			t.Errorf("String() = %q, want %q", got, c.str)
		}
	}
}
