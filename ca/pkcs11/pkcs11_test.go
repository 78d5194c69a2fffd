package pkcs11_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/ca/pkcs11"
	"github.com/iamra/iamra/ca/pkcs11/softhsmtest"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/store/sqlite"
)

// softHSM makes a fresh SoftHSM2 token in a temporary directory.
func softHSM(t *testing.T) pkcs11.Config {
	t.Helper()
	tok := softhsmtest.New(t, "iamra-test")
	return pkcs11.Config{Module: tok.Module, TokenLabel: tok.Label, PIN: tok.PIN, Rand: rand.Reader}
}

func TestCAKeysInSoftHSM(t *testing.T) {
	cfg := softHSM(t)
	ks, err := pkcs11.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if _, err := pkcs11.Open(pkcs11.Config{Module: cfg.Module, TokenLabel: "nope", PIN: "1234", Rand: rand.Reader}); err == nil ||
		!strings.Contains(err.Error(), `no token labelled "nope"`) {
		t.Fatalf("got %v", err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "iamra.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	var crls [][]byte
	svc, err := ca.New(ca.Config{Store: st, Scope: arn.Scope{Partition: "aws", Region: "eu-west-1", AccountID: "123456789012"},
		KeyStores: []ca.KeyStore{ks}, CRLBaseURL: "https://127.0.0.1:8443", Now: func() time.Time { return now }, Rand: rand.Reader,
		OnCRL: func(_ string, der []byte) { crls = append(crls, der) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct{ keyAlg, sigAlg string }{
		{ca.KeyECP384, ca.SHA384WithECDSA},
		{ca.KeyRSA2048, ca.SHA256WithRSA},
		{ca.KeyRSA2048, ca.SHA256WithRSAPSS},
	} {
		t.Run(tc.sigAlg, func(t *testing.T) {
			caARN, err := svc.CreateCertificateAuthority(ctx, ca.CreateRequest{CertificateAuthorityType: ca.TypeRoot,
				CertificateAuthorityConfiguration: ca.Configuration{KeyAlgorithm: tc.keyAlg, SigningAlgorithm: tc.sigAlg, Subject: ca.Subject{CommonName: "hsm root"}},
				RevocationConfiguration:           ca.RevocationConfiguration{CrlConfiguration: &ca.CrlConfiguration{Enabled: true}}})
			if err != nil {
				t.Fatal(err)
			}
			csr, _ := svc.GetCertificateAuthorityCsr(ctx, caARN)
			rootARN, err := svc.IssueCertificate(ctx, ca.IssueCertificateRequest{CertificateAuthorityArn: caARN, Csr: []byte(csr),
				SigningAlgorithm: tc.sigAlg, TemplateArn: ca.TemplateRootCA, Validity: ca.Validity{Type: ca.ValidityYears, Value: 5}})
			if err != nil {
				t.Fatal(err)
			}
			rootPEM, _, _ := svc.GetCertificate(ctx, caARN, rootARN)
			if err := svc.ImportCertificateAuthorityCertificate(ctx, caARN, []byte(rootPEM), nil); err != nil {
				t.Fatal(err)
			}
			a, _ := svc.DescribeCertificateAuthority(ctx, caARN)
			if a.Status != ca.StatusActive {
				t.Fatal(a.Status)
			}
			leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			der, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "leaf"}}, leafKey)
			leafARN, err := svc.IssueCertificate(ctx, ca.IssueCertificateRequest{CertificateAuthorityArn: caARN,
				Csr: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), SigningAlgorithm: tc.sigAlg,
				Validity: ca.Validity{Type: ca.ValidityDays, Value: 1}})
			if err != nil {
				t.Fatal(err)
			}
			leafPEM, chain, _ := svc.GetCertificate(ctx, caARN, leafARN)
			b, _ := pem.Decode([]byte(leafPEM))
			leaf, _ := x509.ParseCertificate(b.Bytes)
			rb, _ := pem.Decode([]byte(chain))
			root, _ := x509.ParseCertificate(rb.Bytes)
			if err := leaf.CheckSignatureFrom(root); err != nil {
				t.Fatalf("leaf signature: %v", err)
			}
			if err := svc.RevokeCertificate(ctx, caARN, leaf.SerialNumber.Text(16), ca.ReasonKeyCompromise); err != nil {
				t.Fatal(err)
			}
			crl, err := x509.ParseRevocationList(crls[len(crls)-1])
			if err != nil || crl.CheckSignatureFrom(root) != nil || len(crl.RevokedCertificateEntries) != 1 {
				t.Fatalf("CRL: %v", err)
			}
		})
	}

	// The CA records name the token's objects and hold no key material.
	st.View(ctx, func(tx store.Tx) error {
		recs, _, err := tx.List(store.KindCA, store.ListOptions{})
		for _, r := range recs {
			if !strings.Contains(string(r.Data), `"Store":"pkcs11"`) || strings.Contains(string(r.Data), `"Sealed"`) {
				t.Errorf("CA record %s: %s", r.ID, r.Data)
			}
		}
		return err
	})

	// Keys persist on the token: another session finds them by id.
	ref, s1, err := ks.Generate(ctx, "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/persist", ca.KeyECP256)
	if err != nil {
		t.Fatal(err)
	}
	ks2, err := pkcs11.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ks2.Close()
	s2, err := ks2.Signer(ctx, ref.Label, ref)
	if err != nil {
		t.Fatal(err)
	}
	if !s1.Public().(*ecdsa.PublicKey).Equal(s2.Public()) {
		t.Fatal("another session found another key")
	}
	digest := sha256.Sum256([]byte("hello"))
	sig, err := s2.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(s1.Public().(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatalf("signature from the token does not verify: %v", err)
	}
	if err := ks2.Destroy(ctx, ref.Label, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Signer(ctx, ref.Label, ref); err == nil {
		t.Fatal("a destroyed key is still found")
	}
}
