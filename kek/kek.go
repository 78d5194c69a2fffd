// Package kek encrypts secrets at rest with a key-encryption key.
//
// CA private keys, the session-token key ring and admin secrets are stored
// in the database; a database dump alone must not reveal them. They are
// sealed with AES-256-GCM under a 32-byte key-encryption key (KEK) that
// lives outside the database: in a file or an environment variable.
//
// # Key file format
//
// A KEK file holds the standard base64 encoding (RFC 4648 §4, with padding)
// of 32 random bytes, optionally surrounded by white space such as a
// trailing newline — exactly what
//
//	openssl rand -base64 32 > kek && chmod 600 kek
//
// writes. The file must not be readable or writable by group or others
// (mode 0600 or 0400); Load refuses it otherwise, because a KEK that any
// local user can read protects nothing. The environment variable form
// (FromEnv) holds the same base64 text.
//
// # Envelope format
//
// Seal returns
//
//	version (1 byte, 0x01) | key id (4 bytes) | nonce (12 bytes) | ciphertext and GCM tag
//
// The key id is derived from the key, so Open can tell "sealed with another
// KEK" apart from "corrupted". The version and key id are authenticated
// together with the caller's associated data.
package kek

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// KeySize is the length of a KEK in bytes.
const KeySize = 32

const (
	envelopeVersion = 1
	headerSize      = 1 + 4
	nonceSize       = 12
	// Overhead is how many bytes Seal adds to the plaintext.
	Overhead = headerSize + nonceSize + 16
)

var (
	// ErrWrongKey is returned by Open for data sealed under a different KEK.
	ErrWrongKey = errors.New("kek: data was sealed with a different key-encryption key")
	// ErrCorrupt is returned by Open for data that is truncated, altered,
	// or opened with different associated data.
	ErrCorrupt = errors.New("kek: sealed data is corrupt or was sealed for another purpose")
)

// KEK is a key-encryption key. It is safe for concurrent use.
//
// Its String and GoString methods print only the key id, so a KEK that
// slips into a log line does not leak.
type KEK struct {
	id   uint32
	aead cipher.AEAD
	key  [KeySize]byte
	rand io.Reader
}

// New returns a KEK for key, which must be KeySize bytes. Nonces are drawn
// from rnd (crypto/rand when nil).
func New(key []byte, rnd io.Reader) (*KEK, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("kek: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("kek: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("kek: %w", err)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	k := &KEK{aead: aead, rand: rnd}
	copy(k.key[:], key)
	// The id is a hash of the key under a fixed label: it identifies the
	// key without helping anyone guess it.
	sum := sha256.Sum256(append([]byte("iamra kek id\x00"), key...))
	k.id = binary.BigEndian.Uint32(sum[:4])
	return k, nil
}

// Generate returns a new random KEK. Its key and later nonces come from rnd
// (crypto/rand when nil).
func Generate(rnd io.Reader) (*KEK, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	key := make([]byte, KeySize)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return nil, fmt.Errorf("kek: generate: %w", err)
	}
	return New(key, rnd)
}

// Parse reads a KEK from the key file text format (base64 of 32 bytes).
func Parse(text []byte) (*KEK, error) {
	s := strings.TrimSpace(string(text))
	if s == "" {
		return nil, errors.New("kek: key is empty; generate one with: openssl rand -base64 32")
	}
	key, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("kek: key is not valid base64; generate one with: openssl rand -base64 32")
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("kek: key decodes to %d bytes, want %d; generate one with: openssl rand -base64 32", len(key), KeySize)
	}
	return New(key, nil)
}

// Load reads a KEK file. It refuses a file that group or others may read or
// write, naming the fix in the error.
func Load(path string) (*KEK, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kek: %w", err)
	}
	defer f.Close()
	// Stat the open file, not the path, so the mode checked is the mode of
	// the bytes read even if the path is replaced in between.
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("kek: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("kek: %s is not a regular file", path)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("kek: key file %s has mode %#o and is accessible by group or others; run: chmod 600 %s", path, perm, path)
	}
	// A KEK file is a few dozen bytes; reading at most 4 KiB keeps a wrong
	// path (a log file, a device) from being slurped whole.
	text, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("kek: %w", err)
	}
	k, err := Parse(text)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return k, nil
}

// FromEnv reads a KEK from the environment variable name, in the key file
// text format.
func FromEnv(name string) (*KEK, error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return nil, fmt.Errorf("kek: environment variable %s is not set", name)
	}
	k, err := Parse([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("%w (environment variable %s)", err, name)
	}
	return k, nil
}

// WithRand returns a copy of k that draws nonces from rnd.
func (k *KEK) WithRand(rnd io.Reader) *KEK {
	c := *k
	c.rand = rnd
	return &c
}

// ID identifies the key; it is stored in every envelope.
func (k *KEK) ID() uint32 { return k.id }

// String prints the key id only. (Value receivers, so that printing a
// dereferenced KEK does not fall back to dumping its fields.)
func (k KEK) String() string { return fmt.Sprintf("kek:%08x", k.id) }

// GoString prints the key id only, so %#v does not reveal the key.
func (k KEK) GoString() string { return k.String() }

// Export returns the key in the key file format, for writing a generated
// key to disk (with mode 0600).
func (k *KEK) Export() []byte {
	return []byte(base64.StdEncoding.EncodeToString(k.key[:]) + "\n")
}

// Seal encrypts plaintext, binding it to associatedData: Open needs the same
// associated data, so a sealed CA key cannot be swapped in as, say, the
// token key ring. Use a distinct associated data per purpose and record.
func (k *KEK) Seal(plaintext, associatedData []byte) ([]byte, error) {
	out := make([]byte, headerSize+nonceSize, Overhead+len(plaintext))
	out[0] = envelopeVersion
	binary.BigEndian.PutUint32(out[1:5], k.id)
	nonce := out[headerSize : headerSize+nonceSize]
	if _, err := io.ReadFull(k.rand, nonce); err != nil {
		return nil, fmt.Errorf("kek: read nonce: %w", err)
	}
	return k.aead.Seal(out, nonce, plaintext, joinAD(out[:headerSize], associatedData)), nil
}

// Open decrypts an envelope made by Seal with the same associated data.
// Errors are ErrWrongKey, ErrCorrupt or an unsupported-version error.
func (k *KEK) Open(sealed, associatedData []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrCorrupt
	}
	if sealed[0] != envelopeVersion {
		return nil, fmt.Errorf("kek: unsupported envelope version %d", sealed[0])
	}
	if id := binary.BigEndian.Uint32(sealed[1:5]); id != k.id {
		return nil, fmt.Errorf("%w (sealed with kek:%08x, this is kek:%08x)", ErrWrongKey, id, k.id)
	}
	nonce := sealed[headerSize : headerSize+nonceSize]
	pt, err := k.aead.Open(nil, nonce, sealed[headerSize+nonceSize:], joinAD(sealed[:headerSize], associatedData))
	if err != nil {
		return nil, ErrCorrupt
	}
	return pt, nil
}

// ad authenticates the envelope header along with the caller's data.
func joinAD(header, associatedData []byte) []byte {
	ad := make([]byte, 0, len(header)+len(associatedData))
	return append(append(ad, header...), associatedData...)
}
