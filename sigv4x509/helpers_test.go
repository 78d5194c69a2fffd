package sigv4x509

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"

	"github.com/iamra/iamra/awserr"
)

// The conformance vectors live beside the repository (/work/shared next to
// /work/main); tests read them in place and never copy them.
var conformanceDir = filepath.Join("..", "..", "shared", "conformance", "createsession")

// conformanceSHA256 pins the files as published in the vectors' README, so
// a CRLF-mangling checkout fails loudly instead of obscurely.
var conformanceSHA256 = map[string]string{
	"ca.pem":                     "ab236ea551e41c273347a89d6a919dca7f136833c60c2d42dacc6511a9e2a223",
	"leaf-ec.pem":                "ab9394f7a35c150df3ec273b17c1cd4080ebeb4c71423af3ba7404a4d9036e49",
	"leaf-rsa-key.TEST-ONLY.pem": "19366b05fd8cc1f31ccb02fa05598ac3d8741368cf5106b3d27656661aac83a8",
	"leaf-rsa.pem":               "613e063d630f0a7b6da1be98dbc74095375cedb1662617bb2952ca81ec45df3b",
	"request-ecdsa-chain.http":   "49f7ede314f6d64839997e6777e8ee4f9996e9cc28a7dd2c1984101b21571fa6",
	"request-rsa.http":           "c0076b27c28e6b223ceabd1786a6c8da2877ab139fbde60f96bf7ea2d226fe38",
}

func conformanceFile(tb testing.TB, name string) []byte {
	tb.Helper()
	path := filepath.Join(conformanceDir, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		tb.Skipf("conformance vectors not found at %s (they are expected in ../shared/conformance/createsession beside the repository): %v", path, err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got, want := hex.EncodeToString(sum[:]), conformanceSHA256[name]; got != want {
		tb.Fatalf("%s: SHA-256 %s, want %s (the file was altered, e.g. CRLF line endings converted)", path, got, want)
	}
	return b
}

// conformanceRequest parses a captured request as a server would see it.
func conformanceRequest(tb testing.TB, name string) (*http.Request, []byte) {
	tb.Helper()
	r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(conformanceFile(tb, name))))
	if err != nil {
		tb.Fatal(err)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return r, body
}

// requestTime is the request's own X-Amz-Date: the vectors' certificates
// expire a day after capture, so "now" must be pinned to it.
func requestTime(tb testing.TB, r *http.Request) time.Time {
	tb.Helper()
	t, err := time.Parse(DateLayout, r.Header.Get(HeaderDate))
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func conformanceCert(tb testing.TB, name string) *x509.Certificate {
	tb.Helper()
	block, _ := pem.Decode(conformanceFile(tb, name))
	if block == nil {
		tb.Fatalf("%s: no PEM block", name)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func conformanceRSAKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	block, _ := pem.Decode(conformanceFile(tb, "leaf-rsa-key.TEST-ONLY.pem"))
	if block == nil {
		tb.Fatal("no PEM block in the test key")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		tb.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

// resign replaces r's Authorization with an RSA signature over the given
// signed header list, keeping algorithm, serial and scope: how tests craft
// variants the official client would never send.
func resign(tb testing.TB, r *http.Request, body []byte, key *rsa.PrivateKey, signed []string) {
	tb.Helper()
	auth, err := ParseAuthorization(r.Header.Get(HeaderAuthorization))
	if err != nil {
		tb.Fatal(err)
	}
	sts := stringToSign(r, auth.Algorithm, r.Header.Get(HeaderDate), auth.Scope(), signed, body)
	digest := sha256.Sum256(sts)
	auth.Signature, err = rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		tb.Fatal(err)
	}
	auth.SignedHeaders = signed
	r.Header.Set(HeaderAuthorization, auth.String())
}

// wantError checks an error's exact client message, status, code and reason.
func wantError(tb testing.TB, err error, code string, status int, message, reason string) *awserr.Error {
	tb.Helper()
	if err == nil {
		tb.Fatalf("no error, want %s %q [%s]", code, message, reason)
	}
	var e *awserr.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error %T %v is not an *awserr.Error", err, err)
	}
	if e.Code != code || e.Status != status || e.Message != message || e.Reason != reason {
		tb.Fatalf("got %d %s %q [%s] (%s),\nwant %d %s %q [%s]", e.Status, e.Code, e.Message, e.Reason, e.Detail,
			status, code, message, reason)
	}
	return e
}

// testPKI issues test certificates from one ECDSA P-256 CA.
type testPKI struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	serial int64
	now    time.Time
}

func newTestPKI(tb testing.TB, now time.Time) *testPKI {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sigv4x509 test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return &testPKI{ca: ca, caKey: key, serial: 1000, now: now}
}

func (p *testPKI) template(cn string) *x509.Certificate {
	p.serial++
	return &x509.Certificate{
		SerialNumber:          big.NewInt(p.serial),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             p.now.Add(-time.Hour),
		NotAfter:              p.now.Add(time.Hour),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
}

// issue certifies a key crypto/x509 understands.
func (p *testPKI) issue(tb testing.TB, cn string, pub crypto.PublicKey) *x509.Certificate {
	tb.Helper()
	der, err := x509.CreateCertificate(rand.Reader, p.template(cn), p.ca, pub, p.caKey)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// mldsaSPKI encodes an ML-DSA public key as a SubjectPublicKeyInfo
// (RFC 9881: OID, parameters absent, raw key as the bit string).
func mldsaSPKI(tb testing.TB, oidLast int, raw []byte) []byte {
	tb.Helper()
	der, err := asn1.Marshal(subjectPublicKeyInfo{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, oidLast}},
		PublicKey: asn1.BitString{Bytes: raw, BitLength: 8 * len(raw)},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// certWithSPKI builds a certificate crypto/x509 cannot create: it lets
// crypto/x509 write the TBSCertificate for a placeholder key, swaps in the
// given SubjectPublicKeyInfo (TBSCertificate field 7) and signs the result
// again. With selfSign set, the certificate is self-issued and signed
// with ML-DSA (signature algorithm = the key's OID, pure, empty context);
// otherwise the test CA signs it with ECDSA-SHA256, so crypto/x509 can
// still check the chain.
func (p *testPKI) certWithSPKI(tb testing.TB, cn string, spki []byte, selfSign crypto.Signer) *x509.Certificate {
	tb.Helper()
	c, err := ParseCertificate(p.certDER(tb, cn, spki, selfSign))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// certDER is certWithSPKI without the parsing, for broken keys.
func (p *testPKI) certDER(tb testing.TB, cn string, spki []byte, selfSign crypto.Signer) []byte {
	tb.Helper()
	placeholder, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := p.template(cn)
	parent, parentKey := p.ca, crypto.Signer(p.caKey)
	if selfSign != nil {
		parent, parentKey = tmpl, placeholder
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &placeholder.PublicKey, parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	var outer struct {
		TBS       asn1.RawValue
		Algorithm pkix.AlgorithmIdentifier
		Signature asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		tb.Fatal(err)
	}
	var fields []asn1.RawValue
	for rest := outer.TBS.Bytes; len(rest) > 0; {
		var f asn1.RawValue
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			tb.Fatal(err)
		}
		fields = append(fields, f)
	}
	// version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, extensions
	fields[6] = asn1.RawValue{FullBytes: spki}
	if selfSign != nil {
		var info subjectPublicKeyInfo
		if _, err := asn1.Unmarshal(spki, &info); err != nil {
			tb.Fatal(err)
		}
		outer.Algorithm = pkix.AlgorithmIdentifier{Algorithm: info.Algorithm.Algorithm}
		algDER, err := asn1.Marshal(outer.Algorithm)
		if err != nil {
			tb.Fatal(err)
		}
		fields[2] = asn1.RawValue{FullBytes: algDER}
	}
	var body []byte
	for _, f := range fields {
		body = append(body, f.FullBytes...)
	}
	tbs, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	if err != nil {
		tb.Fatal(err)
	}
	var sig []byte
	if selfSign != nil {
		sig, err = selfSign.Sign(nil, tbs, crypto.Hash(0))
	} else {
		digest := sha256.Sum256(tbs)
		sig, err = ecdsa.SignASN1(rand.Reader, p.caKey, digest[:])
	}
	if err != nil {
		tb.Fatal(err)
	}
	outer.TBS = asn1.RawValue{FullBytes: tbs}
	outer.Signature = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	if der, err = asn1.Marshal(outer); err != nil {
		tb.Fatal(err)
	}
	return der
}

// testKey is a key with its certificate.
type testKey struct {
	name   string
	signer crypto.Signer
	cert   *x509.Certificate
	alg    string
}

// newTestKey generates a key of the named kind and certifies it. ML-DSA
// keys are certified by the ECDSA CA, except "ML-DSA-65-self", which is
// self-signed with ML-DSA.
func (p *testPKI) newTestKey(tb testing.TB, kind string) testKey {
	tb.Helper()
	var (
		signer crypto.Signer
		err    error
		alg    = AlgorithmECDSA
	)
	switch kind {
	case "RSA-2048":
		signer, err = rsa.GenerateKey(rand.Reader, 2048)
		alg = AlgorithmRSA
	case "P-256":
		signer, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "P-384":
		signer, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "P-521":
		signer, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "ML-DSA-44":
		_, k, e := mldsa44.GenerateKey(rand.Reader)
		signer, err = k, e
		alg = AlgorithmMLDSA
	case "ML-DSA-65", "ML-DSA-65-self":
		_, k, e := mldsa65.GenerateKey(rand.Reader)
		signer, err = k, e
		alg = AlgorithmMLDSA
	case "ML-DSA-87":
		_, k, e := mldsa87.GenerateKey(rand.Reader)
		signer, err = k, e
		alg = AlgorithmMLDSA
	default:
		tb.Fatalf("unknown key kind %s", kind)
	}
	if err != nil {
		tb.Fatal(err)
	}
	cn := "workload " + kind
	var cert *x509.Certificate
	switch pub := signer.Public().(type) {
	case *mldsa44.PublicKey:
		cert = p.certWithSPKI(tb, cn, mldsaSPKI(tb, 17, pub.Bytes()), nil)
	case *mldsa65.PublicKey:
		var self crypto.Signer
		if kind == "ML-DSA-65-self" {
			self = signer
		}
		cert = p.certWithSPKI(tb, cn, mldsaSPKI(tb, 18, pub.Bytes()), self)
	case *mldsa87.PublicKey:
		cert = p.certWithSPKI(tb, cn, mldsaSPKI(tb, 19, pub.Bytes()), nil)
	default:
		cert = p.issue(tb, cn, pub)
	}
	return testKey{name: kind, signer: signer, cert: cert, alg: alg}
}
