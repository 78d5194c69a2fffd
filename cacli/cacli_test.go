package cacli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca/types"

	"github.com/iamra/iamra/api/acmpca"
	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/kek"
	"github.com/iamra/iamra/store/sqlite"
)

const (
	accessKey = "AKIAIAMRACLITEST0000"
	secretKey = "cli-test-secret-cli-test-secret-cli-tes"
)

// server is the ACM-PCA API and CRL distribution point on a TLS test
// server, with a data directory as `iamra init` writes one. It does not
// verify SigV4 (the iamra server does) but records the credential scope
// of every request, so tests see which key and service the CLI signs for.
type server struct {
	dir    string
	url    string
	scopes []string
	mu     sync.Mutex
}

var credScope = regexp.MustCompile(`Credential=([^,]+)`)

func newServer(t *testing.T) *server {
	t.Helper()
	scope := arn.Scope{Partition: "aws", Region: "eu-west-1", AccountID: "123456789012"}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "iamra.db"), sqlite.Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	k, err := kek.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{dir: t.TempDir()}
	var root http.Handler
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { root.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	s.url = ts.URL
	svc, err := ca.New(ca.Config{Store: st, Scope: scope, KeyStores: []ca.KeyStore{&ca.SoftwareKeyStore{Protector: k, Rand: rand.Reader}},
		CRLBaseURL: ts.URL, Now: time.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	api := acmpca.New(acmpca.Config{Service: svc, Store: st, Scope: scope})
	crls := acmpca.NewCRLHandler(svc, nil, nil)
	root = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, acmpca.CRLPathPrefix) {
			crls.ServeHTTP(w, r)
			return
		}
		if m := credScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			s.mu.Lock()
			s.scopes = append(s.scopes, m[1])
			s.mu.Unlock()
		}
		api.ServeHTTP(w, r)
	})
	write := func(name, data string, mode os.FileMode) {
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("credentials", "[default]\naws_access_key_id = "+accessKey+"\naws_secret_access_key = "+secretKey+"\n", 0o600)
	write("config", "[default]\nregion = eu-west-1\nca_bundle = "+filepath.Join(s.dir, "ca.pem")+"\n", 0o644)
	write("ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})), 0o644)
	return s
}

// run runs `iamra ca` against the server with the data directory.
func (s *server) run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args[:1:1], append([]string{"--data-dir", s.dir, "--endpoint", s.url}, args[1:]...)...)
	code = Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func (s *server) ok(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := s.run(t, args...)
	if code != 0 {
		t.Fatalf("iamra ca %v: exit %d: %s", args, code, errOut)
	}
	return strings.TrimSpace(out)
}

func readCert(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return out
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

func TestLifecycle(t *testing.T) {
	s := newServer(t)
	dir := t.TempDir()
	rootARN := s.ok(t, "create", "--subject", "CN=CLI Root,O=Example\\, Inc.", "--tag", "team=pki")
	if !strings.HasPrefix(rootARN, "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/") {
		t.Fatalf("create printed %q", rootARN)
	}
	// The CLI signs with the data directory's key for service acm-pca,
	// which is what the server routes on.
	s.mu.Lock()
	scope := s.scopes[0]
	s.mu.Unlock()
	if !strings.HasPrefix(scope, accessKey+"/") || !strings.HasSuffix(scope, "/eu-west-1/acm-pca/aws4_request") {
		t.Fatalf("credential scope %s", scope)
	}
	short := s.ok(t, "create", "--subject", "CN=Short Lived", "--short-lived")

	var desc struct {
		Status                            string
		UsageMode                         string
		CertificateAuthorityConfiguration struct {
			Subject struct{ CommonName, Organization string }
		}
	}
	if err := json.Unmarshal([]byte(s.ok(t, "describe", "--ca", rootARN)), &desc); err != nil {
		t.Fatal(err)
	}
	if desc.Status != "ACTIVE" || desc.CertificateAuthorityConfiguration.Subject.Organization != "Example, Inc." {
		t.Fatalf("describe: %+v", desc)
	}
	list := s.ok(t, "list")
	if !strings.Contains(list, rootARN) || !strings.Contains(list, short) || !strings.Contains(list, "SHORT_LIVED_CERTIFICATE") ||
		!strings.Contains(list, `CN=CLI Root,O=Example\, Inc.`) {
		t.Fatalf("list:\n%s", list)
	}

	// A subordinate signed by the root, addressed by id.
	rootID := rootARN[strings.LastIndex(rootARN, "/")+1:]
	sub := s.ok(t, "create", "--subject", "CN=CLI Sub", "--parent", rootID, "--validity", "1y")

	// Issue with a key made here.
	cert, key, chain := filepath.Join(dir, "w.pem"), filepath.Join(dir, "w.key"), filepath.Join(dir, "w-chain.pem")
	certARN := s.ok(t, "issue", "--ca", sub, "--subject", "CN=workload", "--uri", "spiffe://example.org/w", "--dns", "w.example",
		"--validity", "24h", "--cert", cert, "--key", key, "--chain", chain)
	leaf := readCert(t, cert)[0]
	if !strings.HasPrefix(certARN, sub+"/certificate/") || leaf.Subject.CommonName != "workload" || leaf.URIs[0].String() != "spiffe://example.org/w" ||
		leaf.DNSNames[0] != "w.example" || leaf.NotAfter.Sub(leaf.NotBefore) != 25*time.Hour {
		t.Fatalf("issued %s: %v %v %v %v-%v", certARN, leaf.Subject, leaf.URIs, leaf.DNSNames, leaf.NotBefore, leaf.NotAfter)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", err, fi)
	}
	chainCerts := readCert(t, chain)
	if len(chainCerts) != 2 || chainCerts[0].Subject.CommonName != "CLI Sub" || chainCerts[1].Subject.CommonName != "CLI Root" {
		t.Fatalf("chain %v", chainCerts)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(chainCerts[1])
	inter.AddCert(chainCerts[0])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := os.ReadFile(key)
	b, _ := pem.Decode(keyPEM)
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil || !k.(*ecdsa.PrivateKey).PublicKey.Equal(leaf.PublicKey) {
		t.Fatalf("key does not match the certificate: %v", err)
	}
	// Refuses to overwrite.
	if code, _, errOut := s.run(t, "issue", "--ca", sub, "--subject", "CN=x", "--cert", cert, "--key", key, "--chain", chain); code != 2 ||
		!strings.Contains(errOut, "exists; use --force") {
		t.Fatalf("overwrite: %d %s", code, errOut)
	}

	// Issue from a CSR.
	csrKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "from-csr"}}, csrKey)
	csrFile := filepath.Join(dir, "req.csr")
	os.WriteFile(csrFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o644)
	s.ok(t, "issue", "--ca", short, "--csr", csrFile, "--validity", "3d", "--cert", filepath.Join(dir, "c.pem"), "--chain", filepath.Join(dir, "c-chain.pem"))
	if c := readCert(t, filepath.Join(dir, "c.pem"))[0]; c.Subject.CommonName != "from-csr" || !c.PublicKey.(*ecdsa.PublicKey).Equal(&csrKey.PublicKey) {
		t.Fatalf("CSR certificate %v", c.Subject)
	}
	if _, err := os.Stat(filepath.Join(dir, "key.pem")); err == nil {
		t.Error("a key file was written for a CSR")
	}

	// Revoke by certificate file; the CRL shows it.
	s.ok(t, "revoke", "--ca", sub, "--cert", cert, "--reason", "KEY_COMPROMISE")
	text := s.ok(t, "crl", "--ca", sub, "--text")
	if !strings.Contains(text, leaf.SerialNumber.Text(16)) || !strings.Contains(text, "reason 1") || !strings.Contains(text, "revoked:     1") {
		t.Fatalf("crl --text:\n%s", text)
	}
	crlFile := filepath.Join(dir, "sub.crl")
	s.ok(t, "crl", "--ca", sub, "--der", "--out", crlFile)
	data, _ := os.ReadFile(crlFile)
	rl, err := x509.ParseRevocationList(data)
	if err != nil || rl.CheckSignatureFrom(chainCerts[0]) != nil || len(rl.RevokedCertificateEntries) != 1 {
		t.Fatalf("crl --der: %v", err)
	}
	if p, _ := pem.Decode([]byte(s.ok(t, "crl", "--ca", sub))); p == nil || p.Type != "X509 CRL" {
		t.Fatal("crl: no PEM X509 CRL on standard output")
	}
}

// Refusals: usage mistakes exit 2, server refusals exit 1 with PCA's code.
func TestErrors(t *testing.T) {
	s := newServer(t)
	short := s.ok(t, "create", "--subject", "CN=Short", "--short-lived")
	dir := t.TempDir()
	out := func(n string) string { return filepath.Join(dir, n) }
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"issue", "--subject", "CN=x"}, 2, "--ca is required"},
		{[]string{"issue", "--ca", short, "--subject", "CN=x", "--validity", "soon"}, 2, `validity "soon" is not like 24h`},
		{[]string{"issue", "--ca", short, "--csr", "x.csr", "--subject", "CN=x"}, 2, "with --csr they come from the CSR"},
		{[]string{"issue", "--ca", short, "--key-type", "DSA_1024", "--subject", "CN=x"}, 2, `--key-type "DSA_1024"`},
		{[]string{"issue", "--ca", short}, 2, "the certificate needs --subject, --dns or --uri"},
		{[]string{"issue", "--ca", short, "--subject", "XX=y"}, 2, `subject attribute "XX" is not one of`},
		{[]string{"create"}, 2, "--subject is required"},
		{[]string{"revoke", "--ca", short}, 2, "exactly one of --serial and --cert"},
		{[]string{"issue", "--ca", short, "--subject", "CN=x", "--validity", "8d", "--cert", out("a"), "--key", out("b"), "--chain", out("c")}, 1,
			"InvalidArgsException: A CA in SHORT_LIVED_CERTIFICATE mode issues certificates valid for at most 7 days."},
		{[]string{"revoke", "--ca", short, "--serial", "0a0b"}, 1, "ResourceNotFoundException: Could not find certificate with serial 0a0b"},
		{[]string{"describe", "--ca", "00000000-0000-4000-8000-000000000000"}, 1, "no CA with id 00000000-0000-4000-8000-000000000000"},
	}
	for _, tc := range tests {
		code, _, errOut := s.run(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("iamra ca %v: exit %d %q, want %d %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	for _, n := range []string{"a", "b", "c"} {
		if _, err := os.Stat(out(n)); err == nil {
			t.Errorf("%s written after a refused issue", n)
		}
	}
}

// Without --data-dir the standard AWS environment is used.
func TestEnvironmentCredentials(t *testing.T) {
	s := newServer(t)
	home := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey, "AWS_REGION": "eu-west-1",
		"AWS_CA_BUNDLE": filepath.Join(s.dir, "ca.pem"), "AWS_ENDPOINT_URL": s.url, "AWS_EC2_METADATA_DISABLED": "true",
		"AWS_CONFIG_FILE": filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "none"), "AWS_PROFILE": "",
	} {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	if code := Main(context.Background(), []string{"create", "--subject", "CN=Env Root"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	out.Reset()
	if code := Main(context.Background(), []string{"list"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "CN=Env Root") {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
}

func TestParseValidity(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		typ  types.ValidityPeriodType
		val  int64
		fail string
	}{
		{in: "24h", typ: "HOURS", val: 24},
		{in: "7d", typ: "DAYS", val: 7},
		{in: "6mo", typ: "MONTHS", val: 6},
		{in: "10y", typ: "YEARS", val: 10},
		{in: "90m", typ: "ABSOLUTE", val: now.Add(90 * time.Minute).Unix()},
		{in: "1h30m", typ: "ABSOLUTE", val: now.Add(90 * time.Minute).Unix()},
		{in: "2027-01-01T00:00:00Z", typ: "ABSOLUTE", val: 1798761600},
		{in: "0d", fail: `validity "0d" is not like`},
		{in: "-1h", fail: `validity "-1h" must be positive`},
		{in: "", fail: `validity "" is not like`},
	} {
		v, err := ParseValidity(tc.in, now)
		if tc.fail != "" {
			if err == nil || !strings.Contains(err.Error(), tc.fail) {
				t.Errorf("%q: %v, want %q", tc.in, err, tc.fail)
			}
			continue
		}
		if err != nil || v.Type != tc.typ || aws.ToInt64(v.Value) != tc.val {
			t.Errorf("%q: %v %+v, want %s %d", tc.in, err, v, tc.typ, tc.val)
		}
	}
}

func TestParseSubject(t *testing.T) {
	s, err := ParseSubject(` CN = a\,b , o=Org,OU=Unit,C=US,ST=WA,L=Seattle,SERIALNUMBER=1,title=T`)
	want := ca.Subject{CommonName: "a,b", Organization: "Org", OrganizationalUnit: "Unit", Country: "US", State: "WA", Locality: "Seattle",
		SerialNumber: "1", Title: "T"}
	if err != nil || !reflect.DeepEqual(s, want) {
		t.Fatalf("%v %+v", err, s)
	}
	for in, msg := range map[string]string{
		"CN=a,CN=b": "subject attribute CN appears twice",
		"CN":        `subject part "CN" is not NAME=value`,
		"E=x@y":     `subject attribute "E" is not one of`,
	} {
		if _, err := ParseSubject(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want %q", in, err, msg)
		}
	}
	if got := FormatSubject(asn1Subject(want)); got != `CN=a\,b,OU=Unit,O=Org,L=Seattle,ST=WA,C=US` {
		t.Errorf("FormatSubject: %s", got)
	}
}
