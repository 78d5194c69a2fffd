package policy

import (
	"strings"
	"testing"
)

// reference_policies_elements_notprincipal.md: Deny with NotPrincipal
// listing the session, its role and its account.
const docNotPrincipalRole = `{
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Deny",
        "NotPrincipal": {"AWS": [
            "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app",
            "arn:aws:iam::444455556666:role/cross-account-read-only-role",
            "arn:aws:iam::444455556666:root"
        ]},
        "Action": "s3:*",
        "Resource": [
            "arn:aws:s3:::Bucket_AccountAudit",
            "arn:aws:s3:::Bucket_AccountAudit/*"
        ]
    }]
}`

// Same page, the user example, which lists only the user and the account.
const docNotPrincipalUser = `{
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Deny",
        "NotPrincipal": {"AWS": [
            "arn:aws:iam::444455556666:user/Bob",
            "arn:aws:iam::444455556666:root"
        ]},
        "Action": "s3:*",
        "Resource": [
            "arn:aws:s3:::BUCKETNAME",
            "arn:aws:s3:::BUCKETNAME/*"
        ]
    }]
}`

// reference_policies_elements_notaction.md: allow everything but IAM, and
// deny everything but IAM without MFA.
const docNotAction = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "NotAction": "iam:*",
      "Resource": "*"
    },
    {
      "Sid": "DenyAllUsersNotUsingMFA",
      "Effect": "Deny",
      "NotAction": "iam:*",
      "Resource": "*",
      "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
    }
  ]
}`

// reference_policies_elements_notresource.md: deny all S3 outside the
// payroll prefix.
const docNotResource = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": "arn:aws:s3:::HRBucket/*"
    },
    {
      "Effect": "Deny",
      "Action": "s3:*",
      "NotResource": [
        "arn:aws:s3:::HRBucket/Payroll",
        "arn:aws:s3:::HRBucket/Payroll/*"
      ]
    }
  ]
}`

func TestNotPrincipal(t *testing.T) {
	get := func(p Principal) Request {
		return Request{Principal: p, Action: "s3:GetObject", Resource: "arn:aws:s3:::Bucket_AccountAudit/report"}
	}
	session := Principal{AWS: "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app",
		Role: "arn:aws:iam::444455556666:role/cross-account-read-only-role"}
	runCases(t, docNotPrincipalRole, ResourceBased, []evalCase{
		// Not denied; nothing allows either.
		{"the audit session", get(session), ImplicitDeny, ""},
		{"another session of the role", get(Principal{AWS: "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/other",
			Role: "arn:aws:iam::444455556666:role/cross-account-read-only-role"}), Deny, "explicitly denied by Statement[0]"},
		{"another user of the account", get(Principal{AWS: "arn:aws:iam::444455556666:user/Alice"}), Deny, ""},
		{"another account", get(Principal{AWS: "arn:aws:iam::111122223333:root"}), Deny, ""},
		{"a service", get(Principal{Service: "s3.amazonaws.com"}), Deny, ""},
		{"anonymous", get(Principal{}), Deny, ""},
	})
	runCases(t, docNotPrincipalUser, ResourceBased, []evalCase{
		{"Bob", Request{Principal: Principal{AWS: "arn:aws:iam::444455556666:user/Bob"}, Action: "s3:GetObject", Resource: "arn:aws:s3:::BUCKETNAME/x"}, ImplicitDeny, ""},
		{"Alice", Request{Principal: Principal{AWS: "arn:aws:iam::444455556666:user/Alice"}, Action: "s3:GetObject", Resource: "arn:aws:s3:::BUCKETNAME/x"}, Deny, ""},
	})
	// Listing the user without the account denies the user: the account
	// identity is not excluded (the User Guide's warning).
	onlyUser := strings.Replace(docNotPrincipalUser, `,
            "arn:aws:iam::444455556666:root"`, "", 1)
	runCases(t, onlyUser, ResourceBased, []evalCase{
		{"Bob without his account", Request{Principal: Principal{AWS: "arn:aws:iam::444455556666:user/Bob"}, Action: "s3:GetObject", Resource: "arn:aws:s3:::BUCKETNAME/x"}, Deny, ""},
	})
}

func TestNotActionNotResource(t *testing.T) {
	runCases(t, docNotAction, Identity, []evalCase{
		{"S3 with MFA", idReq("s3:GetObject", "arn:aws:s3:::b/k", ctx("aws:MultiFactorAuthPresent", "true")), Allow, ""},
		{"S3 without MFA", idReq("s3:GetObject", "arn:aws:s3:::b/k", ctx("aws:MultiFactorAuthPresent", "false")), Deny, "DenyAllUsersNotUsingMFA"},
		{"S3 with long-term keys", idReq("s3:GetObject", "arn:aws:s3:::b/k", nil), Deny, "BoolIfExists"},
		{"IAM is not allowed", idReq("iam:CreateUser", "*", ctx("aws:MultiFactorAuthPresent", "true")), ImplicitDeny,
			"action iam:CreateUser is excluded by NotAction"},
		{"IAM without MFA is not denied", idReq("iam:ListUsers", "*", nil), ImplicitDeny, ""},
	})
	runCases(t, docNotResource, Identity, []evalCase{
		{"payroll", idReq("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/june.csv", nil), Allow, ""},
		{"payroll prefix itself", idReq("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll", nil), Allow, ""},
		{"elsewhere in the bucket", idReq("s3:GetObject", "arn:aws:s3:::HRBucket/Reviews/x", nil), Deny, "explicitly denied by Statement[1]"},
		{"other service", idReq("ec2:RunInstances", "arn:aws:ec2:::x", nil), ImplicitDeny, "action ec2:RunInstances is not in Action"},
		{"other bucket", idReq("s3:GetObject", "arn:aws:s3:::other/x", nil), Deny, ""},
	})
}

// TestExplicitDenyWins follows "Policy evaluation logic": a Deny in any
// policy overrides an Allow in any other, whatever the order.
func TestExplicitDenyWins(t *testing.T) {
	allow := mustParse(t, `{"Version":"2012-10-17","Statement":{"Sid":"AllowAll","Effect":"Allow","Action":"*","Resource":"*"}}`, Identity)
	allow.Name = "AdministratorAccess"
	deny := mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"DenyOutsideEU","Effect":"Deny","Action":"ec2:*","Resource":"*",
		 "Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-west-1","eu-central-1"]}}}]}`, Identity)
	deny.Name = "RegionGuard"

	req := idReq("ec2:RunInstances", "arn:aws:ec2:us-east-1:111122223333:instance/*", ctx("aws:RequestedRegion", "us-east-1"))
	for _, order := range [][]*Policy{{allow, deny}, {deny, allow}, {nil, allow, deny}} {
		d := Evaluate(req, order...)
		if d.Effect != Deny || d.Policy != "RegionGuard" || d.Statement != "DenyOutsideEU" ||
			d.Explanation != `explicitly denied by policy "RegionGuard" Statement[0] (Sid "DenyOutsideEU"): conditions held: StringNotEquals aws:RequestedRegion` {
			t.Fatalf("%+v", d)
		}
	}
	req.Context = ctx("aws:RequestedRegion", "eu-west-1")
	if d := Evaluate(req, deny, allow); d.Effect != Allow || d.Policy != "AdministratorAccess" || d.Statement != "AllowAll" ||
		d.Explanation != `allowed by policy "AdministratorAccess" Statement[0] (Sid "AllowAll")` {
		t.Fatalf("%+v", d)
	}
	// A missing key makes StringNotEquals true: the guard denies.
	req.Context = nil
	if d := Evaluate(req, allow, deny); d.Effect != Deny {
		t.Fatalf("%+v", d)
	}
	if d := Evaluate(req); d.Effect != ImplicitDeny || d.Explanation !=
		"no statement allows ec2:RunInstances on arn:aws:ec2:us-east-1:111122223333:instance/* for arn:aws:iam::111122223333:user/David: there is no applicable Allow statement" {
		t.Fatalf("no policies: %+v", d)
	}
}

func TestPrincipals(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[
		{"Sid":"Account","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole"},
		{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"},
		{"Sid":"Role","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::777788889999:role/path/Deployer"]},"Action":"sts:AssumeRole"},
		{"Sid":"Session","Effect":"Allow","Principal":{"AWS":"arn:aws:sts::777788889999:assumed-role/Ops/alice"},"Action":"sts:AssumeRole"},
		{"Sid":"Federated","Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/corp"},"Action":"sts:AssumeRoleWithSAML"},
		{"Sid":"Services","Effect":"Allow","Principal":{"Service":["ecs.amazonaws.com","elasticloadbalancing.amazonaws.com"]},"Action":"sts:AssumeRole"}
	]}`
	as := func(p Principal, action string) Request {
		return Request{Principal: p, Action: action, Resource: nodeRole}
	}
	runCases(t, doc, Trust, []evalCase{
		{"user in trusted account", as(Principal{AWS: "arn:aws:iam::111122223333:user/ci"}, assumeRole), Allow, "Account"},
		{"session in trusted account", as(Principal{AWS: "arn:aws:sts::111122223333:assumed-role/X/y", Role: "arn:aws:iam::111122223333:role/X"}, assumeRole), Allow, "Account"},
		{"bare account id", as(Principal{AWS: "111122223333"}, assumeRole), Allow, ""},
		{"root ARN is the account", as(Principal{AWS: "arn:aws:iam::444455556666:user/z"}, assumeRole), Allow, "Root"},
		{"role session by role ARN with path", as(Principal{AWS: "arn:aws:sts::777788889999:assumed-role/Deployer/run-42",
			Role: "arn:aws:iam::777788889999:role/path/Deployer"}, assumeRole), Allow, "Role"},
		{"role ARN itself", as(Principal{AWS: "arn:aws:iam::777788889999:role/path/Deployer"}, assumeRole), Allow, "Role"},
		{"named session", as(Principal{AWS: "arn:aws:sts::777788889999:assumed-role/Ops/alice"}, assumeRole), Allow, "Session"},
		{"other session of that role", as(Principal{AWS: "arn:aws:sts::777788889999:assumed-role/Ops/bob",
			Role: "arn:aws:iam::777788889999:role/Ops"}, assumeRole), ImplicitDeny, "is not named in Principal"},
		{"SAML", as(Principal{Federated: "arn:aws:iam::111122223333:saml-provider/corp"}, "sts:AssumeRoleWithSAML"), Allow, "Federated"},
		{"service", as(Principal{Service: "elasticloadbalancing.amazonaws.com"}, assumeRole), Allow, "Services"},
		{"other service", as(Principal{Service: "rolesanywhere.amazonaws.com"}, assumeRole), ImplicitDeny, ""},
		{"anonymous", as(Principal{}, assumeRole), ImplicitDeny, "principal anonymous is not named in Principal"},
	})
	runCases(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`, Trust, []evalCase{
		{"star: service", as(Principal{Service: "rolesanywhere.amazonaws.com"}, assumeRole), Allow, ""},
		{"star: anonymous", as(Principal{}, assumeRole), Allow, ""},
	})
	runCases(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}}`, Trust, []evalCase{
		{"AWS star: any account", as(Principal{AWS: "arn:aws:iam::999999999999:user/x"}, assumeRole), Allow, ""},
		{"AWS star: anonymous", as(Principal{}, assumeRole), Allow, ""},
		// Conservative reading: {"AWS":"*"} names AWS principals, not services.
		{"AWS star: service", as(Principal{Service: "rolesanywhere.amazonaws.com"}, assumeRole), ImplicitDeny, ""},
	})
}

// TestResourceWildcards pins the User Guide's ARN wildcard rules for the
// Resource element.
func TestResourceWildcards(t *testing.T) {
	checkPatterns(t, "Resource", []patternCase{
		{"*", "arn:aws:s3:::anything", true},
		{"arn:aws:iam::111122223333:user/accounting/*", "arn:aws:iam::111122223333:user/accounting/alice", true},
		{"arn:aws:iam::111122223333:user/accounting/*", "arn:aws:iam::111122223333:user/it/alice", false},
		{"arn:aws:s3:::amzn-s3-demo-bucket/*", "arn:aws:s3:::amzn-s3-demo-bucket/a/b/c.txt", true},
		// * within a segment does not cross a colon ...
		{"arn:aws:s3:::amzn-*-bucket", "arn:aws:s3:::amzn-s3-demo-bucket", true},
		{"arn:aws:sqs:us-*-1:111122223333:q", "arn:aws:sqs:us-east-1:111122223333:q", true},
		{"arn:aws:sqs:u*1:111122223333:q", "arn:aws:sqs:us:east:1:111122223333:q", false},
		// ... unless it ends the segment: then it may run across colons.
		{"arn:aws:sqs:*:111122223333:q", "arn:aws:sqs:us-east-1:111122223333:q", true},
		{"arn:aws:sqs:*:111122223333:q", "arn:aws:sqs:us-east-1:999:111122223333:q", true},
		{"arn:aws:iam::*", "arn:aws:iam::111122223333:role/x", true},
		{"arn:aws:*", "arn:aws:s3:::b", true},
		// ? is one character, not a colon, before the resource part.
		{"arn:aws:sqs:us-east-?:111122223333:q", "arn:aws:sqs:us-east-2:111122223333:q", true},
		{"arn:aws:sqs:us-east-?:111122223333:q", "arn:aws:sqs:us-east-12:111122223333:q", false},
		{"arn:aws:sqs:us-east?1:111122223333:q", "arn:aws:sqs:us-east:1:111122223333:q", false},
		// In the resource part colons are ordinary characters.
		{"arn:aws:logs:us-east-1:111122223333:log-group:app-*", "arn:aws:logs:us-east-1:111122223333:log-group:app-web:log-stream:x", true},
		{"arn:aws:logs:us-east-1:111122223333:log-group:a?c", "arn:aws:logs:us-east-1:111122223333:log-group:a:c", true},
		// Case-sensitive.
		{"arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/x", false},
		// Multibyte characters are one character for ?.
		{"arn:aws:s3:::b/caf?", "arn:aws:s3:::b/café", true},
		{"arn:aws:s3:::b/caf??", "arn:aws:s3:::b/café", false},
	})
}

// patternCase is a pattern for an Action or Resource element, a value to
// match against it, and whether it should.
type patternCase struct {
	pattern, value string
	want           bool
}

func checkPatterns(t *testing.T, element string, cases []patternCase) {
	t.Helper()
	for _, c := range cases {
		action, resource := "*", "*"
		req := idReq(c.value, "arn:x", nil)
		if element == "Resource" {
			resource = c.pattern
			req = idReq("s3:GetObject", c.value, nil)
		} else {
			action = c.pattern
		}
		doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":` + jsonString(action) + `,"Resource":` + jsonString(resource) + `}}`
		if got := mustParse(t, doc, Identity).Evaluate(req).Allowed(); got != c.want {
			t.Errorf("%s %q vs %q: %v, want %v", element, c.pattern, c.value, got, c.want)
		}
	}
}

// TestEvaluateSession follows "Session policies" in the IAM User Guide:
// effective permissions are the intersection of the role's identity
// policies and the session policies.
func TestEvaluateSession(t *testing.T) {
	role := mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"S3","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::logs/*"},
		{"Sid":"EKS","Effect":"Allow","Action":"eks:DescribeCluster","Resource":"*"}]}`, Identity)
	role.Name = "role-inline"
	session := mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"OwnPrefix","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::logs/${aws:PrincipalTag/x509Subject/CN}/*"},
		{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}`, Session)
	session.Name = "profile session policy"
	c := ctx("aws:PrincipalTag/x509Subject/CN", "node-1")
	req := func(action, res string) Request { return idReq(action, res, c) }

	d := EvaluateSession(req("s3:PutObject", "arn:aws:s3:::logs/node-1/today.log"), []*Policy{role}, []*Policy{session})
	if d.Effect != Allow || d.Policy != "role-inline" || d.Statement != "S3" ||
		d.Explanation != `allowed by policy "role-inline" Statement[0] (Sid "S3") and by session policy policy "profile session policy" Statement[0] (Sid "OwnPrefix")` {
		t.Fatalf("own prefix: %+v", d)
	}
	d = EvaluateSession(req("s3:PutObject", "arn:aws:s3:::logs/node-2/today.log"), []*Policy{role}, []*Policy{session})
	if d.Effect != ImplicitDeny || !strings.HasPrefix(d.Explanation, `policy "role-inline" Statement[0] (Sid "S3") allows it, but the session policies do not: `) {
		t.Fatalf("other prefix: %+v", d)
	}
	d = EvaluateSession(req("eks:DescribeCluster", "arn:aws:eks:us-east-1:111122223333:cluster/c"), []*Policy{role}, []*Policy{session})
	if d.Effect != ImplicitDeny {
		t.Fatalf("session policy does not grant EKS: %+v", d)
	}
	d = EvaluateSession(req("eks:DescribeCluster", "arn:aws:eks:us-east-1:111122223333:cluster/c"), []*Policy{role}, nil)
	if d.Effect != Allow || d.Statement != "EKS" {
		t.Fatalf("no session policy: %+v", d)
	}
	// The session policy cannot grant what the role lacks.
	d = EvaluateSession(req("s3:ListBucket", "arn:aws:s3:::logs/node-1/x"), []*Policy{role}, []*Policy{session})
	if d.Effect != ImplicitDeny || !strings.HasPrefix(d.Explanation, "identity policies: no statement allows s3:ListBucket") {
		t.Fatalf("beyond the role: %+v", d)
	}
	// An explicit deny in the session policy wins.
	d = EvaluateSession(req("s3:DeleteObject", "arn:aws:s3:::logs/node-1/x"), []*Policy{role}, []*Policy{session})
	if d.Effect != Deny || d.Statement != "NoDelete" || d.Policy != "profile session policy" {
		t.Fatalf("session deny: %+v", d)
	}
}

func TestActionWildcards(t *testing.T) {
	checkPatterns(t, "Action", []patternCase{
		{"*", "sts:AssumeRole", true},
		{"sts:*", "STS:AssumeRole", true},
		{"sts:Assume*", "sts:assumerolewithsaml", true},
		{"sts:AssumeRole", "sts:AssumeRoleWithSAML", false},
		{"iam:*AccessKey*", "iam:ListAccessKeys", true},
		{"iam:?etUser", "iam:GetUser", true},
		{"iam:?etUser", "iam:GetUsers", false},
		{"s3:Get*", "s3:PutObject", false},
	})
}

// TestContextKeyCase: keys are case-insensitive; an exact spelling wins
// over other spellings, and other spellings merge deterministically.
func TestContextKeyCase(t *testing.T) {
	m := map[string][]string{"aws:PrincipalTag/Team": {"blue"}, "aws:principaltag/team": {"red"}, "AWS:PRINCIPALTAG/TEAM": {"green"}}
	if got := lookup(m, "aws:principaltag/team"); len(got) != 1 || got[0] != "red" {
		t.Fatalf("exact: %v", got)
	}
	if got := strings.Join(lookup(m, "Aws:PrincipalTag/TEAM"), ","); got != "green,blue,red" {
		t.Fatalf("merged: %v", got)
	}
}

// TestExplanationBounds: an implicit deny explains at most maxMisses
// statements, and quotes request values only up to maxQuoted bytes.
func TestExplanationBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Version":"2012-10-17","Statement":[`)
	for i := range 10 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:username":"u"}}}`)
	}
	b.WriteString(`]}`)
	long := strings.Repeat("x", 300)
	d := mustParse(t, b.String(), Identity).Evaluate(idReq("s3:GetObject", "arn:aws:s3:::b/k", ctx("aws:username", long)))
	if d.Effect != ImplicitDeny || d.Statement != "Statement[0]" || !strings.HasSuffix(d.Explanation, "; and 2 more") ||
		strings.Count(d.Explanation, "Statement[") != maxMisses || !strings.Contains(d.Explanation, `"`+strings.Repeat("x", maxQuoted)+`"…`) {
		t.Fatalf("%+v", d)
	}
}
