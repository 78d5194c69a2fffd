package x509attr

import (
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/trust/trusttest"
)

func FuzzSessionTags(f *testing.F) {
	pki := trusttest.New(f, rand.Reader, testNow)
	root := pki.Root("", trusttest.Subject(dn(oidCN, "Root (CA)", oidOU, "a", oidOU, "b")))
	f.Add(pki.Leaf(root, "svc", trusttest.Template(func(c *x509.Certificate) { c.DNSNames = []string{"a.example"} })).Cert.Raw)
	f.Add(pki.Leaf(root, "", trusttest.Subject(allRDNs("x"))).Cert.Raw)
	f.Fuzz(func(t *testing.T, der []byte) {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		all := append(rolesanywhere.DefaultAttributeMappings(), mappings("x509SAN", "Name/CN", "x509Subject", "CN")...)
		for _, drop := range []bool{false, true} {
			tags, err := SessionTags(cert, all, Options{DropInvalid: drop})
			if drop && err != nil {
				t.Fatalf("DropInvalid failed: %v", err)
			}
			if len(tags) > MaxTags {
				t.Fatalf("%d tags", len(tags))
			}
			for _, tag := range tags {
				if tagValueProblem(tag.Value) != "" {
					t.Fatalf("invalid tag %q=%q", tag.Key, tag.Value)
				}
			}
		}
		if s := SourceIdentity(cert); len(s) < 2 {
			t.Fatalf("source identity %q", s)
		}
		if !ValidRoleSessionName(DefaultRoleSessionName(cert)) && len(cert.SerialNumber.Bytes()) <= 32 {
			t.Fatalf("session name %q", DefaultRoleSessionName(cert))
		}
	})
}
