package ca

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/iamra/iamra/store"
)

// Revocation reasons, PCA's names, with their RFC 5280 §5.3.1 codes.
const (
	ReasonUnspecified                    = "UNSPECIFIED"
	ReasonKeyCompromise                  = "KEY_COMPROMISE"
	ReasonCertificateAuthorityCompromise = "CERTIFICATE_AUTHORITY_COMPROMISE"
	ReasonAffiliationChanged             = "AFFILIATION_CHANGED"
	ReasonSuperseded                     = "SUPERSEDED"
	ReasonCessationOfOperation           = "CESSATION_OF_OPERATION"
	ReasonPrivilegeWithdrawn             = "PRIVILEGE_WITHDRAWN"
	ReasonAACompromise                   = "A_A_COMPROMISE"
)

var reasonCodes = map[string]int{
	ReasonUnspecified: 0, ReasonKeyCompromise: 1, ReasonCertificateAuthorityCompromise: 2, ReasonAffiliationChanged: 3,
	ReasonSuperseded: 4, ReasonCessationOfOperation: 5, ReasonPrivilegeWithdrawn: 9, ReasonAACompromise: 10,
}

var reasonNames = []string{ReasonAffiliationChanged, ReasonCessationOfOperation, ReasonAACompromise, ReasonCertificateAuthorityCompromise,
	ReasonKeyCompromise, ReasonPrivilegeWithdrawn, ReasonSuperseded, ReasonUnspecified}

// RevokeCertificate revokes a certificate the CA issued (serial in hex,
// with or without colons) and, in the same transaction, signs the CA's
// next CRL, which is then handed to OnCRL.
func (s *Service) RevokeCertificate(ctx context.Context, caARN, certificateSerial, reason string) error {
	if err := firstViolation(enumViolation("revocationReason", reason, reasonNames...)); err != nil {
		return err
	}
	n, ok := parseSerial(certificateSerial)
	if !ok {
		return invalidArgs("ca.revoke.serial", "The certificate serial %q is not a hexadecimal serial number.", certificateSerial)
	}
	serial := serialHex(n)
	_, err := s.regenerateCRL(ctx, caARN, func(tx store.Tx, a *Authority, list *revokedList, now time.Time) error {
		id := certID(a.ID, serial)
		rec, v, err := store.Get[IssuedCertificate](tx, store.KindCertificate, id)
		if errors.Is(err, store.ErrNotFound) {
			return pcaError(CodeResourceNotFound, fmt.Sprintf("Could not find certificate with serial %s issued by %s.", certificateSerial, caARN),
				"ca.revoke.not_found", "no certificate %s", id)
		}
		if err != nil {
			return err
		}
		if rec.Status == CertificateRevoked {
			return pcaError(CodeRequestAlreadyProcessed, "The certificate has already been revoked.", "ca.revoke.already",
				"%s revoked at %s", rec.Arn, rec.RevokedAt)
		}
		if !now.Before(rec.NotAfter) {
			return pcaError(CodeInvalidRequest, "The certificate has expired and cannot be revoked.", "ca.revoke.expired",
				"%s expired at %s", rec.Arn, rec.NotAfter)
		}
		rec.Status, rec.RevokedAt, rec.RevocationReason = CertificateRevoked, &now, reason
		if _, err := store.Put(tx, store.KindCertificate, id, v, rec); err != nil {
			return err
		}
		list.Entries = append(list.Entries, revokedEntry{Serial: serial, RevokedAt: now, Reason: reason, NotAfter: rec.NotAfter})
		return nil
	})
	return err
}

// revocable lists the states in which a CA keeps signing CRLs.
func revocable(status string) bool {
	return status == StatusActive || status == StatusDisabled || status == StatusExpired
}

// regenerateCRL signs the CA's next CRL (number + 1) in one transaction
// with change (nil: re-sign the same list), stores it and calls OnCRL.
func (s *Service) regenerateCRL(ctx context.Context, caARN string, change func(tx store.Tx, a *Authority, list *revokedList, now time.Time) error) ([]byte, error) {
	a, err := s.authority(ctx, caARN)
	if err != nil {
		return nil, err
	}
	if a.CertificatePEM == "" || !revocable(s.effective(a).Status) {
		return nil, invalidState(a, "RevokeCertificate")
	}
	// Key and certificate are loaded outside the transaction (an HSM may be
	// slow); the transaction checks they are still the CA's.
	signer, err := s.signer(ctx, a)
	if err != nil {
		return nil, err
	}
	caCert, err := s.certificate(a)
	if err != nil {
		return nil, err
	}
	alg, err := SignatureAlgorithm(a.CertificateAuthorityConfiguration.SigningAlgorithm, signer.Public())
	if err != nil {
		return nil, err
	}
	var der []byte
	var number int64
	err = s.mutate(ctx, caARN, func(b *Authority, tx store.Tx) error {
		der = nil
		if keyFingerprint(b.Key) != keyFingerprint(a.Key) || b.CertificatePEM != a.CertificatePEM || !revocable(s.effective(*b).Status) {
			return pcaError(CodeConcurrentModification, "A previous update to your private CA is still ongoing.", "ca.crl.raced",
				"%s changed while its CRL was being signed", caARN)
		}
		now := s.now().Truncate(time.Second)
		list, _, err := store.Get[revokedList](tx, store.KindCertificate, revokedID(b.ID))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if change != nil {
			if err := change(tx, b, &list, now); err != nil {
				return err
			}
		}
		// RFC 5280 §3.3 lets an entry go once the certificate has expired.
		kept := list.Entries[:0]
		for _, e := range list.Entries {
			if now.Before(e.NotAfter) {
				kept = append(kept, e)
			}
		}
		list.Entries = kept
		entries := make([]x509.RevocationListEntry, len(list.Entries))
		for i, e := range list.Entries {
			n, _ := new(big.Int).SetString(e.Serial, 16)
			entries[i] = x509.RevocationListEntry{SerialNumber: n, RevocationTime: e.RevokedAt, ReasonCode: reasonCodes[e.Reason]}
		}
		number = b.CRL.Number + 1
		next := now.AddDate(0, 0, crlDays(b.RevocationConfiguration))
		der, err = x509.CreateRevocationList(s.cfg.Rand, &x509.RevocationList{
			Number: big.NewInt(number), ThisUpdate: now, NextUpdate: next,
			RevokedCertificateEntries: entries, SignatureAlgorithm: alg,
		}, caCert, signer)
		if err != nil {
			return pcaError(CodeRequestFailed, "The CRL could not be signed.", "ca.crl.sign", "%s: %v", caARN, err)
		}
		if err := putAny(tx, store.KindCertificate, revokedID(b.ID), list); err != nil {
			return err
		}
		if err := putAny(tx, store.KindCertificate, crlID(b.ID), crlRecord{Number: number, ThisUpdate: now, NextUpdate: next, DER: der}); err != nil {
			return err
		}
		b.CRL = CRLState{Number: number, ThisUpdate: &now, NextUpdate: &next}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.deliverCRL(caARN, number, der)
	return der, nil
}

// deliverCRL calls OnCRL one CRL at a time and never with a CRL older than
// one already delivered: two revocations committing back to back must not
// let the older CRL reach trust anchors last.
func (s *Service) deliverCRL(caARN string, number int64, der []byte) {
	if s.cfg.OnCRL == nil {
		return
	}
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	if number <= s.delivered[caARN] {
		return
	}
	s.delivered[caARN] = number
	s.cfg.OnCRL(caARN, der)
}

// CurrentCRL returns the CA's latest CRL (DER). It exists from the import
// of the CA's certificate on, whether or not the CA publishes CRLs in its
// certificates, so that revocations always reach trust anchors.
func (s *Service) CurrentCRL(ctx context.Context, caARN string) ([]byte, error) {
	id, err := s.caID(caARN)
	if err != nil {
		return nil, err
	}
	return s.crl(ctx, caARN, id)
}

// CRLByID is CurrentCRL by CA id, for serving /crl/<ca-id>.crl.
func (s *Service) CRLByID(ctx context.Context, caID string) ([]byte, error) {
	caARN := s.cfg.Scope.New("acm-pca", "certificate-authority/"+caID, true).String()
	if _, err := s.caID(caARN); err != nil {
		return nil, err
	}
	return s.crl(ctx, caARN, caID)
}

func (s *Service) crl(ctx context.Context, caARN, id string) ([]byte, error) {
	var rec crlRecord
	var a Authority
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		if a, _, err = store.Get[Authority](tx, store.KindCA, id); err != nil {
			return err
		}
		rec, _, err = store.Get[crlRecord](tx, store.KindCertificate, crlID(id))
		if errors.Is(err, store.ErrNotFound) {
			return invalidState(a, "GetCrl")
		}
		return err
	})
	if err != nil {
		return nil, s.notFound(caARN, err)
	}
	return rec.DER, nil
}

// RefreshCRLs re-signs every CRL past half its lifetime, so relying
// parties never hold a CRL past nextUpdate. It returns the errors of the
// CAs it could not refresh, joined.
func (s *Service) RefreshCRLs(ctx context.Context) error {
	var errs []error
	err := s.eachAuthority(ctx, func(a Authority) {
		if a.CertificatePEM == "" || !revocable(s.effective(a).Status) {
			return
		}
		now := s.now()
		c := a.CRL
		if c.ThisUpdate != nil && c.NextUpdate != nil && now.Before(c.ThisUpdate.Add(c.NextUpdate.Sub(*c.ThisUpdate)/2)) &&
			c.NextUpdate.Sub(*c.ThisUpdate) == time.Duration(crlDays(a.RevocationConfiguration))*24*time.Hour {
			return
		}
		if _, err := s.regenerateCRL(ctx, a.Arn, nil); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.Arn, err))
		}
	})
	return errors.Join(append(errs, err)...)
}

// eachAuthority calls fn for every CA, a page at a time (fn runs outside
// any transaction).
func (s *Service) eachAuthority(ctx context.Context, fn func(Authority)) error {
	token := ""
	for {
		page, next, err := s.ListCertificateAuthorities(ctx, token, 100)
		if err != nil {
			return err
		}
		for _, a := range page {
			full, err := s.authority(ctx, a.Arn)
			if err == nil {
				fn(full)
			}
		}
		if next == "" {
			return nil
		}
		token = next
	}
}

// Maintain does the periodic work: refresh CRLs, drop expired idempotency
// tokens, and permanently delete CAs whose restore window has passed.
func (s *Service) Maintain(ctx context.Context) error {
	errs := []error{s.RefreshCRLs(ctx)}
	errs = append(errs, s.eachAuthority(ctx, func(a Authority) {
		if a.Status == StatusDeleted && a.RestorableUntil != nil && !s.now().Before(*a.RestorableUntil) {
			errs = append(errs, s.purge(ctx, a))
			return
		}
		errs = append(errs, s.dropExpiredTokens(ctx, a.ID))
	}))
	errs = append(errs, s.dropExpiredCreateTokens(ctx))
	return errors.Join(errs...)
}

// Run calls Maintain every interval until ctx ends. Errors go to report
// (which may be nil).
func (s *Service) Run(ctx context.Context, interval time.Duration, report func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.Maintain(ctx); err != nil && report != nil && ctx.Err() == nil {
			report(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// purge deletes a CA for good: its records, then its key.
func (s *Service) purge(ctx context.Context, a Authority) error {
	if err := s.deleteRange(ctx, a.ID+"/", func(string) bool { return true }); err != nil {
		return err
	}
	if err := s.cfg.Store.Update(ctx, func(tx store.Tx) error { return tx.Delete(store.KindCA, a.ID) }); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.mu.Lock()
	delete(s.cache, a.Arn)
	s.mu.Unlock()
	if ks, ok := s.keyStores[a.Key.Store]; ok {
		return ks.Destroy(ctx, a.Arn, a.Key)
	}
	return nil
}

func (s *Service) dropExpiredTokens(ctx context.Context, caID string) error {
	now := s.now()
	return s.deleteRange(ctx, issueTokenPrefix(caID), func(data string) bool { return tokenExpired(data, now) })
}

func (s *Service) dropExpiredCreateTokens(ctx context.Context) error {
	now := s.now()
	var ids []string
	err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		ids = nil
		recs, _, err := tx.List(store.KindCA, store.ListOptions{After: tokenPrefix})
		for _, r := range recs {
			if strings.HasPrefix(r.ID, tokenPrefix) && tokenExpired(string(r.Data), now) {
				ids = append(ids, r.ID)
			}
		}
		return err
	})
	if err != nil || len(ids) == 0 {
		return err
	}
	return s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		for _, id := range ids {
			if err := tx.Delete(store.KindCA, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
}

// deleteRange deletes KindCertificate records whose ID starts with prefix
// and whose data satisfies match, a page per transaction.
func (s *Service) deleteRange(ctx context.Context, prefix string, match func(data string) bool) error {
	after := prefix
	for {
		var more, last string
		err := s.cfg.Store.Update(ctx, func(tx store.Tx) error {
			recs, next, err := tx.List(store.KindCertificate, store.ListOptions{After: after, Limit: 500})
			if err != nil {
				return err
			}
			more, last = next, after
			for _, r := range recs {
				if !strings.HasPrefix(r.ID, prefix) {
					more = ""
					break
				}
				if match(string(r.Data)) {
					if err := tx.Delete(store.KindCertificate, r.ID); err != nil {
						return err
					}
				}
				last = r.ID
			}
			return nil
		})
		if err != nil || more == "" {
			return err
		}
		after = last
	}
}

func tokenExpired(data string, now time.Time) bool {
	var t idempotencyToken
	if err := json.Unmarshal([]byte(data), &t); err != nil {
		return false
	}
	return !now.Before(t.ExpiresAt)
}
