package ca

import (
	"encoding/json"
	"time"
)

// CA states, as PCA names them (CertificateAuthorityStatus).
const (
	StatusCreating           = "CREATING"
	StatusPendingCertificate = "PENDING_CERTIFICATE"
	StatusActive             = "ACTIVE"
	StatusDisabled           = "DISABLED"
	StatusDeleted            = "DELETED"
	StatusExpired            = "EXPIRED"
	StatusFailed             = "FAILED"
)

// CA types and usage modes.
const (
	TypeRoot        = "ROOT"
	TypeSubordinate = "SUBORDINATE"

	UsageModeGeneralPurpose = "GENERAL_PURPOSE"
	// UsageModeShortLived caps certificates at seven days, as PCA does.
	UsageModeShortLived = "SHORT_LIVED_CERTIFICATE"
)

// Key storage security standards (informational in iamra: the KeyStore
// decides where keys really live).
const (
	KeyStorageFIPS1402Level2 = "FIPS_140_2_LEVEL_2_OR_HIGHER"
	KeyStorageFIPS1402Level3 = "FIPS_140_2_LEVEL_3_OR_HIGHER"
	KeyStorageCCPCLevel1     = "CCPC_LEVEL_1_OR_HIGHER"
)

// Certificate states in the audit report.
const (
	CertificateIssued  = "ISSUED"
	CertificateRevoked = "REVOKED"
)

// ShortLivedMaxValidity is the longest certificate a SHORT_LIVED_CERTIFICATE
// CA issues.
const ShortLivedMaxValidity = 7 * 24 * time.Hour

// Authority is a certificate authority: PCA's CertificateAuthority shape
// (JSON names as PCA's) plus what iamra keeps about it. Describe and List
// return it with Key cleared.
type Authority struct {
	Arn                               string                  `json:"Arn"`
	ID                                string                  `json:"Id"`
	OwnerAccount                      string                  `json:"OwnerAccount"`
	CreatedAt                         time.Time               `json:"CreatedAt"`
	LastStateChangeAt                 time.Time               `json:"LastStateChangeAt"`
	Type                              string                  `json:"Type"`
	Status                            string                  `json:"Status"`
	Serial                            string                  `json:"Serial,omitempty"`
	NotBefore                         *time.Time              `json:"NotBefore,omitempty"`
	NotAfter                          *time.Time              `json:"NotAfter,omitempty"`
	RestorableUntil                   *time.Time              `json:"RestorableUntil,omitempty"`
	UsageMode                         string                  `json:"UsageMode"`
	KeyStorageSecurityStandard        string                  `json:"KeyStorageSecurityStandard"`
	CertificateAuthorityConfiguration Configuration           `json:"CertificateAuthorityConfiguration"`
	RevocationConfiguration           RevocationConfiguration `json:"RevocationConfiguration"`
	Tags                              []Tag                   `json:"Tags,omitempty"`

	// CertificatePEM and CertificateChainPEM are the imported CA
	// certificate and the chain above it ("" for a root).
	CertificatePEM      string `json:"CertificatePem,omitempty"`
	CertificateChainPEM string `json:"CertificateChainPem,omitempty"`
	// CsrPEM is the CA's own CSR (GetCertificateAuthorityCsr).
	CsrPEM string `json:"CsrPem"`
	// Key locates the CA's private key; never a plaintext key.
	Key KeyRef `json:"Key"`
	// CRL is the state of the CA's current CRL.
	CRL CRLState `json:"Crl"`
	// StatusBeforeDeletion is the state RestoreCertificateAuthority
	// returns to (DISABLED or PENDING_CERTIFICATE).
	StatusBeforeDeletion string `json:"StatusBeforeDeletion,omitempty"`
}

// CRLState is the CA's CRL sequence: RFC 5280 CRL numbers only grow.
type CRLState struct {
	Number     int64      `json:"Number"`
	ThisUpdate *time.Time `json:"ThisUpdate,omitempty"`
	NextUpdate *time.Time `json:"NextUpdate,omitempty"`
}

// Configuration is PCA's CertificateAuthorityConfiguration.
type Configuration struct {
	KeyAlgorithm     string  `json:"KeyAlgorithm"`
	SigningAlgorithm string  `json:"SigningAlgorithm"`
	Subject          Subject `json:"Subject"`
}

// RevocationConfiguration is PCA's RevocationConfiguration. iamra serves
// CRLs itself (no S3) and has no OCSP responder.
type RevocationConfiguration struct {
	CrlConfiguration  *CrlConfiguration  `json:"CrlConfiguration,omitempty"`
	OcspConfiguration *OcspConfiguration `json:"OcspConfiguration,omitempty"`
}

// CrlConfiguration is PCA's CrlConfiguration.
type CrlConfiguration struct {
	Enabled bool `json:"Enabled"`
	// ExpirationInDays is the CRL's lifetime (nextUpdate - thisUpdate);
	// 0 means DefaultCRLExpirationDays.
	ExpirationInDays int `json:"ExpirationInDays,omitempty"`
	// CustomCname replaces the host of the CRL distribution point URL.
	CustomCname string `json:"CustomCname,omitempty"`
	// CustomPath replaces the "crl" path segment of that URL.
	CustomPath   string `json:"CustomPath,omitempty"`
	S3BucketName string `json:"S3BucketName,omitempty"`
	S3ObjectAcl  string `json:"S3ObjectAcl,omitempty"`
	CrlType      string `json:"CrlType,omitempty"`
	// CrlDistributionPointExtensionConfiguration.OmitExtension leaves the
	// CDP out of issued certificates.
	CrlDistributionPointExtensionConfiguration *CrlDistributionPointExtensionConfiguration `json:"CrlDistributionPointExtensionConfiguration,omitempty"`
}

// CrlDistributionPointExtensionConfiguration is PCA's shape of the same name.
type CrlDistributionPointExtensionConfiguration struct {
	OmitExtension bool `json:"OmitExtension"`
}

// OcspConfiguration is PCA's OcspConfiguration; iamra refuses Enabled.
type OcspConfiguration struct {
	Enabled         bool   `json:"Enabled"`
	OcspCustomCname string `json:"OcspCustomCname,omitempty"`
}

// DefaultCRLExpirationDays is the CRL lifetime when ExpirationInDays is 0.
const DefaultCRLExpirationDays = 7

// Tag is a CA tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

// IssuedCertificate is the record of one certificate a CA signed, written
// in the same transaction that makes the certificate visible.
type IssuedCertificate struct {
	Arn                     string     `json:"certificateArn"`
	CertificateAuthorityArn string     `json:"certificateAuthorityArn"`
	Serial                  string     `json:"serial"`
	Subject                 string     `json:"subject"`
	NotBefore               time.Time  `json:"notBefore"`
	NotAfter                time.Time  `json:"notAfter"`
	IssuedAt                time.Time  `json:"issuedAt"`
	TemplateArn             string     `json:"templateArn"`
	Status                  string     `json:"status"`
	RevokedAt               *time.Time `json:"revokedAt,omitempty"`
	RevocationReason        string     `json:"revocationReason,omitempty"`
	CertificatePEM          string     `json:"certificatePem"`
}

// Store layout (all under store.KindCertificate except the CA itself):
//
//	KindCA          <ca-id>                  Authority
//	KindCA          ~create/<sha256>         createToken (idempotency)
//	KindCertificate <ca-id>/c/<serial>       IssuedCertificate
//	KindCertificate <ca-id>/crl              crlRecord (current CRL, DER)
//	KindCertificate <ca-id>/revoked          revokedList (CRL entries)
//	KindCertificate <ca-id>/t/<sha256>       issueToken (idempotency)
//
// IDs sort so that one CA's certificates form a contiguous range.
const tokenPrefix = "~create/"

func certID(caID, serial string) string  { return caID + "/c/" + serial }
func certPrefix(caID string) string      { return caID + "/c/" }
func crlID(caID string) string           { return caID + "/crl" }
func revokedID(caID string) string       { return caID + "/revoked" }
func issueTokenID(caID, h string) string { return caID + "/t/" + h }
func issueTokenPrefix(caID string) string {
	return caID + "/t/"
}

type crlRecord struct {
	Number     int64     `json:"number"`
	ThisUpdate time.Time `json:"thisUpdate"`
	NextUpdate time.Time `json:"nextUpdate"`
	DER        []byte    `json:"der"`
}

type revokedList struct {
	Entries []revokedEntry `json:"entries"`
}

type revokedEntry struct {
	Serial    string    `json:"serial"`
	RevokedAt time.Time `json:"revokedAt"`
	Reason    string    `json:"reason"`
	NotAfter  time.Time `json:"notAfter"`
}

type idempotencyToken struct {
	Arn       string    `json:"arn"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// public returns a copy safe to hand out: no key reference, own slices.
func (a Authority) public() Authority {
	a.Key = KeyRef{}
	a.Tags = append([]Tag(nil), a.Tags...)
	b, _ := json.Marshal(a.RevocationConfiguration)
	a.RevocationConfiguration = RevocationConfiguration{}
	_ = json.Unmarshal(b, &a.RevocationConfiguration)
	return a
}
