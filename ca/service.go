package ca

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/store"
)

// Config configures a Service.
type Config struct {
	Store store.Store
	// Scope is the partition, region and account of the ARNs minted.
	Scope arn.Scope
	// KeyStores hold CA keys; the first one makes the keys of new CAs, all
	// of them open existing keys by KeyRef.Store.
	KeyStores []KeyStore
	// CRLBaseURL is where the server publishes CRLs; certificates of CAs
	// with CRLs enabled carry <CRLBaseURL>/crl/<ca-id>.crl. A CA's
	// CustomCname overrides the host.
	CRLBaseURL string
	// IdempotencyWindow is how long an idempotency token names the same
	// result (0 = DefaultIdempotencyWindow).
	IdempotencyWindow time.Duration
	// OnCRL, when set, is called after every new CRL is committed
	// (revocation, import, refresh), with the CRL in DER, before the
	// operation returns. Calls are serialized and never go back to an
	// older CRL of the same CA; a CRL superseded before its call is
	// skipped. It must not block for long; the server uses it to push
	// CRLs into trust anchors that use the CA. Only this process's CRLs
	// are reported: other replicas' show up in the store (CurrentCRL).
	OnCRL func(caARN string, der []byte)
	Now   func() time.Time
	Rand  io.Reader
}

// DefaultIdempotencyWindow is how long IssueCertificate and
// CreateCertificateAuthority remember idempotency tokens. (PCA documents
// five minutes; a longer window is harmless for same-token-same-request.)
const DefaultIdempotencyWindow = time.Hour

// Service implements PCA's operations over a store. It is safe for
// concurrent use; the store serializes writers.
type Service struct {
	cfg       Config
	keyStores map[string]KeyStore

	mu    sync.Mutex
	cache map[string]*caCache // by CA ARN

	hookMu    sync.Mutex
	delivered map[string]int64 // CRL number last given to OnCRL, by CA ARN

	records *recorder // writes issued certificates' records
}

// caCache saves decrypting the key, parsing the certificate and decoding
// the record on every issuance. Entries are checked against the record
// they came from.
type caCache struct {
	keyFP   string
	signer  crypto.Signer
	certPEM string
	cert    *x509.Certificate
	// auth is rec decoded. It is shared: readers copy it and must not
	// write through its pointers and slices.
	rec  []byte
	auth Authority
}

// New checks cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || len(cfg.KeyStores) == 0 || cfg.Now == nil || cfg.Rand == nil {
		return nil, errors.New("ca: Config needs Store, KeyStores, Now and Rand")
	}
	if cfg.Scope.Partition == "" || cfg.Scope.AccountID == "" || cfg.Scope.Region == "" {
		return nil, errors.New("ca: Config.Scope needs partition, region and account")
	}
	if cfg.IdempotencyWindow <= 0 {
		cfg.IdempotencyWindow = DefaultIdempotencyWindow
	}
	cfg.CRLBaseURL = strings.TrimRight(cfg.CRLBaseURL, "/")
	s := &Service{cfg: cfg, keyStores: map[string]KeyStore{}, cache: map[string]*caCache{}, delivered: map[string]int64{},
		records: newRecorder()}
	for _, ks := range cfg.KeyStores {
		s.keyStores[ks.Name()] = ks
	}
	return s, nil
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// CreateRequest is CreateCertificateAuthority's input.
type CreateRequest struct {
	CertificateAuthorityType          string
	CertificateAuthorityConfiguration Configuration
	RevocationConfiguration           RevocationConfiguration
	UsageMode                         string
	KeyStorageSecurityStandard        string
	Tags                              []Tag
	IdempotencyToken                  string
}

// CreateCertificateAuthority makes a CA key and CSR and stores the CA in
// PENDING_CERTIFICATE. A root becomes ACTIVE once its own CSR, issued
// with RootCACertificate/V1, is imported; a subordinate once a certificate
// from its parent is imported.
func (s *Service) CreateCertificateAuthority(ctx context.Context, req CreateRequest) (string, error) {
	cfg := req.CertificateAuthorityConfiguration
	if err := firstViolation(
		enumViolation("certificateAuthorityType", req.CertificateAuthorityType, TypeRoot, TypeSubordinate),
		enumViolation("usageMode", req.UsageMode, "", UsageModeGeneralPurpose, UsageModeShortLived),
		enumViolation("keyStorageSecurityStandard", req.KeyStorageSecurityStandard, "", KeyStorageFIPS1402Level2, KeyStorageFIPS1402Level3, KeyStorageCCPCLevel1),
	); err != nil {
		return "", err
	}
	if req.UsageMode == "" {
		req.UsageMode = UsageModeGeneralPurpose
	}
	if req.KeyStorageSecurityStandard == "" {
		req.KeyStorageSecurityStandard = KeyStorageFIPS1402Level3
	}
	if _, ok := keyAlgorithms[cfg.KeyAlgorithm]; !ok {
		return "", invalidArgs("ca.key.algorithm", "The key algorithm %q is not supported.", cfg.KeyAlgorithm)
	}
	if fam := signingAlgorithms[cfg.SigningAlgorithm]; fam == 0 || publicKeyAlgorithmOf(fam) != keyAlgorithms[cfg.KeyAlgorithm] {
		return "", invalidArgs("ca.signing_algorithm.family",
			"The signing algorithm %q is not valid for key algorithm %s.", cfg.SigningAlgorithm, cfg.KeyAlgorithm)
	}
	if cfg.Subject.IsZero() {
		return "", invalidArgs("ca.subject.empty", "The subject must contain at least one attribute.")
	}
	name, err := cfg.Subject.Name()
	if err != nil {
		return "", err
	}
	if err := validateRevocation(req.RevocationConfiguration); err != nil {
		return "", err
	}
	if err := validateTags(req.Tags); err != nil {
		return "", err
	}

	now := s.now()
	var tokenKey string
	if req.IdempotencyToken != "" {
		// Same token, same request → same CA; the token alone is PCA's key.
		tokenKey = tokenPrefix + hashHex([]byte(req.IdempotencyToken))
		if a, ok, err := s.lookupToken(ctx, store.KindCA, tokenKey, now); err != nil || ok {
			return a, err
		}
	}

	id, err := newUUID(s.cfg.Rand)
	if err != nil {
		return "", err
	}
	caARN := s.cfg.Scope.New("acm-pca", "certificate-authority/"+id, true).String()
	ks := s.cfg.KeyStores[0]
	ref, signer, err := ks.Generate(ctx, caARN, cfg.KeyAlgorithm)
	if err != nil {
		return "", s.keyError(caARN, err)
	}
	csr, err := CreateCSR(signer, name, cfg.SigningAlgorithm, s.cfg.Rand)
	if err != nil {
		_ = ks.Destroy(ctx, caARN, ref)
		return "", err
	}
	a := Authority{
		Arn: caARN, ID: id, OwnerAccount: s.cfg.Scope.AccountID, CreatedAt: now, LastStateChangeAt: now,
		Type: req.CertificateAuthorityType, Status: StatusPendingCertificate, UsageMode: req.UsageMode,
		KeyStorageSecurityStandard: req.KeyStorageSecurityStandard, CertificateAuthorityConfiguration: cfg,
		RevocationConfiguration: req.RevocationConfiguration, Tags: req.Tags, CsrPEM: string(csr), Key: ref,
	}
	var existing string
	err = s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		existing = ""
		if tokenKey != "" {
			t, _, err := store.Get[idempotencyToken](tx, store.KindCA, tokenKey)
			if err == nil && now.Before(t.ExpiresAt) {
				existing = t.Arn
				return nil
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if err := putAny(tx, store.KindCA, tokenKey, idempotencyToken{Arn: caARN, ExpiresAt: now.Add(s.cfg.IdempotencyWindow)}); err != nil {
				return err
			}
		}
		_, err := store.Put(tx, store.KindCA, id, 0, a)
		return err
	})
	if err != nil || existing != "" {
		_ = ks.Destroy(ctx, caARN, ref)
		if err != nil {
			return "", storeError(err)
		}
		return existing, nil
	}
	s.remember(caARN, ref, signer)
	return caARN, nil
}

// GetCertificateAuthorityCsr returns the CA's CSR (PEM).
func (s *Service) GetCertificateAuthorityCsr(ctx context.Context, caARN string) (string, error) {
	a, err := s.authority(ctx, caARN)
	if err != nil {
		return "", err
	}
	if a.Status == StatusDeleted {
		return "", invalidState(a, "GetCertificateAuthorityCsr")
	}
	return a.CsrPEM, nil
}

// GetCertificateAuthorityCertificate returns the CA's certificate and the
// chain above it (PEM; the chain is "" for a root).
func (s *Service) GetCertificateAuthorityCertificate(ctx context.Context, caARN string) (cert, chain string, err error) {
	a, err := s.authority(ctx, caARN)
	if err != nil {
		return "", "", err
	}
	if a.CertificatePEM == "" || a.Status == StatusDeleted {
		return "", "", invalidState(a, "GetCertificateAuthorityCertificate")
	}
	return a.CertificatePEM, a.CertificateChainPEM, nil
}

// DescribeCertificateAuthority returns the CA, without its key reference.
// An ACTIVE CA past its notAfter is reported EXPIRED.
func (s *Service) DescribeCertificateAuthority(ctx context.Context, caARN string) (Authority, error) {
	a, err := s.authority(ctx, caARN)
	if err != nil {
		return Authority{}, err
	}
	return s.effective(a).public(), nil
}

func (s *Service) effective(a Authority) Authority {
	if (a.Status == StatusActive || a.Status == StatusDisabled) && a.NotAfter != nil && s.now().After(*a.NotAfter) {
		a.Status = StatusExpired
	}
	return a
}

// ListCertificateAuthorities returns up to maxResults CAs (0 = 1000) after
// nextToken, and the token for the next page ("" at the end).
func (s *Service) ListCertificateAuthorities(ctx context.Context, nextToken string, maxResults int) ([]Authority, string, error) {
	if maxResults <= 0 || maxResults > 1000 {
		maxResults = 1000
	}
	var out []Authority
	var next string
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		out, next = nil, ""
		list, n, err := store.List[Authority](tx, store.KindCA, store.ListOptions{After: nextToken, Limit: maxResults})
		if err != nil {
			return err
		}
		for _, a := range list {
			if a.ID == "" { // an idempotency token: they sort after every CA
				n = ""
				break
			}
			out = append(out, s.effective(a).public())
		}
		next = n
		return nil
	})
	if err != nil {
		return nil, "", storeError(err)
	}
	return out, next, nil
}

// UpdateCertificateAuthority sets the status (ACTIVE or DISABLED, nil =
// unchanged) and/or the revocation configuration (nil = unchanged). A
// changed CRL configuration regenerates the CRL.
func (s *Service) UpdateCertificateAuthority(ctx context.Context, caARN string, status *string, rc *RevocationConfiguration) error {
	if status != nil {
		if err := firstViolation(enumViolation("status", *status, StatusActive, StatusDisabled)); err != nil {
			return err
		}
	}
	if rc != nil {
		if err := validateRevocation(*rc); err != nil {
			return err
		}
	}
	changedCRL := false
	err := s.mutate(ctx, caARN, func(a *Authority, _ store.Tx) error {
		changedCRL = false
		switch {
		case a.Status == StatusDeleted, a.Status == StatusPendingCertificate && status != nil, a.Status == StatusFailed:
			return invalidState(*a, "UpdateCertificateAuthority")
		}
		now := s.now()
		if status != nil && *status != a.Status {
			a.Status, a.LastStateChangeAt = *status, now
		}
		if rc != nil {
			changedCRL = a.CertificatePEM != "" && crlDays(*rc) != crlDays(a.RevocationConfiguration)
			a.RevocationConfiguration = *rc
		}
		return nil
	})
	if err != nil || !changedCRL {
		return err
	}
	_, err = s.regenerateCRL(ctx, caARN, nil)
	return err
}

// DeleteCertificateAuthority moves the CA to DELETED, restorable for
// permanentDeletionTimeInDays (7–30; 0 = 30). An ACTIVE CA must be
// disabled first, as in PCA.
func (s *Service) DeleteCertificateAuthority(ctx context.Context, caARN string, permanentDeletionTimeInDays int) error {
	if permanentDeletionTimeInDays == 0 {
		permanentDeletionTimeInDays = 30
	}
	if permanentDeletionTimeInDays < 7 || permanentDeletionTimeInDays > 30 {
		return awserr.Violations(awserr.Violation{Value: fmt.Sprint(permanentDeletionTimeInDays), Field: "permanentDeletionTimeInDays",
			Constraint: "Member must have value between 7 and 30"})
	}
	return s.mutate(ctx, caARN, func(a *Authority, _ store.Tx) error {
		if a.Status == StatusActive && !s.effective(*a).expired() || a.Status == StatusDeleted {
			return invalidState(*a, "DeleteCertificateAuthority")
		}
		now := s.now()
		until := now.AddDate(0, 0, permanentDeletionTimeInDays)
		a.StatusBeforeDeletion = StatusDisabled
		if a.CertificatePEM == "" {
			a.StatusBeforeDeletion = StatusPendingCertificate
		}
		a.Status, a.LastStateChangeAt, a.RestorableUntil = StatusDeleted, now, &until
		return nil
	})
}

func (a Authority) expired() bool { return a.Status == StatusExpired }

// RestoreCertificateAuthority brings a DELETED CA back within its restore
// window: to DISABLED if it had a certificate, else PENDING_CERTIFICATE.
func (s *Service) RestoreCertificateAuthority(ctx context.Context, caARN string) error {
	return s.mutate(ctx, caARN, func(a *Authority, _ store.Tx) error {
		if a.Status != StatusDeleted {
			return invalidState(*a, "RestoreCertificateAuthority")
		}
		a.Status, a.LastStateChangeAt, a.RestorableUntil = a.StatusBeforeDeletion, s.now(), nil
		a.StatusBeforeDeletion = ""
		return nil
	})
}

// TagCertificateAuthority adds or replaces tags (at most 50 in all).
func (s *Service) TagCertificateAuthority(ctx context.Context, caARN string, tags []Tag) error {
	if err := validateTags(tags); err != nil {
		return err
	}
	return s.mutate(ctx, caARN, func(a *Authority, _ store.Tx) error {
		for _, t := range tags {
			i := slices.IndexFunc(a.Tags, func(x Tag) bool { return x.Key == t.Key })
			if i >= 0 {
				a.Tags[i] = t
			} else {
				a.Tags = append(a.Tags, t)
			}
		}
		if len(a.Tags) > maxTags {
			return pcaError(CodeTooManyTags, "You can associate up to 50 tags with a private CA.", "ca.tags.too_many",
				"%s would have %d tags", a.Arn, len(a.Tags))
		}
		return nil
	})
}

// UntagCertificateAuthority removes tags by key (and value, when given).
func (s *Service) UntagCertificateAuthority(ctx context.Context, caARN string, tags []Tag) error {
	return s.mutate(ctx, caARN, func(a *Authority, _ store.Tx) error {
		a.Tags = slices.DeleteFunc(a.Tags, func(x Tag) bool {
			return slices.ContainsFunc(tags, func(t Tag) bool { return t.Key == x.Key && (t.Value == "" || t.Value == x.Value) })
		})
		return nil
	})
}

// ImportCertificateAuthorityCertificate installs the CA's certificate
// (PEM). For a root it must be self-signed by the CA's key; for a
// subordinate, chain (PEM, issuer first) must lead from it to a
// self-signed root. The CA becomes ACTIVE and gets its first CRL. Importing
// again with the same key renews the certificate.
func (s *Service) ImportCertificateAuthorityCertificate(ctx context.Context, caARN string, certPEM, chainPEM []byte) error {
	cert, err := parseCertificatePEM(certPEM)
	if err != nil {
		return err
	}
	var chain []*x509.Certificate
	if len(chainPEM) > 0 {
		if chain, err = parseCertificatesPEM(chainPEM); err != nil {
			return err
		}
	}
	a, err := s.authority(ctx, caARN)
	if err != nil {
		return err
	}
	if a.Status == StatusDeleted || a.Status == StatusFailed || a.Status == StatusCreating {
		return invalidState(a, "ImportCertificateAuthorityCertificate")
	}
	signer, err := s.signer(ctx, a)
	if err != nil {
		return err
	}
	if err := s.checkImport(a, signer, cert, chain); err != nil {
		return err
	}
	now := s.now()
	notBefore, notAfter := cert.NotBefore.UTC(), cert.NotAfter.UTC()
	err = s.mutate(ctx, caARN, func(b *Authority, _ store.Tx) error {
		if b.Key.Store != a.Key.Store || string(b.Key.Sealed) != string(a.Key.Sealed) || b.Key.ID != a.Key.ID || b.Status == StatusDeleted {
			return pcaError(CodeConcurrentModification, "A previous update to your private CA is still ongoing.", "ca.import.raced",
				"%s changed while its certificate was being imported", caARN)
		}
		b.CertificatePEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
		b.CertificateChainPEM = encodeChain(chain)
		b.Serial = serialColons(cert.SerialNumber)
		b.NotBefore, b.NotAfter = &notBefore, &notAfter
		if b.Status == StatusPendingCertificate {
			b.Status, b.LastStateChangeAt = StatusActive, now
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = s.regenerateCRL(ctx, caARN, nil)
	return err
}

func (s *Service) checkImport(a Authority, signer crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate) error {
	if !publicKeysEqual(cert.PublicKey, signer.Public()) {
		return pcaError(CodeCertificateMismatch, "The certificate's public key does not match the certificate authority's key.",
			"ca.import.key_mismatch", "certificate %s does not certify the key of %s", cert.Subject, a.Arn)
	}
	if !cert.BasicConstraintsValid || !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 || cert.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return pcaError(CodeInvalidRequest, "The certificate is not a CA certificate with keyCertSign and cRLSign key usage.",
			"ca.import.not_ca", "certificate %s: CA=%v keyUsage=%b", cert.Subject, cert.IsCA, cert.KeyUsage)
	}
	if len(cert.SubjectKeyId) == 0 {
		return pcaError(CodeInvalidRequest, "The certificate has no subject key identifier.", "ca.import.no_ski",
			"certificate %s lacks the SKI extension CRLs need", cert.Subject)
	}
	if weakSignature(cert.SignatureAlgorithm) {
		return pcaError(CodeInvalidRequest, "The certificate is signed with a weak algorithm; use SHA-256 or stronger.",
			"ca.import.weak_signature", "certificate %s is signed with %v", cert.Subject, cert.SignatureAlgorithm)
	}
	now := s.now()
	if now.After(cert.NotAfter) {
		return pcaError(CodeInvalidRequest, "The certificate has expired.", "ca.import.expired", "certificate %s expired at %s", cert.Subject, cert.NotAfter)
	}
	if a.Type == TypeRoot {
		if len(chain) > 0 || cert.CheckSignatureFrom(cert) != nil {
			return pcaError(CodeInvalidRequest, "A root CA's certificate must be self-signed and imported without a chain.",
				"ca.import.root_not_self_signed", "certificate %s for root %s", cert.Subject, a.Arn)
		}
		return nil
	}
	if len(chain) == 0 {
		return pcaError(CodeInvalidRequest, "The certificate chain is required for a subordinate CA.", "ca.import.no_chain",
			"no chain given for %s", a.Arn)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	haveRoot := false
	for _, c := range chain {
		if weakSignature(c.SignatureAlgorithm) && c.CheckSignatureFrom(c) != nil {
			return pcaError(CodeInvalidRequest, "A chain certificate is signed with a weak algorithm; use SHA-256 or stronger.",
				"ca.import.weak_chain", "chain certificate %s is signed with %v", c.Subject, c.SignatureAlgorithm)
		}
		if c.CheckSignatureFrom(c) == nil {
			roots.AddCert(c)
			haveRoot = true
		} else {
			inter.AddCert(c)
		}
	}
	if !haveRoot { // the chain may stop at an intermediate trust anchor
		roots.AddCert(chain[len(chain)-1])
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return pcaError(CodeCertificateMismatch, "The certificate does not chain to the certificate chain provided.",
			"ca.import.chain", "%v", err)
	}
	return nil
}

func weakSignature(alg x509.SignatureAlgorithm) bool {
	switch alg {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1, x509.UnknownSignatureAlgorithm:
		return true
	}
	return false
}

// authority is authorityRecord without the stored bytes, for reads that do
// not compare them later. The same sharing rule holds: read the Authority,
// never write through its pointers and slices.
func (s *Service) authority(ctx context.Context, caARN string) (Authority, error) {
	a, _, err := s.authorityRecord(ctx, caARN)
	return a, err
}

// authorityRecord loads a CA by ARN and also returns the stored bytes, so that a transaction can tell later whether the record
// changed by comparing them. The record changes rarely and issuance reads
// it every time, so the last decode is reused while the bytes are the
// same. The Authority shares pointers and slices with the cache: read it,
// never write through them.
func (s *Service) authorityRecord(ctx context.Context, caARN string) (Authority, []byte, error) {
	id, err := s.caID(caARN)
	if err != nil {
		return Authority{}, nil, err
	}
	var raw []byte
	err = s.cfg.Store.View(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(store.KindCA, id)
		raw = rec.Data
		return err
	})
	if err != nil {
		return Authority{}, nil, s.notFound(caARN, err)
	}
	a, err := s.decodeAuthority(caARN, id, raw)
	return a, raw, err
}

// decodeAuthority decodes raw, the stored record of the CA caARN, reusing
// and keeping the cache's decode (see authorityRecord).
func (s *Service) decodeAuthority(caARN, id string, raw []byte) (Authority, error) {
	s.mu.Lock()
	c := s.cache[caARN]
	if c != nil && bytes.Equal(c.rec, raw) {
		a := c.auth
		s.mu.Unlock()
		return a, nil
	}
	s.mu.Unlock()
	var a Authority
	if err := json.Unmarshal(raw, &a); err != nil {
		return Authority{}, storeError(fmt.Errorf("store: decode %s/%s: %w", store.KindCA, id, err))
	}
	s.keepDecoded(caARN, raw, a)
	return a, nil
}

// keepDecoded caches a, the decode of raw, as the CA's record.
func (s *Service) keepDecoded(caARN string, raw []byte, a Authority) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cache[caARN]
	if c == nil {
		c = &caCache{}
		s.cache[caARN] = c
	}
	c.rec, c.auth = raw, a
}

// cachedAuthority returns the CA record last decoded for caARN, without
// reading the store: it may be stale, for callers that check it against
// the store before they act on it.
func (s *Service) cachedAuthority(caARN string) (Authority, []byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.cache[caARN]; c != nil && c.rec != nil {
		return c.auth, c.rec, true
	}
	return Authority{}, nil, false
}

// mutate applies fn to the stored CA in one transaction.
func (s *Service) mutate(ctx context.Context, caARN string, fn func(*Authority, store.Tx) error) error {
	id, err := s.caID(caARN)
	if err != nil {
		return err
	}
	err = s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		a, v, err := store.Get[Authority](tx, store.KindCA, id)
		if err != nil {
			return err
		}
		if err := fn(&a, tx); err != nil {
			return err
		}
		_, err = store.Put(tx, store.KindCA, id, v, a)
		return err
	})
	return s.notFound(caARN, err)
}

func (s *Service) notFound(caARN string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return pcaError(CodeResourceNotFound, fmt.Sprintf("Could not find certificate authority with ARN %s.", caARN),
			"ca.not_found", "no CA %s", caARN)
	}
	return storeError(err)
}

// caID checks that caARN is a CA ARN of this server and returns its id.
func (s *Service) caID(caARN string) (string, error) {
	a, err := arn.Parse(caARN)
	id := a.ResourceID()
	if err != nil || a.Service != "acm-pca" || a.ResourceType() != "certificate-authority" || id == "" || strings.ContainsAny(id, "/~") {
		return "", pcaError(CodeInvalidArn, fmt.Sprintf("The ARN %s is not a valid certificate authority ARN.", caARN),
			"ca.arn.malformed", "not arn:<partition>:acm-pca:<region>:<account>:certificate-authority/<id>: %q", caARN)
	}
	if !s.cfg.Scope.Contains(a) || a.Region == "" {
		return "", pcaError(CodeResourceNotFound, fmt.Sprintf("Could not find certificate authority with ARN %s.", caARN),
			"ca.arn.other_scope", "ARN %s is outside this server's account/region %s/%s", caARN, s.cfg.Scope.AccountID, s.cfg.Scope.Region)
	}
	return id, nil
}

// signer returns the CA's key, from cache when the record still points at
// the same key.
func (s *Service) signer(ctx context.Context, a Authority) (crypto.Signer, error) {
	fp := keyFingerprint(a.Key)
	s.mu.Lock()
	c := s.cache[a.Arn]
	s.mu.Unlock()
	if c != nil && c.keyFP == fp {
		return c.signer, nil
	}
	ks, ok := s.keyStores[a.Key.Store]
	if !ok {
		return nil, awserr.Internal(fmt.Sprintf("CA %s key is in key store %q, which is not configured", a.Arn, a.Key.Store))
	}
	signer, err := ks.Signer(ctx, a.Arn, a.Key)
	if err != nil {
		return nil, s.keyError(a.Arn, err)
	}
	s.remember(a.Arn, a.Key, signer)
	return signer, nil
}

func (s *Service) remember(caARN string, ref KeyRef, signer crypto.Signer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cache[caARN]
	if c == nil {
		c = &caCache{}
		s.cache[caARN] = c
	}
	if fp := keyFingerprint(ref); c.keyFP != fp {
		// A new key: the certificate cached was for the old one.
		*c = caCache{keyFP: fp, signer: signer, rec: c.rec, auth: c.auth}
	}
}

// certificate returns the CA's parsed certificate, cached.
func (s *Service) certificate(a Authority) (*x509.Certificate, error) {
	s.mu.Lock()
	c := s.cache[a.Arn]
	if c != nil && c.certPEM == a.CertificatePEM && c.cert != nil {
		s.mu.Unlock()
		return c.cert, nil
	}
	s.mu.Unlock()
	cert, err := parseCertificatePEM([]byte(a.CertificatePEM))
	if err != nil {
		return nil, awserr.Internal(fmt.Sprintf("stored certificate of %s does not parse: %v", a.Arn, err))
	}
	s.mu.Lock()
	if c := s.cache[a.Arn]; c != nil {
		c.certPEM, c.cert = a.CertificatePEM, cert
	}
	s.mu.Unlock()
	return cert, nil
}

func keyFingerprint(ref KeyRef) string {
	return ref.Store + "\x00" + ref.Label + "\x00" + ref.ID + "\x00" + hashHex(ref.Sealed)
}

// keyError reports a key store failure without the key or its plaintext.
func (s *Service) keyError(caARN string, err error) error {
	var ae *awserr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return pcaError(CodeRequestFailed, "The request failed because of an error with the CA's key.", "ca.key.store", "CA %s: %v", caARN, err)
}

func (s *Service) lookupToken(ctx context.Context, kind store.Kind, id string, now time.Time) (string, bool, error) {
	var t idempotencyToken
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		t, _, err = store.Get[idempotencyToken](tx, kind, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, storeError(err)
	}
	if now.Before(t.ExpiresAt) {
		return t.Arn, true, nil
	}
	return "", false, nil
}

func storeError(err error) error {
	if err == nil {
		return nil
	}
	var ae *awserr.Error
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, store.ErrConflict) {
		return pcaError(CodeConcurrentModification, "A previous update to your private CA is still ongoing.", "ca.store.conflict", "%v", err)
	}
	return awserr.Internal(err.Error())
}

func invalidState(a Authority, op string) *awserr.Error {
	return pcaError(CodeInvalidState, fmt.Sprintf("The certificate authority %s is in the %s state, which does not allow %s.", a.Arn, a.Status, op),
		"ca.state", "%s: %s in state %s", op, a.Arn, a.Status)
}

func hashHex(parts ...[]byte) string {
	h := sha256.New()
	var prefix [24]byte
	for _, p := range parts {
		h.Write(append(strconv.AppendInt(prefix[:0], int64(len(p)), 10), ':'))
		h.Write(p)
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

func newUUID(rand io.Reader) (string, error) {
	u, err := uuid.NewRandomFromReader(rand)
	if err != nil {
		return "", awserr.Internal("reading randomness: " + err.Error())
	}
	return u.String(), nil
}

// CreateActiveRoot runs PCA's whole root flow in one call — create, sign
// the CA's own CSR with RootCACertificate/V1 for validity, import — and
// returns the ACTIVE root's ARN. It is what `iamra init` and dev mode
// need; API clients do the same in three calls.
func (s *Service) CreateActiveRoot(ctx context.Context, req CreateRequest, validity Validity) (string, error) {
	req.CertificateAuthorityType = TypeRoot
	caARN, err := s.CreateCertificateAuthority(ctx, req)
	if err != nil {
		return "", err
	}
	csr, err := s.GetCertificateAuthorityCsr(ctx, caARN)
	if err != nil {
		return "", err
	}
	certARN, err := s.IssueCertificate(ctx, IssueCertificateRequest{CertificateAuthorityArn: caARN, Csr: []byte(csr),
		TemplateArn: TemplateRootCA, Validity: validity})
	if err != nil {
		return "", err
	}
	cert, _, err := s.GetCertificate(ctx, caARN, certARN)
	if err != nil {
		return "", err
	}
	return caARN, s.ImportCertificateAuthorityCertificate(ctx, caARN, []byte(cert), nil)
}
