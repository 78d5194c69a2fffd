package keysource

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	kt "github.com/iamra/iamra/helper/keysource/keysourcetest"
	"github.com/iamra/iamra/helper/keysource/tpmtest"
	"github.com/iamra/iamra/sigv4x509"
)

// fakePublic is a TPM2B_PUBLIC for a P-256 signing key made in software,
// for parser tests that need no TPM.
func fakePublic(t testing.TB, mod func(*tpm2.TPMTPublic)) []byte {
	t.Helper()
	k := kt.ECKey(t)
	raw, err := k.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	p := tpm2.TPMTPublic{Type: tpm2.TPMAlgECC, NameAlg: tpm2.TPMAlgSHA256,
		ObjectAttributes: tpm2.TPMAObject{FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true, UserWithAuth: true, SignEncrypt: true},
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
			Symmetric: tpm2.TPMTSymDefObject{Algorithm: tpm2.TPMAlgNull}, Scheme: tpm2.TPMTECCScheme{Scheme: tpm2.TPMAlgNull},
			CurveID: tpm2.TPMECCNistP256, KDF: tpm2.TPMTKDFScheme{Scheme: tpm2.TPMAlgNull}}),
		Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{
			X: tpm2.TPM2BECCParameter{Buffer: raw[1:33]}, Y: tpm2.TPM2BECCParameter{Buffer: raw[33:]}}),
	}
	if mod != nil {
		mod(&p)
	}
	return tpm2.Marshal(tpm2.New2B(p))
}

// tss2DER builds a TPMKey with the given optional fields (raw DER each).
func tss2DER(oid asn1.ObjectIdentifier, optional [][]byte, parent int64, pub, priv []byte, trailing []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		for _, o := range optional {
			b.AddBytes(o)
		}
		b.AddASN1Int64(parent)
		b.AddASN1OctetString(pub)
		b.AddASN1OctetString(priv)
		b.AddBytes(trailing)
	})
	return b.BytesOrPanic()
}

func explicit(tag int, inner []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(tag).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(inner) })
	return b.BytesOrPanic()
}

var (
	boolTrue01 = []byte{0x01, 0x01, 0x01} // non-DER TRUE, as tpm2-tss-engine writes
	boolFalse  = []byte{0x01, 0x01, 0x00}
	priv2B     = []byte{0x00, 0x02, 0xaa, 0xbb}
)

func TestParseTSS2Key(t *testing.T) {
	pub := fakePublic(t, nil)
	ok := func(opt ...[]byte) []byte { return tss2DER(oidTPMLoadableKey, opt, 0x40000001, pub, priv2B, nil) }
	desc := explicit(4, []byte{0x0c, 0x03, 'k', 'e', 'y'})

	for _, tc := range []struct {
		name                 string
		der                  []byte
		emptyAuth, rsaParent bool
		parent               tpm2.TPMHandle
	}{
		{"no emptyAuth", ok(), false, false, tpm2.TPMRHOwner},
		{"emptyAuth 0x01", ok(explicit(0, boolTrue01)), true, false, tpm2.TPMRHOwner},
		{"emptyAuth false", ok(explicit(0, boolFalse)), false, false, tpm2.TPMRHOwner},
		{"description and rsaParent", ok(explicit(0, boolTrue01), desc, explicit(5, []byte{0x01, 0x01, 0xff})), true, true, tpm2.TPMRHOwner},
		{"parent 0 means owner", tss2DER(oidTPMLoadableKey, nil, 0, pub, priv2B, nil), false, false, tpm2.TPMRHOwner},
		{"persistent parent", tss2DER(oidTPMLoadableKey, nil, 0x81000001, pub, priv2B, nil), false, false, 0x81000001},
		{"endorsement parent", tss2DER(oidTPMLoadableKey, nil, 0x4000000b, pub, priv2B, nil), false, false, tpm2.TPMRHEndorsement},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := parseTSS2Key(tc.der)
			if err != nil {
				t.Fatal(err)
			}
			if k.emptyAuth != tc.emptyAuth || k.rsaParent != tc.rsaParent || k.parent != tc.parent {
				t.Errorf("emptyAuth %v rsaParent %v parent %#x; want %v %v %#x", k.emptyAuth, k.rsaParent, k.parent, tc.emptyAuth, tc.rsaParent, tc.parent)
			}
			if !bytes.Equal(k.privBlob, priv2B[2:]) || !bytes.Equal(k.pubBlob, pub[2:]) {
				t.Error("blobs not unwrapped")
			}
		})
	}

	for _, tc := range []struct {
		name, want string
		der        []byte
	}{
		{"empty", "TSS2 PRIVATE KEY: not a DER SEQUENCE", nil},
		{"trailing after sequence", "TSS2 PRIVATE KEY: not a DER SEQUENCE", append(ok(), 0)},
		{"no oid", "TSS2 PRIVATE KEY: missing key type OID", []byte{0x30, 0x03, 0x02, 0x01, 0x00}},
		{"importable", "TSS2 PRIVATE KEY: importable keys (2.23.133.10.1.4) are not supported; load the key into the TPM and re-encode it as a loadable key",
			tss2DER(oidTPMImportableKey, nil, 0x40000001, pub, priv2B, nil)},
		{"sealed", "TSS2 PRIVATE KEY: sealed data (2.23.133.10.1.5) is not a signing key", tss2DER(oidTPMSealedData, nil, 0x40000001, pub, priv2B, nil)},
		{"unknown oid", "TSS2 PRIVATE KEY: unknown key type OID 1.2.3 (want 2.23.133.10.1.3, a loadable key)", tss2DER(asn1.ObjectIdentifier{1, 2, 3}, nil, 0x40000001, pub, priv2B, nil)},
		{"emptyAuth not bool", "TSS2 PRIVATE KEY: emptyAuth: not a BOOLEAN", ok(explicit(0, []byte{0x02, 0x01, 0x01}))},
		{"policy", "TSS2 PRIVATE KEY: keys that need TPM policy sessions are not supported", ok(explicit(1, []byte{0x30, 0x00}))},
		{"authPolicy", "TSS2 PRIVATE KEY: keys that need TPM policy sessions are not supported", ok(explicit(3, []byte{0x30, 0x00}))},
		{"secret", "TSS2 PRIVATE KEY: a secret field belongs to importable keys, not loadable ones", ok(explicit(2, []byte{0x04, 0x00}))},
		{"rsaParent not bool", "TSS2 PRIVATE KEY: rsaParent: not a BOOLEAN", ok(explicit(5, []byte{0x04, 0x00}))},
		{"negative parent", "TSS2 PRIVATE KEY: parent is not a 32-bit handle", tss2DER(oidTPMLoadableKey, nil, -1, pub, priv2B, nil)},
		{"wide parent", "TSS2 PRIVATE KEY: parent is not a 32-bit handle", tss2DER(oidTPMLoadableKey, nil, 1<<32, pub, priv2B, nil)},
		{"transient parent", "TSS2 PRIVATE KEY: parent 0x80000001 is neither a hierarchy nor a persistent handle", tss2DER(oidTPMLoadableKey, nil, 0x80000001, pub, priv2B, nil)},
		{"trailing field", "TSS2 PRIVATE KEY: unexpected data after privkey", tss2DER(oidTPMLoadableKey, nil, 0x40000001, pub, priv2B, []byte{0x05, 0x00})},
		{"no privkey", "TSS2 PRIVATE KEY: missing pubkey or privkey", []byte{0x30, 0x0e, 0x06, 0x06, 0x67, 0x81, 0x05, 0x0a, 0x01, 0x03, 0x02, 0x01, 0x00, 0x04, 0x01, 0x00}},
		{"pub size", "TSS2 PRIVATE KEY: pubkey: TPM2B size does not match its length", tss2DER(oidTPMLoadableKey, nil, 0x40000001, pub[1:], priv2B, nil)},
		{"priv size", "TSS2 PRIVATE KEY: privkey: TPM2B size does not match its length", tss2DER(oidTPMLoadableKey, nil, 0x40000001, pub, []byte{0, 5, 1}, nil)},
		{"pub garbage", "TSS2 PRIVATE KEY: pubkey: malformed TPMT_PUBLIC: trailing or non-canonical bytes",
			tss2DER(oidTPMLoadableKey, nil, 0x40000001, append(binary.BigEndian.AppendUint16(nil, uint16(len(pub)-1)), append(pub[2:], 0)...), priv2B, nil)},
		{"decrypt key", "TSS2 PRIVATE KEY: pubkey: the TPM key does not have the sign attribute",
			tss2DER(oidTPMLoadableKey, nil, 0x40000001, fakePublic(t, func(p *tpm2.TPMTPublic) { p.ObjectAttributes.SignEncrypt = false }), priv2B, nil)},
		{"restricted", "TSS2 PRIVATE KEY: pubkey: the TPM key is restricted (an attestation key), so it cannot sign external data",
			tss2DER(oidTPMLoadableKey, nil, 0x40000001, fakePublic(t, func(p *tpm2.TPMTPublic) { p.ObjectAttributes.Restricted = true }), priv2B, nil)},
		{"off curve", "TSS2 PRIVATE KEY: pubkey: the TPM key's EC point is not on its curve",
			tss2DER(oidTPMLoadableKey, nil, 0x40000001, fakePublic(t, func(p *tpm2.TPMTPublic) {
				p.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{X: tpm2.TPM2BECCParameter{Buffer: []byte{1}}, Y: tpm2.TPM2BECCParameter{Buffer: []byte{1}}})
			}), priv2B, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseTSS2Key(tc.der)
			if err == nil || err.Error() != tc.want {
				t.Errorf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}

func FuzzParseTSS2Key(f *testing.F) {
	pub := fakePublic(f, nil)
	f.Add(tss2DER(oidTPMLoadableKey, [][]byte{explicit(0, boolTrue01)}, 0x40000001, pub, priv2B, nil))
	f.Add(tss2DER(oidTPMLoadableKey, nil, 0x81000001, pub, priv2B, nil))
	f.Fuzz(func(t *testing.T, der []byte) {
		k, err := parseTSS2Key(der)
		if err == nil {
			if _, _, err := publicKeyOf(&k.public); err != nil {
				t.Fatalf("parsed key has no usable public key: %v", err)
			}
		}
	})
}

func TestParseTPMHandle(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint32
		err  string
	}{
		{"handle:0x81000001", 0x81000001, ""},
		{"handle:81000101", 0x81000101, ""},
		{"handle:0X81FFFFFF", 0x81ffffff, ""},
		{"handle:0x80000001", 0, "TPM handle 0x80000001 is not a persistent handle (0x81000000-0x81ffffff); make the key persistent with tpm2_evictcontrol"},
		{"handle:xyz", 0, `TPM handle "xyz" is not a hexadecimal 32-bit value`},
		{"handle:0x181000001", 0, `TPM handle "0x181000001" is not a hexadecimal 32-bit value`},
		{"0x81000001", 0, `"0x81000001" is not a TPM handle (handle:0x81…)`},
	} {
		got, err := ParseTPMHandle(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%s: got %v, want %s", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %#x, %v", tc.in, got, err)
		}
	}
}

func TestSplitTSS2(t *testing.T) {
	cert := []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	key := pem.EncodeToMemory(&pem.Block{Type: tss2PEMType, Bytes: []byte{1, 2, 3}})
	rest, keys := splitTSS2(append(append(append([]byte{}, cert...), key...), cert...))
	if len(keys) != 1 || !bytes.Equal(keys[0], []byte{1, 2, 3}) {
		t.Errorf("keys %v", keys)
	}
	if want := append(append([]byte{}, cert...), cert...); !bytes.Equal(rest, want) {
		t.Errorf("rest %q", rest)
	}
	broken := []byte("-----BEGIN TSS2 PRIVATE KEY-----\nAAAA\n")
	if rest, keys := splitTSS2(broken); len(keys) != 0 || !bytes.Equal(rest, broken) {
		t.Errorf("unterminated block: %q %v", rest, keys)
	}
}

// TestFitECDSADigest checks the value handed to a TPM key bound to another
// hash with the standard library's own ECDSA: a signature over the digest
// must verify over the fitted value.
func TestFitECDSADigest(t *testing.T) {
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			for _, size := range []int{32, 48, 64} {
				d := h.New()
				d.Write([]byte("message"))
				digest := d.Sum(nil)
				x, err := fitECDSADigest(digest, c.Params().BitSize, size)
				if len(digest) > size && size*8 < c.Params().BitSize {
					if err == nil {
						t.Errorf("%s %v size %d: want an error", c.Params().Name, h, size)
					}
					continue
				}
				if err != nil || len(x) != size {
					t.Fatalf("%s %v size %d: %v (%d bytes)", c.Params().Name, h, size, err, len(x))
				}
				sig, err := ecdsa.SignASN1(rand.Reader, k, digest)
				if err != nil {
					t.Fatal(err)
				}
				if !ecdsa.VerifyASN1(&k.PublicKey, x, sig) {
					t.Errorf("%s %v size %d: fitted value does not verify", c.Params().Name, h, size)
				}
			}
		}
	}
}

func TestOpenTPMDeviceErrors(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "file")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ spec, want string }{
		{"mssim:host=localhost", `TPM_DEVICE "mssim:host=localhost": unsupported TCTI "mssim" (use a device path, a Unix socket path, device:PATH or swtpm:host=H,port=P)`},
		{"swtpm:host=127.0.0.1,bogus=1", `TPM_DEVICE "swtpm:host=127.0.0.1,bogus=1": unknown swtpm option "bogus" (host, port, path)`},
		{regular, "TPM " + regular + " is neither a character device nor a Unix socket"},
		{"device:" + regular, "TPM " + regular + " is neither a character device nor a Unix socket"},
		{filepath.Join(dir, "none"), "TPM " + filepath.Join(dir, "none") + ": stat " + filepath.Join(dir, "none") + ": no such file or directory"},
	} {
		if _, err := openTPMDevice(tc.spec); err == nil || err.Error() != tc.want {
			t.Errorf("%s: got %v\nwant %s", tc.spec, err, tc.want)
		}
	}
}

// --- against swtpm ----------------------------------------------------------

// tpmFixture is a swtpm with a CA for certifying its keys.
type tpmFixture struct {
	tpm *tpmtest.SWTPM
	pki *kt.PKI
	dir string
}

func newTPMFixture(t *testing.T) *tpmFixture {
	return &tpmFixture{tpm: tpmtest.Start(t), pki: kt.NewPKI(t), dir: t.TempDir()}
}

// files writes the certificate for pub and the key PEM, returning their paths.
func (f *tpmFixture) files(t *testing.T, name string, pub crypto.PublicKey, keyPEM []byte) (cert, key string) {
	t.Helper()
	cert = kt.Write(t, f.dir, name+"-cert.pem", kt.CertPEM(f.pki.Issue(t, pub, 4242, name)))
	key = kt.Write(t, f.dir, name+"-key.pem", keyPEM)
	return cert, key
}

func (f *tpmFixture) open(t *testing.T, o Options) Source {
	t.Helper()
	o.TPMDevice = f.tpm.Device
	src, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// signedRequest signs a CreateSession request with id and checks that the
// server side accepts it.
func signedRequest(t *testing.T, id *Identity) {
	t.Helper()
	body := []byte(`{"durationSeconds":3600}`)
	req := httptest.NewRequest(http.MethodPost, "https://rolesanywhere.us-east-1.amazonaws.com/sessions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	now := time.Now()
	if err := sigv4x509.Sign(req, body, sigv4x509.SignInput{Certificate: id.Certificate, Chain: id.Chain, Signer: id.Signer, Region: "us-east-1", Time: now}); err != nil {
		t.Fatalf("sigv4x509.Sign: %v", err)
	}
	v, err := sigv4x509.Verify(req, body, sigv4x509.VerifyOptions{Now: now})
	if err != nil {
		t.Fatalf("sigv4x509.Verify: %v", err)
	}
	if !bytes.Equal(v.Leaf.Raw, id.Certificate.Raw) {
		t.Error("verified leaf is not the identity's certificate")
	}
}

func checkIdentity(t *testing.T, id *Identity, pub crypto.PublicKey) {
	t.Helper()
	if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(id.Signer.Public()) {
		t.Fatal("signer's public key is not the TPM key's")
	}
	if !keyMatches(id.Signer.Public(), id.Certificate) {
		t.Fatal("identity is not a consistent pair")
	}
	signedRequest(t, id)
}

// checkOtherDigests signs digests of other sizes, as sign-string --digest
// SHA384/SHA512 makes.
func checkOtherDigests(t *testing.T, id *Identity, pub crypto.PublicKey) {
	t.Helper()
	for _, h := range []crypto.Hash{crypto.SHA384, crypto.SHA512} {
		d := h.New()
		d.Write([]byte("AWS Roles Anywhere Credential Helper Signing Test"))
		sig, err := id.Signer.Sign(rand.Reader, d.Sum(nil), h)
		if err != nil {
			t.Fatalf("%v: %v", h, err)
		}
		ok := false
		switch p := pub.(type) {
		case *ecdsa.PublicKey:
			ok = ecdsa.VerifyASN1(p, d.Sum(nil), sig)
		case *rsa.PublicKey:
			ok = rsa.VerifyPKCS1v15(p, h, d.Sum(nil), sig) == nil
		}
		if !ok {
			t.Errorf("%v signature does not verify", h)
		}
	}
}

func TestTPMKeyFiles(t *testing.T) {
	f := newTPMFixture(t)
	for _, tc := range []struct {
		name string
		spec tpmtest.KeySpec
	}{
		{"ecc256", tpmtest.KeySpec{Alg: "ecc256"}},
		{"ecc384", tpmtest.KeySpec{Alg: "ecc384"}},
		{"ecc256 bound to sha384", tpmtest.KeySpec{Alg: "ecc256", Hash: tpm2.TPMAlgSHA384}},
		{"ecc384 bound to sha384", tpmtest.KeySpec{Alg: "ecc384", Hash: tpm2.TPMAlgSHA384}},
		{"rsa2048", tpmtest.KeySpec{Alg: "rsa2048"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := f.tpm.CreateKey(t, tc.spec)
			cert, key := f.files(t, strings.ReplaceAll(tc.name, " ", "-"), k.Public, k.TSS2(true))
			src := f.open(t, Options{Certificate: cert, PrivateKey: key})
			if _, ok := src.(*tpmSource); !ok {
				t.Fatalf("Open chose %T for a TSS2 key", src)
			}
			id, err := src.Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkIdentity(t, id, k.Public)
			checkOtherDigests(t, id, k.Public)
			// A second Load reuses the loaded key.
			id2, err := src.Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if id2.Signer.(*tpmSigner).key != id.Signer.(*tpmSigner).key {
				t.Error("unchanged key file was loaded again")
			}
			if err := src.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := id.Signer.Sign(rand.Reader, make([]byte, 32), crypto.SHA256); err == nil {
				t.Error("signing after Close succeeded")
			}
		})
	}

	t.Run("RSA key bound to sha256 refuses sha384", func(t *testing.T) {
		k := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "rsa2048", Hash: tpm2.TPMAlgSHA256})
		cert, key := f.files(t, "rsa-sha256", k.Public, k.TSS2(true))
		id, err := f.open(t, Options{Certificate: cert, PrivateKey: key}).Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		signedRequest(t, id)
		d := sha512.Sum384(nil)
		if _, err := id.Signer.Sign(rand.Reader, d[:], crypto.SHA384); err == nil || err.Error() != "the TPM RSA key only signs SHA-256 digests, not SHA-384" {
			t.Errorf("got %v", err)
		}
	})

	t.Run("combined certificate and key file", func(t *testing.T) {
		k := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256"})
		combo := kt.Write(t, f.dir, "combo.pem", append(kt.CertPEM(f.pki.Issue(t, k.Public, 7, "combo"), f.pki.CA), k.TSS2(true)...))
		id, err := f.open(t, Options{Certificate: combo}).Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		checkIdentity(t, id, k.Public)
		if len(id.Chain) != 1 || !bytes.Equal(id.Chain[0].Raw, f.pki.CA.Raw) {
			t.Errorf("chain %d certificates", len(id.Chain))
		}
	})

	t.Run("mismatched certificate", func(t *testing.T) {
		k := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256"})
		cert, key := f.files(t, "mismatch", kt.ECKey(t).Public(), k.TSS2(true))
		_, err := f.open(t, Options{Certificate: cert, PrivateKey: key}).Load(context.Background())
		if !errors.Is(err, ErrKeyMismatch) {
			t.Errorf("got %v", err)
		}
	})

	t.Run("intermediates", func(t *testing.T) {
		k := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256"})
		inter := f.pki.Intermediate(t, "Issuing CA")
		cert := kt.Write(t, f.dir, "inter-cert.pem", kt.CertPEM(inter.Issue(t, k.Public, 9, "inter")))
		key := kt.Write(t, f.dir, "inter-key.pem", k.TSS2(true))
		bundle := kt.Write(t, f.dir, "bundle.pem", kt.CertPEM(inter.CA))
		id, err := f.open(t, Options{Certificate: cert, PrivateKey: key, Intermediates: bundle}).Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(id.Chain) != 1 || !bytes.Equal(id.Chain[0].Raw, inter.CA.Raw) {
			t.Fatalf("chain %v", id.Chain)
		}
		signedRequest(t, id)
	})

	t.Run("rotation", func(t *testing.T) {
		k1 := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256"})
		k2 := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "rsa2048"})
		soft := kt.ECKey(t)
		cert, key := f.files(t, "rot", k1.Public, k1.TSS2(true))
		src := f.open(t, Options{Certificate: cert, PrivateKey: key})
		id1, err := src.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// The kubelet way: new files renamed into place.
		replace := func(path string, data []byte) {
			tmp := path + ".tmp"
			if err := os.WriteFile(tmp, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}
		replace(cert, kt.CertPEM(f.pki.Issue(t, k2.Public, 2, "rot")))
		replace(key, k2.TSS2(true))
		id2, err := src.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		checkIdentity(t, id2, k2.Public)
		if _, err := id1.Signer.Sign(rand.Reader, make([]byte, 32), crypto.SHA256); err == nil ||
			err.Error() != "TPM signer: the key was replaced or the source closed; load the identity again" {
			t.Errorf("old signer: %v", err)
		}
		// And to a software key: the TPM key is flushed, the file key used.
		replace(cert, kt.CertPEM(f.pki.Issue(t, soft.Public(), 3, "rot")))
		replace(key, kt.KeyPEM(t, soft))
		id3, err := src.Load(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, isTPM := id3.Signer.(*tpmSigner); isTPM || !soft.PublicKey.Equal(id3.Signer.Public()) {
			t.Errorf("software key not used: %T", id3.Signer)
		}
		signedRequest(t, id3)
	})

	t.Run("key file problems", func(t *testing.T) {
		k := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256", Decrypt: true})
		corrupt := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256"})
		two := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256"})
		cert, key := f.files(t, "decrypt", kt.ECKey(t).Public(), k.TSS2(true))
		_, err := f.open(t, Options{Certificate: cert, PrivateKey: key}).Load(context.Background())
		if want := key + ": TSS2 PRIVATE KEY: pubkey: the TPM key does not have the sign attribute"; err == nil || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
		// A key blob from another TPM (here: corrupted) does not load.
		k = corrupt
		k.Private[len(k.Private)-1] ^= 1
		cert, key = f.files(t, "corrupt", k.Public, k.TSS2(true))
		_, err = f.open(t, Options{Certificate: cert, PrivateKey: key}).Load(context.Background())
		if err == nil || !strings.HasPrefix(err.Error(), key+": loading the TPM key under the storage primary key of hierarchy 0x40000001 (ECC and RSA templates tried): TPM_RC_INTEGRITY") {
			t.Errorf("got %v", err)
		}
		// Two keys in one file.
		k = two
		cert, key = f.files(t, "two", k.Public, append(k.TSS2(true), k.TSS2(true)...))
		_, err = f.open(t, Options{Certificate: cert, PrivateKey: key}).Load(context.Background())
		if want := key + ": more than one TSS2 PRIVATE KEY block"; err == nil || err.Error() != want {
			t.Errorf("got %v\nwant %s", err, want)
		}
	})
}

// lockoutCounter reads TPM_PT_LOCKOUT_COUNTER, the failed authorizations
// the dictionary-attack logic has counted.
func lockoutCounter(t *testing.T, s *tpmtest.SWTPM) uint32 {
	t.Helper()
	c := s.Conn(t)
	defer c.Close()
	r, err := tpm2.GetCapability{Capability: tpm2.TPMCapTPMProperties, Property: uint32(tpm2.TPMPTLockoutCounter), PropertyCount: 1}.Execute(c)
	if err != nil {
		t.Fatal(err)
	}
	props, err := r.CapabilityData.Data.TPMProperties()
	if err != nil || len(props.TPMProperty) == 0 || props.TPMProperty[0].Property != tpm2.TPMPTLockoutCounter {
		t.Fatalf("lockout counter: %v %v", props, err)
	}
	return props.TPMProperty[0].Value
}

func TestTPMKeyPasswords(t *testing.T) {
	f := newTPMFixture(t)
	ctx := context.Background()
	// Wrong passwords count towards the TPM's lockout (swtpm: after 3), so
	// only one subtest uses a dictionary-attack protected key.
	da := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256", Password: "1234", DA: true})
	daCert, daKey := f.files(t, "pw-da", da.Public, da.TSS2(false))
	k := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256", Password: "1234"})
	cert, key := f.files(t, "pw", k.Public, k.TSS2(false))

	t.Run("given", func(t *testing.T) {
		for _, c := range []struct {
			cert, key string
			pub       crypto.PublicKey
		}{{daCert, daKey, da.Public}, {cert, key, k.Public}} {
			id, err := f.open(t, Options{Certificate: c.cert, PrivateKey: c.key, TPMKeyPassword: "1234"}).Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			checkIdentity(t, id, c.pub)
		}
	})
	t.Run("needed", func(t *testing.T) {
		_, err := f.open(t, Options{Certificate: cert, PrivateKey: key}).Load(ctx)
		if !errors.Is(err, ErrTPMKeyPasswordNeeded) || err.Error() != "the TPM key needs a password: pass --tpm-key-password, or --no-tpm-key-password if it has none" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("prompted, wrong then right", func(t *testing.T) {
		answers := []string{"0000", "1234"}
		var asked []string
		src := f.open(t, Options{Certificate: cert, PrivateKey: key, Prompt: func(p string) (string, error) {
			asked = append(asked, p)
			a := answers[0]
			answers = answers[1:]
			return a, nil
		}})
		if _, err := src.Load(ctx); !errors.Is(err, ErrIncorrectPassword) {
			t.Fatalf("wrong answer: %v", err)
		}
		id, err := src.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkIdentity(t, id, k.Public)
		if len(asked) != 2 || asked[0] != "Please enter your TPM key password: " {
			t.Errorf("prompts %q", asked)
		}
		if _, err := src.Load(ctx); err != nil || len(asked) != 2 {
			t.Errorf("third Load asked again (%d) or failed: %v", len(asked), err)
		}
	})
	t.Run("wrong password is tried once", func(t *testing.T) {
		before := lockoutCounter(t, f.tpm)
		src := f.open(t, Options{Certificate: daCert, PrivateKey: daKey, TPMKeyPassword: "wrong"})
		for range 3 {
			_, err := src.Load(ctx)
			if !errors.Is(err, ErrIncorrectPassword) {
				t.Fatalf("got %v", err)
			}
		}
		src.Close() // swtpm serves one connection at a time
		if after := lockoutCounter(t, f.tpm); after != before+1 {
			t.Errorf("lockout counter went from %d to %d; want one failed attempt", before, after)
		}
	})
	t.Run("no password for a key with one", func(t *testing.T) {
		_, err := f.open(t, Options{Certificate: cert, PrivateKey: key, NoTPMKeyPassword: true}).Load(ctx)
		if !errors.Is(err, ErrIncorrectPassword) || err.Error() != "TPM key: incorrect password" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("password given, file says emptyAuth", func(t *testing.T) {
		// tpm2-tools 5.4 writes emptyAuth inverted: the password wins.
		key2 := kt.Write(t, f.dir, "pw-inverted.pem", k.TSS2(true))
		id, err := f.open(t, Options{Certificate: cert, PrivateKey: key2, TPMKeyPassword: "1234"}).Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		signedRequest(t, id)
	})
	t.Run("contradicting flags", func(t *testing.T) {
		_, err := Open(Options{Certificate: cert, PrivateKey: key, TPMKeyPassword: "1", NoTPMKeyPassword: true, TPMDevice: f.tpm.Device})
		if err == nil || err.Error() != "--tpm-key-password and --no-tpm-key-password contradict each other" {
			t.Errorf("got %v", err)
		}
	})
}

func TestTPMPersistentHandle(t *testing.T) {
	f := newTPMFixture(t)
	ctx := context.Background()
	k := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256"})
	f.tpm.Persist(t, k, 0x81000001)
	f.tpm.Persist(t, k, 0x81000003) // a signing key, to name as a (failing) parent below
	cert, _ := f.files(t, "handle", k.Public, nil)

	id, err := f.open(t, Options{Certificate: cert, PrivateKey: "handle:0x81000001", NoTPMKeyPassword: true}).Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkIdentity(t, id, k.Public)

	_, err = f.open(t, Options{Certificate: cert, PrivateKey: "handle:0x81000001"}).Load(ctx)
	if !errors.Is(err, ErrTPMKeyPasswordNeeded) {
		t.Errorf("without --no-tpm-key-password: %v", err)
	}
	_, err = f.open(t, Options{Certificate: cert, PrivateKey: "handle:0x81000002", NoTPMKeyPassword: true}).Load(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "TPM key handle:0x81000002: TPM_RC_HANDLE") {
		t.Errorf("missing handle: %v", err)
	}
	if _, err := Open(Options{PrivateKey: "handle:0x81000001", TPMDevice: f.tpm.Device}); err == nil ||
		err.Error() != "no certificate given for TPM key handle:0x81000001: pass --certificate" {
		t.Errorf("no certificate: %v", err)
	}

	// A key file whose parent is a persistent key.
	_, key := f.files(t, "child", k.Public, tpmtest.EncodeTSS2(true, 0x81000003, k.PubBlob, k.Private))
	_, err = f.open(t, Options{Certificate: cert, PrivateKey: key}).Load(ctx)
	if err == nil || !strings.Contains(err.Error(), "loading the TPM key under 0x81000003") {
		t.Errorf("signing key as parent: %v", err)
	}
}

// TestTPMToolsInterop makes keys with tpm2-tools (tpm2_createprimary,
// tpm2_create, tpm2_encodeobject, tpm2_evictcontrol) as the
// tpm2_encodeobject manual shows, and loads them.
func TestTPMToolsInterop(t *testing.T) {
	f := newTPMFixture(t)
	ctx := context.Background()
	srkAttrs := "restricted|decrypt|fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda"
	f.tpm.Tool(t, "tpm2_createprimary", "-Q", "-C", "o", "-G", "ecc", "-g", "sha256", "-a", srkAttrs, "-c", "prim.ctx")

	for _, tc := range []struct {
		name, alg, password string
		opts                Options
	}{
		{"ecc256 no password", "ecc256", "", Options{NoTPMKeyPassword: true}},
		{"ecc384 ecdsa-sha384 with password", "ecc384:ecdsa-sha384", "5678", Options{TPMKeyPassword: "5678"}},
		{"rsa2048 no password", "rsa2048", "", Options{NoTPMKeyPassword: true}},
		{"rsa2048 rsassa-sha256 with password", "rsa2048:rsassa-sha256", "pw", Options{TPMKeyPassword: "pw"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := strings.NewReplacer(" ", "-", ":", "-").Replace(tc.name)
			args := []string{"-Q", "-C", "prim.ctx", "-G", tc.alg, "-u", base + ".pub", "-r", base + ".priv", "-f", "pem", "-o", base + "-pub.pem"}
			enc := []string{"-C", "prim.ctx", "-u", base + ".pub", "-r", base + ".priv", "-o", base + "-key.pem"}
			if tc.password != "" {
				args = append(args, "-p", tc.password)
				enc = append(enc, "-p")
			}
			f.tpm.Tool(t, "tpm2_create", args...)
			f.tpm.Tool(t, "tpm2_encodeobject", enc...)
			pub := readPublicPEM(t, filepath.Join(f.tpm.Dir, base+"-pub.pem"))
			o := tc.opts
			o.Certificate = kt.Write(t, f.dir, base+"-cert.pem", kt.CertPEM(f.pki.Issue(t, pub, 11, base)))
			o.PrivateKey = filepath.Join(f.tpm.Dir, base+"-key.pem")
			src := f.open(t, o)
			id, err := src.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			checkIdentity(t, id, pub)
			if !strings.Contains(tc.alg, "rsassa") {
				checkOtherDigests(t, id, pub)
			}
			src.Close()
		})
	}

	t.Run("persistent handle", func(t *testing.T) {
		f.tpm.Tool(t, "tpm2_create", "-Q", "-C", "prim.ctx", "-G", "ecc256", "-u", "h.pub", "-r", "h.priv", "-f", "pem", "-o", "h-pub.pem")
		f.tpm.Tool(t, "tpm2_load", "-Q", "-C", "prim.ctx", "-u", "h.pub", "-r", "h.priv", "-c", "h.ctx")
		f.tpm.Tool(t, "tpm2_evictcontrol", "-Q", "-C", "o", "-c", "h.ctx", "0x81000101")
		pub := readPublicPEM(t, filepath.Join(f.tpm.Dir, "h-pub.pem"))
		cert := kt.Write(t, f.dir, "h-cert.pem", kt.CertPEM(f.pki.Issue(t, pub, 12, "h")))
		id, err := f.open(t, Options{Certificate: cert, PrivateKey: "handle:81000101", NoTPMKeyPassword: true}).Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		checkIdentity(t, id, pub)
	})
}

func readPublicPEM(t *testing.T, path string) crypto.PublicKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM", path)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestTPMReconnect restarts the TPM under a source: the next Load
// reconnects and loads the key again, and a signer from before the restart
// fails cleanly.
func TestTPMReconnect(t *testing.T) {
	f := newTPMFixture(t)
	ctx := context.Background()
	k := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256"})
	h := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc384"})
	f.tpm.Persist(t, h, 0x81000001)
	cert, key := f.files(t, "file", k.Public, k.TSS2(true))
	hcert, _ := f.files(t, "handle", h.Public, nil)
	fileSrc := f.open(t, Options{Certificate: cert, PrivateKey: key})
	handleSrc := f.open(t, Options{Certificate: hcert, PrivateKey: "handle:0x81000001", NoTPMKeyPassword: true})
	var old []*Identity
	for _, src := range []Source{fileSrc, handleSrc} {
		id, err := src.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		old = append(old, id)
	}

	f.tpm.Restart(t)

	if _, err := old[0].Signer.Sign(rand.Reader, make([]byte, 32), crypto.SHA256); err == nil || !errors.Is(err, errTPMBroken) {
		t.Errorf("signer from before the restart: %v", err)
	}
	for i, src := range []Source{fileSrc, handleSrc} {
		id, err := src.Load(ctx)
		if err != nil {
			t.Fatalf("Load after restart: %v", err)
		}
		checkIdentity(t, id, []crypto.PublicKey{k.Public, h.Public}[i])
	}
}

// TestTPMConcurrent loads and signs from several goroutines and two
// sources sharing the one swtpm connection, as serve does with several
// roles.
func TestTPMConcurrent(t *testing.T) {
	f := newTPMFixture(t)
	k1 := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256"})
	k2 := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256", Password: "pw"})
	c1, key1 := f.files(t, "one", k1.Public, k1.TSS2(true))
	c2, key2 := f.files(t, "two", k2.Public, k2.TSS2(false))
	srcs := []Source{f.open(t, Options{Certificate: c1, PrivateKey: key1}), f.open(t, Options{Certificate: c2, PrivateKey: key2, TPMKeyPassword: "pw"})}
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			src := srcs[i%2]
			for range 5 {
				id, err := src.Load(context.Background())
				if err != nil {
					errs <- err
					return
				}
				digest := sha512.Sum512_256([]byte{byte(i)})
				sig, err := id.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
				if err != nil {
					errs <- err
					return
				}
				if !ecdsa.VerifyASN1(id.Signer.Public().(*ecdsa.PublicKey), digest[:], sig) {
					errs <- errors.New("signature does not verify")
					return
				}
			}
			errs <- nil
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestTPMUnixSocket reaches the TPM through a Unix socket path in
// TPM_DEVICE, as the official helper allows (swtpm --server type=unixio);
// here the socket is a loopback proxy to the test's swtpm.
func TestTPMUnixSocket(t *testing.T) {
	f := newTPMFixture(t)
	k := f.tpm.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256"})
	cert, key := f.files(t, "unix", k.Public, k.TSS2(true))
	sock := filepath.Join(t.TempDir(), "tpm.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		up, err := net.Dial("tcp", f.tpm.Addr())
		if err != nil {
			return
		}
		defer up.Close()
		go io.Copy(up, c)
		io.Copy(c, up)
	}()
	src, err := Open(Options{Certificate: cert, PrivateKey: key, TPMDevice: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	id, err := src.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkIdentity(t, id, k.Public)
}
