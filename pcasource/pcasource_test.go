package pcasource

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/kek"
	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/snapshot"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/store/sqlite"
	"github.com/iamra/iamra/trust"
)

var (
	scope = arn.Scope{Partition: "aws", Region: "us-east-1", AccountID: "123456789012"}
	now   = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
)

type fixture struct {
	st  store.Store
	svc *ca.Service
	src *Source
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "iamra.db"), sqlite.Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	k, err := kek.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := ca.New(ca.Config{Store: st, Scope: scope, KeyStores: []ca.KeyStore{&ca.SoftwareKeyStore{Protector: k, Rand: rand.Reader}},
		CRLBaseURL: "https://iamra.example", Now: func() time.Time { return now }, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, svc: svc, src: New(svc)}
}

func caRequest(cn string) ca.CreateRequest {
	return ca.CreateRequest{CertificateAuthorityType: ca.TypeRoot, CertificateAuthorityConfiguration: ca.Configuration{
		KeyAlgorithm: ca.KeyECP256, SigningAlgorithm: ca.SHA256WithECDSA, Subject: ca.Subject{CommonName: cn}}}
}

func (f *fixture) root(t *testing.T, cn string) string {
	t.Helper()
	caARN, err := f.svc.CreateActiveRoot(context.Background(), caRequest(cn), ca.Validity{Type: ca.ValidityYears, Value: 5})
	if err != nil {
		t.Fatal(err)
	}
	return caARN
}

// issue returns a certificate caARN issued with template.
func (f *fixture) issue(t *testing.T, caARN, template string, csr []byte) *x509.Certificate {
	t.Helper()
	ctx := context.Background()
	certARN, err := f.svc.IssueCertificate(ctx, ca.IssueCertificateRequest{CertificateAuthorityArn: caARN, Csr: csr,
		TemplateArn: template, Validity: ca.Validity{Type: ca.ValidityDays, Value: 30}})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := f.svc.GetCertificate(ctx, caARN, certARN)
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, p)[0]
}

func leafCSR(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "workload"}}, k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func parse(t *testing.T, p string) []*x509.Certificate {
	t.Helper()
	certs, err := snapshot.ParsePEMCertificates([]byte(p))
	if err != nil {
		t.Fatal(err)
	}
	return certs
}

// anchor stores a trust anchor of source AWS_ACM_PCA naming caARN.
func (f *fixture) anchor(t *testing.T, id, caARN string) string {
	t.Helper()
	taARN := "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/" + id
	err := f.st.Update(context.Background(), func(tx store.Tx) error {
		_, err := store.Put(tx, store.KindTrustAnchor, id, 0, rolesanywhere.TrustAnchor{TrustAnchorID: id, TrustAnchorArn: taARN, Name: id, Enabled: true,
			Source: rolesanywhere.Source{SourceType: rolesanywhere.SourceACMPCA, SourceData: rolesanywhere.SourceData{AcmPcaArn: caARN}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return taARN
}

func (f *fixture) build(t *testing.T) *snapshot.Snapshot {
	t.Helper()
	s, err := snapshot.Build(context.Background(), f.st, f.src, now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A revocation is one store change that includes the CA record's kind,
// which the snapshot rebuilds on, and the rebuilt snapshot refuses the
// certificate, naming the CA's CRL.
func TestRevocationReachesSnapshot(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	caARN := f.root(t, "PCA Source Root")
	leaf := f.issue(t, caARN, ca.TemplateEndEntityClientAuth, leafCSR(t))
	taARN := f.anchor(t, "a1b2c3d4-0000-1111-2222-333344445555", caARN)

	s := f.build(t)
	a, ok := s.TrustAnchor(taARN)
	if !ok || len(s.Problems) != 0 {
		t.Fatalf("anchor missing; problems %v", s.Problems)
	}
	if _, err := trust.VerifyChain(leaf, nil, a.Trust, a.Revocations, now); err != nil {
		t.Fatalf("before revocation: %v", err)
	}

	watchCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	changes := f.st.Changes(watchCtx)
	if err := f.svc.RevokeCertificate(ctx, caARN, leaf.SerialNumber.Text(16), ca.ReasonKeyCompromise); err != nil {
		t.Fatal(err)
	}
	c := <-changes
	if !slices.Contains(c.Kinds, store.KindCA) {
		t.Fatalf("the revocation's change names kinds %v, without %s: the snapshot would not rebuild", c.Kinds, store.KindCA)
	}

	a, _ = f.build(t).TrustAnchor(taARN)
	_, err := trust.VerifyChain(leaf, nil, a.Trust, a.Revocations, now)
	var ae *awserr.Error
	if !errors.As(err, &ae) || ae.Reason != trust.ReasonChainRevoked || !strings.Contains(ae.Detail, caARN) {
		t.Fatalf("after revocation: %v", err)
	}
}

// The anchor holds the CA's own certificate, not the chain above it, so a
// subordinate's anchor does not trust what its parent signs elsewhere.
func TestSubordinateAnchorsOnlyItself(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rootARN := f.root(t, "Parent Root")
	req := caRequest("Sub CA")
	req.CertificateAuthorityType = ca.TypeSubordinate
	subARN, err := f.svc.CreateCertificateAuthority(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := f.svc.GetCertificateAuthorityCsr(ctx, subARN)
	if err != nil {
		t.Fatal(err)
	}
	subCert := f.issue(t, rootARN, ca.TemplateSubordinateCAPathLen0, []byte(csr))
	rootPEM, _, err := f.svc.GetCertificateAuthorityCertificate(ctx, rootARN)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ImportCertificateAuthorityCertificate(ctx, subARN, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: subCert.Raw}), []byte(rootPEM)); err != nil {
		t.Fatal(err)
	}
	taARN := f.anchor(t, "b1b2c3d4-0000-1111-2222-333344445555", subARN)
	a, ok := f.build(t).TrustAnchor(taARN)
	if !ok || len(a.Trust.Certificates) != 1 || !a.Trust.Certificates[0].Equal(subCert) {
		t.Fatalf("anchor certificates: %v", ok)
	}
	sibling := f.issue(t, rootARN, ca.TemplateEndEntityClientAuth, leafCSR(t))
	if _, err := trust.VerifyChain(sibling, nil, a.Trust, a.Revocations, now); err == nil {
		t.Fatal("the subordinate's anchor trusts a certificate of its parent")
	}
	leaf := f.issue(t, subARN, ca.TemplateEndEntityClientAuth, leafCSR(t))
	if _, err := trust.VerifyChain(leaf, nil, a.Trust, a.Revocations, now); err != nil {
		t.Fatal(err)
	}
}

// CAs that cannot anchor anything leave their anchors out of the snapshot
// with a problem the operator sees; a DISABLED CA still anchors.
func TestCAStates(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pending, err := f.svc.CreateCertificateAuthority(ctx, caRequest("Pending"))
	if err != nil {
		t.Fatal(err)
	}
	deleted := f.root(t, "Deleted")
	disabled := f.root(t, "Disabled")
	for _, caARN := range []string{deleted, disabled} {
		st := ca.StatusDisabled
		if err := f.svc.UpdateCertificateAuthority(ctx, caARN, &st, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.DeleteCertificateAuthority(ctx, deleted, 7); err != nil {
		t.Fatal(err)
	}
	unknown := scope.New("acm-pca", "certificate-authority/00000000-0000-4000-8000-000000000000", true).String()
	anchors := map[string]string{}
	for i, caARN := range []string{pending, deleted, disabled, unknown, "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/../x"} {
		anchors[caARN] = f.anchor(t, strings.Replace("c0b2c3d4-0000-1111-2222-333344445555", "0", string(rune('1'+i)), 1), caARN)
	}
	s := f.build(t)
	if _, ok := s.TrustAnchor(anchors[disabled]); !ok {
		t.Error("a DISABLED CA's anchor is missing")
	}
	for caARN, want := range map[string]string{
		pending: "has no certificate yet (status PENDING_CERTIFICATE)",
		deleted: "is DELETED",
		unknown: "ResourceNotFoundException",
	} {
		if _, ok := s.TrustAnchor(anchors[caARN]); ok {
			t.Errorf("anchor of %s is in the snapshot", caARN)
		}
		if !slices.ContainsFunc(s.Problems, func(p string) bool { return strings.Contains(p, anchors[caARN]) && strings.Contains(p, want) }) {
			t.Errorf("no problem %q for %s in %v", want, caARN, s.Problems)
		}
	}
}

func TestResolvePCA(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	caARN := f.root(t, "Resolve Root")
	got, err := f.src.ResolvePCA(ctx, caARN)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := f.svc.GetCertificateAuthorityCertificate(ctx, caARN)
	if got != want || len(parse(t, got)) != 1 {
		t.Fatalf("PEM %q", got)
	}
	pending, err := f.svc.CreateCertificateAuthority(ctx, caRequest("Pending"))
	if err != nil {
		t.Fatal(err)
	}
	st := ca.StatusDisabled
	if err := f.svc.UpdateCertificateAuthority(ctx, caARN, &st, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ arn, want string }{
		{pending, "certificate authority " + pending + " is PENDING_CERTIFICATE, not ACTIVE"},
		{caARN, "certificate authority " + caARN + " is DISABLED, not ACTIVE"},
		{"arn:aws:acm-pca:eu-west-1:999999999999:certificate-authority/x", "certificate authority arn:aws:acm-pca:eu-west-1:999999999999:certificate-authority/x: ResourceNotFoundException"},
	} {
		_, err := f.src.ResolvePCA(ctx, tc.arn)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("ResolvePCA(%s) = %v, want %q…", tc.arn, err, tc.want)
		}
		// Plain errors: the control plane words them as AWS does.
		var ae *awserr.Error
		if errors.As(err, &ae) {
			t.Errorf("ResolvePCA(%s) returned an AWS-shaped error %v", tc.arn, ae)
		}
	}
}

// Parsed certificates and CRLs are reused until the CA's records change.
func TestCaching(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	caARN := f.root(t, "Cache Root")
	leaf := f.issue(t, caARN, "", leafCSR(t))
	read := func() (*x509.Certificate, *x509.RevocationList) {
		var c []*x509.Certificate
		var rl *x509.RevocationList
		err := f.st.View(ctx, func(tx store.Tx) error {
			var err error
			if c, err = f.src.CACertificates(tx, caARN); err != nil {
				return err
			}
			rl, err = f.src.CACRL(tx, caARN)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return c[0], rl
	}
	c1, rl1 := read()
	c2, rl2 := read()
	if c1 != c2 || rl1 != rl2 {
		t.Error("unchanged records were parsed again")
	}
	if err := f.svc.RevokeCertificate(ctx, caARN, leaf.SerialNumber.Text(16), ca.ReasonSuperseded); err != nil {
		t.Fatal(err)
	}
	c3, rl3 := read()
	if c3 != c1 || rl3 == rl1 || len(rl3.RevokedCertificateEntries) != 1 || rl3.Number.Cmp(rl1.Number) <= 0 {
		t.Errorf("after revocation: same cert %v, new CRL %v, entries %d", c3 == c1, rl3 != rl1, len(rl3.RevokedCertificateEntries))
	}
}
