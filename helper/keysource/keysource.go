// Package keysource loads the X.509 identity a credential helper signs
// CreateSession requests with: the leaf certificate, its intermediates and a
// signer for the leaf's private key.
//
// Every Load re-reads the material, so certificates rotated by cert-manager,
// the kubelet (podCertificate volumes) or any other tool are picked up
// without a restart, and the signing algorithm follows the key (the official
// helper fixes the algorithm at start-up and sends ECDSA signatures labelled
// RSA after a key-type rotation). A Load returns a consistent pair or an
// error: key and certificate are read as one snapshot, the key must match the
// certificate's public key, and a snapshot torn by a concurrent rotation is
// retried a few times with a short backoff, never used. A missing or
// unreadable file is an error the caller survives (it keeps its last good
// credentials), never an exit.
//
// Sources: PEM files (certificate with optional chain, PKCS#1, SEC1, PKCS#8,
// encrypted PKCS#8 with PBES2, legacy OpenSSL-encrypted PEM, ML-DSA PKCS#8),
// combined key+chain PEM files, DER certificates, PKCS#12 files, PKCS#11
// tokens addressed by RFC 7512 URIs (cgo builds only), and TPM 2.0 keys
// (TSS2 PRIVATE KEY files and persistent handles).
package keysource

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Identity is one consistent snapshot of a signing identity.
type Identity struct {
	// Certificate is the leaf; its serial number goes into the
	// Authorization header and its DER into X-Amz-X509.
	Certificate *x509.Certificate
	// Chain holds the intermediates for X-Amz-X509-Chain in the order
	// given, without the leaf and without duplicates.
	Chain []*x509.Certificate
	// Signer signs with the leaf's private key. RSA and ECDSA signers take
	// a digest; ML-DSA signers take the message with crypto.Hash(0).
	Signer crypto.Signer
}

// Source produces identities. Implementations are safe for concurrent use.
type Source interface {
	// Load returns the current identity, re-reading it from its origin.
	Load(ctx context.Context) (*Identity, error)
	// Close releases token sessions and modules. Loads after Close fail.
	Close() error
}

// Options say where the identity comes from; the fields mirror the official
// helper's flags.
type Options struct {
	// Certificate is --certificate: a PEM, DER or PKCS#12 file, or a
	// pkcs11: URI.
	Certificate string
	// PrivateKey is --private-key: a PEM file or a pkcs11: URI. When empty,
	// the key is taken from the Certificate file (PKCS#12 or combined PEM).
	PrivateKey string
	// Intermediates is --intermediates: a PEM bundle of CERTIFICATE blocks.
	Intermediates string
	// Password is --pkcs8-password, used for encrypted PKCS#8, legacy
	// encrypted PEM and PKCS#12 files.
	Password string
	// Prompt, when set, is asked for a password or PIN that was needed but
	// not given (the CLI reads /dev/tty). The answer is remembered.
	Prompt func(prompt string) (string, error)

	// PKCS11Lib is --pkcs11-lib, the PKCS#11 module to load; default
	// p11-kit-proxy.so.
	PKCS11Lib string
	// ReusePIN is --reuse-pin: use the user PIN for keys with
	// CKA_ALWAYS_AUTHENTICATE.
	ReusePIN bool
	// Selector is --cert-selector: pick the certificate on the PKCS#11
	// token by subject, issuer and serial.
	Selector *Selector
	// UseLatestExpiring is --use-latest-expiring-certificate.
	UseLatestExpiring bool

	// TPMKeyPassword is --tpm-key-password, the TPM key's userAuth.
	TPMKeyPassword string
	// NoTPMKeyPassword is --no-tpm-key-password: the TPM key has no
	// password (needed for handles, whose public area cannot say so).
	NoTPMKeyPassword bool
	// TPMDevice is TPM_DEVICE: a TPM character device, a swtpm Unix
	// socket, or "swtpm:host=H,port=P"; empty tries /dev/tpmrm0, then
	// /dev/tpm0.
	TPMDevice string

	// Sleep waits between retries of a torn snapshot; nil uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// ErrKeyMismatch means the private key is not the one certified by the
// certificate: a half-finished rotation, or the wrong files.
var ErrKeyMismatch = errors.New("private key does not match the certificate's public key")

// Open validates opts and returns a Source. Files are not read until Load,
// except that a PKCS#11 module is loaded and its token opened, and that the
// key file is looked at to tell TPM keys from others (and the TPM opened).
func Open(opts Options) (Source, error) {
	if opts.Sleep == nil {
		opts.Sleep = Sleep
	}
	isURI := func(s string) bool { return strings.HasPrefix(s, "pkcs11:") }
	switch {
	case strings.HasPrefix(opts.PrivateKey, "handle:") || holdsTPMKey(opts.PrivateKey) ||
		(opts.PrivateKey == "" && holdsTPMKey(opts.Certificate)):
		return openTPM(opts)
	case isURI(opts.Certificate) || isURI(opts.PrivateKey) || opts.Selector != nil:
		return openPKCS11(opts)
	case opts.Certificate == "" && opts.PrivateKey == "":
		return nil, errors.New("no certificate given: use --certificate (and --private-key), a pkcs11: URI, or --cert-selector with --pkcs11-lib")
	}
	return &fileSource{opts: opts}, nil
}

// retryDelays is the backoff for torn snapshots: a kubelet or csi-driver
// swap completes in microseconds, so a few short waits are enough, and the
// total stays well under any request timeout.
var retryDelays = []time.Duration{10 * time.Millisecond, 40 * time.Millisecond, 160 * time.Millisecond, 500 * time.Millisecond}

// retrying runs load until it succeeds, fails permanently, or the retries
// are used up. transient says which errors a rotation in progress explains.
func retrying(ctx context.Context, sleepFn func(context.Context, time.Duration) error, load func() (*Identity, error), transient func(error) bool) (*Identity, error) {
	var err error
	for i := 0; ; i++ {
		var id *Identity
		if id, err = load(); err == nil {
			return id, nil
		}
		if !transient(err) || i == len(retryDelays) {
			break
		}
		if serr := sleepFn(ctx, retryDelays[i]); serr != nil {
			return nil, fmt.Errorf("%w (while waiting to retry: %v)", err, serr)
		}
	}
	return nil, err
}

// Sleep waits for d or until ctx is done, whichever is first. It is the
// default Options.Sleep, and rolesclient's default between attempts.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// assemble builds an Identity from the leaf, further certificates in the
// order found, and the key, checking that the key matches the leaf.
func assemble(leaf *x509.Certificate, more []*x509.Certificate, key crypto.Signer) (*Identity, error) {
	if !keyMatches(key.Public(), leaf) {
		return nil, fmt.Errorf("%w (certificate serial %s, subject %q)", ErrKeyMismatch, leaf.SerialNumber, leaf.Subject)
	}
	id := &Identity{Certificate: leaf, Signer: key}
	seen := map[string]bool{string(leaf.Raw): true}
	for _, c := range more {
		if !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
			id.Chain = append(id.Chain, c)
		}
	}
	return id, nil
}
