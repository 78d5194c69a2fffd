package x509attr

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/sts"
	"github.com/iamra/iamra/trust/trusttest"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// conformanceDir holds the captured certificates, read in place.
const conformanceDir = "../../shared/conformance/createsession"

// conformanceSHA256 pins the files as the README lists them, so an edited
// or re-saved copy fails loudly instead of testing something else.
var conformanceSHA256 = map[string]string{
	"ca.pem":       "ab236ea551e41c273347a89d6a919dca7f136833c60c2d42dacc6511a9e2a223",
	"leaf-rsa.pem": "613e063d630f0a7b6da1be98dbc74095375cedb1662617bb2952ca81ec45df3b",
	"leaf-ec.pem":  "ab9394f7a35c150df3ec273b17c1cd4080ebeb4c71423af3ba7404a4d9036e49",
}

func conformanceLeaf(t *testing.T, name string) *x509.Certificate {
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
	block, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		file, sourceIdentity, sessionName string
		tags                              []sts.Tag
	}{
		{"leaf-rsa.pem", "CN=workload-rsa", "0123456789abcdef", []sts.Tag{
			{Key: "x509Subject/CN", Value: "workload-rsa"}, {Key: "x509Subject/O", Value: "Example"}, {Key: "x509Issuer/CN", Value: "Test Root CA"}}},
		{"leaf-ec.pem", "CN=workload-ec", "1092", []sts.Tag{
			{Key: "x509Subject/CN", Value: "workload-ec"}, {Key: "x509Issuer/CN", Value: "Test Root CA"}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			leaf := conformanceLeaf(t, tc.file)
			tags, err := SessionTags(leaf, rolesanywhere.DefaultAttributeMappings(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tags, tc.tags) {
				t.Fatalf("tags %v, want %v", tags, tc.tags)
			}
			if got := SourceIdentity(leaf); got != tc.sourceIdentity {
				t.Fatalf("source identity %q, want %q", got, tc.sourceIdentity)
			}
			if got := DefaultRoleSessionName(leaf); got != tc.sessionName {
				t.Fatalf("session name %q, want %q", got, tc.sessionName)
			}
		})
	}
}

var (
	oidCN      = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidOU      = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidO       = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidEmail   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	oidUnknown = asn1.ObjectIdentifier{1, 2, 3, 4}
)

// dn builds a name whose attributes keep exactly this order, each in its
// own RDN (pkix.Name's fields would be reordered and DER-sorted).
func dn(pairs ...any) pkix.Name {
	var n pkix.Name
	for i := 0; i < len(pairs); i += 2 {
		n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: pairs[i].(asn1.ObjectIdentifier), Value: pairs[i+1]})
	}
	return n
}

// allRDNs is a DN holding every recognised attribute once.
func allRDNs(prefix string) pkix.Name {
	var n pkix.Name
	for _, r := range rdns {
		n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: r.oid, Value: prefix + r.name})
	}
	return n
}

// generalName is one SAN entry: context tag and content.
type generalName struct {
	tag     int
	content []byte
}

func dirName(t *testing.T, n pkix.Name) generalName {
	b, err := asn1.Marshal(n.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	return generalName{tagDirectoryName, b}
}

// sanExtension encodes GeneralNames by hand: crypto/x509 cannot write
// directoryName entries.
func sanExtension(t *testing.T, names ...generalName) trusttest.Option {
	var raw []byte
	for _, g := range names {
		b, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: g.tag, IsCompound: g.tag == tagDirectoryName, Bytes: g.content})
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	seq, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: raw})
	if err != nil {
		t.Fatal(err)
	}
	return trusttest.Template(func(c *x509.Certificate) {
		c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: oidSAN, Value: seq})
	})
}

func mappings(pairs ...string) []rolesanywhere.AttributeMapping {
	var out []rolesanywhere.AttributeMapping
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, rolesanywhere.AttributeMapping{CertificateField: pairs[i], MappingRules: []rolesanywhere.MappingRule{{Specifier: pairs[i+1]}}})
	}
	return out
}

func tags(kv ...string) []sts.Tag {
	var out []sts.Tag
	for i := 0; i < len(kv); i += 2 {
		out = append(out, sts.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestSessionTags(t *testing.T) {
	pki := trusttest.New(t, rand.Reader, testNow)
	root := pki.Root("", trusttest.Subject(dn(oidCN, "Root CA", oidO, "Example", oidOU, "PKI")))
	fullRoot := pki.Root("", trusttest.Subject(allRDNs("i-")))
	leaf := func(subject pkix.Name, opts ...trusttest.Option) *x509.Certificate {
		return pki.Leaf(root, "", append([]trusttest.Option{trusttest.Subject(subject)}, opts...)...).Cert
	}
	team := leaf(dn(oidCN, "svc", oidOU, "Security", oidOU, "Engineering", oidO, "Example", oidOU, "Platform", oidUnknown, "skipped"))
	sans := leaf(dn(oidCN, "svc"), sanExtension(t,
		generalName{1, []byte("a@example.com")}, // rfc822Name: never mapped
		generalName{tagDNSName, []byte("first.example.com")},
		generalName{tagDNSName, []byte("second.example.com")},
		generalName{tagURI, []byte("spiffe://example.org/ns/prod/sa/api")},
		generalName{tagURI, []byte("https://second.example")},
		dirName(t, dn(oidCN, "dir", oidOU, "a", oidOU, "b", oidUnknown, "x")),
		dirName(t, dn(oidCN, "second dir")),
	))
	goSANs := leaf(dn(oidCN, "svc"), trusttest.Template(func(c *x509.Certificate) {
		u, _ := url.Parse("spiffe://example.org/ns/default")
		c.URIs = []*url.URL{u}
		c.DNSNames = []string{"x.example"}
	}))
	parens := leaf(dn(oidCN, "John M. Smith (EMP12345)", oidO, "Example"))
	badEverywhere := pki.Leaf(pki.Root("", trusttest.Subject(dn(oidCN, "Root #1", oidO, "ok"))), "", trusttest.Subject(dn(oidCN, "a,b", oidOU, "ok", oidOU, "n/a (1)")),
		sanExtension(t, generalName{tagDNSName, []byte("*.example.com")}, generalName{tagURI, []byte("https://x.example/?q=1")}, dirName(t, dn(oidCN, "dir!")))).Cert
	long := leaf(dn(oidCN, strings.Repeat("a", 257)))
	unicodeName := leaf(dn(oidCN, "Zoë Ünïcödé 東京 ١٢٣", oidEmail, "zoe@example.com"))
	many := pki.Leaf(fullRoot, "", trusttest.Subject(allRDNs("s-")), sanExtension(t,
		generalName{tagDNSName, []byte("d.example")}, generalName{tagURI, []byte("u:x")}, dirName(t, allRDNs("n-")))).Cert

	defaults := rolesanywhere.DefaultAttributeMappings()
	for _, tc := range []struct {
		name     string
		cert     *x509.Certificate
		mappings []rolesanywhere.AttributeMapping
		drop     bool
		want     []sts.Tag
		message  string
		reason   string
		detail   string
	}{
		{name: "multi-valued in certificate order, unknown OID skipped", cert: team, mappings: defaults, want: tags(
			"x509Subject/CN", "svc", "x509Subject/OU", "Security/Engineering/Platform", "x509Subject/O", "Example",
			"x509Issuer/CN", "Root CA", "x509Issuer/O", "Example", "x509Issuer/OU", "PKI")},
		{name: "selected RDNs only", cert: team, mappings: mappings("x509Subject", "OU", "x509Issuer", "o"),
			want: tags("x509Subject/OU", "Security/Engineering/Platform", "x509Issuer/O", "Example")},
		{name: "absent RDN maps nothing", cert: team, mappings: mappings("x509Subject", "UID"), want: nil},
		{name: "no mappings", cert: team, mappings: nil, want: nil},
		{name: "stored unknown specifier is skipped", cert: team, mappings: mappings("x509Subject", "bogus", "x509Subject", "CN", "x509Bogus", "CN"),
			want: tags("x509Subject/CN", "svc")},
		{name: "SAN defaults", cert: sans, mappings: defaults, want: tags(
			"x509Subject/CN", "svc", "x509Issuer/CN", "Root CA", "x509Issuer/O", "Example", "x509Issuer/OU", "PKI",
			"x509SAN/DNS", "first.example.com", "x509SAN/URI", "spiffe://example.org/ns/prod/sa/api",
			"x509SAN/Name/CN", "dir", "x509SAN/Name/OU", "a/b")},
		{name: "SAN Name/OU", cert: sans, mappings: mappings("x509SAN", "Name/OU"), want: tags("x509SAN/Name/OU", "a/b")},
		{name: "SAN Name normalised", cert: sans, mappings: mappings("x509SAN", "Name"), want: tags("x509SAN/Name/CN", "dir", "x509SAN/Name/OU", "a/b")},
		{name: "SANs written by crypto/x509", cert: goSANs, mappings: mappings("x509SAN", "URI", "x509SAN", "DNS"),
			want: tags("x509SAN/DNS", "x.example", "x509SAN/URI", "spiffe://example.org/ns/default")},
		{name: "no SAN", cert: team, mappings: mappings("x509SAN", "DNS", "x509SAN", "URI", "x509SAN", "Name/*"), want: nil},
		{name: "unicode letters, numbers and spaces", cert: unicodeName, mappings: mappings("x509Subject", "*"),
			want: tags("x509Subject/CN", "Zoë Ünïcödé 東京 ١٢٣", "x509Subject/emailAddress", "zoe@example.com")},
		{name: "parentheses fail like AWS", cert: parens, mappings: defaults,
			message: "some attributes fail to be mapped into session tags: []; subject: [CN]. SAN:[]", reason: ReasonTagsInvalidValue,
			detail: `x509Subject/CN "John M. Smith (EMP12345)": characters '(' ')' are not allowed in session tag values`},
		{name: "parentheses dropped on request", cert: parens, mappings: defaults, drop: true,
			want: tags("x509Subject/O", "Example", "x509Issuer/CN", "Root CA", "x509Issuer/O", "Example", "x509Issuer/OU", "PKI")},
		{name: "failures in every field", cert: badEverywhere, mappings: defaults,
			message: "some attributes fail to be mapped into session tags: [CN]; subject: [CN, OU]. SAN:[DNS, URI, CN]", reason: ReasonTagsInvalidValue,
			detail: `x509Subject/CN "a,b": characters ',' are not allowed in session tag values; ` +
				`x509Subject/OU "ok/n/a (1)": characters '(' ')' are not allowed in session tag values; ` +
				`x509Issuer/CN "Root #1": characters '#' are not allowed in session tag values; ` +
				`x509SAN/DNS "*.example.com": characters '*' are not allowed in session tag values; ` +
				`x509SAN/URI "https://x.example/?q=1": characters '?' are not allowed in session tag values; ` +
				`x509SAN/Name/CN "dir!": characters '!' are not allowed in session tag values`},
		{name: "too long", cert: long, mappings: mappings("x509Subject", "CN"),
			message: "some attributes fail to be mapped into session tags: []; subject: [CN]. SAN:[]", reason: ReasonTagsInvalidValue,
			detail: `x509Subject/CN "` + strings.Repeat("a", 257) + `": 257 characters, at most 256 are allowed`},
		{name: "too many", cert: many, mappings: defaults,
			message: "some attributes fail to be mapped into session tags: 59 tags exceed the limit of 50", reason: ReasonTagsTooMany,
			detail: "the attribute mappings yield 59 session tags; STS accepts at most 50"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SessionTags(tc.cert, tc.mappings, Options{DropInvalid: tc.drop})
			if tc.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("tags\n got %v\nwant %v", got, tc.want)
				}
				return
			}
			e, ok := err.(*awserr.Error)
			if !ok || e.Code != "AccessDeniedException" || e.Status != 403 || e.Message != tc.message || e.Reason != tc.reason || e.Detail != tc.detail {
				t.Fatalf("got %v (tags %v)\nwant %s [%s] (%s)", err, got, tc.message, tc.reason, tc.detail)
			}
		})
	}

	// Dropping also trims to STS's 50 tags.
	got, err := SessionTags(many, defaults, Options{DropInvalid: true})
	if err != nil || len(got) != MaxTags || got[0] != (sts.Tag{Key: "x509Subject/C", Value: "s-C"}) {
		t.Fatalf("got %d tags, %v", len(got), err)
	}
}

func TestSourceIdentity(t *testing.T) {
	pki := trusttest.New(t, rand.Reader, testNow)
	root := pki.Root("Root")
	for _, tc := range []struct {
		name    string
		subject pkix.Name
		serial  int64
		want    string
	}{
		{name: "short CN", subject: dn(oidCN, "awsUser"), want: "CN=awsUser"},
		{name: "61 characters", subject: dn(oidCN, strings.Repeat("a", 61)), want: "CN=" + strings.Repeat("a", 61)},
		{name: "62 characters", subject: dn(oidCN, strings.Repeat("b", 62)), want: strings.Repeat("b", 62)},
		{name: "64 characters", subject: dn(oidCN, strings.Repeat("c", 64)), want: strings.Repeat("c", 64)},
		{name: "65 characters", subject: dn(oidCN, strings.Repeat("d", 65)), serial: 291, want: "ID=0123"},
		{name: "no CN", subject: dn(oidO, "Example"), serial: 291, want: "ID=0123"},
		{name: "no CN, documented example", subject: dn(oidO, "Example"), serial: 17767, want: "ID=4567"},
		{name: "CN with a space", subject: dn(oidCN, "John Smith"), serial: 0xabc, want: "ID=0abc"},
		{name: "CN with STS punctuation", subject: dn(oidCN, "node-1.example_com+a=b,c@d"), want: "CN=node-1.example_com+a=b,c@d"},
		{name: "first CN counts", subject: dn(oidCN, "first", oidCN, "second"), want: "CN=first"},
		{name: "non-ASCII CN", subject: dn(oidCN, "Zoë"), serial: 0x10, want: "ID=10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []trusttest.Option{trusttest.Subject(tc.subject)}
			if tc.serial != 0 {
				opts = append(opts, trusttest.Serial(big.NewInt(tc.serial)))
			}
			if got := SourceIdentity(pki.Leaf(root, "", opts...).Cert); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSerialHexAndSessionName(t *testing.T) {
	for _, tc := range []struct {
		serial *big.Int
		want   string
	}{
		{big.NewInt(0x0123456789abcdef), "0123456789abcdef"},
		{big.NewInt(4242), "1092"},
		{big.NewInt(1), "01"},
		{big.NewInt(0xff), "ff"},
		{big.NewInt(0), "00"},
		{nil, "00"},
		{new(big.Int).SetBytes([]byte{0x61, 0xd5, 0x69, 0x2c, 0x19, 0x82, 0x23, 0x9b, 0x82, 0x25, 0x5b, 0x38, 0xe6, 0xce, 0xd2, 0xaa, 0x34, 0x71, 0x2f, 0xf0}),
			"61d5692c1982239b82255b38e6ced2aa34712ff0"},
	} {
		if got := SerialHex(tc.serial); got != tc.want {
			t.Errorf("SerialHex(%v) = %q, want %q", tc.serial, got, tc.want)
		}
		if tc.serial != nil {
			if got := DefaultRoleSessionName(&x509.Certificate{SerialNumber: tc.serial}); got != tc.want {
				t.Errorf("DefaultRoleSessionName(%v) = %q", tc.serial, got)
			}
		}
	}
}

func TestValidRoleSessionName(t *testing.T) {
	for s, want := range map[string]bool{
		"ab": true, "interop-test": true, "A_z0+=,.@-": true, strings.Repeat("x", 64): true,
		"": false, "a": false, strings.Repeat("x", 65): false, "has space": false, "semi;colon": false, "slash/": false, "Zoë": false,
	} {
		if got := ValidRoleSessionName(s); got != want {
			t.Errorf("ValidRoleSessionName(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestNormalizeSpecifier(t *testing.T) {
	for _, tc := range []struct {
		field, spec, want string
		message, reason   string
	}{
		{field: "x509Subject", spec: "*", want: "*"},
		{field: "x509Subject", spec: "CN", want: "CN"},
		{field: "x509Subject", spec: "cn", want: "CN"},
		{field: "x509Issuer", spec: "emailaddress", want: "emailAddress"},
		{field: "x509Issuer", spec: "postalCode", want: "postalCode"},
		{field: "x509SAN", spec: "DNS", want: "DNS"},
		{field: "x509SAN", spec: "uri", want: "URI"},
		{field: "x509SAN", spec: "Name", want: "Name/*"},
		{field: "x509SAN", spec: "Name/", want: "Name/*"},
		{field: "x509SAN", spec: "Name/*", want: "Name/*"},
		{field: "x509SAN", spec: "Name/ou", want: "Name/OU"},
		{field: "x509Subject", spec: "XYZ", reason: ReasonMappingSpecifier,
			message: "Invalid specifier 'XYZ' for certificateField x509Subject; valid specifiers are * and " + strings.Join(RDNNames(), ", ")},
		{field: "x509Subject", spec: "", reason: ReasonMappingSpecifier,
			message: "Invalid specifier '' for certificateField x509Subject; valid specifiers are * and " + strings.Join(RDNNames(), ", ")},
		{field: "x509Subject", spec: "DNS", reason: ReasonMappingSpecifier,
			message: "Invalid specifier 'DNS' for certificateField x509Subject; valid specifiers are * and " + strings.Join(RDNNames(), ", ")},
		{field: "x509SAN", spec: "*", reason: ReasonMappingSpecifier,
			message: "Invalid specifier '*' for certificateField x509SAN; valid specifiers are DNS, URI, Name/* and Name/<RDN> with RDN one of " + strings.Join(RDNNames(), ", ")},
		{field: "x509SAN", spec: "IP", reason: ReasonMappingSpecifier,
			message: "Invalid specifier 'IP' for certificateField x509SAN; valid specifiers are DNS, URI, Name/* and Name/<RDN> with RDN one of " + strings.Join(RDNNames(), ", ")},
		{field: "x509SAN", spec: "Name/XYZ", reason: ReasonMappingSpecifier,
			message: "Invalid specifier 'Name/XYZ' for certificateField x509SAN; valid specifiers are DNS, URI, Name/* and Name/<RDN> with RDN one of " + strings.Join(RDNNames(), ", ")},
		{field: "x509Extension", spec: "CN", reason: ReasonMappingField,
			message: "1 validation error detected: Value 'x509Extension' at 'certificateField' failed to satisfy constraint: Member must satisfy enum value set: [x509Issuer, x509SAN, x509Subject]"},
	} {
		got, err := NormalizeSpecifier(tc.field, tc.spec)
		if tc.reason == "" {
			if err != nil || got != tc.want {
				t.Errorf("NormalizeSpecifier(%s, %q) = %q, %v; want %q", tc.field, tc.spec, got, err, tc.want)
			}
			continue
		}
		e, ok := err.(*awserr.Error)
		if !ok || e.Code != "ValidationException" || e.Status != 400 || e.Message != tc.message || e.Reason != tc.reason {
			t.Errorf("NormalizeSpecifier(%s, %q) = %q, %v\nwant %s [%s]", tc.field, tc.spec, got, err, tc.message, tc.reason)
		}
	}
}

func TestValidateMapping(t *testing.T) {
	got, err := ValidateMapping(rolesanywhere.AttributeMapping{CertificateField: "x509SAN", MappingRules: []rolesanywhere.MappingRule{
		{Specifier: "Name"}, {Specifier: "dns"}, {Specifier: "Name/"}, {Specifier: "Name/CN"}}})
	want := rolesanywhere.AttributeMapping{CertificateField: "x509SAN", MappingRules: []rolesanywhere.MappingRule{
		{Specifier: "Name/*"}, {Specifier: "DNS"}, {Specifier: "Name/CN"}}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, %v", got, err)
	}
	if _, err := ValidateMapping(rolesanywhere.AttributeMapping{CertificateField: "x509Subject", MappingRules: []rolesanywhere.MappingRule{{Specifier: "CN"}, {Specifier: "nope"}}}); err == nil ||
		awserr.As(err).Reason != ReasonMappingSpecifier {
		t.Fatalf("unknown specifier accepted: %v", err)
	}
	_, err = ValidateMapping(rolesanywhere.AttributeMapping{})
	if e := awserr.As(err); e.Reason != ReasonMappingField ||
		e.Message != "1 validation error detected: Value null at 'certificateField' failed to satisfy constraint: Member must satisfy enum value set: [x509Issuer, x509SAN, x509Subject]" {
		t.Fatalf("empty field: %v", err)
	}
	// Every default mapping is valid and already normal.
	for _, m := range rolesanywhere.DefaultAttributeMappings() {
		if got, err := ValidateMapping(m); err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("default %+v: %+v, %v", m, got, err)
		}
	}
}
