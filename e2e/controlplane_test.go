package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere/types"
	smithy "github.com/aws/smithy-go"

	"github.com/iamra/iamra/trust/trusttest"
)

func (rs *runningServer) sdk(t testing.TB, accessKey, secret string) *rolesanywhere.Client {
	return rolesanywhere.New(rolesanywhere.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(rs.Endpoint),
		Credentials:  awscreds.NewStaticCredentialsProvider(accessKey, secret, ""),
		HTTPClient:   rs.Client,
	})
}

func (rs *runningServer) admin(t testing.TB) *rolesanywhere.Client {
	k := rs.State.AdminKeys[0]
	return rs.sdk(t, k.AccessKeyID, k.SecretAccessKey)
}

// The AWS SDK for Go v2, signing with the admin key, drives the control
// plane through the real server: TLS, SigV4 verification, routing, store.
func TestControlPlaneThroughServer(t *testing.T) {
	rs := startServer(t, time.Now())
	ctx := context.Background()
	c := rs.admin(t)
	pki := trusttest.New(t, nil, time.Now())
	root := pki.Root("Ops Root")

	ta, err := c.CreateTrustAnchor(ctx, &rolesanywhere.CreateTrustAnchorInput{
		Name: aws.String("ops"), Enabled: aws.Bool(true),
		Source: &types.Source{SourceType: types.TrustAnchorTypeCertificateBundle,
			SourceData: &types.SourceDataMemberX509CertificateData{Value: root.PEM()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(*ta.TrustAnchor.TrustAnchorArn, "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/") {
		t.Fatalf("ARN %s", *ta.TrustAnchor.TrustAnchorArn)
	}
	p, err := c.CreateProfile(ctx, &rolesanywhere.CreateProfileInput{
		Name: aws.String("ops"), RoleArns: []string{"arn:aws:iam::123456789012:role/ops"}, Enabled: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	crl, err := c.ImportCrl(ctx, &rolesanywhere.ImportCrlInput{Name: aws.String("ops"), CrlData: trusttest.CRLPEM(pki.CRL(root)),
		TrustAnchorArn: ta.TrustAnchor.TrustAnchorArn, Enabled: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.ListProfiles(ctx, &rolesanywhere.ListProfilesInput{})
	if err != nil || len(list.Profiles) != 1 || *list.Profiles[0].ProfileArn != *p.Profile.ProfileArn {
		t.Fatalf("ListProfiles: %v %+v", err, list)
	}
	// The write reaches the CreateSession snapshot without a restart.
	deadline := time.Now().Add(10 * time.Second)
	for {
		snap := rs.Snapshot.Load()
		a, ok := snap.TrustAnchor(*ta.TrustAnchor.TrustAnchorArn)
		if ok && a.Revocations != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("snapshot never picked up the new trust anchor")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := c.DeleteCrl(ctx, &rolesanywhere.DeleteCrlInput{CrlId: crl.Crl.CrlId}); err != nil {
		t.Fatal(err)
	}
	// Writes are audited with the caller's identity.
	ev := lastAudit(t, rs.testServer)
	if ev.EventName != "DeleteCrl" || ev.UserIdentity["arn"] != rs.State.AdminKeys[0].Arn {
		t.Fatalf("audit %+v", ev)
	}
}

// Unsigned, unknown-key and badly signed calls get AWS's errors.
func TestControlPlaneAuthentication(t *testing.T) {
	rs := startServer(t, time.Now())
	ctx := context.Background()
	k := rs.State.AdminKeys[0]
	tests := []struct {
		name     string
		client   *rolesanywhere.Client
		wantCode string
	}{
		{name: "unknown access key", client: rs.sdk(t, "AKIAUNKNOWNUNKNOWN00", k.SecretAccessKey), wantCode: "UnrecognizedClientException"},
		{name: "wrong secret", client: rs.sdk(t, k.AccessKeyID, "wrong"+k.SecretAccessKey[5:]), wantCode: "InvalidSignatureException"},
		{name: "anonymous", client: rolesanywhere.New(rolesanywhere.Options{Region: "us-east-1", BaseEndpoint: aws.String(rs.Endpoint),
			Credentials: aws.AnonymousCredentials{}, HTTPClient: rs.Client}), wantCode: "MissingAuthenticationTokenException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.client.ListTrustAnchors(ctx, &rolesanywhere.ListTrustAnchorsInput{})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.wantCode {
				t.Fatalf("got %v, want %s", err, tc.wantCode)
			}
			var re interface{ HTTPStatusCode() int }
			if errors.As(err, &re) && re.HTTPStatusCode() != http.StatusForbidden {
				t.Errorf("status %d", re.HTTPStatusCode())
			}
		})
	}
}

// Health, readiness and metrics answer without authentication; requests
// are counted by API, operation and outcome.
func TestOperationalEndpoints(t *testing.T) {
	rs := startServer(t, time.Now())
	if _, err := rs.admin(t).ListTrustAnchors(context.Background(), &rolesanywhere.ListTrustAnchorsInput{}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready",
		"/metrics": `iamra_http_requests_total{api="rolesanywhere",operation="ListTrustAnchors",outcome="success"} 1`} {
		// A request first, so the counters have a series.
		rs.Client.Get(rs.Endpoint + "/trustanchors")
		resp, err := rs.Client.Get(rs.Endpoint + path)
		if err != nil {
			t.Fatal(err)
		}
		body := new(strings.Builder)
		_, _ = ioCopy(body, resp)
		if resp.StatusCode != 200 || !strings.Contains(body.String(), want) {
			t.Errorf("%s: %d, want %q in %q", path, resp.StatusCode, want, body.String()[:min(300, body.Len())])
		}
	}
}
