package iam

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/credentials"
	"github.com/iamra/iamra/policy"
	"github.com/iamra/iamra/sts"
)

const (
	anchorArn = "arn:aws:rolesanywhere:us-east-1:111122223333:trust-anchor/0b2c1a3e-1111-2222-3333-444455556666"
	nodeArn   = "arn:aws:iam::111122223333:role/AmazonEKSHybridNodesRole"
)

// eksHybridTrust is the EKS Hybrid Nodes trust policy from the Amazon EKS
// User Guide ("Prepare credentials for hybrid nodes", IAM Roles Anywhere).
var eksHybridTrust = strings.ReplaceAll(`{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":["sts:TagSession","sts:SetSourceIdentity"],
  "Condition":{"ArnEquals":{"aws:SourceArn":"TA"}}},
 {"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":"sts:AssumeRole",
  "Condition":{"StringEquals":{"sts:RoleSessionName":"${aws:PrincipalTag/x509Subject/CN}"},"ArnEquals":{"aws:SourceArn":"TA"}}}]}`, "TA", anchorArn)

// createSessionInput is what CreateSession passes for a certificate with
// the given CN asking for a session name (createsession.md §7).
func createSessionInput(cn, sessionName string) sts.AssumeRoleInput {
	tags := []sts.Tag{{Key: "x509Subject/CN", Value: cn}, {Key: "x509Issuer/CN", Value: "Example Root"}}
	c := map[string][]string{
		"aws:SourceArn": {anchorArn}, "aws:SourceAccount": {"111122223333"},
		"sts:RoleSessionName": {sessionName}, "sts:SourceIdentity": {"CN=" + cn},
		"aws:CurrentTime": {testNow.Format(time.RFC3339)}, "aws:TagKeys": {"x509Subject/CN", "x509Issuer/CN"},
	}
	for _, t := range tags {
		c["aws:PrincipalTag/"+t.Key] = []string{t.Value}
		c["aws:RequestTag/"+t.Key] = []string{t.Value}
	}
	return sts.AssumeRoleInput{RoleArn: nodeArn, RoleSessionName: sessionName, Tags: tags, SourceIdentity: "CN=" + cn,
		Principal: sts.ServicePrincipal, Context: c}
}

func TestEvaluateTrust(t *testing.T) {
	role := func(doc string) *sts.Role { return &sts.Role{Arn: nodeArn, AssumeRolePolicyDocument: doc} }
	assumeOnly := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	noSourceIdentity := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
	otherAnchor := strings.ReplaceAll(eksHybridTrust, "0b2c1a3e", "99999999")
	tests := []struct {
		name    string
		doc     string
		in      sts.AssumeRoleInput
		message string
		reason  string
		detail  []string
	}{
		{name: "EKS hybrid node, session name is the CN", doc: eksHybridTrust, in: createSessionInput("mi-0123", "mi-0123")},
		{name: "EKS hybrid node, another session name", doc: eksHybridTrust, in: createSessionInput("mi-0123", "mi-9999"),
			message: "Not authorized to perform sts:AssumeRole on " + nodeArn, reason: "role.trust_denied",
			detail: []string{"trust policy of " + nodeArn + " does not allow service rolesanywhere.amazonaws.com to perform sts:AssumeRole",
				"Statement[1]", "StringEquals", "sts:RoleSessionName"}},
		{name: "another trust anchor", doc: otherAnchor, in: createSessionInput("mi-0123", "mi-0123"),
			message: "Not authorized to perform sts:AssumeRole on " + nodeArn, reason: "role.trust_denied",
			detail: []string{"ArnEquals", "aws:SourceArn"}},
		{name: "tags without sts:TagSession", doc: assumeOnly, in: createSessionInput("a", "a"),
			message: "Not authorized to perform sts:TagSession on " + nodeArn, reason: "role.trust_denied_tag_session",
			detail: []string{"sts:TagSession is not in Action"}},
		{name: "source identity without sts:SetSourceIdentity", doc: noSourceIdentity, in: createSessionInput("a", "a"),
			message: "Not authorized to perform sts:SetSourceIdentity on " + nodeArn, reason: "role.trust_denied_source_identity"},
		{name: "no tags, no source identity: AssumeRole alone", doc: assumeOnly,
			in: sts.AssumeRoleInput{RoleArn: nodeArn, Principal: sts.ServicePrincipal, Context: map[string][]string{}}},
		{name: "another service", doc: assumeOnly,
			in:      sts.AssumeRoleInput{RoleArn: nodeArn, Principal: "ec2.amazonaws.com", Context: map[string][]string{}},
			message: "Not authorized to perform sts:AssumeRole on " + nodeArn, reason: "role.trust_denied", detail: []string{"service ec2.amazonaws.com"}},
		{name: "trust policy that does not parse", doc: `{"Statement":`, in: createSessionInput("a", "a"),
			message: "Not authorized to perform sts:AssumeRole on " + nodeArn, reason: "role.trust_malformed"},
	}
	tr := NewTrust()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tr.EvaluateTrust(role(tc.doc), tc.in)
			if tc.message == "" {
				if err != nil {
					t.Fatalf("denied: %v", err)
				}
				return
			}
			e := awserr.As(err)
			if e.Code != "AccessDeniedException" || e.Status != 403 || e.Message != tc.message || e.Reason != tc.reason {
				t.Fatalf("got %v", err)
			}
			for _, d := range tc.detail {
				if !strings.Contains(e.Detail, d) {
					t.Errorf("detail %q lacks %q", e.Detail, d)
				}
			}
		})
	}
}

// Role chaining: a trust policy naming a role trusts its sessions.
func TestTrustCheckRoleSession(t *testing.T) {
	target := &sts.Role{Arn: "arn:aws:iam::111122223333:role/app",
		AssumeRolePolicyDocument: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/eks/node"},"Action":"sts:AssumeRole"}]}`}
	caller := policy.Principal{AWS: "arn:aws:sts::111122223333:assumed-role/node/s", Role: "arn:aws:iam::111122223333:role/eks/node"}
	if d := NewTrust().Check(target, caller, sts.AssumeRoleInput{}); d != nil {
		t.Fatalf("denied: %+v", d)
	}
	other := policy.Principal{AWS: "arn:aws:sts::111122223333:assumed-role/other/s", Role: "arn:aws:iam::111122223333:role/other"}
	if d := NewTrust().Check(target, other, sts.AssumeRoleInput{}); d == nil || d.Reason != "role.trust_denied" {
		t.Fatalf("other role: %+v", d)
	}
}

// session is a CreateSession session of role r issued at issued.
func session(r Role, issued time.Time, policyDoc string, policyArns ...string) *credentials.Session {
	return &credentials.Session{RoleArn: r.Arn, RoleID: r.RoleID, RoleSessionName: "s", SourceIdentity: "CN=node",
		Tags: []sts.Tag{{Key: "team", Value: "red"}}, SessionPolicy: policyDoc, PolicyArns: policyArns,
		IssuedAt: issued, Expiration: issued.Add(time.Hour)}
}

func TestEvaluateSession(t *testing.T) {
	s, d := newService(t)
	ctx := context.Background()
	r, err := s.CreateRole(ctx, CreateRoleInput{RoleName: "node", AssumeRolePolicyDocument: raTrust, Tags: []Tag{{Key: "team", Value: "blue"}, {Key: "env", Value: "prod"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutRolePolicy(ctx, "node", "read", s3Read); err != nil {
		t.Fatal(err)
	}
	// Principal tags: the session's team=red replaces the role's team=blue.
	if err := s.PutRolePolicy(ctx, "node", "tagged", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:StartInstances","Resource":"arn:aws:ec2:*:*:instance/${aws:PrincipalTag/team}-${aws:PrincipalTag/env}"}]}`); err != nil {
		t.Fatal(err)
	}
	eks, _ := s.CreatePolicy(ctx, CreatePolicyInput{PolicyName: "eks", PolicyDocument: eksAccess})
	deny, _ := s.CreatePolicy(ctx, CreatePolicyInput{PolicyName: "deny", PolicyDocument: s3Deny})
	for _, a := range []string{eks.Arn, deny.Arn} {
		if err := s.AttachRolePolicy(ctx, "node", a); err != nil {
			t.Fatal(err)
		}
	}
	onlyGet := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	tests := []struct {
		name     string
		sess     *credentials.Session
		action   string
		resource string
		effect   policy.Effect
		explain  string
	}{
		{"inline allows", session(r, testNow, ""), "s3:ListBucket", "arn:aws:s3:::logs", policy.Allow, `policy "read"`},
		{"attached allows", session(r, testNow, ""), "eks:DescribeCluster", "arn:aws:eks:us-east-1:111122223333:cluster/c", policy.Allow, eks.Arn},
		{"attached explicit deny wins", session(r, testNow, ""), "s3:GetObject", "arn:aws:s3:::secrets/k", policy.Deny, "NoSecrets"},
		{"nothing allows", session(r, testNow, ""), "iam:CreateRole", "*", policy.ImplicitDeny, "no statement allows iam:CreateRole"},
		{"session policy narrows", session(r, testNow, onlyGet), "s3:ListBucket", "arn:aws:s3:::logs", policy.ImplicitDeny, "session policies do not"},
		{"session policy and role agree", session(r, testNow, onlyGet), "s3:GetObject", "arn:aws:s3:::logs/x", policy.Allow, "session policy"},
		{"session policy ARN narrows", session(r, testNow, "", eks.Arn), "s3:ListBucket", "arn:aws:s3:::logs", policy.ImplicitDeny, ""},
		{"session policy ARN allows", session(r, testNow, "", eks.Arn), "eks:DescribeCluster", "*", policy.Allow, ""},
		{"unknown session policy ARN grants nothing", session(r, testNow, "", "arn:aws:iam::aws:policy/ReadOnlyAccess"), "s3:ListBucket", "arn:aws:s3:::logs", policy.ImplicitDeny, "not found in iamra"},
		{"principal tag variables", session(r, testNow, ""), "ec2:StartInstances", "arn:aws:ec2:us-east-1:111122223333:instance/red-prod", policy.Allow, `"tagged"`},
		{"role tag overridden by session tag", session(r, testNow, ""), "ec2:StartInstances", "arn:aws:ec2:us-east-1:111122223333:instance/blue-prod", policy.ImplicitDeny, ""},
		{"unknown role", &credentials.Session{RoleArn: "arn:aws:iam::111122223333:role/gone", RoleSessionName: "s", IssuedAt: testNow}, "s3:ListBucket", "*", policy.Deny, "no longer exists"},
		{"recreated role", &credentials.Session{RoleArn: r.Arn, RoleID: "AROAOLDOLDOLDOLDOLDOL", RoleSessionName: "s", IssuedAt: testNow}, "s3:ListBucket", "*", policy.Deny, "deleted and created again"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dec, err := d.EvaluateSession(ctx, SessionRequest{Session: tc.sess, Action: tc.action, Resource: tc.resource, Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			if dec.Effect != tc.effect || !strings.Contains(dec.Explanation, tc.explain) {
				t.Fatalf("%s: %s", dec.Effect, dec.Explanation)
			}
		})
	}

	// Revocation by NotBefore: in force as soon as RevokeSessions returns.
	old := session(r, testNow, "")
	if err := d.CheckSession(ctx, old, "sts:GetCallerIdentity", testNow); err != nil {
		t.Fatal(err)
	}
	rr, err := s.RevokeSessions(ctx, "node", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !rr.NotBefore.Equal(testNow.Add(time.Second)) {
		t.Fatalf("NotBefore %v", rr.NotBefore)
	}
	err = d.CheckSession(ctx, old, "sts:GetCallerIdentity", testNow)
	if e := awserr.As(err); e.Code != "AccessDenied" || e.Reason != "session.revoked" ||
		e.Message != "User: arn:aws:sts::111122223333:assumed-role/node/s is not authorized to perform: sts:GetCallerIdentity with an explicit deny in an identity-based policy" {
		t.Fatalf("revoked session: %v", err)
	}
	if dec, _ := d.EvaluateSession(ctx, SessionRequest{Session: old, Action: "s3:ListBucket", Resource: "*", Now: testNow}); dec.Effect != policy.Deny {
		t.Fatalf("revoked session allowed: %+v", dec)
	}
	if err := d.CheckSession(ctx, session(r, testNow.Add(time.Second), ""), "sts:GetCallerIdentity", testNow); err != nil {
		t.Fatalf("session issued at NotBefore: %v", err)
	}
	// Revoking again with an earlier time does not move NotBefore back.
	if rr, _ := s.RevokeSessions(ctx, "node", testNow.Add(-time.Hour)); !rr.NotBefore.Equal(testNow.Add(time.Second)) {
		t.Fatalf("NotBefore moved back to %v", rr.NotBefore)
	}

	// Revocation the console's way: a Deny for aws:TokenIssueTime before T.
	later := testNow.Add(time.Minute)
	if err := s.PutRolePolicy(ctx, "node", RevokeOlderSessions, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"`+later.Format(time.RFC3339)+`"}}}]}`); err != nil {
		t.Fatal(err)
	}
	mid := session(r, testNow.Add(30*time.Second), "")
	err = d.CheckSession(ctx, mid, "sts:GetCallerIdentity", later)
	if e := awserr.As(err); e.Reason != "session.denied" || !strings.Contains(e.Detail, "aws:TokenIssueTime") {
		t.Fatalf("console revocation: %v", err)
	}
	if err := d.CheckSession(ctx, session(r, later, ""), "sts:GetCallerIdentity", later); err != nil {
		t.Fatalf("session after console revocation: %v", err)
	}
}

// The context keys a session's policies see.
func TestSessionContext(t *testing.T) {
	r := &Role{Tags: []Tag{{Key: "Team", Value: "blue"}, {Key: "env", Value: "prod"}}}
	s := &credentials.Session{RoleArn: "arn:aws:iam::111122223333:role/p/node", RoleID: "AROAXXXXXXXXXXXXXXXXX", RoleSessionName: "s",
		SourceIdentity: "CN=n", Tags: []sts.Tag{{Key: "team", Value: "red"}}, IssuedAt: testNow}
	c := SessionContext(s, r, testNow.Add(time.Minute), map[string][]string{
		"aws:SourceIp": {"10.0.0.1"}, "AWS:PrincipalArn": {"arn:aws:iam::999999999999:root"}, "aws:PrincipalTag/admin": {"true"},
	})
	want := map[string]string{
		"aws:PrincipalArn": "arn:aws:iam::111122223333:role/p/node", "aws:PrincipalAccount": "111122223333",
		"aws:PrincipalType": "AssumedRole", "aws:userid": "AROAXXXXXXXXXXXXXXXXX:s", "aws:SourceIdentity": "CN=n",
		"aws:TokenIssueTime": "2026-03-01T12:00:00Z", "aws:CurrentTime": "2026-03-01T12:01:00Z", "aws:EpochTime": "1772366460",
		"aws:PrincipalTag/team": "red", "aws:PrincipalTag/env": "prod", "aws:SourceIp": "10.0.0.1", "aws:PrincipalIsAWSService": "false",
	}
	if len(c) != len(want) {
		t.Errorf("context %v", c)
	}
	for k, v := range want {
		if len(c[k]) != 1 || c[k][0] != v {
			t.Errorf("%s = %v, want %s", k, c[k], v)
		}
	}
}
