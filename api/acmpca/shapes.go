package acmpca

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/iamra/iamra/audit"
	"github.com/iamra/iamra/ca"
)

// The input and output shapes, with the member names of the ACM-PCA model
// (aws-sdk-go-v2 service/acmpca). Nested shapes whose JSON is identical to
// package ca's types (ASN1Subject, RevocationConfiguration, Tag, Validity)
// are decoded straight into them. Optional members are pointers so that
// "absent" and "zero" differ where the model requires a member.

// epoch is a timestamp in awsJson's default format: seconds since the
// epoch, a JSON number with millisecond precision.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64), nil
}

func at(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

func atp(t *time.Time) *epoch {
	if t == nil {
		return nil
	}
	return at(*t)
}

// certificateAuthority is PCA's CertificateAuthority.
type certificateAuthority struct {
	Arn                               string                      `json:"Arn"`
	OwnerAccount                      string                      `json:"OwnerAccount,omitempty"`
	CreatedAt                         *epoch                      `json:"CreatedAt,omitempty"`
	LastStateChangeAt                 *epoch                      `json:"LastStateChangeAt,omitempty"`
	Type                              string                      `json:"Type,omitempty"`
	Serial                            string                      `json:"Serial,omitempty"`
	Status                            string                      `json:"Status,omitempty"`
	NotBefore                         *epoch                      `json:"NotBefore,omitempty"`
	NotAfter                          *epoch                      `json:"NotAfter,omitempty"`
	CertificateAuthorityConfiguration *ca.Configuration           `json:"CertificateAuthorityConfiguration,omitempty"`
	RevocationConfiguration           *ca.RevocationConfiguration `json:"RevocationConfiguration,omitempty"`
	RestorableUntil                   *epoch                      `json:"RestorableUntil,omitempty"`
	KeyStorageSecurityStandard        string                      `json:"KeyStorageSecurityStandard,omitempty"`
	UsageMode                         string                      `json:"UsageMode,omitempty"`
}

func authorityShape(a ca.Authority) certificateAuthority {
	cfg, rc := a.CertificateAuthorityConfiguration, a.RevocationConfiguration
	return certificateAuthority{
		Arn: a.Arn, OwnerAccount: a.OwnerAccount, CreatedAt: at(a.CreatedAt), LastStateChangeAt: at(a.LastStateChangeAt),
		Type: a.Type, Serial: a.Serial, Status: a.Status, NotBefore: atp(a.NotBefore), NotAfter: atp(a.NotAfter),
		CertificateAuthorityConfiguration: &cfg, RevocationConfiguration: &rc, RestorableUntil: atp(a.RestorableUntil),
		KeyStorageSecurityStandard: a.KeyStorageSecurityStandard, UsageMode: a.UsageMode,
	}
}

// caInput is the CertificateAuthorityArn every CA operation takes.
type caInput struct {
	CertificateAuthorityArn *string `json:"CertificateAuthorityArn"`
}

type createInput struct {
	CertificateAuthorityConfiguration *caConfiguration            `json:"CertificateAuthorityConfiguration"`
	RevocationConfiguration           *ca.RevocationConfiguration `json:"RevocationConfiguration"`
	CertificateAuthorityType          *string                     `json:"CertificateAuthorityType"`
	IdempotencyToken                  *string                     `json:"IdempotencyToken"`
	KeyStorageSecurityStandard        *string                     `json:"KeyStorageSecurityStandard"`
	Tags                              []ca.Tag                    `json:"Tags"`
	UsageMode                         *string                     `json:"UsageMode"`
}

// caConfiguration is CertificateAuthorityConfiguration: package ca's,
// plus CsrExtensions, which iamra does not support (it is refused rather
// than silently dropped from the CA's CSR).
type caConfiguration struct {
	ca.Configuration
	CsrExtensions json.RawMessage `json:"CsrExtensions"`
}

type arnOutput struct {
	CertificateAuthorityArn string `json:"CertificateAuthorityArn"`
}

type describeOutput struct {
	CertificateAuthority certificateAuthority `json:"CertificateAuthority"`
}

type listInput struct {
	MaxResults    *int    `json:"MaxResults"`
	NextToken     *string `json:"NextToken"`
	ResourceOwner *string `json:"ResourceOwner"`
}

type listOutput struct {
	CertificateAuthorities []certificateAuthority `json:"CertificateAuthorities"`
	NextToken              string                 `json:"NextToken,omitempty"`
}

type updateInput struct {
	caInput
	RevocationConfiguration *ca.RevocationConfiguration `json:"RevocationConfiguration"`
	Status                  *string                     `json:"Status"`
}

type deleteInput struct {
	caInput
	PermanentDeletionTimeInDays *int `json:"PermanentDeletionTimeInDays"`
}

type csrOutput struct {
	Csr string `json:"Csr"`
}

type importInput struct {
	caInput
	Certificate      []byte `json:"Certificate"`
	CertificateChain []byte `json:"CertificateChain"`
}

type certificateOutput struct {
	Certificate      string `json:"Certificate"`
	CertificateChain string `json:"CertificateChain,omitempty"`
}

type issueInput struct {
	caInput
	Csr               []byte          `json:"Csr"`
	SigningAlgorithm  *string         `json:"SigningAlgorithm"`
	TemplateArn       *string         `json:"TemplateArn"`
	Validity          *ca.Validity    `json:"Validity"`
	ValidityNotBefore *ca.Validity    `json:"ValidityNotBefore"`
	IdempotencyToken  *string         `json:"IdempotencyToken"`
	ApiPassthrough    *apiPassthrough `json:"ApiPassthrough"`
}

// apiPassthrough is PCA's ApiPassthrough. iamra applies the subject and
// the subject alternative names; the other extensions are refused.
type apiPassthrough struct {
	Extensions *struct {
		SubjectAlternativeNames []generalName   `json:"SubjectAlternativeNames"`
		CertificatePolicies     json.RawMessage `json:"CertificatePolicies"`
		CustomExtensions        json.RawMessage `json:"CustomExtensions"`
		ExtendedKeyUsage        json.RawMessage `json:"ExtendedKeyUsage"`
		KeyUsage                json.RawMessage `json:"KeyUsage"`
	} `json:"Extensions"`
	Subject *ca.Subject `json:"Subject"`
}

// generalName is PCA's GeneralName, a union.
type generalName struct {
	DnsName                   *string         `json:"DnsName"`
	IpAddress                 *string         `json:"IpAddress"`
	UniformResourceIdentifier *string         `json:"UniformResourceIdentifier"`
	Rfc822Name                *string         `json:"Rfc822Name"`
	RegisteredId              *string         `json:"RegisteredId"`
	DirectoryName             json.RawMessage `json:"DirectoryName"`
	EdiPartyName              json.RawMessage `json:"EdiPartyName"`
	OtherName                 json.RawMessage `json:"OtherName"`
}

type issueOutput struct {
	CertificateArn string `json:"CertificateArn"`
}

type getCertificateInput struct {
	caInput
	CertificateArn *string `json:"CertificateArn"`
}

type revokeInput struct {
	caInput
	CertificateSerial *string `json:"CertificateSerial"`
	RevocationReason  *string `json:"RevocationReason"`
}

type createReportInput struct {
	caInput
	S3BucketName              *string `json:"S3BucketName"`
	AuditReportResponseFormat *string `json:"AuditReportResponseFormat"`
}

type createReportOutput struct {
	AuditReportId string `json:"AuditReportId"`
	S3Key         string `json:"S3Key"`
}

type describeReportInput struct {
	caInput
	AuditReportId *string `json:"AuditReportId"`
}

type describeReportOutput struct {
	AuditReportStatus string `json:"AuditReportStatus"`
	S3BucketName      string `json:"S3BucketName"`
	S3Key             string `json:"S3Key"`
	CreatedAt         *epoch `json:"CreatedAt,omitempty"`
}

type tagsInput struct {
	caInput
	Tags []ca.Tag `json:"Tags"`
}

type listTagsInput struct {
	caInput
	MaxResults *int    `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

type listTagsOutput struct {
	Tags      []ca.Tag `json:"Tags"`
	NextToken string   `json:"NextToken,omitempty"`
}

// empty is the output of operations that return nothing.
type empty struct{}

// The outputs the API sends most, and its error document, append their
// own JSON for writeJSON and the audit Writer (audit.JSONAppender): the
// bytes json.Marshal would produce (TestAppendJSON, FuzzAppendJSON).

func (o issueOutput) AppendJSON(b []byte) []byte {
	return append(audit.AppendJSONString(append(b, `{"CertificateArn":`...), o.CertificateArn), '}')
}

func (o arnOutput) AppendJSON(b []byte) []byte {
	return append(audit.AppendJSONString(append(b, `{"CertificateAuthorityArn":`...), o.CertificateAuthorityArn), '}')
}

func (o certificateOutput) AppendJSON(b []byte) []byte {
	b = audit.AppendJSONString(append(b, `{"Certificate":`...), o.Certificate)
	if o.CertificateChain != "" {
		b = audit.AppendJSONString(append(b, `,"CertificateChain":`...), o.CertificateChain)
	}
	return append(b, '}')
}

func (empty) AppendJSON(b []byte) []byte { return append(b, "{}"...) }

func (e errorBody) AppendJSON(b []byte) []byte {
	b = audit.AppendJSONString(append(b, `{"__type":`...), e.Type)
	return append(audit.AppendJSONString(append(b, `,"message":`...), e.Message), '}')
}
