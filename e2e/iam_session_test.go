package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	smithy "github.com/aws/smithy-go"

	"github.com/iamra/iamra/authz"
)

const (
	nodeRoleArn = "arn:aws:iam::123456789012:role/eks/node-role"
	appRoleArn  = "arn:aws:iam::123456789012:role/app-role"
)

// cnTrustPolicy is the CN-scoped trust policy of the IAM Roles Anywhere
// blog and the EKS Hybrid Nodes guide: Roles Anywhere may assume the
// role for certificates from one trust anchor, and only with the session
// name equal to the certificate's CN, for CNs starting with "node-".
func cnTrustPolicy(anchor string) string {
	return `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":["sts:TagSession","sts:SetSourceIdentity"],
  "Condition":{"ArnEquals":{"aws:SourceArn":"` + anchor + `"}}},
 {"Sid":"NodesByCN","Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":"sts:AssumeRole",
  "Condition":{"StringLike":{"aws:PrincipalTag/x509Subject/CN":"node-*"},
               "StringEquals":{"sts:RoleSessionName":"${aws:PrincipalTag/x509Subject/CN}"},
               "ArnEquals":{"aws:SourceArn":"` + anchor + `"}}}]}`
}

func apiError(t *testing.T, err error) (string, string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

// The whole path: roles and policies made with the IAM API, trust
// evaluation in CreateSession (a CN outside the policy is refused and the
// audit record names the condition), STS with the session's credentials,
// role chaining, and both ways of revoking sessions.
func TestIAMRoleSessionLifecycle(t *testing.T) {
	s := startIAMServer(t)
	ctx := context.Background()
	f := s.seedAnchor(t, []string{nodeRoleArn}, true)
	admin := s.iamClient(s.adminCreds())

	cr, err := admin.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("node-role"), Path: aws.String("/eks/"),
		AssumeRolePolicyDocument: aws.String(cnTrustPolicy(f.anchor)), Description: aws.String("hybrid nodes")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cr.Role.Arn) != nodeRoleArn || !strings.HasPrefix(aws.ToString(cr.Role.RoleId), "AROA") || len(aws.ToString(cr.Role.RoleId)) != 21 {
		t.Fatalf("CreateRole: arn %s id %s", aws.ToString(cr.Role.Arn), aws.ToString(cr.Role.RoleId))
	}
	gr, err := admin.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("node-role")})
	if err != nil {
		t.Fatal(err)
	}
	// The SDK leaves the document URL-encoded, as AWS sends it.
	if doc, _ := url.PathUnescape(aws.ToString(gr.Role.AssumeRolePolicyDocument)); doc != cnTrustPolicy(f.anchor) {
		t.Fatalf("GetRole document %q", aws.ToString(gr.Role.AssumeRolePolicyDocument))
	}
	if aws.ToInt32(gr.Role.MaxSessionDuration) != 3600 || aws.ToString(gr.Role.Description) != "hybrid nodes" {
		t.Fatalf("GetRole %+v", gr.Role)
	}
	if _, err := admin.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("node-role"), PolicyName: aws.String("chain"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession"],"Resource":"` + appRoleArn + `"}]}`)}); err != nil {
		t.Fatal(err)
	}

	// A CN the trust policy does not allow.
	_, status, body := s.createSession(t, f, "intruder", nodeRoleArn, "intruder")
	if status != 403 || !strings.Contains(body, `"message":"Not authorized to perform sts:AssumeRole on `+nodeRoleArn+`"`) {
		t.Fatalf("intruder: %d %s", status, body)
	}
	evs := s.auditEvents(t)
	last := evs[len(evs)-1]
	detail, _ := last.AdditionalEventData["detail"].(string)
	if last.EventName != "CreateSession" || last.ErrorCode != "AccessDeniedException" || last.AdditionalEventData["reason"] != "role.trust_denied" ||
		!strings.Contains(detail, `StringLike aws:PrincipalTag/x509Subject/CN`) || !strings.Contains(detail, `NodesByCN`) {
		t.Fatalf("audit record %+v", last)
	}
	// A node CN with another session name fails the policy-variable condition.
	_, status, _ = s.createSession(t, f, "node-1", nodeRoleArn, "node-2")
	evs = s.auditEvents(t)
	if detail, _ := evs[len(evs)-1].AdditionalEventData["detail"].(string); status != 403 || !strings.Contains(detail, "sts:RoleSessionName") {
		t.Fatalf("session name mismatch: %d, %s", status, detail)
	}

	// The matching CN gets credentials, and STS knows them.
	node, status, body := s.createSession(t, f, "node-1", nodeRoleArn, "node-1")
	if status != 201 {
		t.Fatalf("node-1: %d %s", status, body)
	}
	id, err := s.stsClient(node).GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != "arn:aws:sts::123456789012:assumed-role/node-role/node-1" ||
		aws.ToString(id.UserId) != aws.ToString(cr.Role.RoleId)+":node-1" || aws.ToString(id.Account) != "123456789012" {
		t.Fatalf("GetCallerIdentity %s %s %s", aws.ToString(id.Arn), aws.ToString(id.UserId), aws.ToString(id.Account))
	}

	// Role chaining into app-role, which trusts node-role.
	if _, err := admin.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("app-role"), MaxSessionDuration: aws.Int32(43200),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + nodeRoleArn + `"},
		"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],"Condition":{"StringEquals":{"aws:RequestTag/team":"blue"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	nodeSTS := s.stsClient(node)
	in := &awssts.AssumeRoleInput{RoleArn: aws.String(appRoleArn), RoleSessionName: aws.String("app"), DurationSeconds: aws.Int32(7200),
		Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}, TransitiveTagKeys: []string{"team"}}
	_, err = nodeSTS.AssumeRole(ctx, in)
	if code, msg := apiError(t, err); code != "ValidationError" || msg != "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining." {
		t.Fatalf("chained 2h: %s %s", code, msg)
	}
	in.DurationSeconds = aws.Int32(3600)
	in.Tags[0].Value = aws.String("red")
	_, err = nodeSTS.AssumeRole(ctx, in)
	if code, msg := apiError(t, err); code != "AccessDenied" || msg != "User: arn:aws:sts::123456789012:assumed-role/node-role/node-1 is not authorized to perform: sts:AssumeRole on resource: "+appRoleArn {
		t.Fatalf("trust condition: %s %s", code, msg)
	}
	in.Tags[0].Value = aws.String("blue")
	ar, err := nodeSTS.AssumeRole(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(ar.AssumedRoleUser.Arn) != "arn:aws:sts::123456789012:assumed-role/app-role/app" || aws.ToString(ar.SourceIdentity) != "CN=node-1" ||
		ar.PackedPolicySize == nil || !ar.Credentials.Expiration.Equal(s.now.Now().Add(time.Hour)) {
		t.Fatalf("AssumeRole %+v %+v", ar.AssumedRoleUser, ar.Credentials)
	}
	app := aws.Credentials{AccessKeyID: aws.ToString(ar.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(ar.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(ar.Credentials.SessionToken)}
	if id, err := s.stsClient(app).GetCallerIdentity(ctx, nil); err != nil || aws.ToString(id.Arn) != "arn:aws:sts::123456789012:assumed-role/app-role/app" {
		t.Fatalf("chained GetCallerIdentity: %v %v", id, err)
	}
	// The node role's own policy does not allow chaining further back.
	_, err = s.stsClient(app).AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(nodeRoleArn), RoleSessionName: aws.String("back")})
	if code, _ := apiError(t, err); code != "AccessDenied" {
		t.Fatalf("app → node: %v", err)
	}

	// Chaining once more carries the source identity and the transitive
	// tag, neither of which may be changed.
	if _, err := admin.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("third"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + appRoleArn + `"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("app-role"), PolicyName: aws.String("sts"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	appSTS := s.stsClient(app)
	thirdArn := "arn:aws:iam::123456789012:role/third"
	_, err = appSTS.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(thirdArn), RoleSessionName: aws.String("t3"), SourceIdentity: aws.String("someone-else")})
	if code, _ := apiError(t, err); code != "AccessDenied" {
		t.Fatalf("changed source identity: %v", err)
	}
	_, err = appSTS.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(thirdArn), RoleSessionName: aws.String("t3"),
		Tags: []ststypes.Tag{{Key: aws.String("TEAM"), Value: aws.String("green")}}})
	if code, _ := apiError(t, err); code != "InvalidParameterValue" {
		t.Fatalf("overridden transitive tag: %v", err)
	}
	third, err := appSTS.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(thirdArn), RoleSessionName: aws.String("t3")})
	if err != nil {
		t.Fatal(err)
	}
	tc := aws.Credentials{AccessKeyID: aws.ToString(third.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(third.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(third.Credentials.SessionToken)}
	if code, out, raw := s.checkAuthz(t, authz.CheckRequest{Token: s.eksToken(t, tc, "c"), ClusterID: "c"}); code != 200 ||
		out.Principal.SourceIdentity != "CN=node-1" || len(out.Principal.Tags) != 1 || out.Principal.Tags[0] != (authz.Tag{Key: "team", Value: "blue"}) ||
		strings.Join(out.Principal.TransitiveTagKeys, ",") != "team" || out.Principal.Issuer != "arn:aws:sts::123456789012:assumed-role/app-role/app" {
		t.Fatalf("third session: %d %s", code, raw)
	}

	// Revoke the node role's sessions as the console does.
	revokeAt := s.now.Now().Add(time.Second).Format(time.RFC3339)
	if _, err := admin.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("node-role"), PolicyName: aws.String("AWSRevokeOlderSessions"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + revokeAt + `"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = nodeSTS.GetCallerIdentity(ctx, nil)
	if code, msg := apiError(t, err); code != "AccessDenied" || !strings.Contains(msg, "assumed-role/node-role/node-1") {
		t.Fatalf("revoked node session: %s %s", code, msg)
	}
	// The chained session belongs to app-role: untouched, until its own
	// sessions are revoked (the explicit NotBefore).
	if _, err := s.stsClient(app).GetCallerIdentity(ctx, nil); err != nil {
		t.Fatalf("app session after node revocation: %v", err)
	}
	if status, body := s.iamRaw(t, s.adminCreds(), url.Values{"Action": {"RevokeRoleSessions"}, "RoleName": {"app-role"}}); status != 200 ||
		!strings.Contains(body, "<RevokeRoleSessionsResponse") {
		t.Fatalf("RevokeRoleSessions: %d %s", status, body)
	}
	_, err = s.stsClient(app).GetCallerIdentity(ctx, nil)
	if code, _ := apiError(t, err); code != "AccessDenied" {
		t.Fatalf("revoked app session: %v", err)
	}
	for _, ev := range s.auditEvents(t) {
		if ev.EventName == "RevokeRoleSessions" && ev.ErrorCode == "" && ev.UserIdentity.Arn == s.State.AdminKeys[0].Arn {
			goto audited
		}
	}
	t.Fatal("RevokeRoleSessions is not in the audit log")
audited:

	// Sessions issued after the revocation work.
	s.now.Add(2 * time.Second)
	fresh, status, body := s.createSession(t, f, "node-1", nodeRoleArn, "node-1")
	if status != 201 {
		t.Fatalf("fresh session: %d %s", status, body)
	}
	if _, err := s.stsClient(fresh).GetCallerIdentity(ctx, nil); err != nil {
		t.Fatalf("fresh session: %v", err)
	}
}

// iamRaw sends a signed IAM Query request (for iamra's extension
// operations, which SDKs do not model).
func (s *iamServer) iamRaw(t testing.TB, c aws.Credentials, form url.Values) (int, string) {
	t.Helper()
	form.Set("Version", "2010-05-08")
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), c, req, hex.EncodeToString(sum[:]), "iam", "us-east-1", s.now.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := ioCopy(&b, resp); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b.String()
}

// Authentication failures in STS's codes, through the AWS SDK.
func TestSTSAuthenticationErrors(t *testing.T) {
	s := startIAMServer(t)
	ctx := context.Background()
	f := s.seedAnchor(t, []string{"arn:aws:iam::123456789012:role/open"}, false)
	if _, err := s.iamClient(s.adminCreds()).CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("open"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`)}); err != nil {
		t.Fatal(err)
	}
	good, status, body := s.createSession(t, f, "workload", "arn:aws:iam::123456789012:role/open", "")
	if status != 201 {
		t.Fatalf("%d %s", status, body)
	}
	wrongSecret := good
	// A different first character, whatever the secret starts with.
	first := "x"
	if good.SecretAccessKey[0] == 'x' {
		first = "y"
	}
	wrongSecret.SecretAccessKey = first + good.SecretAccessKey[1:]
	badToken := good
	badToken.SessionToken = good.SessionToken[:40] + strings.Repeat("A", len(good.SessionToken)-44) + good.SessionToken[len(good.SessionToken)-4:]
	unknownAdmin := aws.Credentials{AccessKeyID: "AKIAUNKNOWNUNKNOWN00", SecretAccessKey: "secret"}
	tests := []struct {
		name    string
		creds   aws.Credentials
		advance time.Duration
		code    string
		message string
	}{
		{"wrong secret", wrongSecret, 0, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."},
		{"altered token", badToken, 0, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"unknown admin key", unknownAdmin, 0, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"expired", good, 901 * time.Second, "ExpiredToken", "The security token included in the request is expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.now.Add(tc.advance)
			defer s.now.Add(-tc.advance)
			_, err := s.stsClient(tc.creds).GetCallerIdentity(ctx, nil)
			if code, msg := apiError(t, err); code != tc.code || msg != tc.message {
				t.Fatalf("got %s: %s", code, msg)
			}
		})
	}
	// The admin key is a principal too.
	id, err := s.stsClient(s.adminCreds()).GetCallerIdentity(ctx, nil)
	if err != nil || aws.ToString(id.Arn) != s.State.AdminKeys[0].Arn || !strings.HasPrefix(aws.ToString(id.UserId), "AIDA") {
		t.Fatalf("admin identity %v %v", id, err)
	}
	// GetCallerIdentity as JSON, the way aws-iam-authenticator asks.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	sum := sha256.Sum256([]byte("Action=GetCallerIdentity&Version=2011-06-15"))
	if err := v4.NewSigner().SignHTTP(ctx, good, req, hex.EncodeToString(sum[:]), "sts", "us-east-1", s.now.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	ioCopy(&b, resp)
	resp.Body.Close()
	want := fmt.Sprintf(`{"GetCallerIdentityResponse":{"GetCallerIdentityResult":{"Arn":"arn:aws:sts::123456789012:assumed-role/open/`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || !strings.HasPrefix(b.String(), want) ||
		!strings.Contains(b.String(), `"ResponseMetadata":{"RequestId":"`+resp.Header.Get("x-amzn-RequestId")+`"}`) {
		t.Fatalf("JSON GetCallerIdentity: %d %s", resp.StatusCode, b.String())
	}
}
