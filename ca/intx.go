package ca

import (
	"errors"

	"github.com/iamra/iamra/store"
)

// AuthorityIn reads the CA caARN inside tx, without its key reference.
// It is for subsystems that read CA records as part of their own
// transaction (the configuration snapshot), so that the CA and its CRL
// come from the same revision as everything else they read. Errors are
// those of DescribeCertificateAuthority; the status is the stored one
// (not EXPIRED, which depends on the reader's clock).
func (s *Service) AuthorityIn(tx store.Tx, caARN string) (Authority, error) {
	id, err := s.caID(caARN)
	if err != nil {
		return Authority{}, err
	}
	a, _, err := store.Get[Authority](tx, store.KindCA, id)
	if err != nil {
		return Authority{}, s.notFound(caARN, err)
	}
	return a.public(), nil
}

// CRLIn returns the CA's current CRL (DER) inside tx, or nil when the CA
// has none yet (no certificate imported).
func (s *Service) CRLIn(tx store.Tx, caARN string) ([]byte, error) {
	id, err := s.caID(caARN)
	if err != nil {
		return nil, err
	}
	rec, _, err := store.Get[crlRecord](tx, store.KindCertificate, crlID(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, storeError(err)
	}
	return rec.DER, nil
}
