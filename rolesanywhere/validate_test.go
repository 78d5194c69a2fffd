package rolesanywhere

import (
	"reflect"
	"strings"
	"testing"

	"github.com/iamra/iamra/awserr"
)

const anchorArn = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/0b5c2d6e-1111-4222-8333-444455556666"

func validTA() CreateTrustAnchorInput {
	return CreateTrustAnchorInput{Name: Ptr("ta"), Source: &SourceInput{SourceType: Ptr(SourceCertificateBundle),
		SourceData: &SourceDataInput{X509CertificateData: Ptr("-----BEGIN CERTIFICATE-----")}}}
}

func TestValidationMessages(t *testing.T) {
	const prefix1 = "1 validation error detected: "
	for _, tc := range []struct {
		name string
		in   interface{ Validate() error }
		want string // "" = valid
	}{
		{"trust anchor ok", Ptr(validTA()), ""},
		{"trust anchor nulls", &CreateTrustAnchorInput{},
			"2 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'source' failed to satisfy constraint: Member must not be null"},
		{"name empty", with(validTA(), func(in *CreateTrustAnchorInput) { in.Name = Ptr("") }),
			prefix1 + "Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"name pattern", with(validTA(), func(in *CreateTrustAnchorInput) { in.Name = Ptr("a.b") }),
			prefix1 + "Value 'a.b' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[ a-zA-Z0-9-_]*$"},
		{"name too long and bad", with(validTA(), func(in *CreateTrustAnchorInput) { in.Name = Ptr(strings.Repeat("é", 256)) }),
			"2 validation errors detected: Value '" + strings.Repeat("é", 256) + "' at 'name' failed to satisfy constraint: Member must have length less than or equal to 255; " +
				"Value '" + strings.Repeat("é", 256) + "' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[ a-zA-Z0-9-_]*$"},
		{"source type enum", with(validTA(), func(in *CreateTrustAnchorInput) { in.Source.SourceType = Ptr("PEM") }),
			prefix1 + "Value 'PEM' at 'source.sourceType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACM_PCA, CERTIFICATE_BUNDLE, SELF_SIGNED_REPOSITORY]"},
		{"certificate data empty", with(validTA(), func(in *CreateTrustAnchorInput) { in.Source.SourceData.X509CertificateData = Ptr("") }),
			prefix1 + "Value '' at 'source.sourceData.x509CertificateData' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"notification settings", with(validTA(), func(in *CreateTrustAnchorInput) {
			in.NotificationSettings = []NotificationSettingInput{{Event: Ptr("SOON"), Threshold: Ptr(int32(361)), Channel: Ptr("EMAIL")}}
		}), "4 validation errors detected: " +
			"Value 'EMAIL' at 'notificationSettings.1.member.channel' failed to satisfy constraint: Member must satisfy enum value set: [ALL]; " +
			"Value null at 'notificationSettings.1.member.enabled' failed to satisfy constraint: Member must not be null; " +
			"Value 'SOON' at 'notificationSettings.1.member.event' failed to satisfy constraint: Member must satisfy enum value set: [CA_CERTIFICATE_EXPIRY, END_ENTITY_CERTIFICATE_EXPIRY]; " +
			"Value '361' at 'notificationSettings.1.member.threshold' failed to satisfy constraint: Member must have value less than or equal to 360"},
		{"tags", with(validTA(), func(in *CreateTrustAnchorInput) {
			in.Tags = []TagInput{{Key: Ptr("ok"), Value: Ptr("")}, {Key: Ptr(""), Value: Ptr("ü")}, {}}
		}), "4 validation errors detected: " +
			"Value '' at 'tags.2.member.key' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
			"Value 'ü' at 'tags.2.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[ a-zA-Z0-9_.:/=+@-]*$; " +
			"Value null at 'tags.3.member.key' failed to satisfy constraint: Member must not be null; " +
			"Value null at 'tags.3.member.value' failed to satisfy constraint: Member must not be null"},
		{"update trust anchor id", &UpdateTrustAnchorInput{TrustAnchorID: "0b5c2d6e-1111-4222-8333-44445555666"},
			"2 validation errors detected: Value '0b5c2d6e-1111-4222-8333-44445555666' at 'trustAnchorId' failed to satisfy constraint: Member must have length greater than or equal to 36; " +
				"Value '0b5c2d6e-1111-4222-8333-44445555666' at 'trustAnchorId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-f0-9]{8}-([a-z0-9]{4}-){3}[a-z0-9]{12}"},
		{"put settings nulls", &PutNotificationSettingsInput{},
			"2 validation errors detected: Value null at 'notificationSettings' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'trustAnchorId' failed to satisfy constraint: Member must not be null"},
		{"reset settings key", &ResetNotificationSettingsInput{TrustAnchorID: Ptr("0b5c2d6e-1111-4222-8333-444455556666"),
			NotificationSettingKeys: []NotificationSettingKey{{Channel: Ptr("ALL")}}},
			prefix1 + "Value null at 'notificationSettingKeys.1.member.event' failed to satisfy constraint: Member must not be null"},
		{"profile ok", &CreateProfileInput{Name: Ptr("p"), RoleArns: []string{"arn:aws:iam::123456789012:role/r"}}, ""},
		{"profile aws-cn role", &CreateProfileInput{Name: Ptr("p"), RoleArns: []string{"arn:aws-cn:iam::123456789012:role/r"}}, ""},
		{"duration too long (AWS's own message)", &CreateProfileInput{Name: Ptr("p"), RoleArns: []string{}, DurationSeconds: Ptr(int32(43201))},
			prefix1 + "Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"},
		{"duration too short", &CreateProfileInput{Name: Ptr("p"), RoleArns: []string{}, DurationSeconds: Ptr(int32(899))},
			prefix1 + "Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{"role ARN pattern", &CreateProfileInput{Name: Ptr("p"), RoleArns: []string{"arn:aws:iam::123456789012:user/u"}},
			prefix1 + "Value 'arn:aws:iam::123456789012:user/u' at 'roleArns.1.member' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws(-[^:]+)?:iam(:.*){2}(:role.*)$"},
		{"too many roles", &CreateProfileInput{Name: Ptr("p"), RoleArns: repeat("arn:aws:iam::1:role/r", 251)},
			prefix1 + "Value '[" + strings.Repeat("arn:aws:iam::1:role/r, ", 250) + "arn:aws:iam::1:role/r]' at 'roleArns' failed to satisfy constraint: Member must have length less than or equal to 250"},
		{"managed policies over STS's 10", &CreateProfileInput{Name: Ptr("p"), RoleArns: []string{}, ManagedPolicyArns: repeat("arn:aws:iam::aws:policy/P", 11)},
			prefix1 + "Value '[" + strings.Repeat("arn:aws:iam::aws:policy/P, ", 10) + "arn:aws:iam::aws:policy/P]' at 'managedPolicyArns' failed to satisfy constraint: Member must have length less than or equal to 10"},
		{"update session policy empty", &UpdateProfileInput{ProfileID: "0b5c2d6e-1111-4222-8333-444455556666", SessionPolicy: Ptr("")},
			prefix1 + "Value '' at 'sessionPolicy' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"mapping", &PutAttributeMappingInput{ProfileID: "0b5c2d6e-1111-4222-8333-444455556666", CertificateField: Ptr("x509Foo"),
			MappingRules: []MappingRuleInput{{Specifier: Ptr(strings.Repeat("x", 61))}, {}}},
			"3 validation errors detected: Value 'x509Foo' at 'certificateField' failed to satisfy constraint: Member must satisfy enum value set: [x509Subject, x509Issuer, x509SAN]; " +
				"Value '" + strings.Repeat("x", 61) + "' at 'mappingRules.1.member.specifier' failed to satisfy constraint: Member must have length less than or equal to 60; " +
				"Value null at 'mappingRules.2.member.specifier' failed to satisfy constraint: Member must not be null"},
		{"mapping empty specifier is valid", &PutAttributeMappingInput{ProfileID: "0b5c2d6e-1111-4222-8333-444455556666", CertificateField: Ptr(FieldSAN),
			MappingRules: []MappingRuleInput{{Specifier: Ptr("")}}}, ""},
		{"crl ok", &ImportCrlInput{CrlData: []byte{1}, Name: Ptr("c"), TrustAnchorArn: Ptr(anchorArn)}, ""},
		{"crl too large", &ImportCrlInput{CrlData: make([]byte, 300001), Name: Ptr("c"), TrustAnchorArn: Ptr(anchorArn)},
			prefix1 + "Value 'java.nio.HeapByteBuffer[pos=0 lim=300001 cap=300001]' at 'crlData' failed to satisfy constraint: Member must have length less than or equal to 300000"},
		{"crl nulls", &ImportCrlInput{},
			"3 validation errors detected: Value null at 'crlData' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'name' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'trustAnchorArn' failed to satisfy constraint: Member must not be null"},
		{"update crl", &UpdateCrlInput{CrlID: "0b5c2d6e-1111-4222-8333-444455556666", CrlData: []byte{}},
			prefix1 + "Value 'java.nio.HeapByteBuffer[pos=0 lim=0 cap=0]' at 'crlData' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"tag resource", &TagResourceInput{ResourceArn: Ptr("")},
			"2 validation errors detected: Value '' at 'resourceArn' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value null at 'tags' failed to satisfy constraint: Member must not be null"},
		{"untag resource", &UntagResourceInput{ResourceArn: Ptr(anchorArn), TagKeys: []string{"a", "b!"}},
			prefix1 + "Value 'b!' at 'tagKeys.2.member' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[ a-zA-Z0-9_.:/=+@-]*$"},
		{"delete mapping", &DeleteAttributeMappingInput{ProfileID: "0b5c2d6e-1111-4222-8333-444455556666"},
			prefix1 + "Value null at 'certificateField' failed to satisfy constraint: Member must not be null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			e, ok := err.(*awserr.Error)
			if !ok || e.Code != "ValidationException" || e.Status != 400 || e.Reason != "validation.constraint" {
				t.Fatalf("error %#v, want a ValidationException", err)
			}
			if e.Message != tc.want {
				t.Fatalf("message\n got: %s\nwant: %s", e.Message, tc.want)
			}
		})
	}
}

func TestValidateList(t *testing.T) {
	if err := ValidateList(nil, nil, 100); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("t", 10001)
	err := ValidateList(&long, Ptr(int32(-1)), 100)
	want := "2 validation errors detected: Value '" + long + "' at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to 10000; " +
		"Value '-1' at 'pageSize' failed to satisfy constraint: Member must have value greater than or equal to 1"
	if err == nil || err.(*awserr.Error).Message != want {
		t.Fatalf("got %v", err)
	}
}

func TestUTF16Length(t *testing.T) {
	// Java counts a character outside the BMP as two.
	for s, want := range map[string]int{"": 0, "abc": 3, "é": 1, "😀": 2, "a😀b": 4} {
		if got := utf16Len(s); got != want {
			t.Errorf("utf16Len(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestNewID(t *testing.T) {
	id, err := NewID(strings.NewReader(strings.Repeat("\xff", 16)))
	if err != nil || id != "ffffffff-ffff-4fff-bfff-ffffffffffff" || !ValidID(id) {
		t.Fatalf("NewID = %q, %v", id, err)
	}
	if _, err := NewID(strings.NewReader("short")); err == nil {
		t.Fatal("NewID accepted a short read")
	}
	if ValidID("FFFFFFFF-ffff-4fff-bfff-ffffffffffff") {
		t.Fatal("upper case accepted")
	}
}

func TestMappings(t *testing.T) {
	m := DefaultAttributeMappings()
	m = PutMapping(m, FieldIssuer, []string{"O", "O", "CN"})
	m = PutMapping(m, FieldSAN, []string{"Name/", "DNS"})
	want := []AttributeMapping{
		{CertificateField: FieldIssuer, MappingRules: []MappingRule{{"O"}, {"CN"}}},
		{CertificateField: FieldSAN, MappingRules: []MappingRule{{"Name/*"}, {"DNS"}}},
		{CertificateField: FieldSubject, MappingRules: []MappingRule{{"*"}}},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("PutMapping: %+v", m)
	}
	m = DeleteMapping(m, FieldSAN, []string{"Name"})
	m = DeleteMapping(m, FieldIssuer, nil)
	want = []AttributeMapping{
		{CertificateField: FieldSAN, MappingRules: []MappingRule{{"DNS"}}},
		{CertificateField: FieldSubject, MappingRules: []MappingRule{{"*"}}},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("DeleteMapping: %+v", m)
	}
	m = PutMapping(m, FieldIssuer, []string{"C"})
	if last := m[len(m)-1]; last.CertificateField != FieldIssuer {
		t.Fatalf("a new field is appended: %+v", m)
	}
}

func TestNotificationSettings(t *testing.T) {
	cur := DefaultNotificationSettings()
	cur = ApplyNotificationSettings(cur, []NotificationSettingInput{
		{Enabled: Ptr(true), Event: Ptr(EventCACertificateExpiry), Threshold: Ptr(int32(90))},
		{Enabled: Ptr(false), Event: Ptr(EventEndEntityCertificateExpiry)},
	}, "123456789012")
	want := []NotificationSetting{
		{Enabled: true, Event: EventCACertificateExpiry, Threshold: Ptr(int32(90)), Channel: ChannelAll, ConfiguredBy: "123456789012"},
		{Enabled: false, Event: EventEndEntityCertificateExpiry, Threshold: Ptr(int32(45)), Channel: ChannelAll, ConfiguredBy: "123456789012"},
	}
	if !reflect.DeepEqual(cur, want) {
		t.Fatalf("Apply: %+v", cur)
	}
	cur = ResetNotificationSettings(cur, []NotificationSettingKey{{Event: Ptr(EventCACertificateExpiry), Channel: Ptr(ChannelAll)}})
	want[0] = DefaultNotificationSetting(EventCACertificateExpiry)
	if !reflect.DeepEqual(cur, want) {
		t.Fatalf("Reset: %+v", cur)
	}
}

func TestTagsHelpers(t *testing.T) {
	tags := Tags([]TagInput{{Key: Ptr("a"), Value: Ptr("1")}, {Key: Ptr("b"), Value: Ptr("2")}, {Key: Ptr("a"), Value: Ptr("3")}})
	if !reflect.DeepEqual(tags, []Tag{{"a", "3"}, {"b", "2"}}) {
		t.Fatalf("Tags: %v", tags)
	}
	if got := RemoveTags(MergeTags(tags, []Tag{{"c", ""}}), []string{"a", "zz"}); !reflect.DeepEqual(got, []Tag{{"b", "2"}, {"c", ""}}) {
		t.Fatalf("Merge/Remove: %v", got)
	}
}

func with[T any](v T, f func(*T)) *T {
	f(&v)
	return &v
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}
