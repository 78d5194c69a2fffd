//go:build !cgo

package keysource

import "errors"

var errNoPKCS11 = errors.New("PKCS#11 support needs a build with cgo (CGO_ENABLED=1); this binary was built without it")

func openPKCS11(Options) (Source, error) { return nil, errNoPKCS11 }

// ListPKCS11Certificates needs cgo; see the cgo build.
func ListPKCS11Certificates(Options) ([]TokenCertificate, error) { return nil, errNoPKCS11 }
