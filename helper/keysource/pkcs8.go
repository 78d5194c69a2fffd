package keysource

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/scrypt"
)

// Encrypted PKCS#8 (RFC 5958 EncryptedPrivateKeyInfo) with PBES2 (RFC 8018):
// what `openssl pkcs8 -topk8` and `openssl genpkey -aes256` write. Go's
// standard library has no decoder for it, and the official helper added one
// in v1.6.0, so iamra needs one too.

var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}

	oidHMACWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA224 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}

	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

// ErrIncorrectPassword means an encrypted key or PKCS#12 file did not
// decrypt with the password given.
var ErrIncorrectPassword = errors.New("incorrect password")

// Bounds on key-derivation cost, so that a hostile or corrupted file cannot
// pin a CPU for minutes or allocate gigabytes. OpenSSL's defaults (PBKDF2:
// 2048 iterations; scrypt: N=16384, r=8, p=1) and OWASP's 600,000 PBKDF2
// iterations are far below them.
const (
	maxPBKDF2Iterations = 1 << 23
	maxScryptNr         = 1 << 19 // 128·N·r bytes = 64 MiB
	maxScryptNrp        = 1 << 21
)

type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int                      `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier `asn1:"optional"`
}

type scryptParams struct {
	Salt                     []byte
	CostParameter            int
	BlockSize                int
	ParallelizationParameter int
	KeyLength                int `asn1:"optional"`
}

// decryptPKCS8 returns the PKCS#8 PrivateKeyInfo DER inside an
// EncryptedPrivateKeyInfo.
func decryptPKCS8(der, password []byte) ([]byte, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil {
		return nil, fmt.Errorf("malformed encrypted PKCS#8 key: %v", err)
	} else if len(rest) != 0 {
		return nil, errors.New("malformed encrypted PKCS#8 key: trailing data")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("encrypted PKCS#8 key uses %v; only PBES2 is supported (re-encrypt with `openssl pkcs8 -topk8 -v2 aes-256-cbc`)", info.Algorithm.Algorithm)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("malformed PBES2 parameters: %v", err)
	}

	newCipher, keyLen, err := pbes2Cipher(params.EncryptionScheme.Algorithm)
	if err != nil {
		return nil, err
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil {
		return nil, fmt.Errorf("malformed PBES2 IV: %v", err)
	}
	key, err := pbes2Key(params.KeyDerivationFunc, password, keyLen)
	if err != nil {
		return nil, err
	}
	block, err := newCipher(key)
	if err != nil {
		return nil, err
	}
	if len(iv) != block.BlockSize() {
		return nil, fmt.Errorf("malformed PBES2 IV: %d bytes, want %d", len(iv), block.BlockSize())
	}
	data := info.EncryptedData
	if len(data) == 0 || len(data)%block.BlockSize() != 0 {
		return nil, errors.New("malformed encrypted PKCS#8 key: ciphertext is not a whole number of blocks")
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	plain, ok := unpad(plain, block.BlockSize())
	if !ok {
		// A wrong password almost always shows up as bad padding.
		return nil, ErrIncorrectPassword
	}
	// A wrong password can produce valid padding by chance; the caller's
	// PKCS#8 parse then fails, which it reports as a wrong password too.
	return plain, nil
}

func pbes2Cipher(oid asn1.ObjectIdentifier) (func([]byte) (cipher.Block, error), int, error) {
	switch {
	case oid.Equal(oidAES128CBC):
		return aes.NewCipher, 16, nil
	case oid.Equal(oidAES192CBC):
		return aes.NewCipher, 24, nil
	case oid.Equal(oidAES256CBC):
		return aes.NewCipher, 32, nil
	case oid.Equal(oidDESEDE3CBC):
		return des.NewTripleDESCipher, 24, nil
	}
	return nil, 0, fmt.Errorf("encrypted PKCS#8 key uses unsupported cipher %v (supported: AES-128/192/256-CBC, DES-EDE3-CBC)", oid)
}

func pbes2Key(kdf pkix.AlgorithmIdentifier, password []byte, keyLen int) ([]byte, error) {
	switch {
	case kdf.Algorithm.Equal(oidPBKDF2):
		var p pbkdf2Params
		if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
			return nil, fmt.Errorf("malformed PBKDF2 parameters: %v", err)
		}
		if p.IterationCount < 1 || p.IterationCount > maxPBKDF2Iterations {
			return nil, fmt.Errorf("PBKDF2 iteration count %d out of range", p.IterationCount)
		}
		if p.KeyLength != 0 && p.KeyLength != keyLen {
			return nil, fmt.Errorf("PBKDF2 key length %d does not match the cipher's %d", p.KeyLength, keyLen)
		}
		h, err := prfHash(p.PRF.Algorithm)
		if err != nil {
			return nil, err
		}
		return pbkdf2.Key(h, string(password), p.Salt, p.IterationCount, keyLen)
	case kdf.Algorithm.Equal(oidScrypt):
		var p scryptParams
		if _, err := asn1.Unmarshal(kdf.Parameters.FullBytes, &p); err != nil {
			return nil, fmt.Errorf("malformed scrypt parameters: %v", err)
		}
		if p.CostParameter < 2 || p.BlockSize < 1 || p.ParallelizationParameter < 1 ||
			p.CostParameter > maxScryptNr/p.BlockSize || p.ParallelizationParameter > maxScryptNrp/(p.CostParameter*p.BlockSize) {
			return nil, fmt.Errorf("scrypt parameters N=%d r=%d p=%d out of range", p.CostParameter, p.BlockSize, p.ParallelizationParameter)
		}
		if p.KeyLength != 0 && p.KeyLength != keyLen {
			return nil, fmt.Errorf("scrypt key length %d does not match the cipher's %d", p.KeyLength, keyLen)
		}
		return scrypt.Key(password, p.Salt, p.CostParameter, p.BlockSize, p.ParallelizationParameter, keyLen)
	}
	return nil, fmt.Errorf("encrypted PKCS#8 key uses unsupported key derivation %v (supported: PBKDF2, scrypt)", kdf.Algorithm)
}

func prfHash(oid asn1.ObjectIdentifier) (func() hash.Hash, error) {
	switch {
	case len(oid) == 0, oid.Equal(oidHMACWithSHA1): // DEFAULT hmacWithSHA1
		return sha1.New, nil
	case oid.Equal(oidHMACWithSHA224):
		return sha256.New224, nil
	case oid.Equal(oidHMACWithSHA256):
		return sha256.New, nil
	case oid.Equal(oidHMACWithSHA384):
		return sha512.New384, nil
	case oid.Equal(oidHMACWithSHA512):
		return sha512.New, nil
	}
	return nil, fmt.Errorf("PBKDF2 uses unsupported PRF %v", oid)
}

// unpad strips PKCS#7 padding in constant time with respect to the
// padding bytes.
func unpad(b []byte, blockSize int) ([]byte, bool) {
	n := int(b[len(b)-1])
	if n == 0 || n > blockSize || n > len(b) {
		return nil, false
	}
	want := make([]byte, n)
	for i := range want {
		want[i] = byte(n)
	}
	if subtle.ConstantTimeCompare(b[len(b)-n:], want) != 1 {
		return nil, false
	}
	return b[:len(b)-n], true
}
