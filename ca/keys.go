package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"io"
)

// Key algorithms, in PCA's names (KeyAlgorithm).
const (
	KeyRSA2048 = "RSA_2048"
	KeyRSA3072 = "RSA_3072"
	KeyRSA4096 = "RSA_4096"
	KeyECP256  = "EC_prime256v1"
	KeyECP384  = "EC_secp384r1"
	KeyECP521  = "EC_secp521r1"
)

// Signing algorithms, in PCA's names (SigningAlgorithm).
const (
	SHA256WithECDSA  = "SHA256WITHECDSA"
	SHA384WithECDSA  = "SHA384WITHECDSA"
	SHA512WithECDSA  = "SHA512WITHECDSA"
	SHA256WithRSA    = "SHA256WITHRSA"
	SHA384WithRSA    = "SHA384WITHRSA"
	SHA512WithRSA    = "SHA512WITHRSA"
	SHA256WithRSAPSS = "SHA256WITHRSA_PSS"
	SHA384WithRSAPSS = "SHA384WITHRSA_PSS"
	SHA512WithRSAPSS = "SHA512WITHRSA_PSS"
)

var signingAlgorithms = map[string]x509.SignatureAlgorithm{
	SHA256WithECDSA:  x509.ECDSAWithSHA256,
	SHA384WithECDSA:  x509.ECDSAWithSHA384,
	SHA512WithECDSA:  x509.ECDSAWithSHA512,
	SHA256WithRSA:    x509.SHA256WithRSA,
	SHA384WithRSA:    x509.SHA384WithRSA,
	SHA512WithRSA:    x509.SHA512WithRSA,
	SHA256WithRSAPSS: x509.SHA256WithRSAPSS,
	SHA384WithRSAPSS: x509.SHA384WithRSAPSS,
	SHA512WithRSAPSS: x509.SHA512WithRSAPSS,
}

// GenerateKey creates a CA or workload key for a PCA key algorithm name
// ("RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1",
// "EC_secp521r1"). Unknown names give InvalidArgsException.
func GenerateKey(spec string, rand io.Reader) (crypto.Signer, error) {
	switch spec {
	case KeyRSA2048:
		return rsa.GenerateKey(rand, 2048)
	case KeyRSA3072:
		return rsa.GenerateKey(rand, 3072)
	case KeyRSA4096:
		return rsa.GenerateKey(rand, 4096)
	case KeyECP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand)
	case KeyECP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand)
	case KeyECP521:
		return ecdsa.GenerateKey(elliptic.P521(), rand)
	}
	return nil, invalidArgs("ca.key.algorithm", "The key algorithm %q is not supported.", spec)
}

// KeyAlgorithmOf names a public key in PCA's terms, or returns an error for
// keys iamra does not accept: RSA below 2048 or above 8192 bits, curves
// other than P-256, P-384 and P-521, and every other key type (Roles
// Anywhere accepts only RSA and ECDSA certificates).
func KeyAlgorithmOf(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		bits := k.N.BitLen()
		switch {
		case bits < 2048:
			return "", invalidArgs("ca.key.rsa_too_small", "RSA keys must be at least 2048 bits; this one has %d.", bits)
		case bits > 8192:
			return "", invalidArgs("ca.key.rsa_too_large", "RSA keys must be at most 8192 bits; this one has %d.", bits)
		case bits == 2048:
			return KeyRSA2048, nil
		case bits == 3072:
			return KeyRSA3072, nil
		case bits == 4096:
			return KeyRSA4096, nil
		}
		return "RSA", nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return KeyECP256, nil
		case elliptic.P384():
			return KeyECP384, nil
		case elliptic.P521():
			return KeyECP521, nil
		}
		return "", invalidArgs("ca.key.curve", "The elliptic curve %s is not supported; use P-256, P-384 or P-521.", k.Curve.Params().Name)
	}
	return "", invalidArgs("ca.key.type", "The key type %T is not supported; use RSA or ECDSA.", pub)
}

// DefaultSigningAlgorithm is the PCA signing algorithm matching a key: SHA-256
// for RSA and P-256, SHA-384 for P-384, SHA-512 for P-521.
func DefaultSigningAlgorithm(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P384():
			return SHA384WithECDSA
		case elliptic.P521():
			return SHA512WithECDSA
		}
		return SHA256WithECDSA
	}
	return SHA256WithRSA
}

// SignatureAlgorithm maps a PCA signing algorithm name onto crypto/x509's
// and checks that it fits the signing key's family, as PCA does.
func SignatureAlgorithm(name string, signer crypto.PublicKey) (x509.SignatureAlgorithm, error) {
	alg, ok := signingAlgorithms[name]
	if !ok {
		return 0, invalidArgs("ca.signing_algorithm.unknown", "The signing algorithm %q is not supported.", name)
	}
	if publicKeyAlgorithmOf(alg) != publicKeyFamily(signer) {
		return 0, invalidArgs("ca.signing_algorithm.family",
			"The signing algorithm %s does not match the algorithm family of the CA's key.", name)
	}
	return alg, nil
}

// publicKeyFamily is the algorithm family of a CA key, for matching it
// with signature algorithms.
func publicKeyFamily(pub crypto.PublicKey) x509.PublicKeyAlgorithm {
	switch pub.(type) {
	case *rsa.PublicKey:
		return x509.RSA
	case *ecdsa.PublicKey:
		return x509.ECDSA
	}
	return x509.UnknownPublicKeyAlgorithm
}

func publicKeyAlgorithmOf(alg x509.SignatureAlgorithm) x509.PublicKeyAlgorithm {
	switch alg {
	case x509.ECDSAWithSHA256, x509.ECDSAWithSHA384, x509.ECDSAWithSHA512:
		return x509.ECDSA
	case x509.SHA256WithRSA, x509.SHA384WithRSA, x509.SHA512WithRSA,
		x509.SHA256WithRSAPSS, x509.SHA384WithRSAPSS, x509.SHA512WithRSAPSS:
		return x509.RSA
	}
	return x509.UnknownPublicKeyAlgorithm
}
