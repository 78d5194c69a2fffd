package ca

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/kek"
	"github.com/iamra/iamra/store"
)

func (h *harness) issueLeaf(t testing.TB, caARN, cn string) (string, *x509.Certificate) {
	t.Helper()
	ctx := context.Background()
	k := mustKey(t, KeyECP256)
	certARN, err := h.svc.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: caARN,
		Csr: csrPEM(t, k, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}), TemplateArn: TemplateEndEntityClientAuth,
		Validity: Validity{Type: ValidityDays, Value: 30}})
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := h.svc.GetCertificate(ctx, caARN, certARN)
	if err != nil {
		t.Fatal(err)
	}
	return certARN, pemCert(t, p)
}

func TestRevocationRegeneratesCRL(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	caARN := h.activeRoot(t)
	caPEM, _, _ := h.svc.GetCertificateAuthorityCertificate(ctx, caARN)
	caCert := pemCert(t, caPEM)
	a, _ := h.svc.DescribeCertificateAuthority(ctx, caARN)
	_, leaf1 := h.issueLeaf(t, caARN, "one")
	_, leaf2 := h.issueLeaf(t, caARN, "two")
	if want := "https://127.0.0.1:8443/crl/" + a.ID + ".crl"; len(leaf1.CRLDistributionPoints) != 1 || leaf1.CRLDistributionPoints[0] != want {
		t.Fatalf("CDP %v, want %s", leaf1.CRLDistributionPoints, want)
	}

	check := func(number int64, revoked ...*x509.Certificate) *x509.RevocationList {
		t.Helper()
		der, err := h.svc.CurrentCRL(ctx, caARN)
		if err != nil {
			t.Fatal(err)
		}
		byID, err := h.svc.CRLByID(ctx, a.ID)
		if err != nil || !bytes.Equal(der, byID) {
			t.Fatalf("CRLByID differs: %v", err)
		}
		ev := h.events()
		if !bytes.Equal(ev[len(ev)-1].der, der) {
			t.Fatal("OnCRL did not receive the current CRL")
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := crl.CheckSignatureFrom(caCert); err != nil {
			t.Fatalf("CRL signature: %v", err)
		}
		if crl.Number.Int64() != number || !bytes.Equal(crl.AuthorityKeyId, caCert.SubjectKeyId) {
			t.Fatalf("CRL number %v, want %d", crl.Number, number)
		}
		if !crl.NextUpdate.Equal(crl.ThisUpdate.AddDate(0, 0, 7)) {
			t.Fatalf("thisUpdate %v nextUpdate %v", crl.ThisUpdate, crl.NextUpdate)
		}
		if len(crl.RevokedCertificateEntries) != len(revoked) {
			t.Fatalf("%d entries, want %d", len(crl.RevokedCertificateEntries), len(revoked))
		}
		for i, c := range revoked {
			if crl.RevokedCertificateEntries[i].SerialNumber.Cmp(c.SerialNumber) != 0 {
				t.Fatalf("entry %d is %x, want %x", i, crl.RevokedCertificateEntries[i].SerialNumber, c.SerialNumber)
			}
		}
		return crl
	}
	check(1)

	h.clock.Advance(time.Minute)
	if err := h.svc.RevokeCertificate(ctx, caARN, serialColons(leaf1.SerialNumber), ReasonKeyCompromise); err != nil {
		t.Fatal(err)
	}
	crl := check(2, leaf1)
	if e := crl.RevokedCertificateEntries[0]; e.ReasonCode != 1 || !e.RevocationTime.Equal(t0.Add(time.Minute)) {
		t.Fatalf("entry %+v", e)
	}
	err := h.svc.RevokeCertificate(ctx, caARN, serialHex(leaf1.SerialNumber), ReasonKeyCompromise)
	if e := wantCode(t, err, CodeRequestAlreadyProcessed); e.Message != "The certificate has already been revoked." {
		t.Fatal(e)
	}
	wantCode(t, h.svc.RevokeCertificate(ctx, caARN, "0badbad0", ReasonSuperseded), CodeResourceNotFound)
	wantCode(t, h.svc.RevokeCertificate(ctx, caARN, "zz", ReasonSuperseded), CodeInvalidArgs)
	err = h.svc.RevokeCertificate(ctx, caARN, serialHex(leaf2.SerialNumber), "BORED")
	if err == nil || !strings.Contains(err.Error(), "Value 'BORED' at 'revocationReason' failed to satisfy constraint: Member must satisfy enum value set: [AFFILIATION_CHANGED, CESSATION_OF_OPERATION, A_A_COMPROMISE, CERTIFICATE_AUTHORITY_COMPROMISE, KEY_COMPROMISE, PRIVILEGE_WITHDRAWN, SUPERSEDED, UNSPECIFIED]") {
		t.Fatalf("got %v", err)
	}
	check(2, leaf1) // failed revocations change nothing

	if err := h.svc.RevokeCertificate(ctx, caARN, strings.ToUpper(serialHex(leaf2.SerialNumber)), ReasonUnspecified); err != nil {
		t.Fatal(err)
	}
	crl = check(3, leaf1, leaf2)
	if crl.RevokedCertificateEntries[1].ReasonCode != 0 {
		t.Fatal("UNSPECIFIED is written as an absent reason code")
	}
	rec, err := h.svc.DescribeCertificate(ctx, caARN, caARN+"/certificate/"+serialHex(leaf2.SerialNumber))
	if err != nil || rec.Status != CertificateRevoked || rec.RevocationReason != ReasonUnspecified {
		t.Fatalf("%+v %v", rec, err)
	}

	// Scheduled refresh: nothing before half the CRL's life, a new number after.
	events := len(h.events())
	h.clock.Advance(3 * 24 * time.Hour)
	if err := h.svc.RefreshCRLs(ctx); err != nil {
		t.Fatal(err)
	}
	if len(h.events()) != events {
		t.Fatal("CRL re-signed too early")
	}
	h.clock.Advance(12 * time.Hour)
	if err := h.svc.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	check(4, leaf1, leaf2)

	// Once the revoked certificates expire they leave the CRL.
	h.clock.Advance(30 * 24 * time.Hour)
	if err := h.svc.RefreshCRLs(ctx); err != nil {
		t.Fatal(err)
	}
	check(5)

	// A changed CRL lifetime re-signs at once.
	rc := RevocationConfiguration{CrlConfiguration: &CrlConfiguration{Enabled: true, ExpirationInDays: 2}}
	if err := h.svc.UpdateCertificateAuthority(ctx, caARN, nil, &rc); err != nil {
		t.Fatal(err)
	}
	der, _ := h.svc.CurrentCRL(ctx, caARN)
	crl, _ = x509.ParseRevocationList(der)
	if crl.Number.Int64() != 6 || !crl.NextUpdate.Equal(crl.ThisUpdate.AddDate(0, 0, 2)) {
		t.Fatalf("number %v, %v–%v", crl.Number, crl.ThisUpdate, crl.NextUpdate)
	}
}

func TestCAKeyEncryptedAtRest(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	caARN := h.activeRoot(t)
	a, err := h.svc.authority(ctx, caARN)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := (&SoftwareKeyStore{Protector: h.kek}).Signer(ctx, caARN, a.Key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(signer)
	var dump bytes.Buffer
	for _, kind := range []store.Kind{store.KindCA, store.KindCertificate} {
		h.store.View(ctx, func(tx store.Tx) error {
			recs, _, err := tx.List(kind, store.ListOptions{})
			for _, r := range recs {
				dump.Write(r.Data)
			}
			return err
		})
	}
	scalar, err := signer.(*ecdsa.PrivateKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string][]byte{"PKCS#8": pkcs8, "scalar": scalar} {
		for _, enc := range [][]byte{secret, []byte(base64.StdEncoding.EncodeToString(secret)), []byte(base64.StdEncoding.EncodeToString(secret)[:20])} {
			if bytes.Contains(dump.Bytes(), enc) {
				t.Fatalf("the store holds the CA's %s key", name)
			}
		}
	}
	// The sealed key is bound to its CA: under another CA's ARN it does not open.
	if _, err := (&SoftwareKeyStore{Protector: h.kek}).Signer(ctx, caARN+"x", a.Key); err == nil {
		t.Fatal("sealed key opened for another CA")
	}
	// A service with another KEK cannot use the key.
	other, _ := kek.Generate(nil)
	svc2, _ := New(Config{Store: h.store, Scope: testScope, KeyStores: []KeyStore{&SoftwareKeyStore{Protector: other}}, Now: h.clock.Now, Rand: h.svc.cfg.Rand})
	k := mustKey(t, KeyECP256)
	_, err = svc2.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: caARN,
		Csr: csrPEM(t, k, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}), Validity: Validity{Type: ValidityDays, Value: 1}})
	if e := wantCode(t, err, CodeRequestFailed); strings.Contains(e.Detail, "PRIVATE") {
		t.Fatal(e)
	}
}

func TestLifecycle(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	caARN := h.activeRoot(t)
	pending := h.create(t, TypeSubordinate, KeyECP256, SHA256WithECDSA, "pending")

	wantCode(t, h.svc.DeleteCertificateAuthority(ctx, caARN, 7), CodeInvalidState) // ACTIVE: disable first
	if err := h.svc.DeleteCertificateAuthority(ctx, caARN, 6); err == nil || !strings.Contains(err.Error(), "Member must have value between 7 and 30") {
		t.Fatalf("got %v", err)
	}
	disabled := StatusDisabled
	if err := h.svc.UpdateCertificateAuthority(ctx, caARN, &disabled, nil); err != nil {
		t.Fatal(err)
	}
	// A disabled CA still revokes (and re-signs its CRL).
	_, leaf := h.issueLeafBefore(t, caARN)
	if err := h.svc.RevokeCertificate(ctx, caARN, serialHex(leaf.SerialNumber), ReasonSuperseded); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.DeleteCertificateAuthority(ctx, caARN, 7); err != nil {
		t.Fatal(err)
	}
	a, _ := h.svc.DescribeCertificateAuthority(ctx, caARN)
	if a.Status != StatusDeleted || !a.RestorableUntil.Equal(t0.AddDate(0, 0, 7)) {
		t.Fatalf("%+v", a)
	}
	wantCode(t, h.svc.UpdateCertificateAuthority(ctx, caARN, &disabled, nil), CodeInvalidState)
	_, _, err := h.svc.GetCertificateAuthorityCertificate(ctx, caARN)
	wantCode(t, err, CodeInvalidState)
	if err := h.svc.RestoreCertificateAuthority(ctx, caARN); err != nil {
		t.Fatal(err)
	}
	if a, _ = h.svc.DescribeCertificateAuthority(ctx, caARN); a.Status != StatusDisabled || a.RestorableUntil != nil {
		t.Fatalf("%+v", a)
	}
	wantCode(t, h.svc.RestoreCertificateAuthority(ctx, caARN), CodeInvalidState)

	// A pending CA can be deleted directly and restores to pending.
	if err := h.svc.DeleteCertificateAuthority(ctx, pending, 0); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.RestoreCertificateAuthority(ctx, pending); err != nil {
		t.Fatal(err)
	}
	if a, _ = h.svc.DescribeCertificateAuthority(ctx, pending); a.Status != StatusPendingCertificate {
		t.Fatal(a.Status)
	}
	active := StatusActive
	wantCode(t, h.svc.UpdateCertificateAuthority(ctx, pending, &active, nil), CodeInvalidState)

	// Past the restore window, Maintain removes the CA and its records.
	if err := h.svc.DeleteCertificateAuthority(ctx, caARN, 7); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(7*24*time.Hour + time.Second)
	if err := h.svc.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = h.svc.DescribeCertificateAuthority(ctx, caARN)
	wantCode(t, err, CodeResourceNotFound)
	_, err = h.svc.CurrentCRL(ctx, caARN)
	wantCode(t, err, CodeResourceNotFound)
	h.store.View(ctx, func(tx store.Tx) error {
		recs, _, _ := tx.List(store.KindCertificate, store.ListOptions{})
		for _, r := range recs {
			if strings.HasPrefix(r.ID, a.ID+"/") {
				t.Errorf("record %s survived the purge", r.ID)
			}
		}
		return nil
	})
	list, _, _ := h.svc.ListCertificateAuthorities(ctx, "", 0)
	if len(list) != 1 || list[0].Arn != pending {
		t.Fatalf("%d CAs left", len(list))
	}
}

// issueLeafBefore issues while the CA is briefly re-enabled.
func (h *harness) issueLeafBefore(t testing.TB, caARN string) (string, *x509.Certificate) {
	t.Helper()
	active, disabled := StatusActive, StatusDisabled
	if err := h.svc.UpdateCertificateAuthority(context.Background(), caARN, &active, nil); err != nil {
		t.Fatal(err)
	}
	defer h.svc.UpdateCertificateAuthority(context.Background(), caARN, &disabled, nil)
	return h.issueLeaf(t, caARN, "leaf")
}

func TestAuditReport(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	caARN := h.activeRoot(t)
	_, leaf := h.issueLeaf(t, caARN, "audited")
	if err := h.svc.RevokeCertificate(ctx, caARN, serialHex(leaf.SerialNumber), ReasonCessationOfOperation); err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := h.svc.WriteAuditReport(ctx, caARN, AuditReportJSON, &js); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	if err := json.Unmarshal(js.Bytes(), &rows); err != nil || len(rows) != 2 {
		t.Fatalf("%v %s", err, js.String())
	}
	var revoked map[string]string
	for _, r := range rows {
		if r["subject"] == "CN=audited" {
			revoked = r
		}
	}
	if revoked["status"] != CertificateRevoked || revoked["revocationReason"] != ReasonCessationOfOperation ||
		revoked["serial"] != serialColons(leaf.SerialNumber) || revoked["awsAccountId"] != "123456789012" ||
		revoked["templateArn"] != "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1" || revoked["revokedAt"] != "2026-11-20T12:00:00+0000" {
		t.Fatalf("%v", revoked)
	}
	var c bytes.Buffer
	if err := h.svc.WriteAuditReport(ctx, caARN, AuditReportCSV, &c); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&c).ReadAll()
	if err != nil || len(recs) != 3 || strings.Join(recs[0], ",") != "awsAccountId,certificateArn,serial,subject,notBefore,notAfter,issuedAt,status,revokedAt,revocationReason,templateArn" {
		t.Fatalf("%v %v", recs, err)
	}
	if err := h.svc.WriteAuditReport(ctx, caARN, "XML", &c); err == nil {
		t.Fatal("XML accepted")
	}
}

func TestCreateValidationAndTags(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	base := func() CreateRequest {
		return CreateRequest{CertificateAuthorityType: TypeRoot, CertificateAuthorityConfiguration: Configuration{
			KeyAlgorithm: KeyECP256, SigningAlgorithm: SHA256WithECDSA, Subject: Subject{CommonName: "x"}}}
	}
	for _, tc := range []struct {
		name string
		mod  func(*CreateRequest)
		want string
	}{
		{"type", func(r *CreateRequest) { r.CertificateAuthorityType = "INTERMEDIATE" },
			"ValidationException: 1 validation error detected: Value 'INTERMEDIATE' at 'certificateAuthorityType' failed to satisfy constraint: Member must satisfy enum value set: [ROOT, SUBORDINATE]"},
		{"key", func(r *CreateRequest) { r.CertificateAuthorityConfiguration.KeyAlgorithm = "ML_DSA_65" },
			`InvalidArgsException: The key algorithm "ML_DSA_65" is not supported.`},
		{"family", func(r *CreateRequest) { r.CertificateAuthorityConfiguration.SigningAlgorithm = SHA256WithRSA },
			`InvalidArgsException: The signing algorithm "SHA256WITHRSA" is not valid for key algorithm EC_prime256v1.`},
		{"subject", func(r *CreateRequest) { r.CertificateAuthorityConfiguration.Subject = Subject{} },
			"InvalidArgsException: The subject must contain at least one attribute."},
		{"oid", func(r *CreateRequest) {
			r.CertificateAuthorityConfiguration.Subject.CustomAttributes = []CustomAttribute{{ObjectIdentifier: "1.x", Value: "v"}}
		}, `InvalidArgsException: The custom attribute object identifier "1.x" is not valid.`},
		{"ocsp", func(r *CreateRequest) {
			r.RevocationConfiguration.OcspConfiguration = &OcspConfiguration{Enabled: true}
		},
			"InvalidArgsException: OCSP is not supported by iamra; use CRLs."},
		{"cname", func(r *CreateRequest) {
			r.RevocationConfiguration.CrlConfiguration = &CrlConfiguration{Enabled: true, CustomCname: "http://crl.example"}
		}, `InvalidArgsException: The CustomCname "http://crl.example" must be a host name without a protocol or path.`},
		{"tag", func(r *CreateRequest) { r.Tags = []Tag{{Key: "aws:x"}} }, `InvalidTagException: The tag "aws:x" is not valid.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base()
			tc.mod(&r)
			_, err := h.svc.CreateCertificateAuthority(ctx, r)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want+" [") {
				t.Fatalf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
	r := base()
	r.Tags = []Tag{{Key: "team", Value: "a"}}
	r.CertificateAuthorityConfiguration.Subject.CustomAttributes = []CustomAttribute{{ObjectIdentifier: "2.5.4.97", Value: "VATDE-1"}}
	r.CertificateAuthorityConfiguration.Subject.Title = "CA"
	caARN, err := h.svc.CreateCertificateAuthority(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	csr, _ := h.svc.GetCertificateAuthorityCsr(ctx, caARN)
	parsed, _ := ParseCSR([]byte(csr))
	if got := parsed.Subject.String(); got != "CN=x,2.5.4.97=#130756415444452d31,2.5.4.12=#13024341" {
		t.Fatalf("subject %s", got)
	}
	if err := h.svc.TagCertificateAuthority(ctx, caARN, []Tag{{Key: "team", Value: "b"}, {Key: "env", Value: "dev"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.UntagCertificateAuthority(ctx, caARN, []Tag{{Key: "env"}}); err != nil {
		t.Fatal(err)
	}
	a, _ := h.svc.DescribeCertificateAuthority(ctx, caARN)
	if len(a.Tags) != 1 || a.Tags[0] != (Tag{Key: "team", Value: "b"}) {
		t.Fatalf("tags %v", a.Tags)
	}
	many := make([]Tag, 50)
	for i := range many {
		many[i] = Tag{Key: strings.Repeat("k", i+1)}
	}
	wantCode(t, h.svc.TagCertificateAuthority(ctx, caARN, many), CodeTooManyTags)
}
