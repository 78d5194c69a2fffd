// Package ca is iamra's private certificate authority: the domain core
// behind the ACM-PCA-compatible API.
//
// The package has two layers. The pure layer (GenerateKey,
// NewSelfSignedRoot, Issue, CreateCSR, LookupTemplate) signs certificates
// following AWS Private CA's templates and needs nothing but a key; the dev
// server and tests use it directly. The Service layer keeps certificate
// authorities and every issued certificate in a store.Store, encrypts CA
// keys at rest (KeyProtector) or leaves them in an HSM (KeyStore), and
// implements PCA's operations and state machine: a CA is created in
// PENDING_CERTIFICATE, becomes ACTIVE when its certificate is imported,
// can be DISABLED, and DELETED with a restore window.
//
// Revocation is the point of iamra's CA: each revocation regenerates the
// CA's CRL at once and hands it to a hook (Service.OnCRL), so the server
// can push it into trust anchors that use the CA — Roles Anywhere itself
// never fetches CRLs. Errors are *awserr.Error with PCA's codes and HTTP
// 400, ready for the JSON 1.1 layer to send.
package ca
