package acmpca

// Reasons (awserr.Error.Reason) of the refusals this package makes itself,
// beyond package ca's "ca.*" reasons, awserr's "validation.constraint" and
// package restjson's "request.*" and "route.unknown". They are stable:
// operators search logs and audit records for them.
const (
	ReasonCSRExtensions          = "ca.csr_extensions.unsupported" // CreateCertificateAuthority with CsrExtensions
	ReasonPassthroughUnsupported = "ca.passthrough.unsupported"    // ApiPassthrough extensions other than SANs
	ReasonPassthroughSAN         = "ca.passthrough.san"            // an ApiPassthrough SAN iamra cannot write
	ReasonReportNotFound         = "ca.report.not_found"           // no such audit report for this CA
)
