package rolesanywhere

// Inputs of the control-plane operations, with AWS's JSON member names.
// Members are pointers (and lists nil-able) because AWS's validation tells
// a missing member ("Value null at 'name' …") from an empty one
// ("Value '' at 'name' …"), and updates change only the members present.
// Path and query members carry `json:"-"`: the HTTP layer fills them.

// Ptr returns a pointer to v, for building inputs in Go.
func Ptr[T any](v T) *T { return &v }

// TagInput is a Tag as a request carries it.
type TagInput struct {
	Key   *string `json:"key"`
	Value *string `json:"value"`
}

// SourceInput is a trust anchor Source as a request carries it.
type SourceInput struct {
	SourceData *SourceDataInput `json:"sourceData"`
	SourceType *string          `json:"sourceType"`
}

// SourceDataInput is the SourceData union as a request carries it.
type SourceDataInput struct {
	AcmPcaArn           *string `json:"acmPcaArn"`
	X509CertificateData *string `json:"x509CertificateData"`
}

// NotificationSettingInput is a NotificationSetting of a request.
type NotificationSettingInput struct {
	Channel   *string `json:"channel"`
	Enabled   *bool   `json:"enabled"`
	Event     *string `json:"event"`
	Threshold *int32  `json:"threshold"`
}

// NotificationSettingKey selects a notification setting to reset.
type NotificationSettingKey struct {
	Channel *string `json:"channel"`
	Event   *string `json:"event"`
}

// CreateTrustAnchorInput is CreateTrustAnchor's request.
type CreateTrustAnchorInput struct {
	CrlDpRevocationEnabled *bool                      `json:"crlDpRevocationEnabled"`
	Enabled                *bool                      `json:"enabled"`
	Name                   *string                    `json:"name"`
	NotificationSettings   []NotificationSettingInput `json:"notificationSettings"`
	Source                 *SourceInput               `json:"source"`
	Tags                   []TagInput                 `json:"tags"`
}

// UpdateTrustAnchorInput is UpdateTrustAnchor's request.
type UpdateTrustAnchorInput struct {
	CrlDpRevocationEnabled *bool        `json:"crlDpRevocationEnabled"`
	Name                   *string      `json:"name"`
	Source                 *SourceInput `json:"source"`
	TrustAnchorID          string       `json:"-"`
}

// PutNotificationSettingsInput is PutNotificationSettings' request.
type PutNotificationSettingsInput struct {
	NotificationSettings []NotificationSettingInput `json:"notificationSettings"`
	TrustAnchorID        *string                    `json:"trustAnchorId"`
}

// ResetNotificationSettingsInput is ResetNotificationSettings' request.
type ResetNotificationSettingsInput struct {
	NotificationSettingKeys []NotificationSettingKey `json:"notificationSettingKeys"`
	TrustAnchorID           *string                  `json:"trustAnchorId"`
}

// CreateProfileInput is CreateProfile's request.
type CreateProfileInput struct {
	AcceptRoleSessionName     *bool      `json:"acceptRoleSessionName"`
	DurationSeconds           *int32     `json:"durationSeconds"`
	Enabled                   *bool      `json:"enabled"`
	ManagedPolicyArns         []string   `json:"managedPolicyArns"`
	Name                      *string    `json:"name"`
	RequireInstanceProperties *bool      `json:"requireInstanceProperties"`
	RoleArns                  []string   `json:"roleArns"`
	SessionPolicy             *string    `json:"sessionPolicy"`
	Tags                      []TagInput `json:"tags"`
}

// UpdateProfileInput is UpdateProfile's request. A nil list leaves the
// profile's list alone; an empty one empties it.
type UpdateProfileInput struct {
	AcceptRoleSessionName *bool    `json:"acceptRoleSessionName"`
	DurationSeconds       *int32   `json:"durationSeconds"`
	ManagedPolicyArns     []string `json:"managedPolicyArns"`
	Name                  *string  `json:"name"`
	ProfileID             string   `json:"-"`
	RoleArns              []string `json:"roleArns"`
	SessionPolicy         *string  `json:"sessionPolicy"`
}

// MappingRuleInput is a MappingRule of a request.
type MappingRuleInput struct {
	Specifier *string `json:"specifier"`
}

// PutAttributeMappingInput is PutAttributeMapping's request.
type PutAttributeMappingInput struct {
	CertificateField *string            `json:"certificateField"`
	MappingRules     []MappingRuleInput `json:"mappingRules"`
	ProfileID        string             `json:"-"`
}

// DeleteAttributeMappingInput is DeleteAttributeMapping's request (all
// members travel in the path and query string).
type DeleteAttributeMappingInput struct {
	CertificateField *string  `json:"-"`
	ProfileID        string   `json:"-"`
	Specifiers       []string `json:"-"`
}

// ImportCrlInput is ImportCrl's request. CrlData is the CRL file (PEM or
// DER); JSON carries it as base64.
type ImportCrlInput struct {
	CrlData        []byte     `json:"crlData"`
	Enabled        *bool      `json:"enabled"`
	Name           *string    `json:"name"`
	Tags           []TagInput `json:"tags"`
	TrustAnchorArn *string    `json:"trustAnchorArn"`
}

// UpdateCrlInput is UpdateCrl's request.
type UpdateCrlInput struct {
	CrlData []byte  `json:"crlData"`
	CrlID   string  `json:"-"`
	Name    *string `json:"name"`
}

// TagResourceInput is TagResource's request.
type TagResourceInput struct {
	ResourceArn *string    `json:"resourceArn"`
	Tags        []TagInput `json:"tags"`
}

// UntagResourceInput is UntagResource's request.
type UntagResourceInput struct {
	ResourceArn *string  `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}
