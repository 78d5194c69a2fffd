package rolesanywhere

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere/types"

	"github.com/iamra/iamra/subject"
)

func tagMap(tags []types.Tag) map[string]string {
	out := map[string]string{}
	for _, t := range tags {
		out[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return out
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ta := got(e.client.CreateTrustAnchor(ctx, &sdk.CreateTrustAnchorInput{Name: aws.String("ta"), Source: bundleSource(e.pki.Root("R").PEM()),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("infra")}, {Key: aws.String("env"), Value: aws.String("")}}})).ok(t).TrustAnchor
	taArn := aws.ToString(ta.TrustAnchorArn)

	tags := got(e.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: aws.String(taArn)})).ok(t).Tags
	if m := tagMap(tags); len(m) != 2 || m["team"] != "infra" || m["env"] != "" {
		t.Fatalf("tags on create: %v", m)
	}

	tagged := got(e.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(taArn),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("security")}, {Key: aws.String("owner"), Value: aws.String("bob@example.com")}}})).ok(t)
	if got := status(t, tagged.ResultMetadata); got != http.StatusCreated {
		t.Fatalf("TagResource status %d, want 201", got)
	}
	got(e.client.UntagResource(ctx, &sdk.UntagResourceInput{ResourceArn: aws.String(taArn), TagKeys: []string{"env", "absent"}})).ok(t)
	tags = got(e.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: aws.String(taArn)})).ok(t).Tags
	if m := tagMap(tags); len(m) != 2 || m["team"] != "security" || m["owner"] != "bob@example.com" {
		t.Fatalf("tags after Tag/Untag: %v", m)
	}

	// Profiles and CRLs carry tags too; an untagged resource lists none.
	p := got(e.client.CreateProfile(ctx, &sdk.CreateProfileInput{Name: aws.String("p"), RoleArns: []string{roleArn}})).ok(t).Profile
	if tags := got(e.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: p.ProfileArn})).ok(t).Tags; tags == nil || len(tags) != 0 {
		t.Fatalf("untagged profile lists %v", tags)
	}
	crl := got(e.client.ImportCrl(ctx, &sdk.ImportCrlInput{Name: aws.String("c"), CrlData: e.pki.CRL(e.pki.Root("R")).Raw,
		TrustAnchorArn: aws.String(taArn), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})).ok(t).Crl
	if m := tagMap(got(e.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: crl.CrlArn})).ok(t).Tags); m["k"] != "v" {
		t.Fatalf("CRL tags %v", m)
	}

	many := make([]types.Tag, 199)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
	}
	_, err := e.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(taArn), Tags: many})
	wantAPIError[*types.TooManyTagsException](t, err, "A resource can have at most 200 tags")
	got(e.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(taArn), Tags: many[:198]})).ok(t)

	_, err = e.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(taArn),
		Tags: []types.Tag{{Key: aws.String("bad,key"), Value: aws.String("v")}}})
	wantAPIError[*types.ValidationException](t, err,
		"1 validation error detected: Value 'bad,key' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[ a-zA-Z0-9_.:/=+@-]*$")

	other := "arn:aws:rolesanywhere:eu-west-1:123456789012:trust-anchor/" + aws.ToString(ta.TrustAnchorId)
	_, err = e.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: aws.String(other)})
	wantAPIError[*types.ResourceNotFoundException](t, err, "Resource not found")
	_, err = e.client.UntagResource(ctx, &sdk.UntagResourceInput{ResourceArn: aws.String("arn:aws:rolesanywhere:us-east-1:123456789012:profile/00000000-0000-4000-8000-000000000000"), TagKeys: []string{"a"}})
	wantAPIError[*types.ResourceNotFoundException](t, err, "Resource not found")
	_, err = e.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String("arn:aws:iam::123456789012:role/app"), Tags: []types.Tag{}})
	wantAPIError[*types.ValidationException](t, err, "Invalid resourceArn: arn:aws:iam::123456789012:role/app")
}

func TestSubjects(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	root := e.pki.Root("Subject Root")
	rec := subject.New(e.st, testScope, subject.Options{})
	leaf := e.pki.Leaf(root, "workload-1")
	subjectArn := rec.Observe(subject.Observation{Leaf: leaf.Cert, At: e.start, InstanceProperties: map[string]string{"host": "a"}})
	rec.Observe(subject.Observation{Leaf: e.pki.Leaf(root, "workload-2").Cert, At: e.start, Failed: true})
	if err := rec.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	list := got(e.client.ListSubjects(ctx, &sdk.ListSubjectsInput{})).ok(t)
	if len(list.Subjects) != 2 || list.NextToken != nil {
		t.Fatalf("ListSubjects: %+v", list.Subjects)
	}
	id := subject.ID(subject.DN(leaf.Cert))
	s := got(e.client.GetSubject(ctx, &sdk.GetSubjectInput{SubjectId: aws.String(id)})).ok(t).Subject
	if aws.ToString(s.SubjectArn) != subjectArn || aws.ToString(s.X509Subject) != "CN=workload-1" || len(s.Credentials) != 1 ||
		aws.ToString(s.Credentials[0].X509CertificateData) == "" || len(s.InstanceProperties) != 1 ||
		s.InstanceProperties[0].Properties["host"] != "a" || !s.LastSeenAt.Equal(e.start) {
		t.Fatalf("GetSubject = %+v", s)
	}

	_, err := e.client.GetSubject(ctx, &sdk.GetSubjectInput{SubjectId: aws.String("00000000-0000-4000-8000-000000000000")})
	wantAPIError[*types.ResourceNotFoundException](t, err, "Resource not found")
	_, err = e.client.GetSubject(ctx, &sdk.GetSubjectInput{SubjectId: aws.String("NOT-A-UUID")})
	wantAPIError[*types.ValidationException](t, err,
		"2 validation errors detected: Value 'NOT-A-UUID' at 'subjectId' failed to satisfy constraint: Member must have length greater than or equal to 36; "+
			"Value 'NOT-A-UUID' at 'subjectId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-f0-9]{8}-([a-z0-9]{4}-){3}[a-z0-9]{12}")
}
