package trust

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamra/iamra/trust/trusttest"
)

const testAnchorARN = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/a1b2c3d4-0000-1111-2222-333344445555"

func anchorOf(certs ...*trusttest.Cert) *Anchor {
	var cs []*x509.Certificate
	for _, c := range certs {
		cs = append(cs, c.Cert)
	}
	return NewAnchor("a1b2c3d4-0000-1111-2222-333344445555", testAnchorARN, cs, true)
}

func certs(cs ...*trusttest.Cert) []*x509.Certificate {
	out := make([]*x509.Certificate, len(cs))
	for i, c := range cs {
		out[i] = c.Cert
	}
	return out
}

func TestVerifyChain(t *testing.T) {
	pki := trusttest.New(t, rand.Reader, testNow)
	tmpl := trusttest.Template

	root := pki.Root("Root")
	root2 := pki.Root("Root 2")
	other := pki.Root("Other Root")
	impostor := pki.Root("Root", trusttest.FreshKey()) // same name as root, other key
	inter := pki.Intermediate(root, "Intermediate")
	inter2 := pki.Intermediate(inter, "Intermediate 2")
	leaf := pki.Leaf(root, "leaf")
	leafRoot2 := pki.Leaf(root2, "leaf of root 2")
	leafInter := pki.Leaf(inter, "leaf of intermediate")
	leafInter2 := pki.Leaf(inter2, "leaf of intermediate 2")
	leafOther := pki.Leaf(other, "leaf of other")
	leafImpostor := pki.Leaf(impostor, "leaf of impostor")
	expiredLeaf := pki.Leaf(root, "expired", trusttest.Validity(testNow.Add(-2*time.Hour), testNow.Add(-time.Hour)))

	badInter := func(name string, opts ...trusttest.Option) (*trusttest.Cert, *trusttest.Cert) {
		i := pki.Intermediate(root, name, opts...)
		return i, pki.Leaf(i, "leaf of "+name)
	}
	notCA, leafNotCA := badInter("NotCA", tmpl(func(c *x509.Certificate) { c.IsCA = false }))
	noBC, leafNoBC := badInter("NoBC", tmpl(func(c *x509.Certificate) { c.BasicConstraintsValid, c.IsCA = false, false }))
	noCertSign, leafNoCertSign := badInter("NoCertSign", tmpl(func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageCRLSign }))
	noKU, leafNoKU := badInter("NoKU", tmpl(func(c *x509.Certificate) { c.KeyUsage = 0 }))
	v1, leafV1 := badInter("V1", trusttest.Version1())
	sha1, leafSHA1 := badInter("SHA1", trusttest.SignatureAlgorithm(x509.ECDSAWithSHA1))
	weakKey, leafWeakKey := badInter("Weak", trusttest.WithKeyType(trusttest.RSA1024))
	expiredInter := pki.Intermediate(root, "Expired", trusttest.Validity(testNow.AddDate(-2, 0, 0), testNow.Add(30*time.Minute)))
	leafExpiredInter := pki.Leaf(expiredInter, "leaf of Expired", trusttest.Validity(testNow.Add(-time.Hour), testNow.Add(time.Hour)))
	futureInter, leafFutureInter := badInter("Future", trusttest.Validity(testNow.Add(time.Minute), testNow.AddDate(1, 0, 0)))

	expiredRoot := pki.Root("Expired Root", trusttest.Validity(testNow.AddDate(-2, 0, 0), testNow.Add(-time.Minute)))
	leafExpiredRoot := pki.Leaf(expiredRoot, "leaf of expired root", trusttest.Validity(testNow.Add(-time.Hour), testNow.Add(time.Hour)))
	pathLenRoot := pki.Root("PathLen Root", tmpl(func(c *x509.Certificate) { c.MaxPathLen, c.MaxPathLenZero = 0, true }))
	pathLenInter := pki.Intermediate(pathLenRoot, "Too Deep")
	leafPathLen := pki.Leaf(pathLenInter, "leaf too deep")
	ncRoot := pki.Root("NC Root", tmpl(func(c *x509.Certificate) { c.PermittedDNSDomains = []string{"example.com"} }))
	leafNC := pki.Leaf(ncRoot, "nc leaf", tmpl(func(c *x509.Certificate) { c.DNSNames = []string{"host.evil.test"} }))

	in := func(c *trusttest.Cert, what string) string {
		return fmt.Sprintf("intermediate certificate %s %s", Name(c.Cert), what)
	}
	for _, tc := range []struct {
		name      string
		leaf      *trusttest.Cert
		presented []*trusttest.Cert
		anchor    *Anchor
		now       time.Time
		reason    string
		detail    string
		chainLen  int
	}{
		{name: "leaf of root", leaf: leaf, anchor: anchorOf(root), chainLen: 2},
		{name: "root in chain", leaf: leaf, presented: []*trusttest.Cert{root}, anchor: anchorOf(root), chainLen: 2},
		{name: "leaf, root and repeats in chain", leaf: leaf, presented: []*trusttest.Cert{leaf, root, root, leaf}, anchor: anchorOf(root), chainLen: 2},
		{name: "second anchor certificate", leaf: leafRoot2, anchor: anchorOf(root, root2), chainLen: 2},
		{name: "one intermediate", leaf: leafInter, presented: []*trusttest.Cert{inter}, anchor: anchorOf(root), chainLen: 3},
		{name: "two intermediates out of order with extras", leaf: leafInter2, presented: []*trusttest.Cert{root, inter, leafInter2, inter2, inter}, anchor: anchorOf(root), chainLen: 4},
		{name: "intermediate as anchor", leaf: leafInter, anchor: anchorOf(inter), chainLen: 2},
		{name: "intermediate as anchor with root presented", leaf: leafInter, presented: []*trusttest.Cert{inter, root}, anchor: anchorOf(inter), chainLen: 2},
		{name: "five presented", leaf: leafInter, presented: []*trusttest.Cert{inter, inter, inter, inter, inter}, anchor: anchorOf(root), chainLen: 3},

		{name: "six presented", leaf: leafInter, presented: []*trusttest.Cert{inter, inter, inter, inter, inter, inter}, anchor: anchorOf(root),
			reason: ReasonChainTooLong, detail: "the chain holds 6 certificates; at most 5 are allowed"},
		{name: "nil anchor", leaf: leaf, reason: ReasonChainUntrusted, detail: "the trust anchor has no certificates"},
		{name: "other root", leaf: leafOther, anchor: anchorOf(root), reason: ReasonChainUntrusted,
			detail: fmt.Sprintf(`certificate %s is issued by "CN=Other Root", which is neither a certificate of trust anchor %s nor in the presented chain`, Name(leafOther.Cert), testAnchorARN)},
		{name: "missing intermediate", leaf: leafInter, anchor: anchorOf(root), reason: ReasonChainUntrusted,
			detail: fmt.Sprintf(`certificate %s is issued by "CN=Intermediate", which is neither a certificate of trust anchor %s nor in the presented chain`, Name(leafInter.Cert), testAnchorARN)},
		{name: "missing second intermediate", leaf: leafInter2, presented: []*trusttest.Cert{inter2}, anchor: anchorOf(root), reason: ReasonChainUntrusted,
			detail: fmt.Sprintf(`intermediate certificate %s is issued by "CN=Intermediate", which is neither a certificate of trust anchor %s nor in the presented chain`, Name(inter2.Cert), testAnchorARN)},
		{name: "same name other key", leaf: leafImpostor, anchor: anchorOf(root), reason: ReasonChainUntrusted,
			detail: fmt.Sprintf(`the signature of certificate %s does not verify with any certificate named "CN=Root" in trust anchor %s or the presented chain`, Name(leafImpostor.Cert), testAnchorARN)},
		{name: "same name other key presented", leaf: leafImpostor, presented: []*trusttest.Cert{impostor}, anchor: anchorOf(root), reason: ReasonChainUntrusted,
			detail: fmt.Sprintf(`the signature of intermediate certificate %s does not verify with any certificate named "CN=Root" in trust anchor %s or the presented chain`, Name(impostor.Cert), testAnchorARN)},
		{name: "expired leaf", leaf: expiredLeaf, anchor: anchorOf(root), reason: ReasonCertExpired,
			detail: fmt.Sprintf("certificate %s expired at 2026-11-22T11:00:00Z (now 2026-11-22T12:00:00Z)", Name(expiredLeaf.Cert))},

		{name: "intermediate CA:FALSE", leaf: leafNotCA, presented: []*trusttest.Cert{notCA}, anchor: anchorOf(root), reason: ReasonChainIntermediateNotCA,
			detail: in(notCA, "has basicConstraints CA:FALSE; CA:TRUE is required")},
		{name: "intermediate without basicConstraints", leaf: leafNoBC, presented: []*trusttest.Cert{noBC}, anchor: anchorOf(root), reason: ReasonChainIntermediateNotCA,
			detail: in(noBC, "has no basicConstraints extension; CA:TRUE is required")},
		{name: "intermediate without keyCertSign", leaf: leafNoCertSign, presented: []*trusttest.Cert{noCertSign}, anchor: anchorOf(root), reason: ReasonChainIntermediateKeyUsage,
			detail: in(noCertSign, "has a keyUsage without keyCertSign")},
		{name: "intermediate without keyUsage", leaf: leafNoKU, presented: []*trusttest.Cert{noKU}, anchor: anchorOf(root), reason: ReasonChainIntermediateKeyUsage,
			detail: in(noKU, "has no keyUsage extension; keyCertSign is required")},
		{name: "v1 intermediate", leaf: leafV1, presented: []*trusttest.Cert{v1}, anchor: anchorOf(root), reason: ReasonChainIntermediateVersion,
			detail: in(v1, "is X.509 v1; a CA certificate must be v3")},
		{name: "sha1 intermediate", leaf: leafSHA1, presented: []*trusttest.Cert{sha1}, anchor: anchorOf(root), reason: ReasonChainIntermediateWeakSig,
			detail: in(sha1, "is signed with ECDSA-SHA1; SHA-256 or stronger is required (no MD5, no SHA-1)")},
		{name: "weak intermediate key", leaf: leafWeakKey, presented: []*trusttest.Cert{weakKey}, anchor: anchorOf(root), reason: ReasonChainIntermediateKey,
			detail: in(weakKey, "has an RSA key of 1024 bits; at least 2048 bits are required")},
		{name: "expired intermediate", leaf: leafExpiredInter, presented: []*trusttest.Cert{expiredInter}, anchor: anchorOf(root), now: testNow.Add(45 * time.Minute), reason: ReasonChainExpired,
			detail: in(expiredInter, "expired at 2026-11-22T12:30:00Z (now 2026-11-22T12:45:00Z)")},
		{name: "intermediate not yet valid", leaf: leafFutureInter, presented: []*trusttest.Cert{futureInter}, anchor: anchorOf(root), reason: ReasonChainNotYetValid,
			detail: in(futureInter, "is not valid before 2026-11-22T12:01:00Z (now 2026-11-22T12:00:00Z)")},
		{name: "expired anchor", leaf: leafExpiredRoot, anchor: anchorOf(expiredRoot), reason: ReasonChainExpired,
			detail: fmt.Sprintf("trust anchor certificate %s expired at 2026-11-22T11:59:00Z (now 2026-11-22T12:00:00Z)", Name(expiredRoot.Cert))},
		{name: "path length", leaf: leafPathLen, presented: []*trusttest.Cert{pathLenInter}, anchor: anchorOf(pathLenRoot), reason: ReasonChainInvalid,
			detail: fmt.Sprintf(`path %s → %s → %s to trust anchor %s fails validation: x509: too many intermediates for path length constraint`,
				Name(leafPathLen.Cert), Name(pathLenInter.Cert), Name(pathLenRoot.Cert), testAnchorARN)},
		{name: "name constraints", leaf: leafNC, anchor: anchorOf(ncRoot), reason: ReasonChainInvalid,
			detail: fmt.Sprintf(`path %s → %s to trust anchor %s fails validation: x509: a root or intermediate certificate is not authorized to sign for this name: DNS name "host.evil.test" is not permitted by any constraint`,
				Name(leafNC.Cert), Name(ncRoot.Cert), testAnchorARN)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = testNow
			}
			res, err := VerifyChain(tc.leaf.Cert, certs(tc.presented...), tc.anchor, nil, now)
			wantErr(t, err, "AccessDeniedException", tc.reason, MsgUntrusted, tc.detail)
			if err != nil {
				return
			}
			if len(res.Chain) != tc.chainLen || res.Chain[0] != tc.leaf.Cert || !tc.anchor.holds(res.Chain[len(res.Chain)-1]) {
				t.Fatalf("chain %s", pathNames(res.Chain))
			}
		})
	}
}

func TestVerifyChainRevocation(t *testing.T) {
	pki := trusttest.New(t, rand.Reader, testNow)
	root := pki.Root("Root")
	rotated := pki.Root("Root", trusttest.FreshKey()) // the same CA name with its next key
	other := pki.Root("Other", trusttest.FreshKey())
	inter := pki.Intermediate(root, "Intermediate")
	leaf := pki.Leaf(root, "leaf")
	leafInter := pki.Leaf(inter, "leaf of intermediate")
	anchor := anchorOf(root)
	stale := trusttest.Updates(testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour))

	crlARN := func(i int) string {
		return fmt.Sprintf("arn:aws:rolesanywhere:us-east-1:123456789012:crl/%08d-0000-0000-0000-000000000000", i)
	}
	index := func(lists ...*x509.RevocationList) *RevocationIndex {
		var crls []CRL
		for i, l := range lists {
			crls = append(crls, CRL{ARN: crlARN(i + 1), List: l})
		}
		return NewRevocationIndex(crls)
	}
	revokedBy := func(role string, c *trusttest.Cert, issuer string, extra string) string {
		since := "2026-11-22T11:00:00Z"
		if extra != "" {
			since = "2026-11-20T12:00:00Z"
		}
		return fmt.Sprintf(`%s %s is revoked by CRL %s (issuer %q) since %s (reason keyCompromise)%s`, role, Name(c.Cert), crlARN(1), issuer, since, extra)
	}

	for _, tc := range []struct {
		name      string
		leaf      *trusttest.Cert
		presented []*trusttest.Cert
		crls      *RevocationIndex
		reason    string
		detail    string
		stale     int
	}{
		{name: "no CRLs", leaf: leaf, crls: index()},
		{name: "CRL without the leaf", leaf: leaf, crls: index(pki.CRL(root, trusttest.Revoke(leafInter.Cert)))},
		{name: "leaf revoked", leaf: leaf, crls: index(pki.CRL(root, trusttest.Revoke(leaf.Cert))), reason: ReasonChainRevoked,
			detail: revokedBy("certificate", leaf, "CN=Root", "")},
		{name: "leaf revoked in second CRL", leaf: leaf, crls: index(pki.CRL(root), pki.CRL(root, trusttest.Revoke(leaf.Cert))), reason: ReasonChainRevoked,
			detail: strings.Replace(revokedBy("certificate", leaf, "CN=Root", ""), crlARN(1), crlARN(2), 1)},
		{name: "intermediate revoked", leaf: leafInter, presented: []*trusttest.Cert{inter}, crls: index(pki.CRL(root, trusttest.Revoke(inter.Cert))), reason: ReasonChainRevoked,
			detail: revokedBy("intermediate certificate", inter, "CN=Root", "")},
		{name: "leaf revoked by intermediate's CRL", leaf: leafInter, presented: []*trusttest.Cert{inter}, crls: index(pki.CRL(inter, trusttest.Revoke(leafInter.Cert))), reason: ReasonChainRevoked,
			detail: revokedBy("certificate", leafInter, "CN=Intermediate", "")},
		{name: "CRL of another issuer is ignored", leaf: leaf, crls: index(pki.CRL(other, trusttest.Revoke(leaf.Cert)))},
		{name: "CRL of the same name's other key is ignored", leaf: leaf, crls: index(pki.CRL(rotated, trusttest.Revoke(leaf.Cert)))},
		{name: "forged CRL", leaf: leaf, crls: index(pki.CRLSignedBy(root, other.Key)), reason: ReasonCRLBadSignature,
			detail: fmt.Sprintf(`CRL %s (issuer "CN=Root") matches certificate %s but its signature does not verify with issuing certificate %s: x509: ECDSA verification failure`, crlARN(1), Name(leaf.Cert), Name(root.Cert))},
		{name: "stale CRL still enforced", leaf: leaf, crls: index(pki.CRL(root, stale, trusttest.Revoke(leaf.Cert))), reason: ReasonChainRevoked,
			detail: revokedBy("certificate", leaf, "CN=Root", "; the CRL is stale (nextUpdate 2026-11-21T12:00:00Z)")},
		{name: "stale CRL reported", leaf: leaf, crls: index(pki.CRL(root, stale)), stale: 1},
		{name: "stale CRL of unrelated issuer not reported", leaf: leaf, crls: index(pki.CRL(other, stale))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 2 { // the second run answers from the signature cache
				res, err := VerifyChain(tc.leaf.Cert, certs(tc.presented...), anchor, tc.crls, testNow)
				wantErr(t, err, "AccessDeniedException", tc.reason, MsgUntrusted, tc.detail)
				if len(res.StaleCRLs) != tc.stale {
					t.Fatalf("stale CRLs %v, want %d", res.StaleCRLs, tc.stale)
				}
				if tc.stale > 0 {
					want := StaleCRL{ARN: crlARN(1), Issuer: "CN=Root", NextUpdate: testNow.Add(-24 * time.Hour)}
					if res.StaleCRLs[0] != want {
						t.Fatalf("stale %+v, want %+v", res.StaleCRLs[0], want)
					}
				}
			}
		})
	}

	ix := index(pki.CRL(root, stale), pki.CRL(other))
	if got := ix.Stale(testNow); len(got) != 1 || got[0].String() != "CRL "+crlARN(1)+` of "CN=Root" is stale since 2026-11-21T12:00:00Z` {
		t.Fatalf("Stale = %v", got)
	}
}

// TestVerifyChainConcurrent exercises the CRL signature cache from many
// goroutines (meaningful under -race).
func TestVerifyChainConcurrent(t *testing.T) {
	pki := trusttest.New(t, rand.Reader, testNow)
	root := pki.Root("Root")
	inter := pki.Intermediate(root, "Intermediate")
	good := pki.Leaf(inter, "good")
	bad := pki.Leaf(inter, "revoked")
	anchor := anchorOf(root)
	ix := NewRevocationIndex([]CRL{{List: pki.CRL(root)}, {List: pki.CRL(inter, trusttest.Revoke(bad.Cert))}})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				leaf := good
				if i%2 == 1 {
					leaf = bad
				}
				_, err := VerifyChain(leaf.Cert, certs(inter), anchor, ix, testNow)
				if (err == nil) != (leaf == good) {
					errs <- fmt.Errorf("%s: %v", leaf.Cert.Subject.CommonName, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestConformanceChains(t *testing.T) {
	ca, err := ParseAnchorBundle(string(readConformance(t, "ca.pem")), conformanceNow)
	if err != nil {
		t.Fatal(err)
	}
	anchor := NewAnchor("a1b2c3d4-0000-1111-2222-333344445555", testAnchorARN, ca, true)
	for _, tc := range []struct {
		file      string
		now       time.Time
		presented []*x509.Certificate
	}{
		{"leaf-rsa.pem", conformanceNow, nil},
		{"leaf-ec.pem", time.Date(2026, 11, 22, 13, 29, 53, 0, time.UTC), ca}, // the client sends the root as its chain
	} {
		t.Run(tc.file, func(t *testing.T) {
			block, _ := pem.Decode(readConformance(t, tc.file))
			leaf, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckEndEntity(leaf, tc.now); err != nil {
				t.Fatal(err)
			}
			res, err := VerifyChain(leaf, tc.presented, anchor, nil, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Chain) != 2 || res.Chain[1] != ca[0] {
				t.Fatalf("chain %s", pathNames(res.Chain))
			}
			// The CA expires on 2026-12-22.
			_, err = VerifyChain(leaf, tc.presented, anchor, nil, time.Date(2026, 12, 23, 0, 0, 0, 0, time.UTC))
			if err == nil {
				t.Fatal("verified after expiry")
			}
		})
	}
}
