//go:build cgo

package command

import (
	"io"

	"github.com/iamra/iamra/ca"
	capkcs11 "github.com/iamra/iamra/ca/pkcs11"
)

// openCAKeyStore opens the PKCS#11 token that holds private CA keys.
func openCAKeyStore(module, token, pin string, rnd io.Reader) (ca.KeyStore, io.Closer, error) {
	ks, err := capkcs11.Open(capkcs11.Config{Module: module, TokenLabel: token, PIN: pin, Rand: rnd})
	if err != nil {
		return nil, nil, err
	}
	return ks, ks, nil
}
