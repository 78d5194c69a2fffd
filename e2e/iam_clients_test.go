package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/iamra/iamra/authz"
)

const openTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`

// The IAM API through the AWS SDK for Go v2: typed errors, pagination,
// URL-encoded documents, the simulator, and a session whose own policy
// lets it read IAM but not write it.
func TestIAMAPIWithSDK(t *testing.T) {
	s := startIAMServer(t)
	ctx := context.Background()
	c := s.iamClient(s.adminCreds())

	_, err := c.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("missing")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) || nse.ErrorMessage() != "The role with name missing cannot be found." {
		t.Fatalf("GetRole(missing): %v", err)
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 404 {
		t.Fatalf("status: %v", err)
	}
	for _, n := range []string{"r1", "r2", "r3"} {
		if _, err := c.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String(n), AssumeRolePolicyDocument: aws.String(openTrust),
			Path: aws.String("/svc/"), Tags: []iamtypes.Tag{{Key: aws.String("owner"), Value: aws.String(n)}}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("R1"), AssumeRolePolicyDocument: aws.String(openTrust)})
	var exists *iamtypes.EntityAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("duplicate: %v", err)
	}
	_, err = c.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17"}`)})
	var mal *iamtypes.MalformedPolicyDocumentException
	if !errors.As(err, &mal) || mal.ErrorMessage() != "Missing required field Statement" {
		t.Fatalf("malformed: %v", err)
	}
	_, err = c.UpdateRole(ctx, &awsiam.UpdateRoleInput{RoleName: aws.String("r1"), MaxSessionDuration: aws.Int32(50000)})
	if code, msg := apiError(t, err); code != "ValidationError" || !strings.Contains(msg, "Member must have value less than or equal to 43200") {
		t.Fatalf("UpdateRole: %s %s", code, msg)
	}

	// Pagination with the SDK's paginator.
	var names []string
	pg := awsiam.NewListRolesPaginator(c, &awsiam.ListRolesInput{PathPrefix: aws.String("/svc/"), MaxItems: aws.Int32(2)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Roles {
			names = append(names, aws.ToString(r.RoleName))
		}
	}
	if strings.Join(names, ",") != "r1,r2,r3" {
		t.Fatalf("ListRoles pages: %v", names)
	}
	tags, err := c.ListRoleTags(ctx, &awsiam.ListRoleTagsInput{RoleName: aws.String("r2")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "r2" {
		t.Fatalf("ListRoleTags %v %v", tags, err)
	}

	readIAM := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetRole","iam:ListRolePolicies"],"Resource":"arn:aws:iam::123456789012:role/svc/*"}]}`
	if _, err := c.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("r1"), PolicyName: aws.String("read-iam"), PolicyDocument: aws.String(readIAM)}); err != nil {
		t.Fatal(err)
	}
	gp, err := c.GetRolePolicy(ctx, &awsiam.GetRolePolicyInput{RoleName: aws.String("r1"), PolicyName: aws.String("read-iam")})
	if err != nil {
		t.Fatal(err)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(gp.PolicyDocument)); doc != readIAM || strings.Contains(aws.ToString(gp.PolicyDocument), `"`) {
		t.Fatalf("GetRolePolicy document %s", aws.ToString(gp.PolicyDocument))
	}
	cp, err := c.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("s3-read"), Path: aws.String("/data/"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::logs/*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cp.Policy.Arn) != "arn:aws:iam::123456789012:policy/data/s3-read" || !strings.HasPrefix(aws.ToString(cp.Policy.PolicyId), "ANPA") {
		t.Fatalf("CreatePolicy %+v", cp.Policy)
	}
	if _, err := c.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("r1"), PolicyArn: cp.Policy.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteRole(ctx, &awsiam.DeleteRoleInput{RoleName: aws.String("r1")})
	var conflict *iamtypes.DeleteConflictException
	if !errors.As(err, &conflict) || conflict.ErrorMessage() != "Cannot delete entity, must detach all policies first." {
		t.Fatalf("DeleteRole: %v", err)
	}
	v, err := c.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: cp.Policy.Arn, VersionId: aws.String("v1")})
	if err != nil || !v.PolicyVersion.IsDefaultVersion || !strings.HasPrefix(aws.ToString(v.PolicyVersion.Document), "%7B%22Version%22") {
		t.Fatalf("GetPolicyVersion %+v %v", v, err)
	}
	ap, err := c.ListAttachedRolePolicies(ctx, &awsiam.ListAttachedRolePoliciesInput{RoleName: aws.String("r1")})
	if err != nil || len(ap.AttachedPolicies) != 1 || aws.ToString(ap.AttachedPolicies[0].PolicyName) != "s3-read" {
		t.Fatalf("ListAttachedRolePolicies %+v %v", ap, err)
	}
	lp, err := c.ListPolicies(ctx, &awsiam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal, OnlyAttached: true})
	if err != nil || len(lp.Policies) != 1 || aws.ToInt32(lp.Policies[0].AttachmentCount) != 1 {
		t.Fatalf("ListPolicies %+v %v", lp, err)
	}

	sim, err := c.SimulatePrincipalPolicy(ctx, &awsiam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::123456789012:role/svc/r1"),
		ActionNames: []string{"s3:GetObject", "iam:GetRole", "iam:CreateRole"}, ResourceArns: []string{"arn:aws:s3:::logs/a", "arn:aws:iam::123456789012:role/svc/r2"},
		PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateRole","Resource":"*"}]}`}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range sim.EvaluationResults {
		src := ""
		if len(r.MatchedStatements) > 0 {
			src = aws.ToString(r.MatchedStatements[0].SourcePolicyId) + "/" + string(r.MatchedStatements[0].SourcePolicyType)
		}
		got[aws.ToString(r.EvalActionName)+" "+aws.ToString(r.EvalResourceName)] = string(r.EvalDecision) + " " + src
	}
	want := map[string]string{
		"s3:GetObject arn:aws:s3:::logs/a":                     "allowed arn:aws:iam::123456789012:policy/data/s3-read/user-managed",
		"s3:GetObject arn:aws:iam::123456789012:role/svc/r2":   "implicitDeny ",
		"iam:GetRole arn:aws:s3:::logs/a":                      "implicitDeny ",
		"iam:GetRole arn:aws:iam::123456789012:role/svc/r2":    "allowed read-iam/role",
		"iam:CreateRole arn:aws:s3:::logs/a":                   "explicitDeny PolicyInputList.1/none",
		"iam:CreateRole arn:aws:iam::123456789012:role/svc/r2": "explicitDeny PolicyInputList.1/none",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("simulate %s = %q, want %q", k, got[k], v)
		}
	}

	// A session of r1 may read IAM (its policy says so) but not write it.
	f := s.seedAnchor(t, []string{"arn:aws:iam::123456789012:role/svc/r1"}, false)
	sess, status, body := s.createSession(t, f, "reader", "arn:aws:iam::123456789012:role/svc/r1", "")
	if status != 201 {
		t.Fatalf("%d %s", status, body)
	}
	sc := s.iamClient(sess)
	if _, err := sc.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("r2")}); err != nil {
		t.Fatalf("session GetRole: %v", err)
	}
	_, err = sc.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("evil"), AssumeRolePolicyDocument: aws.String(openTrust)})
	if code, msg := apiError(t, err); code != "AccessDenied" || !strings.HasPrefix(msg, "User: arn:aws:sts::123456789012:assumed-role/r1/") ||
		!strings.HasSuffix(msg, " is not authorized to perform: iam:CreateRole on resource: arn:aws:iam::123456789012:role/evil") {
		t.Fatalf("session CreateRole: %s %s", code, msg)
	}
	var denied bool
	for _, ev := range s.auditEvents(t) {
		if ev.EventName == "CreateRole" && ev.ErrorCode == "AccessDenied" && ev.AdditionalEventData["reason"] == "authz.denied" {
			denied = true
		}
	}
	if !denied {
		t.Fatal("the refused CreateRole is not audited")
	}
}

// eksToken presigns GetCallerIdentity as `aws eks get-token` does.
func (s *iamServer) eksToken(t *testing.T, c aws.Credentials, cluster string) string {
	t.Helper()
	pc := awssts.NewPresignClient(s.stsClient(c))
	req, err := pc.PresignGetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{}, func(po *awssts.PresignOptions) {
		po.ClientOptions = append(po.ClientOptions, func(o *awssts.Options) {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("x-k8s-aws-id", cluster), smithyhttp.AddHeaderValue("X-Amz-Expires", "60"))
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return "k8s-aws-v1." + base64.RawURLEncoding.EncodeToString([]byte(req.URL))
}

func (s *iamServer) checkAuthz(t *testing.T, in authz.CheckRequest) (int, authz.CheckResponse, string) {
	t.Helper()
	b, _ := json.Marshal(in)
	resp, err := s.Client.Post(s.URL+authzPath, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	ioCopy(&sb, resp)
	var out authz.CheckResponse
	if resp.StatusCode == 200 {
		if err := json.Unmarshal([]byte(sb.String()), &out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, out, sb.String()
}

// An EKS-style token made with the SDK's presigner from CreateSession
// credentials verifies at the authz endpoint, which names the principal
// and answers for the session's policy; so does the AWS CLI's own
// `eks get-token` where the CLI can point STS at iamra.
func TestEKSTokenAtAuthzEndpoint(t *testing.T) {
	s := startIAMServer(t)
	ctx := context.Background()
	roleArn := "arn:aws:iam::123456789012:role/hybrid"
	f := s.seedAnchor(t, []string{roleArn}, true)
	c := s.iamClient(s.adminCreds())
	if _, err := c.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("hybrid"), AssumeRolePolicyDocument: aws.String(cnTrustPolicy(f.anchor))}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("hybrid"), PolicyName: aws.String("eks"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:DescribeCluster","Resource":"*","Condition":{"StringEquals":{"aws:SourceIdentity":"CN=node-7"}}}]}`)}); err != nil {
		t.Fatal(err)
	}
	node, status, body := s.createSession(t, f, "node-7", roleArn, "node-7")
	if status != 201 {
		t.Fatalf("%d %s", status, body)
	}
	tok := s.eksToken(t, node, "my-cluster")
	code, out, raw := s.checkAuthz(t, authz.CheckRequest{Token: tok, ClusterID: "my-cluster", Action: "eks:DescribeCluster",
		Resource: "arn:aws:eks:us-east-1:123456789012:cluster/my-cluster"})
	if code != 200 {
		t.Fatalf("%d %s", code, raw)
	}
	p := out.Principal
	if p.Arn != "arn:aws:sts::123456789012:assumed-role/hybrid/node-7" || p.RoleArn != roleArn || p.RoleName != "hybrid" || p.SessionName != "node-7" ||
		p.SourceIdentity != "CN=node-7" || p.Type != "AssumedRole" || len(p.Tags) == 0 || strings.Contains(raw, node.SecretAccessKey) {
		t.Fatalf("principal %s", raw)
	}
	if a := out.Authorization; a == nil || !a.Allowed || a.Decision != "Allow" {
		t.Fatalf("authorization %s", raw)
	}
	if _, out, _ := s.checkAuthz(t, authz.CheckRequest{Token: tok, ClusterID: "my-cluster", Action: "eks:DeleteCluster"}); out.Authorization.Allowed ||
		out.Authorization.Decision != "ImplicitDeny" {
		t.Fatalf("DeleteCluster %+v", out.Authorization)
	}
	// The token is bound to its cluster.
	if code, _, raw := s.checkAuthz(t, authz.CheckRequest{Token: tok, ClusterID: "other"}); code != 403 || !strings.Contains(raw, "InvalidSignatureException") {
		t.Fatalf("other cluster: %d %s", code, raw)
	}
	// The token URL also works against STS itself, as aws-iam-authenticator
	// uses it: GET with the cluster header and Accept: application/json.
	u, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, authz.TokenPrefix))
	req, _ := http.NewRequest(http.MethodGet, string(u), nil)
	req.Header.Set("x-k8s-aws-id", "my-cluster")
	req.Header.Set("Accept", "application/json")
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	ioCopy(&sb, resp)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(sb.String(), `"Arn":"arn:aws:sts::123456789012:assumed-role/hybrid/node-7"`) {
		t.Fatalf("STS with the token URL: %d %s", resp.StatusCode, sb.String())
	}
	// A signed request forwarded by a service verifies too.
	fwd, _ := http.NewRequest(http.MethodGet, "https://svc.example/things?x=1", nil)
	if err := (clockSigner{s.now}).SignHTTP(ctx, node, fwd, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "execute-api", "us-east-1", time.Time{}); err != nil {
		t.Fatal(err)
	}
	hdr := map[string][]string{"Host": {"svc.example"}}
	for k, v := range fwd.Header {
		hdr[k] = v
	}
	code, out, raw = s.checkAuthz(t, authz.CheckRequest{Request: &authz.SignedRequest{Method: "GET", URL: fwd.URL.String(), Headers: hdr},
		Action: "eks:DescribeCluster"})
	if code != 200 || out.Principal.SessionName != "node-7" || out.Principal.Service != "execute-api" || !out.Authorization.Allowed {
		t.Fatalf("forwarded request: %d %s", code, raw)
	}

	// `aws eks get-token` from AWS CLI v1, whose botocore honours
	// AWS_ENDPOINT_URL_STS (CLI v2 2.9 does not, so it is not tried).
	cli, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("no AWS CLI v1 on PATH")
	}
	if v, _ := exec.Command(cli, "--version").CombinedOutput(); !strings.HasPrefix(string(v), "aws-cli/1.") {
		t.Skip("aws on PATH is not CLI v1")
	}
	outJSON := s.awsCLI(t, cli, node, []string{"AWS_ENDPOINT_URL_STS=" + s.URL}, "eks", "get-token", "--cluster-name", "my-cluster")
	cliTok, _ := dig(outJSON, "status", "token").(string)
	if !strings.HasPrefix(cliTok, authz.TokenPrefix) {
		t.Fatalf("eks get-token: %v", outJSON)
	}
	if code, out, raw := s.checkAuthz(t, authz.CheckRequest{Token: cliTok, ClusterID: "my-cluster"}); code != 200 || out.Principal.SessionName != "node-7" {
		t.Fatalf("CLI token: %d %s", code, raw)
	}
}

// awsCLI runs an AWS CLI with the given credentials against the server.
func (s *iamServer) awsCLI(t *testing.T, bin string, c aws.Credentials, env []string, args ...string) map[string]any {
	t.Helper()
	return runAWSCLI(t, bin, s.URL, s.Dir.CABundle(), c, env, args...)
}

// AWS CLI v1 and v2 manage roles and use CreateSession credentials with
// STS.
func TestIAMAWSCLI(t *testing.T) {
	for version, bin := range awsCLIs(t) {
		t.Run(version, func(t *testing.T) {
			s := startIAMServer(t)
			admin := s.adminCreds()
			nodeArn := "arn:aws:iam::123456789012:role/cli/node"
			f := s.seedAnchor(t, []string{nodeArn}, false)
			dir := t.TempDir()
			trustFile := filepath.Join(dir, "trust.json")
			os.WriteFile(trustFile, []byte(openTrust), 0o600)

			r := s.awsCLI(t, bin, admin, nil, "iam", "create-role", "--role-name", "node", "--path", "/cli/",
				"--assume-role-policy-document", "file://"+trustFile, "--tags", "Key=team,Value=blue")
			if dig(r, "Role", "Arn") != nodeArn || dig(r, "Role", "AssumeRolePolicyDocument", "Statement") == nil {
				t.Fatalf("create-role: %v", r)
			}
			s.awsCLI(t, bin, admin, nil, "iam", "put-role-policy", "--role-name", "node", "--policy-name", "chain",
				"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)
			p := s.awsCLI(t, bin, admin, nil, "iam", "create-policy", "--policy-name", "logs",
				"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}`)
			policyArn, _ := dig(p, "Policy", "Arn").(string)
			s.awsCLI(t, bin, admin, nil, "iam", "attach-role-policy", "--role-name", "node", "--policy-arn", policyArn)
			gp := s.awsCLI(t, bin, admin, nil, "iam", "get-role-policy", "--role-name", "node", "--policy-name", "chain")
			if dig(gp, "PolicyDocument", "Statement") == nil { // the CLI decodes the document
				t.Fatalf("get-role-policy: %v", gp)
			}
			ap := s.awsCLI(t, bin, admin, nil, "iam", "list-attached-role-policies", "--role-name", "node")
			if items, _ := ap["AttachedPolicies"].([]any); len(items) != 1 {
				t.Fatalf("list-attached-role-policies: %v", ap)
			}
			s.awsCLI(t, bin, admin, nil, "iam", "create-role", "--role-name", "app",
				"--assume-role-policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+nodeArn+`"},"Action":["sts:AssumeRole","sts:SetSourceIdentity"]}]}`)

			node, status, body := s.createSession(t, f, "cli-node", nodeArn, "")
			if status != 201 {
				t.Fatalf("%d %s", status, body)
			}
			id := s.awsCLI(t, bin, node, nil, "sts", "get-caller-identity")
			if arn, _ := id["Arn"].(string); !strings.HasPrefix(arn, "arn:aws:sts::123456789012:assumed-role/node/") || id["Account"] != "123456789012" {
				t.Fatalf("get-caller-identity: %v", id)
			}
			ar := s.awsCLI(t, bin, node, nil, "sts", "assume-role", "--role-arn", "arn:aws:iam::123456789012:role/app", "--role-session-name", "cli-app")
			if dig(ar, "AssumedRoleUser", "Arn") != "arn:aws:sts::123456789012:assumed-role/app/cli-app" || dig(ar, "SourceIdentity") != "CN=cli-node" ||
				dig(ar, "Credentials", "SessionToken") == nil {
				t.Fatalf("assume-role: %v", ar)
			}
		})
	}
}

// boto3 (beside CLI v1 on the machine image) drives IAM and STS.
func TestIAMBoto3(t *testing.T) {
	if _, err := exec.Command("python3", "-c", "import boto3").CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("boto3 is missing")
		}
		t.Skip("no boto3")
	}
	s := startIAMServer(t)
	roleArn := "arn:aws:iam::123456789012:role/py"
	f := s.seedAnchor(t, []string{roleArn}, false)
	script := `
import boto3, json, sys
args = json.loads(sys.argv[1])
kw = dict(endpoint_url=args["url"], region_name="us-east-1", verify=args["ca"])
iam = boto3.client("iam", aws_access_key_id=args["ak"], aws_secret_access_key=args["sk"], **kw)
out = {}
r = iam.create_role(RoleName="py", AssumeRolePolicyDocument=args["trust"], MaxSessionDuration=7200)
out["arn"] = r["Role"]["Arn"]
out["trust_is_dict"] = isinstance(iam.get_role(RoleName="py")["Role"]["AssumeRolePolicyDocument"], dict)
iam.put_role_policy(RoleName="py", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
out["policies"] = iam.list_role_policies(RoleName="py")["PolicyNames"]
try:
    iam.get_role(RoleName="nope")
except iam.exceptions.NoSuchEntityException as e:
    out["error"] = e.response["Error"]["Code"] + ": " + e.response["Error"]["Message"]
print(json.dumps(out))
`
	c := s.adminCreds()
	args, _ := json.Marshal(map[string]string{"url": s.URL, "ca": s.Dir.CABundle(), "ak": c.AccessKeyID, "sk": c.SecretAccessKey, "trust": openTrust})
	got := runPython(t, script, string(args))
	if got["arn"] != roleArn || got["trust_is_dict"] != true || got["error"] != "NoSuchEntity: The role with name nope cannot be found." {
		t.Fatalf("boto3 IAM: %v", got)
	}
	if ps, _ := got["policies"].([]any); len(ps) != 1 || ps[0] != "p" {
		t.Fatalf("boto3 policies: %v", got)
	}
	sess, status, body := s.createSession(t, f, "py-workload", roleArn, "")
	if status != 201 {
		t.Fatalf("%d %s", status, body)
	}
	stsScript := `
import boto3, json, sys
args = json.loads(sys.argv[1])
sts = boto3.client("sts", endpoint_url=args["url"], region_name="us-east-1", verify=args["ca"],
    aws_access_key_id=args["ak"], aws_secret_access_key=args["sk"], aws_session_token=args["token"])
print(json.dumps(sts.get_caller_identity()["Arn"] and {"arn": sts.get_caller_identity()["Arn"]}))
`
	args, _ = json.Marshal(map[string]string{"url": s.URL, "ca": s.Dir.CABundle(), "ak": sess.AccessKeyID, "sk": sess.SecretAccessKey, "token": sess.SessionToken})
	got = runPython(t, stsScript, string(args))
	if arn, _ := got["arn"].(string); !strings.HasPrefix(arn, "arn:aws:sts::123456789012:assumed-role/py/") {
		t.Fatalf("boto3 STS: %v", got)
	}
}

func runPython(t *testing.T, script, arg string) map[string]any {
	t.Helper()
	cmd := exec.Command("python3", "-c", script, arg)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_EC2_METADATA_DISABLED=true")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	out := map[string]any{}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("python output %q: %v", stdout.String(), err)
	}
	return out
}
