package policy

import (
	"strings"
	"testing"
)

const (
	taARN      = "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/0b2c1a3e-1111-2222-3333-444455556666"
	otherTA    = "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/99999999-1111-2222-3333-444455556666"
	nodeRole   = "arn:aws:iam::111122223333:role/AmazonEKSHybridNodesRole"
	raService  = "rolesanywhere.amazonaws.com"
	assumeRole = "sts:AssumeRole"
)

// eksHybridTrust is the trust policy of the EKS Hybrid Nodes IAM role from
// the Amazon EKS User Guide, "Prepare credentials for hybrid nodes"
// (hybrid-nodes-creds), section "Steps for AWS IAM Roles Anywhere",
// with TRUST_ANCHOR_ARN filled in.
var eksHybridTrust = strings.ReplaceAll(`{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "Service": "rolesanywhere.amazonaws.com"
            },
            "Action": [
                "sts:TagSession",
                "sts:SetSourceIdentity"
            ],
            "Condition": {
                "ArnEquals": {
                    "aws:SourceArn": "TRUST_ANCHOR_ARN"
                }
            }
        },
        {
            "Effect": "Allow",
            "Principal": {
                "Service": "rolesanywhere.amazonaws.com"
            },
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {
                    "sts:RoleSessionName": "${aws:PrincipalTag/x509Subject/CN}"
                },
                "ArnEquals": {
                    "aws:SourceArn": "TRUST_ANCHOR_ARN"
                }
            }
        }
    ]
}`, "TRUST_ANCHOR_ARN", taARN)

// createSessionContext is the request context CreateSession builds for the
// internal AssumeRole (createsession.md §7).
func createSessionContext(cn, sessionName, sourceArn string) map[string][]string {
	ctx := map[string][]string{
		"aws:SourceArn":                  {sourceArn},
		"aws:SourceAccount":              {"111122223333"},
		"sts:RoleSessionName":            {sessionName},
		"sts:SourceIdentity":             {"CN=" + cn},
		"aws:CurrentTime":                {"2026-11-22T10:00:00Z"},
		"aws:EpochTime":                  {"1795341600"},
		"aws:PrincipalTag/x509Issuer/CN": {"Example Root CA"},
	}
	if cn != "" {
		ctx["aws:PrincipalTag/x509Subject/CN"] = []string{cn}
	}
	return ctx
}

func trustRequest(action string, ctx map[string][]string) Request {
	return Request{Principal: Principal{Service: raService}, Action: action, Resource: nodeRole, Context: ctx}
}

func mustParse(t testing.TB, doc string, kind Kind) *Policy {
	t.Helper()
	p, err := Parse(doc, kind)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return p
}

func TestEKSHybridNodesTrustPolicy(t *testing.T) {
	p := mustParse(t, eksHybridTrust, Trust)
	p.Name = "trust policy of " + nodeRole

	// nodeadm passes --role-session-name <nodeName>; the node name equals
	// the certificate CN, so all three actions CreateSession needs are allowed.
	ok := createSessionContext("node-1", "node-1", taARN)
	for _, action := range []string{"sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"} {
		d := p.Evaluate(trustRequest(action, ok))
		if !d.Allowed() {
			t.Fatalf("%s: %+v", action, d)
		}
	}
	d := p.Evaluate(trustRequest(assumeRole, ok))
	if d.Statement != "Statement[1]" || d.Policy != p.Name ||
		d.Explanation != `allowed by policy "trust policy of arn:aws:iam::111122223333:role/AmazonEKSHybridNodesRole" Statement[1]` {
		t.Fatalf("allow decision: %+v", d)
	}

	// A node asking for another node's name: the session name condition
	// fails and the explanation names it, with the variable's value.
	d = p.Evaluate(trustRequest(assumeRole, createSessionContext("node-1", "node-2", taARN)))
	want := `no statement allows sts:AssumeRole on arn:aws:iam::111122223333:role/AmazonEKSHybridNodesRole for service rolesanywhere.amazonaws.com: ` +
		`policy "trust policy of arn:aws:iam::111122223333:role/AmazonEKSHybridNodesRole" Statement[0]: action sts:AssumeRole is not in Action; ` +
		`policy "trust policy of arn:aws:iam::111122223333:role/AmazonEKSHybridNodesRole" Statement[1]: StringEquals sts:RoleSessionName: ` +
		`request value "node-2" does not match "${aws:PrincipalTag/x509Subject/CN}" (= "node-1")`
	if d.Effect != ImplicitDeny || d.Statement != "Statement[1]" || d.Explanation != want {
		t.Fatalf("mismatching session name:\n got %+v\nwant %s", d, want)
	}

	// A certificate from another trust anchor fails on aws:SourceArn.
	d = p.Evaluate(trustRequest(assumeRole, createSessionContext("node-1", "node-1", otherTA)))
	if d.Effect != ImplicitDeny || !strings.Contains(d.Explanation, `ArnEquals aws:SourceArn: request value "`+otherTA+`" does not match "`+taARN+`"`) {
		t.Fatalf("other trust anchor: %+v", d)
	}
	d = p.Evaluate(trustRequest("sts:TagSession", createSessionContext("node-1", "node-1", otherTA)))
	if d.Effect != ImplicitDeny || d.Statement != "Statement[0]" {
		t.Fatalf("TagSession from other trust anchor: %+v", d)
	}

	// A profile whose mapping drops the CN: the variable has no value and
	// the condition cannot hold.
	d = p.Evaluate(trustRequest(assumeRole, createSessionContext("", "node-1", taARN)))
	if d.Effect != ImplicitDeny || !strings.Contains(d.Explanation,
		`StringEquals sts:RoleSessionName: request value "node-1" does not match "${aws:PrincipalTag/x509Subject/CN}" (${aws:PrincipalTag/x509Subject/CN} has no value)`) {
		t.Fatalf("no CN tag: %+v", d)
	}

	// Another service principal is not trusted.
	req := trustRequest(assumeRole, ok)
	req.Principal = Principal{Service: "ec2.amazonaws.com"}
	d = p.Evaluate(req)
	if d.Effect != ImplicitDeny || d.Statement != "" ||
		!strings.Contains(d.Explanation, "principal service ec2.amazonaws.com is not named in Principal") {
		t.Fatalf("other service: %+v", d)
	}
}
