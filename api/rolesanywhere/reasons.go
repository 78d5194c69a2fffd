package rolesanywhere

// Reasons (awserr.Error.Reason) of the refusals this package makes, beyond
// awserr's "validation.constraint" and the reasons of package trust (for
// certificate bundles and CRLs) and package restjson (for bodies). They
// are stable: operators search logs and audit records for them.
const (
	ReasonNotFound              = "resource.not_found"       // no such resource in this account and region
	ReasonSourceUnion           = "anchor.source_union"      // sourceData has both members
	ReasonSourceMismatch        = "anchor.source_mismatch"   // sourceData does not fit sourceType
	ReasonSourceType            = "anchor.source_type"       // SELF_SIGNED_REPOSITORY
	ReasonPCAArn                = "anchor.pca_arn"           // acmPcaArn is not a private CA ARN
	ReasonPCAUnavailable        = "anchor.pca_unavailable"   // no ResolvePCA configured
	ReasonPCAGet                = "anchor.pca_get"           // the private CA's certificate could not be read
	ReasonAnchorInvalid         = "anchor.invalid"           // the bundle validator refused (non-AWS error)
	ReasonAnchorCount           = "anchor.count"             // not 1 or 2 CA certificates
	ReasonCRLDPUnsupported      = "anchor.crldp_unsupported" // crlDpRevocationEnabled on a server without CDP support
	ReasonCRLInvalid            = "crl.invalid"              // the CRL parser refused (non-AWS error)
	ReasonCRLTrustAnchorUnknown = "crl.trust_anchor_unknown" // ImportCrl names no trust anchor of this server
	ReasonCRLLimit              = "crl.limit"                // the trust anchor already has 2 CRLs
	ReasonPageToken             = "list.token"               // nextToken is not one of ours
	ReasonTagsArn               = "tags.arn"                 // resourceArn cannot name a taggable resource
	ReasonTooManyTags           = "tags.too_many"            // more than 200 tags
)
