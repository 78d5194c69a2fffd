package iam

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/store/sqlite"
)

var (
	testScope = arn.Scope{Partition: "aws", Region: "us-east-1", AccountID: "111122223333"}
	testNow   = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

const (
	raTrust   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`
	s3Read    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`
	s3Deny    = `{"Version":"2012-10-17","Statement":[{"Sid":"NoSecrets","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::secrets/*"}]}`
	eksAccess = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"eks:DescribeCluster","Resource":"*"}]}`
)

func newStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "iam.db"), sqlite.Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newService(t testing.TB) (*Service, *Directory) {
	st := newStore(t)
	d := NewDirectory(st)
	return New(Config{Store: st, Scope: testScope, Now: func() time.Time { return testNow }, Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 1<<16)), Directory: d}), d
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	e := awserr.As(err)
	return e.Code + " " + itoa(e.Status) + ": " + e.Message
}

func itoa(n int) string {
	b := []byte{}
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func TestRoleLifecycle(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	r, err := s.CreateRole(ctx, CreateRoleInput{RoleName: "Node", Path: "/eks/hybrid/", AssumeRolePolicyDocument: raTrust,
		Tags: []Tag{{Key: "team", Value: "blue"}}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Arn != "arn:aws:iam::111122223333:role/eks/hybrid/Node" || r.RoleID != "AROAA4DQOBYHA4DQOBYHA" || r.MaxSessionDuration != 3600 ||
		!r.CreateDate.Equal(testNow) {
		t.Fatalf("created %+v", r)
	}
	// IAM names are case-insensitive.
	if got, err := s.GetRole(ctx, "node"); err != nil || got.Arn != r.Arn {
		t.Fatalf("GetRole(node) = %v, %v", got.Arn, err)
	}
	desc := "hybrid nodes"
	max := int64(43200)
	if err := s.UpdateRole(ctx, UpdateRoleInput{RoleName: "Node", Description: &desc, MaxSessionDuration: &max}); err != nil {
		t.Fatal(err)
	}
	if err := s.TagRole(ctx, "Node", []Tag{{Key: "TEAM", Value: "red"}, {Key: "env", Value: "prod"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.UntagRole(ctx, "Node", []string{"ENV", "absent"}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetRole(ctx, "Node")
	if got.Description != desc || got.MaxSessionDuration != 43200 || len(got.Tags) != 1 || got.Tags[0] != (Tag{"TEAM", "red"}) {
		t.Fatalf("after updates %+v", got)
	}
	if err := s.PutRolePolicy(ctx, "Node", "read", s3Read); err != nil {
		t.Fatal(err)
	}
	mp, err := s.CreatePolicy(ctx, CreatePolicyInput{PolicyName: "Eks", Path: "/ops/", PolicyDocument: eksAccess})
	if err != nil {
		t.Fatal(err)
	}
	if mp.Arn != "arn:aws:iam::111122223333:policy/ops/Eks" || !strings.HasPrefix(mp.PolicyID, "ANPA") || mp.DefaultVersionID != "v1" {
		t.Fatalf("policy %+v", mp)
	}
	if err := s.AttachRolePolicy(ctx, "Node", mp.Arn); err != nil {
		t.Fatal(err)
	}
	if err := s.AttachRolePolicy(ctx, "Node", mp.Arn); err != nil {
		t.Fatalf("second attach: %v", err)
	}
	if p, _ := s.GetPolicy(ctx, mp.Arn); p.AttachmentCount != 1 {
		t.Fatalf("attachment count %d", p.AttachmentCount)
	}
	at, _ := s.ListAttachedRolePolicies(ctx, "Node", "/ops/", "", 0)
	if len(at.Items) != 1 || at.Items[0].PolicyName != "Eks" {
		t.Fatalf("attached %+v", at)
	}
	if at, _ := s.ListAttachedRolePolicies(ctx, "Node", "/other/", "", 0); len(at.Items) != 0 {
		t.Fatalf("path filter %+v", at)
	}

	// Deletion is refused while anything is attached, in AWS's order.
	wantErr(t, s.DeleteRole(ctx, "Node"), "DeleteConflict 409: Cannot delete entity, must detach all policies first.")
	wantErr(t, s.DeletePolicy(ctx, mp.Arn), "DeleteConflict 409: Cannot delete a policy attached to entities.")
	if err := s.DetachRolePolicy(ctx, "Node", mp.Arn); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DetachRolePolicy(ctx, "Node", mp.Arn), "NoSuchEntity 404: Policy arn:aws:iam::111122223333:policy/ops/Eks was not found.")
	wantErr(t, s.DeleteRole(ctx, "Node"), "DeleteConflict 409: Cannot delete entity, must delete policies first.")
	if err := s.DeleteRolePolicy(ctx, "Node", "read"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRole(ctx, "Node"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePolicy(ctx, mp.Arn); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteRole(ctx, "Node"), "NoSuchEntity 404: The role with name Node cannot be found.")
}

func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if got := errString(err); got != want {
		t.Errorf("error %q\n     want %q", got, want)
	}
}

func TestServiceErrors(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	if _, err := s.CreateRole(ctx, CreateRoleInput{RoleName: "r", AssumeRolePolicyDocument: raTrust}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreatePolicy(ctx, CreatePolicyInput{PolicyName: "p", PolicyDocument: s3Read}); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a", 65)
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalTag/x":"` + strings.Repeat("x", 2000) + `"}}}]}`
	bigInline := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 10200) + `"}]}`
	i := int64(100)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"duplicate role", second(s.CreateRole(ctx, CreateRoleInput{RoleName: "R", AssumeRolePolicyDocument: raTrust})),
			"EntityAlreadyExists 409: Role with name R already exists."},
		{"missing members", second(s.CreateRole(ctx, CreateRoleInput{})),
			"ValidationError 400: 2 validation errors detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null; Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null"},
		{"bad name and path", second(s.CreateRole(ctx, CreateRoleInput{RoleName: "a b", Path: "nopath", AssumeRolePolicyDocument: raTrust})),
			`ValidationError 400: 2 validation errors detected: Value 'a b' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+; Value 'nopath' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`},
		{"long name", second(s.CreateRole(ctx, CreateRoleInput{RoleName: long, AssumeRolePolicyDocument: raTrust})),
			"ValidationError 400: 1 validation error detected: Value '" + long + "' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{"session duration", s.UpdateRole(ctx, UpdateRoleInput{RoleName: "r", MaxSessionDuration: &i}),
			"ValidationError 400: 1 validation error detected: Value '100' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"},
		{"trust policy with a resource", second(s.CreateRole(ctx, CreateRoleInput{RoleName: "x", AssumeRolePolicyDocument: s3Read})),
			"MalformedPolicyDocument 400: Missing required field Principal"},
		{"trust policy too large", s.UpdateAssumeRolePolicy(ctx, "r", big),
			"LimitExceeded 409: Cannot exceed quota for ACLSizePerRole: 2048"},
		{"identity policy with a principal", s.PutRolePolicy(ctx, "r", "p", raTrust),
			"MalformedPolicyDocument 400: Policy document should not specify a principal."},
		{"inline policies too large", s.PutRolePolicy(ctx, "r", "big", bigInline),
			"LimitExceeded 409: Maximum policy size of 10240 bytes exceeded for role r"},
		{"no such inline policy", second(third(s.GetRolePolicy(ctx, "r", "nope"))),
			"NoSuchEntity 404: The role policy with name nope cannot be found."},
		{"duplicate tag keys", s.TagRole(ctx, "r", []Tag{{Key: "a", Value: "1"}, {Key: "A", Value: "2"}}),
			"InvalidInput 400: Duplicate tag keys found. Please note that Tag keys are case insensitive."},
		{"bad tag key", s.TagRole(ctx, "r", []Tag{{Key: "a{b}", Value: "1"}}),
			`ValidationError 400: 1 validation error detected: Value 'a{b}' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`},
		{"duplicate policy", second(s.CreatePolicy(ctx, CreatePolicyInput{PolicyName: "P", Path: "/x/", PolicyDocument: s3Read})),
			"EntityAlreadyExists 409: A policy called P already exists. Duplicate names are not allowed."},
		{"policy of another account", s.AttachRolePolicy(ctx, "r", "arn:aws:iam::999999999999:policy/p"),
			"NoSuchEntity 404: Policy arn:aws:iam::999999999999:policy/p does not exist or is not attachable."},
		{"AWS managed policy", s.AttachRolePolicy(ctx, "r", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
			"NoSuchEntity 404: Policy arn:aws:iam::aws:policy/ReadOnlyAccess does not exist or is not attachable."},
		{"policy ARN with the wrong path", second(s.GetPolicy(ctx, "arn:aws:iam::111122223333:policy/x/p")),
			"NoSuchEntity 404: Policy arn:aws:iam::111122223333:policy/x/p does not exist or is not attachable."},
		{"not a policy ARN", s.AttachRolePolicy(ctx, "r", "arn:aws:iam::111122223333:role/rrrrrrr"),
			"InvalidInput 400: ARN arn:aws:iam::111122223333:role/rrrrrrr is not valid."},
		{"bare policy resource", second(s.GetPolicy(ctx, "arn:aws:iam::111122223333:policy")),
			"InvalidInput 400: ARN arn:aws:iam::111122223333:policy is not valid."},
		{"no such version", second(third(s.GetPolicyVersion(ctx, "arn:aws:iam::111122223333:policy/p", "v2"))),
			"NoSuchEntity 404: Policy arn:aws:iam::111122223333:policy/p version v2 does not exist or is not attachable."},
		{"bad marker", second(s.ListRoles(ctx, "", "!!", 0)),
			"ValidationError 400: Invalid Marker."},
		{"max items", CheckMaxItems(1001),
			"ValidationError 400: 1 validation error detected: Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000"},
		{"permissions boundary", second(s.CreateRole(ctx, CreateRoleInput{RoleName: "b", AssumeRolePolicyDocument: raTrust, PermissionsBoundary: "arn:aws:iam::111122223333:policy/p"})),
			"InvalidInput 400: iamra does not support permissions boundaries."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.err, tc.want) })
	}
	for i := range 10 {
		name := "m" + itoa(i+1)
		mp, err := s.CreatePolicy(ctx, CreatePolicyInput{PolicyName: name, PolicyDocument: s3Read})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AttachRolePolicy(ctx, "r", mp.Arn); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, s.AttachRolePolicy(ctx, "r", "arn:aws:iam::111122223333:policy/p"), "LimitExceeded 409: Cannot exceed quota for PoliciesPerRole: 10")
}

func second[A any](_ A, err error) error { return err }

func third[A, B any](a A, b B, err error) (A, error) { return a, err }

func TestListPagination(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	for _, n := range []string{"c", "a", "e", "b", "d"} {
		path := "/"
		if n == "b" || n == "d" {
			path = "/team/"
		}
		if _, err := s.CreateRole(ctx, CreateRoleInput{RoleName: n, Path: path, AssumeRolePolicyDocument: raTrust}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	marker := ""
	for {
		p, err := s.ListRoles(ctx, "", marker, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Items {
			names = append(names, r.RoleName)
		}
		if !p.IsTruncated {
			break
		}
		marker = p.Marker
	}
	if strings.Join(names, ",") != "a,b,c,d,e" {
		t.Fatalf("paged %v", names)
	}
	p, _ := s.ListRoles(ctx, "/team/", "", 0)
	if len(p.Items) != 2 || p.Items[0].RoleName != "b" || p.IsTruncated {
		t.Fatalf("path prefix %+v", p)
	}
}
