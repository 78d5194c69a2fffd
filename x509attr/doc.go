// Package x509attr derives the session attributes of IAM Roles Anywhere
// from a client certificate: session tags (per a profile's attribute
// mappings), the source identity and the default role session name.
//
// The rules are AWS's where AWS documents them (createsession.md §5) and
// iamra's recorded choices where it does not (createsession.md §11). The
// package is pure: no I/O, no clock, no randomness.
package x509attr
