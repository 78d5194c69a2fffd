package trust

// Reason codes carried in awserr.Error.Reason. They are stable: operators
// alert on them and docs/errors.md lists them. Keep every code here, each
// with a one-line description.
const (
	// Trust anchor import (CreateTrustAnchor/UpdateTrustAnchor), ValidationException.

	ReasonAnchorTooLarge       = "anchor.too_large"                // bundle longer than 16000 characters
	ReasonAnchorPEM            = "anchor.pem_invalid"              // not a clean sequence of PEM CERTIFICATE blocks
	ReasonAnchorCount          = "anchor.certificate_count"        // zero or more than 2 certificates
	ReasonAnchorParse          = "anchor.certificate_invalid"      // a certificate's DER does not parse
	ReasonAnchorDuplicate      = "anchor.duplicate_certificate"    // the same certificate appears twice
	ReasonAnchorVersion        = "anchor.version"                  // CA certificate is not X.509 v3
	ReasonAnchorNotCA          = "anchor.not_ca"                   // basicConstraints missing or CA:FALSE
	ReasonAnchorKeyUsage       = "anchor.key_usage"                // keyUsage missing or without keyCertSign
	ReasonAnchorWeakSignature  = "anchor.weak_signature_algorithm" // signed with MD5/SHA-1 or an unsupported algorithm
	ReasonAnchorKeyUnsupported = "anchor.key_unsupported"          // key is not RSA >= 2048 or ECDSA P-256/P-384/P-521
	ReasonAnchorExpired        = "anchor.expired"                  // CA certificate already expired at import
	ReasonAnchorDisabled       = "anchor.disabled"                 // CreateSession named a disabled trust anchor

	// CRL import (ImportCrl/UpdateCrl), ValidationException.

	ReasonCRLTooLarge      = "crl.too_large"                // CRL data empty or larger than 300000 bytes
	ReasonCRLPEM           = "crl.pem_invalid"              // PEM data that is not exactly one X509 CRL block
	ReasonCRLParse         = "crl.invalid"                  // not a parseable X.509 v2 CRL
	ReasonCRLWeakSignature = "crl.weak_signature_algorithm" // CRL signed with MD5/SHA-1 or an unsupported algorithm

	// End-entity certificate (CreateSession), AccessDeniedException.

	ReasonCertVersion       = "cert.version"                  // leaf is not X.509 v3
	ReasonCertIsCA          = "cert.is_ca"                    // leaf has basicConstraints CA:TRUE
	ReasonCertKeyUsage      = "cert.key_usage"                // leaf keyUsage present without digitalSignature
	ReasonCertWeakSignature = "cert.weak_signature_algorithm" // leaf signed with MD5/SHA-1 or an unsupported algorithm
	ReasonCertExpired       = "cert.expired"                  // leaf notAfter is before now
	ReasonCertNotYetValid   = "cert.not_yet_valid"            // leaf notBefore is after now
	ReasonCertEmptySubject  = "cert.empty_subject"            // leaf subject DN is empty

	// Chain to the trust anchor (CreateSession), AccessDeniedException.

	ReasonChainTooLong              = "chain.too_long"                              // more than 5 certificates in X-Amz-X509-Chain
	ReasonChainUntrusted            = "chain.untrusted"                             // no path from the leaf to a certificate of the anchor
	ReasonChainExpired              = "chain.expired"                               // an intermediate or anchor certificate expired
	ReasonChainNotYetValid          = "chain.not_yet_valid"                         // an intermediate or anchor certificate is not valid yet
	ReasonChainInvalid              = "chain.invalid"                               // RFC 5280 path validation failed (name constraints, path length, critical extension…)
	ReasonChainIntermediateVersion  = "chain.intermediate_version"                  // an intermediate is not X.509 v3
	ReasonChainIntermediateNotCA    = "chain.intermediate_not_ca"                   // an intermediate lacks basicConstraints CA:TRUE
	ReasonChainIntermediateKeyUsage = "chain.intermediate_key_usage"                // an intermediate's keyUsage lacks keyCertSign
	ReasonChainIntermediateWeakSig  = "chain.intermediate_weak_signature_algorithm" // an intermediate is signed with MD5/SHA-1 or an unsupported algorithm
	ReasonChainIntermediateKey      = "chain.intermediate_key_unsupported"          // an intermediate's key is not RSA >= 2048 or ECDSA P-256/P-384/P-521
	ReasonChainRevoked              = "chain.revoked"                               // the leaf or an intermediate is listed in an enabled CRL
	ReasonCRLBadSignature           = "crl.bad_signature"                           // a CRL matching the issuer (DN + AKI) does not verify with the issuer's key
)
