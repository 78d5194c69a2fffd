package e2e

import (
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere/types"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	smithy "github.com/aws/smithy-go"

	"github.com/iamra/iamra/sigv4x509"
	"github.com/iamra/iamra/trust/trusttest"
)

// The real server routes IAM and STS and evaluates trust policies in
// CreateSession: the whole chain with only AWS clients and a certificate.
func TestIAMAndSTSThroughServer(t *testing.T) {
	rs := startServer(t, time.Now())
	ctx := context.Background()
	k := rs.State.AdminKeys[0]
	admin := awscreds.NewStaticCredentialsProvider(k.AccessKeyID, k.SecretAccessKey, "")
	iamc := awsiam.New(awsiam.Options{Region: "us-east-1", BaseEndpoint: aws.String(rs.Endpoint), Credentials: admin, HTTPClient: rs.Client})
	pki := trusttest.New(t, nil, time.Now())
	root := pki.Root("Fleet Root")
	ra := rs.admin(t)
	ta, err := ra.CreateTrustAnchor(ctx, &rolesanywhere.CreateTrustAnchorInput{Name: aws.String("fleet"), Enabled: aws.Bool(true),
		Source: &types.Source{SourceType: types.TrustAnchorTypeCertificateBundle, SourceData: &types.SourceDataMemberX509CertificateData{Value: root.PEM()}}})
	if err != nil {
		t.Fatal(err)
	}
	// The blog's CN-scoped trust policy, pinned to the trust anchor.
	trustPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},` +
		`"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],"Condition":{` +
		`"StringEquals":{"aws:PrincipalTag/x509Subject/CN":"payments"},"ArnEquals":{"aws:SourceArn":"` + *ta.TrustAnchor.TrustAnchorArn + `"}}}]}`
	role, err := iamc.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("payments"), AssumeRolePolicyDocument: aws.String(trustPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ra.CreateProfile(ctx, &rolesanywhere.CreateProfileInput{Name: aws.String("payments"), Enabled: aws.Bool(true),
		RoleArns: []string{*role.Role.Arn}})
	if err != nil {
		t.Fatal(err)
	}

	createSession := func(cn string) (int, createSessionResponse, string) {
		leaf := pki.Leaf(root, cn, trusttest.Subject(pkix.Name{CommonName: cn}))
		q := url.Values{"profileArn": {*p.Profile.ProfileArn}, "roleArn": {*role.Role.Arn}, "trustAnchorArn": {*ta.TrustAnchor.TrustAnchorArn}}
		body := `{"durationSeconds":900}`
		deadline := time.Now().Add(10 * time.Second)
		for {
			req, _ := http.NewRequest(http.MethodPost, rs.Endpoint+"/sessions?"+q.Encode(), strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if err := sigv4x509.Sign(req, []byte(body), sigv4x509.SignInput{Certificate: leaf.Cert, Signer: leaf.Key, Region: "us-east-1", Time: time.Now()}); err != nil {
				t.Fatal(err)
			}
			resp, err := rs.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// The snapshot picks new configuration up a moment after the API call.
			if strings.Contains(string(raw), "wasn't found") && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			var out createSessionResponse
			json.Unmarshal(raw, &out)
			return resp.StatusCode, out, string(raw)
		}
	}

	// A CN the trust policy does not allow: refused, and the audit record
	// names the condition that decided.
	status, _, raw := createSession("intruder")
	if status != 403 || !strings.Contains(raw, "Not authorized to perform sts:AssumeRole on "+*role.Role.Arn) {
		t.Fatalf("intruder: %d %s", status, raw)
	}
	ev := lastAudit(t, rs.testServer)
	if ev.AdditionalEventData["reason"] != "role.trust_denied" || !strings.Contains(ev.AdditionalEventData["detail"].(string), "aws:PrincipalTag/x509Subject/CN") {
		t.Fatalf("audit of the denial: %+v", ev.AdditionalEventData)
	}

	// The allowed CN gets credentials, which STS recognises.
	status, out, raw := createSession("payments")
	if status != 201 {
		t.Fatalf("payments: %d %s", status, raw)
	}
	c := out.CredentialSet[0].Credentials
	stsc := awssts.New(awssts.Options{Region: "us-east-1", BaseEndpoint: aws.String(rs.Endpoint), HTTPClient: rs.Client,
		Credentials: awscreds.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)})
	who, err := stsc.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *who.Arn != out.CredentialSet[0].AssumedRoleUser.Arn || *who.Account != "123456789012" {
		t.Fatalf("GetCallerIdentity %s %s, CreateSession said %s", *who.Arn, *who.Account, out.CredentialSet[0].AssumedRoleUser.Arn)
	}

	// Session credentials are not admin: the rolesanywhere control plane
	// refuses them.
	sess := rolesanywhere.New(rolesanywhere.Options{Region: "us-east-1", BaseEndpoint: aws.String(rs.Endpoint), HTTPClient: rs.Client,
		Credentials: awscreds.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)})
	_, err = sess.ListTrustAnchors(ctx, &rolesanywhere.ListTrustAnchorsInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnrecognizedClientException" {
		t.Fatalf("session on the control plane: %v", err)
	}
}
