package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	pcatypes "github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
	ratypes "github.com/aws/aws-sdk-go-v2/service/rolesanywhere/types"

	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/sts"
)

// revocationBound is how soon after RevokeCertificate returns the same
// certificate's CreateSession must be refused. The mechanism is one store
// change notification and one snapshot rebuild (milliseconds); the bound
// leaves room for a loaded CI machine.
const revocationBound = 10 * time.Second

// A certificate issued by an iamra CA gets credentials through a trust
// anchor of source AWS_ACM_PCA naming the CA — with no CA PEM and no CRL
// imported by hand — and is refused right after RevokeCertificate, with
// an audit record naming the CA's CRL.
func TestPCARevocationReachesCreateSession(t *testing.T) {
	rs := startServer(t, time.Now().UTC().Truncate(time.Second))
	ctx := context.Background()
	pca := rs.pca(t)
	caARN, _ := pcaRoot(t, pca, "Revocation Root", pcatypes.CertificateAuthorityUsageModeGeneralPurpose,
		&pcatypes.Validity{Type: pcatypes.ValidityPeriodTypeYears, Value: aws.Int64(5)})
	key, csr := pcaWorkload(t, "pca-workload")
	certPEM, _ := pcaIssue(t, pca, caARN, csr, "EndEntityClientAuthCertificate/V1", &pcatypes.Validity{Type: pcatypes.ValidityPeriodTypeDays, Value: aws.Int64(1)})
	leaf := pcaParse(t, certPEM)

	ra := rs.admin(t)
	ta, err := ra.CreateTrustAnchor(ctx, &rolesanywhere.CreateTrustAnchorInput{
		Name: aws.String("iamra-pca"), Enabled: aws.Bool(true),
		Source: &ratypes.Source{SourceType: ratypes.TrustAnchorTypeAwsAcmPca, SourceData: &ratypes.SourceDataMemberAcmPcaArn{Value: caARN}},
	})
	if err != nil {
		t.Fatal(err)
	}
	const role = "arn:aws:iam::123456789012:role/pca-workload"
	rs.put(t, store.KindRole, "pca-workload", sts.Role{
		Arn: role, RoleName: "pca-workload", Path: "/", RoleID: "AROAPCAWORKLOAD00001", MaxSessionDuration: 3600,
		AssumeRolePolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`,
	})
	p, err := ra.CreateProfile(ctx, &rolesanywhere.CreateProfileInput{Name: aws.String("pca"), RoleArns: []string{role}, Enabled: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	anchor, profile := *ta.TrustAnchor.TrustAnchorArn, *p.Profile.ProfileArn

	// The configuration reaches the snapshot through change notification.
	waitFor(t, "the snapshot to hold the profile and the anchor", func() bool {
		s := rs.Snapshot.Load()
		_, okA := s.TrustAnchor(anchor)
		_, okP := s.Profile(profile)
		return okA && okP
	})
	if status, body := rs.pcaCreateSession(t, leaf, key, anchor, profile, role); status != http.StatusCreated {
		t.Fatalf("CreateSession before revocation: %d %s", status, body)
	}

	if _, err := pca.RevokeCertificate(ctx, &acmpca.RevokeCertificateInput{CertificateAuthorityArn: &caARN,
		CertificateSerial: aws.String(leaf.SerialNumber.Text(16)), RevocationReason: pcatypes.RevocationReasonKeyCompromise}); err != nil {
		t.Fatal(err)
	}
	revoked := time.Now()
	var status int
	var body string
	for {
		status, body = rs.pcaCreateSession(t, leaf, key, anchor, profile, role)
		if status != http.StatusCreated || time.Since(revoked) > revocationBound {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(revoked)
	if status != http.StatusForbidden || !strings.Contains(body, "AccessDeniedException") {
		t.Fatalf("CreateSession %s after revocation: %d %s (bound %s)", took, status, body, revocationBound)
	}
	t.Logf("revocation refused CreateSession after %s (bound %s)", took.Round(time.Millisecond), revocationBound)

	var found bool
	for _, ev := range rs.auditEvents(t) {
		if ev.EventName != "CreateSession" || ev.ErrorCode == "" {
			continue
		}
		reason, _ := ev.AdditionalEventData["reason"].(string)
		detail, _ := ev.AdditionalEventData["detail"].(string)
		if reason == "chain.revoked" && strings.Contains(detail, caARN) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no CreateSession audit record with reason chain.revoked naming %s", caARN)
	}
}

// waitFor polls cond until it holds or revocationBound passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(revocationBound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
