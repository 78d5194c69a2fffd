package rolesanywhere

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
	"github.com/aws/aws-sdk-go-v2/service/rolesanywhere/types"

	ra "github.com/iamra/iamra/rolesanywhere"
)

const roleArn = "arn:aws:iam::123456789012:role/app"

// mappings flattens attribute mappings to field → specifiers.
func mappings(ms []types.AttributeMapping) map[string][]string {
	out := map[string][]string{}
	for _, m := range ms {
		var specs []string
		for _, r := range m.MappingRules {
			specs = append(specs, aws.ToString(r.Specifier))
		}
		out[string(m.CertificateField)] = specs
	}
	return out
}

func TestProfileLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	created := got(e.client.CreateProfile(ctx, &sdk.CreateProfileInput{
		Name: aws.String("app profile"), RoleArns: []string{roleArn},
	})).ok(t)
	if got := status(t, created.ResultMetadata); got != http.StatusCreated {
		t.Fatalf("CreateProfile status %d, want 201", got)
	}
	p := created.Profile
	id := aws.ToString(p.ProfileId)
	if got, want := aws.ToString(p.ProfileArn), "arn:aws:rolesanywhere:us-east-1:123456789012:profile/"+id; got != want {
		t.Fatalf("ARN %s, want %s", got, want)
	}
	if aws.ToBool(p.Enabled) || aws.ToBool(p.AcceptRoleSessionName) || aws.ToBool(p.RequireInstanceProperties) {
		t.Error("omitted booleans must be false")
	}
	if aws.ToInt32(p.DurationSeconds) != 3600 {
		t.Errorf("durationSeconds %d, want the default 3600", aws.ToInt32(p.DurationSeconds))
	}
	if aws.ToString(p.CreatedBy) != testCaller {
		t.Errorf("createdBy %q, want the caller", aws.ToString(p.CreatedBy))
	}
	wantDefault := map[string][]string{"x509Issuer": {"*"}, "x509SAN": {"DNS", "URI", "Name/*"}, "x509Subject": {"*"}}
	if got := mappings(p.AttributeMappings); !reflect.DeepEqual(got, wantDefault) {
		t.Errorf("default mappings %v, want %v", got, wantDefault)
	}
	if !reflect.DeepEqual(p.RoleArns, []string{roleArn}) || p.SessionPolicy != nil {
		t.Errorf("roleArns %v sessionPolicy %v", p.RoleArns, p.SessionPolicy)
	}

	full := got(e.client.CreateProfile(ctx, &sdk.CreateProfileInput{
		Name: aws.String("full"), RoleArns: []string{roleArn}, Enabled: aws.Bool(true), DurationSeconds: aws.Int32(43200),
		AcceptRoleSessionName: aws.Bool(true), RequireInstanceProperties: aws.Bool(true),
		SessionPolicy:     aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`),
		ManagedPolicyArns: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"},
	})).ok(t).Profile
	if !aws.ToBool(full.Enabled) || aws.ToInt32(full.DurationSeconds) != 43200 || !aws.ToBool(full.AcceptRoleSessionName) ||
		!aws.ToBool(full.RequireInstanceProperties) || len(full.ManagedPolicyArns) != 1 ||
		aws.ToString(full.SessionPolicy) != `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}` {
		t.Errorf("CreateProfile with every member = %+v", full)
	}

	get := got(e.client.GetProfile(ctx, &sdk.GetProfileInput{ProfileId: aws.String(id)})).ok(t)
	if aws.ToString(get.Profile.Name) != "app profile" {
		t.Fatalf("GetProfile = %+v", get.Profile)
	}

	upd := got(e.client.UpdateProfile(ctx, &sdk.UpdateProfileInput{
		ProfileId: aws.String(id), Name: aws.String("renamed"), DurationSeconds: aws.Int32(900),
		RoleArns: []string{roleArn, "arn:aws:iam::123456789012:role/path/other"}, SessionPolicy: aws.String("{}"),
		AcceptRoleSessionName: aws.Bool(true),
	})).ok(t).Profile
	if aws.ToString(upd.Name) != "renamed" || aws.ToInt32(upd.DurationSeconds) != 900 || len(upd.RoleArns) != 2 ||
		aws.ToString(upd.SessionPolicy) != "{}" || !aws.ToBool(upd.AcceptRoleSessionName) || aws.ToBool(upd.Enabled) {
		t.Errorf("UpdateProfile = %+v", upd)
	}
	if !upd.UpdatedAt.After(*upd.CreatedAt) {
		t.Error("updatedAt did not move")
	}

	if !aws.ToBool(got(e.client.EnableProfile(ctx, &sdk.EnableProfileInput{ProfileId: aws.String(id)})).ok(t).Profile.Enabled) {
		t.Error("EnableProfile did not enable")
	}
	if aws.ToBool(got(e.client.DisableProfile(ctx, &sdk.DisableProfileInput{ProfileId: aws.String(id)})).ok(t).Profile.Enabled) {
		t.Error("DisableProfile did not disable")
	}

	// PutAttributeMapping replaces the field's rules; "Name" is shown as
	// "Name/*".
	put := got(e.client.PutAttributeMapping(ctx, &sdk.PutAttributeMappingInput{
		ProfileId: aws.String(id), CertificateField: types.CertificateFieldX509Issuer,
		MappingRules: []types.MappingRule{{Specifier: aws.String("O")}},
	})).ok(t)
	if status(t, put.ResultMetadata) != http.StatusOK {
		t.Fatal("PutAttributeMapping status")
	}
	put = got(e.client.PutAttributeMapping(ctx, &sdk.PutAttributeMappingInput{
		ProfileId: aws.String(id), CertificateField: types.CertificateFieldX509SAN,
		MappingRules: []types.MappingRule{{Specifier: aws.String("DNS")}, {Specifier: aws.String("Name")}},
	})).ok(t)
	want := map[string][]string{"x509Issuer": {"O"}, "x509SAN": {"DNS", "Name/*"}, "x509Subject": {"*"}}
	if got := mappings(put.Profile.AttributeMappings); !reflect.DeepEqual(got, want) {
		t.Errorf("after PutAttributeMapping %v, want %v", got, want)
	}

	del := got(e.client.DeleteAttributeMapping(ctx, &sdk.DeleteAttributeMappingInput{
		ProfileId: aws.String(id), CertificateField: types.CertificateFieldX509SAN, Specifiers: []string{"Name/", "URI"},
	})).ok(t)
	want = map[string][]string{"x509Issuer": {"O"}, "x509SAN": {"DNS"}, "x509Subject": {"*"}}
	if got := mappings(del.Profile.AttributeMappings); !reflect.DeepEqual(got, want) {
		t.Errorf("after DeleteAttributeMapping with specifiers %v, want %v", got, want)
	}
	del = got(e.client.DeleteAttributeMapping(ctx, &sdk.DeleteAttributeMappingInput{
		ProfileId: aws.String(id), CertificateField: types.CertificateFieldX509Subject,
	})).ok(t)
	want = map[string][]string{"x509Issuer": {"O"}, "x509SAN": {"DNS"}}
	if got := mappings(del.Profile.AttributeMappings); !reflect.DeepEqual(got, want) {
		t.Errorf("after DeleteAttributeMapping of a field %v, want %v", got, want)
	}

	gone := got(e.client.DeleteProfile(ctx, &sdk.DeleteProfileInput{ProfileId: aws.String(id)})).ok(t)
	if aws.ToString(gone.Profile.ProfileId) != id {
		t.Fatalf("DeleteProfile returned %+v", gone.Profile)
	}
	_, err := e.client.GetProfile(ctx, &sdk.GetProfileInput{ProfileId: aws.String(id)})
	wantAPIError[*types.ResourceNotFoundException](t, err, "Resource not found")
	_, err = e.client.PutAttributeMapping(ctx, &sdk.PutAttributeMappingInput{ProfileId: aws.String(id),
		CertificateField: types.CertificateFieldX509Issuer, MappingRules: []types.MappingRule{{Specifier: aws.String("CN")}}})
	wantAPIError[*types.ResourceNotFoundException](t, err, "Resource not found")
}

// TestBootstrapMethods covers the Go entry points iamra server --dev uses.
func TestBootstrapMethods(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ta, err := e.h.CreateTrustAnchor(ctx, ra.CreateTrustAnchorInput{Name: ra.Ptr("dev"), Enabled: ra.Ptr(true),
		Source: &ra.SourceInput{SourceType: ra.Ptr(ra.SourceCertificateBundle),
			SourceData: &ra.SourceDataInput{X509CertificateData: ra.Ptr(e.pki.Root("dev root").PEM())}}})
	if err != nil || !ta.Enabled || len(ta.NotificationSettings) != 2 {
		t.Fatalf("CreateTrustAnchor = %+v, %v", ta, err)
	}
	p, err := e.h.CreateProfile(ctx, ra.CreateProfileInput{Name: ra.Ptr("dev"), RoleArns: []string{roleArn}})
	if err != nil || p.CreatedBy != "123456789012" || p.DurationSeconds != 3600 {
		t.Fatalf("CreateProfile = %+v, %v", p, err)
	}
	_, err = e.h.CreateProfile(ctx, ra.CreateProfileInput{Name: ra.Ptr("dev")})
	if err == nil || err.Error() != "ValidationException: 1 validation error detected: Value null at 'roleArns' failed to satisfy constraint: Member must not be null [validation.constraint] (Value null at 'roleArns' failed to satisfy constraint: Member must not be null)" {
		t.Fatalf("CreateProfile without roles: %v", err)
	}
	// The SDK sees what the Go method created.
	out := got(e.client.GetTrustAnchor(ctx, &sdk.GetTrustAnchorInput{TrustAnchorId: aws.String(ta.TrustAnchorID)})).ok(t)
	if aws.ToString(out.TrustAnchor.TrustAnchorArn) != ta.TrustAnchorArn {
		t.Fatal("trust anchor created in Go is not served")
	}
}

func TestPagination(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	want := map[string]bool{}
	for i := range 120 {
		p, err := e.h.CreateProfile(ctx, ra.CreateProfileInput{Name: ra.Ptr(fmt.Sprintf("p%03d", i)), RoleArns: []string{roleArn}})
		if err != nil {
			t.Fatal(err)
		}
		want[p.ProfileID] = true
	}
	pager := sdk.NewListProfilesPaginator(e.client, &sdk.ListProfilesInput{PageSize: aws.Int32(50)})
	var sizes []int
	seen := map[string]bool{}
	for pager.HasMorePages() {
		page := got(pager.NextPage(ctx)).ok(t)
		sizes = append(sizes, len(page.Profiles))
		for _, p := range page.Profiles {
			id := aws.ToString(p.ProfileId)
			if seen[id] {
				t.Fatalf("profile %s listed twice", id)
			}
			seen[id] = true
		}
	}
	if !reflect.DeepEqual(sizes, []int{50, 50, 20}) {
		t.Fatalf("page sizes %v, want [50 50 20]", sizes)
	}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("listed %d profiles, want the %d created", len(seen), len(want))
	}

	// Default page size is 50.
	first := got(e.client.ListProfiles(ctx, &sdk.ListProfilesInput{})).ok(t)
	if len(first.Profiles) != 50 || first.NextToken == nil {
		t.Fatalf("default page: %d profiles, token %v", len(first.Profiles), first.NextToken)
	}
	// A token is bound to its List operation.
	_, err := e.client.ListTrustAnchors(ctx, &sdk.ListTrustAnchorsInput{NextToken: first.NextToken})
	wantAPIError[*types.ValidationException](t, err, "Invalid nextToken")
	_, err = e.client.ListProfiles(ctx, &sdk.ListProfilesInput{NextToken: aws.String("not a token")})
	wantAPIError[*types.ValidationException](t, err, "Invalid nextToken")
	_, err = e.client.ListProfiles(ctx, &sdk.ListProfilesInput{PageSize: aws.Int32(101)})
	wantAPIError[*types.ValidationException](t, err,
		"1 validation error detected: Value '101' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to 100")
	_, err = e.client.ListProfiles(ctx, &sdk.ListProfilesInput{PageSize: aws.Int32(0)})
	wantAPIError[*types.ValidationException](t, err,
		"1 validation error detected: Value '0' at 'pageSize' failed to satisfy constraint: Member must have value greater than or equal to 1")
}
