// Package trust decides whether a client certificate is trusted by an IAM
// Roles Anywhere trust anchor: it validates the CA certificates and CRLs an
// operator imports, checks end-entity certificates, builds and verifies the
// chain to an anchor, and applies revocation.
//
// Every rejection is an *awserr.Error. The client sees AWS's terse message
// ("Untrusted signing certificate" for CreateSession, a ValidationException
// for imports); the Reason (one of the constants in reasons.go) and Detail
// say which rule failed for which certificate and field, for the log and
// the audit record.
//
// The package is pure: time is always passed in, nothing is logged, and
// the values built at configuration time (Anchor, RevocationIndex) are safe
// for concurrent use, so a configuration snapshot can share them between
// requests without locks on the hot path.
package trust
