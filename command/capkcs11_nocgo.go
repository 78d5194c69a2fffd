//go:build !cgo

package command

import (
	"errors"
	"io"

	"github.com/iamra/iamra/ca"
)

// openCAKeyStore needs cgo: PKCS#11 modules are C libraries.
func openCAKeyStore(module, token, pin string, rnd io.Reader) (ca.KeyStore, io.Closer, error) {
	return nil, nil, errors.New("--ca-pkcs11-module needs an iamra built with cgo (PKCS#11 modules are C libraries)")
}
