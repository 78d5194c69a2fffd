package rolesanywhere

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"github.com/iamra/iamra/awserr"
)

// Limits of the API (rolesanywhere-api.md §5, §11). MaxManagedPolicyArns
// is iamra's: the model allows 50, but STS takes at most 10 PolicyArns, so
// a longer list would only fail later, at every CreateSession.
const (
	MaxNameLength                 = 255
	MaxRoleArns                   = 250
	MaxArnLength                  = 1011
	MaxManagedPolicyArns          = 10
	MaxManagedPolicyArnLength     = 200
	MinDurationSeconds            = 900
	MaxDurationSeconds            = 43200
	DefaultDurationSeconds        = 3600
	MaxSessionPolicyLength        = 100000
	MaxCertificateDataLength      = 16000
	MaxCRLDataLength              = 300000
	MaxTags                       = 200
	MaxTagKeyLength               = 128
	MaxTagValueLength             = 256
	MaxNotificationSettings       = 50
	MinThreshold                  = 1
	MaxThreshold                  = 360
	DefaultThreshold              = 45
	MaxSpecifierLength            = 60
	MaxNextTokenLength            = 10000
	MaxCRLsPerTrustAnchor         = 2
	MaxCertificatesPerTrustAnchor = 2
)

// Patterns of the model, printed verbatim in violation messages.
const (
	namePattern           = `^[ a-zA-Z0-9-_]*$`
	roleArnPattern        = `^arn:aws(-[^:]+)?:iam(:.*){2}(:role.*)$`
	trustAnchorArnPattern = `^arn:aws(-[^:]+)?:rolesanywhere(:.*){2}(:trust-anchor.*)$`
	tagPattern            = `^[ a-zA-Z0-9_.:/=+@-]*$`
	uuidPattern           = `[a-f0-9]{8}-([a-z0-9]{4}-){3}[a-z0-9]{12}`
)

var (
	nameRE           = regexp.MustCompile(namePattern)
	roleArnRE        = regexp.MustCompile(roleArnPattern)
	trustAnchorArnRE = regexp.MustCompile(trustAnchorArnPattern)
	tagRE            = regexp.MustCompile(tagPattern)
	// The model's pattern is unanchored; with the fixed length of 36 the
	// whole value must match it.
	uuidRE = regexp.MustCompile(`^` + uuidPattern + `$`)
)

// Enum value sets, in the model's order (which the messages print).
var (
	SourceTypes       = []string{SourceACMPCA, SourceCertificateBundle, SourceSelfSignedRepository}
	CertificateFields = []string{FieldSubject, FieldIssuer, FieldSAN}
	Events            = []string{EventCACertificateExpiry, EventEndEntityCertificateExpiry}
	Channels          = []string{ChannelAll}
)

// ValidID reports whether id has the form of a rolesanywhere resource id.
func ValidID(id string) bool { return len(id) == 36 && uuidRE.MatchString(id) }

// checker collects violations in the order AWS's messages list members:
// the model's (alphabetical) member order, constraints of one member in
// the order length, pattern, enum.
type checker struct{ vs []awserr.Violation }

func (c *checker) add(value *string, field, constraint string) {
	v := awserr.Violation{Field: field, Constraint: constraint}
	if value == nil {
		v.Null = true
	} else {
		v.Value = *value
	}
	c.vs = append(c.vs, v)
}

func (c *checker) err() error {
	if e := awserr.Violations(c.vs...); e != nil {
		return e
	}
	return nil
}

// required records a null violation when absent and reports presence.
func (c *checker) required(present bool, field string) bool {
	if !present {
		c.add(nil, field, "Member must not be null")
	}
	return present
}

// length checks a length (UTF-16 code units for strings, as the model's
// Java validators count; elements for lists; bytes for blobs) shown as value.
func (c *checker) length(value string, n, min, max int, field string) {
	if n < min {
		c.add(&value, field, "Member must have length greater than or equal to "+strconv.Itoa(min))
	}
	if n > max {
		c.add(&value, field, "Member must have length less than or equal to "+strconv.Itoa(max))
	}
}

// str checks an optional string member.
func (c *checker) str(v *string, field string, min, max int, re *regexp.Regexp, pattern string) {
	if v == nil {
		return
	}
	c.length(*v, utf16Len(*v), min, max, field)
	if re != nil && !re.MatchString(*v) {
		c.add(v, field, "Member must satisfy regular expression pattern: "+pattern)
	}
}

// enum checks an optional enum member.
func (c *checker) enum(v *string, field string, set []string) {
	if v == nil {
		return
	}
	for _, s := range set {
		if *v == s {
			return
		}
	}
	c.add(v, field, "Member must satisfy enum value set: ["+strings.Join(set, ", ")+"]")
}

// intRange checks an optional integer member.
func (c *checker) intRange(v *int32, field string, min, max int) {
	if v == nil {
		return
	}
	s := strconv.Itoa(int(*v))
	if int(*v) < min {
		c.add(&s, field, "Member must have value greater than or equal to "+strconv.Itoa(min))
	}
	if int(*v) > max {
		c.add(&s, field, "Member must have value less than or equal to "+strconv.Itoa(max))
	}
}

// blob checks an optional blob member. AWS's validator prints a blob as
// the Java buffer holding it, and so do we.
func (c *checker) blob(v []byte, field string, min, max int) {
	if v == nil {
		return
	}
	shown := "java.nio.HeapByteBuffer[pos=0 lim=" + strconv.Itoa(len(v)) + " cap=" + strconv.Itoa(len(v)) + "]"
	c.length(shown, len(v), min, max, field)
}

// id checks a path or body member holding a resource id.
func (c *checker) id(v *string, field string) {
	if !c.required(v != nil, field) {
		return
	}
	c.length(*v, utf16Len(*v), 36, 36, field)
	if !uuidRE.MatchString(*v) {
		c.add(v, field, "Member must satisfy regular expression pattern: "+uuidPattern)
	}
}

func (c *checker) name(v *string, field string) {
	c.str(v, field, 1, MaxNameLength, nameRE, namePattern)
}

// strings checks an optional list of strings and each member.
func (c *checker) strings(list []string, field string, maxLen, min, max int, re *regexp.Regexp, pattern string) {
	if list == nil {
		return
	}
	c.length(showStrings(list), len(list), 0, maxLen, field)
	for i := range list {
		c.str(&list[i], member(field, i), min, max, re, pattern)
	}
}

func (c *checker) tags(list []TagInput, field string) {
	if list == nil {
		return
	}
	c.length(showJSON(list), len(list), 0, MaxTags, field)
	for i, t := range list {
		f := member(field, i)
		if c.required(t.Key != nil, f+".key") {
			c.str(t.Key, f+".key", 1, MaxTagKeyLength, tagRE, tagPattern)
		}
		if c.required(t.Value != nil, f+".value") {
			c.str(t.Value, f+".value", 0, MaxTagValueLength, tagRE, tagPattern)
		}
	}
}

func (c *checker) notificationSettings(list []NotificationSettingInput, field string) {
	if list == nil {
		return
	}
	c.length(showJSON(list), len(list), 0, MaxNotificationSettings, field)
	for i, s := range list {
		f := member(field, i)
		c.enum(s.Channel, f+".channel", Channels)
		c.required(s.Enabled != nil, f+".enabled")
		if c.required(s.Event != nil, f+".event") {
			c.enum(s.Event, f+".event", Events)
		}
		c.intRange(s.Threshold, f+".threshold", MinThreshold, MaxThreshold)
	}
}

func (c *checker) source(s *SourceInput, field string) {
	if s == nil {
		return
	}
	if s.SourceData != nil {
		c.str(s.SourceData.X509CertificateData, field+".sourceData.x509CertificateData", 1, MaxCertificateDataLength, nil, "")
	}
	c.enum(s.SourceType, field+".sourceType", SourceTypes)
}

// member is Coral's path of a list element: 1-based, ".member".
func member(field string, i int) string { return field + "." + strconv.Itoa(i+1) + ".member" }

// showStrings prints a list as Java's List.toString does.
func showStrings(list []string) string { return "[" + strings.Join(list, ", ") + "]" }

// showJSON prints a list of structures; AWS's rendering of structures is
// not documented, so iamra prints each element as compact JSON.
func showJSON[T any](list []T) string {
	parts := make([]string, len(list))
	for i, v := range list {
		b, _ := json.Marshal(v)
		parts[i] = string(b)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// utf16Len is the length Java's String.length() reports.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// ValidateID checks a resource id member (a path parameter such as
// "trustAnchorId"); the error is AWS's ValidationException.
func ValidateID(field, id string) error {
	var c checker
	c.id(&id, field)
	return c.err()
}

// ValidateList checks the members of a List* request. MaxPageSize is
// iamra's bound; the model has none.
func ValidateList(nextToken *string, pageSize *int32, maxPageSize int) error {
	var c checker
	c.str(nextToken, "nextToken", 1, MaxNextTokenLength, nil, "")
	c.intRange(pageSize, "pageSize", 1, maxPageSize)
	return c.err()
}

// Validate checks the request against the model's constraints.
func (in *CreateTrustAnchorInput) Validate() error {
	var c checker
	if c.required(in.Name != nil, "name") {
		c.name(in.Name, "name")
	}
	c.notificationSettings(in.NotificationSettings, "notificationSettings")
	if c.required(in.Source != nil, "source") {
		c.source(in.Source, "source")
	}
	c.tags(in.Tags, "tags")
	return c.err()
}

// Validate checks the request against the model's constraints.
func (in *UpdateTrustAnchorInput) Validate() error {
	var c checker
	c.name(in.Name, "name")
	c.source(in.Source, "source")
	c.id(&in.TrustAnchorID, "trustAnchorId")
	return c.err()
}

// Validate checks the request against the model's constraints.
func (in *PutNotificationSettingsInput) Validate() error {
	var c checker
	if c.required(in.NotificationSettings != nil, "notificationSettings") {
		c.notificationSettings(in.NotificationSettings, "notificationSettings")
	}
	c.id(in.TrustAnchorID, "trustAnchorId")
	return c.err()
}

// Validate checks the request against the model's constraints.
func (in *ResetNotificationSettingsInput) Validate() error {
	var c checker
	if c.required(in.NotificationSettingKeys != nil, "notificationSettingKeys") {
		c.length(showJSON(in.NotificationSettingKeys), len(in.NotificationSettingKeys), 0, MaxNotificationSettings, "notificationSettingKeys")
		for i, k := range in.NotificationSettingKeys {
			f := member("notificationSettingKeys", i)
			c.enum(k.Channel, f+".channel", Channels)
			if c.required(k.Event != nil, f+".event") {
				c.enum(k.Event, f+".event", Events)
			}
		}
	}
	c.id(in.TrustAnchorID, "trustAnchorId")
	return c.err()
}

func (c *checker) managedPolicyArns(list []string) {
	c.strings(list, "managedPolicyArns", MaxManagedPolicyArns, 1, MaxManagedPolicyArnLength, nil, "")
}

func (c *checker) roleArns(list []string) {
	c.strings(list, "roleArns", MaxRoleArns, 1, MaxArnLength, roleArnRE, roleArnPattern)
}

func (c *checker) durationSeconds(v *int32) {
	c.intRange(v, "durationSeconds", MinDurationSeconds, MaxDurationSeconds)
}

// Validate checks the request against the model's constraints.
func (in *CreateProfileInput) Validate() error {
	var c checker
	c.durationSeconds(in.DurationSeconds)
	c.managedPolicyArns(in.ManagedPolicyArns)
	if c.required(in.Name != nil, "name") {
		c.name(in.Name, "name")
	}
	if c.required(in.RoleArns != nil, "roleArns") {
		c.roleArns(in.RoleArns)
	}
	c.tags(in.Tags, "tags")
	return c.err()
}

// Validate checks the request against the model's constraints.
func (in *UpdateProfileInput) Validate() error {
	var c checker
	c.durationSeconds(in.DurationSeconds)
	c.managedPolicyArns(in.ManagedPolicyArns)
	c.name(in.Name, "name")
	c.id(&in.ProfileID, "profileId")
	c.roleArns(in.RoleArns)
	c.str(in.SessionPolicy, "sessionPolicy", 1, MaxSessionPolicyLength, nil, "")
	return c.err()
}

// Validate checks the request against the model's constraints.
func (in *PutAttributeMappingInput) Validate() error {
	var c checker
	if c.required(in.CertificateField != nil, "certificateField") {
		c.enum(in.CertificateField, "certificateField", CertificateFields)
	}
	if c.required(in.MappingRules != nil, "mappingRules") {
		for i, r := range in.MappingRules {
			f := member("mappingRules", i) + ".specifier"
			if c.required(r.Specifier != nil, f) {
				c.str(r.Specifier, f, 0, MaxSpecifierLength, nil, "")
			}
		}
	}
	c.id(&in.ProfileID, "profileId")
	return c.err()
}

// Validate checks the request against the model's constraints.
func (in *DeleteAttributeMappingInput) Validate() error {
	var c checker
	if c.required(in.CertificateField != nil, "certificateField") {
		c.enum(in.CertificateField, "certificateField", CertificateFields)
	}
	c.id(&in.ProfileID, "profileId")
	return c.err()
}

// Validate checks the request against the model's constraints.
func (in *ImportCrlInput) Validate() error {
	var c checker
	if c.required(in.CrlData != nil, "crlData") {
		c.blob(in.CrlData, "crlData", 1, MaxCRLDataLength)
	}
	if c.required(in.Name != nil, "name") {
		c.name(in.Name, "name")
	}
	c.tags(in.Tags, "tags")
	if c.required(in.TrustAnchorArn != nil, "trustAnchorArn") {
		c.str(in.TrustAnchorArn, "trustAnchorArn", 1, MaxArnLength, trustAnchorArnRE, trustAnchorArnPattern)
	}
	return c.err()
}

// Validate checks the request against the model's constraints.
func (in *UpdateCrlInput) Validate() error {
	var c checker
	c.blob(in.CrlData, "crlData", 1, MaxCRLDataLength)
	c.id(&in.CrlID, "crlId")
	c.name(in.Name, "name")
	return c.err()
}

func (c *checker) resourceArn(v *string) {
	if c.required(v != nil, "resourceArn") {
		c.str(v, "resourceArn", 1, MaxArnLength, nil, "")
	}
}

// Validate checks the request against the model's constraints.
func (in *TagResourceInput) Validate() error {
	var c checker
	c.resourceArn(in.ResourceArn)
	if c.required(in.Tags != nil, "tags") {
		c.tags(in.Tags, "tags")
	}
	return c.err()
}

// Validate checks the request against the model's constraints.
func (in *UntagResourceInput) Validate() error {
	var c checker
	c.resourceArn(in.ResourceArn)
	if c.required(in.TagKeys != nil, "tagKeys") {
		c.strings(in.TagKeys, "tagKeys", MaxTags, 1, MaxTagKeyLength, tagRE, tagPattern)
	}
	return c.err()
}

// ValidateResourceArn checks ListTagsForResource's query member.
func ValidateResourceArn(resourceArn *string) error {
	var c checker
	c.resourceArn(resourceArn)
	return c.err()
}
