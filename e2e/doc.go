// Package e2e holds iamra's end-to-end tests: a real server (store, snapshot,
// handlers, TLS) driven by real clients — the requests the official
// aws_signing_helper sent, the AWS SDK for Go v2, the AWS CLI v1 and v2, and
// iamra's own credential helper.
package e2e
