// Package rolesanywhere holds the IAM Roles Anywhere resources (trust
// anchors, profiles, CRLs, subjects) as values, with the JSON field names
// of AWS's rolesanywhere API (2018-05-10).
//
// The same JSON is what the store keeps, so a resource read back from disk
// is byte-for-byte what the API returned when it was written. Validation of
// API input and the defaults AWS applies live here too, so the HTTP layer
// and the bootstrap code (dev mode, init) agree on them.
package rolesanywhere

import (
	"strings"
	"time"
)

// Time is a timestamp in the form AWS's rolesanywhere API emits:
// ISO 8601 UTC with microseconds ("2022-07-01T18:11:27.380711Z").
type Time struct{ time.Time }

// TimeLayout is the wire form of Time.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// NewTime truncates t to microseconds in UTC, the precision the wire keeps,
// so values compare equal after a round trip.
func NewTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Microsecond)} }

func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format(TimeLayout) + `"`), nil
}

func (t *Time) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*t = Time{}
		return nil
	}
	v, err := time.Parse(time.RFC3339Nano, strings.Trim(s, `"`))
	if err != nil {
		return err
	}
	*t = NewTime(v)
	return nil
}

// Source types of a trust anchor.
const (
	SourceCertificateBundle    = "CERTIFICATE_BUNDLE"
	SourceACMPCA               = "AWS_ACM_PCA"
	SourceSelfSignedRepository = "SELF_SIGNED_REPOSITORY"
)

// Source is where a trust anchor's CA certificates come from. SourceData
// is a union: exactly one of its fields is set.
type Source struct {
	SourceType string     `json:"sourceType"`
	SourceData SourceData `json:"sourceData"`
}

// SourceData holds either PEM certificates or the ARN of a private CA.
type SourceData struct {
	X509CertificateData string `json:"x509CertificateData,omitempty"`
	AcmPcaArn           string `json:"acmPcaArn,omitempty"`
}

// Notification events and channels.
const (
	EventCACertificateExpiry        = "CA_CERTIFICATE_EXPIRY"
	EventEndEntityCertificateExpiry = "END_ENTITY_CERTIFICATE_EXPIRY"
	ChannelAll                      = "ALL"
	// DefaultConfiguredBy marks a notification setting AWS applied itself.
	DefaultConfiguredBy = "rolesanywhere.amazonaws.com"
)

// NotificationSetting is a NotificationSettingDetail of the API.
type NotificationSetting struct {
	Enabled      bool   `json:"enabled"`
	Event        string `json:"event"`
	Threshold    *int32 `json:"threshold,omitempty"`
	Channel      string `json:"channel,omitempty"`
	ConfiguredBy string `json:"configuredBy,omitempty"`
}

// Tag is a key/value pair attached to a resource.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// TrustAnchor is a TrustAnchorDetail, plus its tags (which the API returns
// only through ListTagsForResource).
type TrustAnchor struct {
	TrustAnchorID        string                `json:"trustAnchorId"`
	TrustAnchorArn       string                `json:"trustAnchorArn"`
	Name                 string                `json:"name"`
	Source               Source                `json:"source"`
	Enabled              bool                  `json:"enabled"`
	CreatedAt            Time                  `json:"createdAt"`
	UpdatedAt            Time                  `json:"updatedAt"`
	NotificationSettings []NotificationSetting `json:"notificationSettings"`
	// CrlDpRevocationEnabled asks for revocation checks against the CRL
	// distribution points of the certificates (a member newer than most
	// documentation; present in aws-sdk-go-v2 rolesanywhere v1.33).
	CrlDpRevocationEnabled bool  `json:"crlDpRevocationEnabled"`
	Tags                   []Tag `json:"tags,omitempty"`
	// ResolvedCertificateData is iamra's copy of the CA certificate PEM of
	// an AWS_ACM_PCA source, read at Create/Update as AWS does. It is
	// stored, never returned by the API; use CertificatePEM.
	ResolvedCertificateData string `json:"resolvedCertificateData,omitempty"`
}

// CertificatePEM is the PEM bundle the trust anchor trusts, whatever its
// source type.
func (t TrustAnchor) CertificatePEM() string {
	if t.Source.SourceType == SourceACMPCA {
		return t.ResolvedCertificateData
	}
	return t.Source.SourceData.X509CertificateData
}

// Certificate fields an attribute mapping can apply to.
const (
	FieldSubject = "x509Subject"
	FieldIssuer  = "x509Issuer"
	FieldSAN     = "x509SAN"
)

// MappingRule selects one attribute of a certificate field.
type MappingRule struct {
	Specifier string `json:"specifier"`
}

// AttributeMapping says which attributes of one certificate field become
// session tags.
type AttributeMapping struct {
	CertificateField string        `json:"certificateField"`
	MappingRules     []MappingRule `json:"mappingRules"`
}

// DefaultAttributeMappings are the mappings AWS gives every new profile.
func DefaultAttributeMappings() []AttributeMapping {
	return []AttributeMapping{
		{CertificateField: FieldIssuer, MappingRules: []MappingRule{{Specifier: "*"}}},
		{CertificateField: FieldSAN, MappingRules: []MappingRule{{Specifier: "DNS"}, {Specifier: "URI"}, {Specifier: "Name/*"}}},
		{CertificateField: FieldSubject, MappingRules: []MappingRule{{Specifier: "*"}}},
	}
}

// Profile is a ProfileDetail plus its tags.
type Profile struct {
	ProfileID                 string             `json:"profileId"`
	ProfileArn                string             `json:"profileArn"`
	Name                      string             `json:"name"`
	RequireInstanceProperties bool               `json:"requireInstanceProperties"`
	Enabled                   bool               `json:"enabled"`
	CreatedBy                 string             `json:"createdBy"`
	SessionPolicy             string             `json:"sessionPolicy,omitempty"`
	RoleArns                  []string           `json:"roleArns"`
	ManagedPolicyArns         []string           `json:"managedPolicyArns"`
	CreatedAt                 Time               `json:"createdAt"`
	UpdatedAt                 Time               `json:"updatedAt"`
	DurationSeconds           int32              `json:"durationSeconds"`
	AcceptRoleSessionName     bool               `json:"acceptRoleSessionName"`
	AttributeMappings         []AttributeMapping `json:"attributeMappings"`
	Tags                      []Tag              `json:"tags,omitempty"`
}

// CRL is a CrlDetail plus its tags. CrlData is the imported bytes (PEM or
// DER); JSON carries it as base64, as the API does.
type CRL struct {
	CrlID          string `json:"crlId"`
	CrlArn         string `json:"crlArn"`
	Name           string `json:"name"`
	Enabled        bool   `json:"enabled"`
	CrlData        []byte `json:"crlData"`
	TrustAnchorArn string `json:"trustAnchorArn"`
	CreatedAt      Time   `json:"createdAt"`
	UpdatedAt      Time   `json:"updatedAt"`
	Tags           []Tag  `json:"tags,omitempty"`
}

// CredentialSummary records one certificate seen for a subject.
type CredentialSummary struct {
	SeenAt              Time   `json:"seenAt"`
	SerialNumber        string `json:"serialNumber"`
	Issuer              string `json:"issuer"`
	Enabled             bool   `json:"enabled"`
	X509CertificateData string `json:"x509CertificateData"`
	Failed              bool   `json:"failed"`
}

// InstanceProperty records the instanceProperties a CreateSession sent.
type InstanceProperty struct {
	SeenAt     Time              `json:"seenAt"`
	Properties map[string]string `json:"properties"`
	Failed     bool              `json:"failed"`
}

// Subject is a SubjectDetail: one per distinct certificate subject DN.
type Subject struct {
	SubjectArn         string              `json:"subjectArn"`
	SubjectID          string              `json:"subjectId"`
	Enabled            bool                `json:"enabled"`
	X509Subject        string              `json:"x509Subject"`
	LastSeenAt         Time                `json:"lastSeenAt"`
	CreatedAt          Time                `json:"createdAt"`
	UpdatedAt          Time                `json:"updatedAt"`
	Credentials        []CredentialSummary `json:"credentials,omitempty"`
	InstanceProperties []InstanceProperty  `json:"instanceProperties,omitempty"`
}
