// Package pkcs11 keeps iamra CA keys in a PKCS#11 token (an HSM, a cloud
// HSM's PKCS#11 library, or SoftHSM2 for tests): keys are generated inside
// the token as non-extractable objects and every signature is made there.
// It implements ca.KeyStore; the CA record stores only the objects' label
// and id.
//
// It is a separate package because it needs cgo (github.com/miekg/pkcs11
// loads the vendor's module with dlopen); the ca package stays pure Go.
package pkcs11

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"

	p11 "github.com/miekg/pkcs11"

	"github.com/iamra/iamra/ca"
)

// StoreName is the ca.KeyRef.Store of keys made here.
const StoreName = "pkcs11"

// Config says which token to use.
type Config struct {
	// Module is the path of the vendor's PKCS#11 library, e.g.
	// /usr/lib/softhsm/libsofthsm2.so.
	Module string
	// TokenLabel selects the token (slot) by label.
	TokenLabel string
	// PIN is the user PIN. It is used to log in and not kept.
	PIN string
	// Rand makes key object ids.
	Rand io.Reader
}

// KeyStore is a ca.KeyStore on one PKCS#11 token. One logged-in session
// serves all operations, serialized, since PKCS#11 sessions may not run
// two operations at once.
type KeyStore struct {
	rand   io.Reader
	module string

	mu      sync.Mutex
	ctx     *p11.Ctx
	session p11.SessionHandle
	closed  bool
}

var _ ca.KeyStore = (*KeyStore)(nil)

// Open loads the module, finds the token and logs in.
func Open(cfg Config) (*KeyStore, error) {
	if cfg.Rand == nil {
		return nil, errors.New("pkcs11: Config.Rand is required")
	}
	c, err := acquire(cfg.Module)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*KeyStore, error) {
		release(cfg.Module)
		return nil, err
	}
	slots, err := c.GetSlotList(true)
	if err != nil {
		return fail(fmt.Errorf("pkcs11: list slots: %w", err))
	}
	var labels []string
	for _, slot := range slots {
		info, err := c.GetTokenInfo(slot)
		if err != nil {
			continue
		}
		labels = append(labels, info.Label)
		if info.Label != cfg.TokenLabel {
			continue
		}
		sh, err := c.OpenSession(slot, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
		if err != nil {
			return fail(fmt.Errorf("pkcs11: open session on token %q: %w", cfg.TokenLabel, err))
		}
		if err := c.Login(sh, p11.CKU_USER, cfg.PIN); err != nil && !errors.Is(err, p11.Error(p11.CKR_USER_ALREADY_LOGGED_IN)) {
			c.CloseSession(sh)
			return fail(fmt.Errorf("pkcs11: log in to token %q: %w", cfg.TokenLabel, err))
		}
		return &KeyStore{rand: cfg.Rand, module: cfg.Module, ctx: c, session: sh}, nil
	}
	return fail(fmt.Errorf("pkcs11: no token labelled %q (tokens present: %q)", cfg.TokenLabel, labels))
}

// Close closes the session and, with the last KeyStore of the module, unloads it.
func (k *KeyStore) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	// No C_Logout: login state belongs to the whole application, other
	// KeyStores on the token may still use it; closing the last session
	// logs out.
	err := k.ctx.CloseSession(k.session)
	release(k.module)
	return err
}

// C_Initialize and C_Finalize act on the whole process: a module loaded
// twice is one library instance, and finalizing it for one KeyStore would
// break every other. So loaded modules are shared and reference-counted;
// this is the one piece of package state, and it mirrors the C library's.
var modules = struct {
	sync.Mutex
	m map[string]*module
}{m: map[string]*module{}}

type module struct {
	ctx  *p11.Ctx
	refs int
}

func acquire(path string) (*p11.Ctx, error) {
	modules.Lock()
	defer modules.Unlock()
	if m := modules.m[path]; m != nil {
		m.refs++
		return m.ctx, nil
	}
	c := p11.New(path)
	if c == nil {
		return nil, fmt.Errorf("pkcs11: cannot load module %q", path)
	}
	if err := c.Initialize(); err != nil && !errors.Is(err, p11.Error(p11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		c.Destroy()
		return nil, fmt.Errorf("pkcs11: initialize %s: %w", path, err)
	}
	modules.m[path] = &module{ctx: c, refs: 1}
	return c, nil
}

func release(path string) {
	modules.Lock()
	defer modules.Unlock()
	m := modules.m[path]
	if m == nil {
		return
	}
	if m.refs--; m.refs == 0 {
		delete(modules.m, path)
		m.ctx.Finalize()
		m.ctx.Destroy()
	}
}

func (k *KeyStore) Name() string { return StoreName }

var curveOIDs = map[string]struct {
	oid   asn1.ObjectIdentifier
	curve elliptic.Curve
}{
	ca.KeyECP256: {asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, elliptic.P256()},
	ca.KeyECP384: {asn1.ObjectIdentifier{1, 3, 132, 0, 34}, elliptic.P384()},
	ca.KeyECP521: {asn1.ObjectIdentifier{1, 3, 132, 0, 35}, elliptic.P521()},
}

var rsaBits = map[string]int{ca.KeyRSA2048: 2048, ca.KeyRSA3072: 3072, ca.KeyRSA4096: 4096}

// Generate makes a non-extractable key pair on the token, labelled with
// the CA's ARN and a random id.
func (k *KeyStore) Generate(_ context.Context, caARN, keyAlgorithm string) (ca.KeyRef, crypto.Signer, error) {
	idBytes := make([]byte, 16)
	if _, err := io.ReadFull(k.rand, idBytes); err != nil {
		return ca.KeyRef{}, nil, fmt.Errorf("pkcs11: key id: %w", err)
	}
	common := func(private bool) []*p11.Attribute {
		a := []*p11.Attribute{
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_LABEL, caARN),
			p11.NewAttribute(p11.CKA_ID, idBytes),
		}
		if private {
			return append(a, p11.NewAttribute(p11.CKA_PRIVATE, true), p11.NewAttribute(p11.CKA_SENSITIVE, true),
				p11.NewAttribute(p11.CKA_EXTRACTABLE, false), p11.NewAttribute(p11.CKA_SIGN, true))
		}
		return append(a, p11.NewAttribute(p11.CKA_VERIFY, true))
	}
	pub, priv := common(false), common(true)
	var mech *p11.Mechanism
	if c, ok := curveOIDs[keyAlgorithm]; ok {
		params, _ := asn1.Marshal(c.oid)
		pub = append(pub, p11.NewAttribute(p11.CKA_EC_PARAMS, params))
		mech = p11.NewMechanism(p11.CKM_EC_KEY_PAIR_GEN, nil)
	} else if bits, ok := rsaBits[keyAlgorithm]; ok {
		pub = append(pub, p11.NewAttribute(p11.CKA_MODULUS_BITS, bits), p11.NewAttribute(p11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}))
		mech = p11.NewMechanism(p11.CKM_RSA_PKCS_KEY_PAIR_GEN, nil)
	} else {
		_, err := ca.GenerateKey(keyAlgorithm, nil) // the same InvalidArgsException the software store gives
		return ca.KeyRef{}, nil, err
	}
	k.mu.Lock()
	_, _, err := k.ctx.GenerateKeyPair(k.session, []*p11.Mechanism{mech}, pub, priv)
	k.mu.Unlock()
	if err != nil {
		return ca.KeyRef{}, nil, fmt.Errorf("pkcs11: generate %s key: %w", keyAlgorithm, err)
	}
	ref := ca.KeyRef{Store: StoreName, Label: caARN, ID: hex.EncodeToString(idBytes)}
	s, err := k.Signer(context.Background(), caARN, ref)
	return ref, s, err
}

// Signer finds the key pair ref names.
func (k *KeyStore) Signer(_ context.Context, caARN string, ref ca.KeyRef) (crypto.Signer, error) {
	id, err := hex.DecodeString(ref.ID)
	if err != nil || ref.Store != StoreName {
		return nil, fmt.Errorf("pkcs11: key reference of %s is not a PKCS#11 one", caARN)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	privH, err := k.find(p11.CKO_PRIVATE_KEY, id)
	if err != nil {
		return nil, err
	}
	pubH, err := k.find(p11.CKO_PUBLIC_KEY, id)
	if err != nil {
		return nil, err
	}
	attrs, err := k.ctx.GetAttributeValue(k.session, pubH, []*p11.Attribute{p11.NewAttribute(p11.CKA_KEY_TYPE, nil)})
	if err != nil || len(attrs) != 1 {
		return nil, fmt.Errorf("pkcs11: key type of %s: %v", ref.ID, err)
	}
	s := &signer{k: k, priv: privH}
	switch keyType := bytesToUint(attrs[0].Value); keyType {
	case p11.CKK_EC:
		s.pub, err = k.ecPublic(pubH)
	case p11.CKK_RSA:
		s.pub, err = k.rsaPublic(pubH)
	default:
		err = fmt.Errorf("pkcs11: key %s has unsupported type %d", ref.ID, keyType)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Destroy deletes both key objects.
func (k *KeyStore) Destroy(_ context.Context, caARN string, ref ca.KeyRef) error {
	id, err := hex.DecodeString(ref.ID)
	if err != nil {
		return fmt.Errorf("pkcs11: key reference of %s is not a PKCS#11 one", caARN)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var errs []error
	for _, class := range []uint{p11.CKO_PRIVATE_KEY, p11.CKO_PUBLIC_KEY} {
		h, err := k.find(class, id)
		if err == nil {
			err = k.ctx.DestroyObject(k.session, h)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// find returns the one object of class with id; callers hold k.mu.
func (k *KeyStore) find(class uint, id []byte) (p11.ObjectHandle, error) {
	if k.closed {
		return 0, errors.New("pkcs11: key store is closed")
	}
	if err := k.ctx.FindObjectsInit(k.session, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, class), p11.NewAttribute(p11.CKA_ID, id),
	}); err != nil {
		return 0, fmt.Errorf("pkcs11: find key %x: %w", id, err)
	}
	hs, _, err := k.ctx.FindObjects(k.session, 2)
	k.ctx.FindObjectsFinal(k.session)
	if err != nil {
		return 0, fmt.Errorf("pkcs11: find key %x: %w", id, err)
	}
	if len(hs) != 1 {
		return 0, fmt.Errorf("pkcs11: %d objects of class %d with id %x, want 1", len(hs), class, id)
	}
	return hs[0], nil
}

func (k *KeyStore) ecPublic(h p11.ObjectHandle) (crypto.PublicKey, error) {
	attrs, err := k.ctx.GetAttributeValue(k.session, h, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_EC_PARAMS, nil), p11.NewAttribute(p11.CKA_EC_POINT, nil),
	})
	if err != nil || len(attrs) != 2 {
		return nil, fmt.Errorf("pkcs11: read EC public key: %v", err)
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(attrs[0].Value, &oid); err != nil {
		return nil, fmt.Errorf("pkcs11: EC params: %w", err)
	}
	var curve elliptic.Curve
	for _, c := range curveOIDs {
		if c.oid.Equal(oid) {
			curve = c.curve
		}
	}
	if curve == nil {
		return nil, fmt.Errorf("pkcs11: unsupported curve %v", oid)
	}
	// CKA_EC_POINT is a DER OCTET STRING holding the uncompressed point.
	point := attrs[1].Value
	var inner []byte
	if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 {
		point = inner
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: EC point: %w", err)
	}
	return pub, nil
}

func (k *KeyStore) rsaPublic(h p11.ObjectHandle) (crypto.PublicKey, error) {
	attrs, err := k.ctx.GetAttributeValue(k.session, h, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_MODULUS, nil), p11.NewAttribute(p11.CKA_PUBLIC_EXPONENT, nil),
	})
	if err != nil || len(attrs) != 2 {
		return nil, fmt.Errorf("pkcs11: read RSA public key: %v", err)
	}
	e := new(big.Int).SetBytes(attrs[1].Value)
	if !e.IsInt64() || e.Int64() > 1<<31-1 {
		return nil, errors.New("pkcs11: RSA public exponent too large")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(attrs[0].Value), E: int(e.Int64())}, nil
}

func bytesToUint(b []byte) uint {
	// PKCS#11 CK_ULONG in host (little-endian on every platform Go's cgo
	// targets here) byte order.
	var v uint
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint(b[i])
	}
	return v
}

// signer signs on the token.
type signer struct {
	k    *KeyStore
	priv p11.ObjectHandle
	pub  crypto.PublicKey
}

func (s *signer) Public() crypto.PublicKey { return s.pub }

// DigestInfo prefixes for RSASSA-PKCS1-v1_5 (RFC 8017 §9.2 note 1).
var digestInfo = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

var pssHash = map[crypto.Hash][2]uint{
	crypto.SHA256: {p11.CKM_SHA256, p11.CKG_MGF1_SHA256},
	crypto.SHA384: {p11.CKM_SHA384, p11.CKG_MGF1_SHA384},
	crypto.SHA512: {p11.CKM_SHA512, p11.CKG_MGF1_SHA512},
}

func (s *signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h := opts.HashFunc()
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("pkcs11: digest is %d bytes, want %d for %v", len(digest), h.Size(), h)
	}
	var mech *p11.Mechanism
	data := digest
	switch s.pub.(type) {
	case *ecdsa.PublicKey:
		mech = p11.NewMechanism(p11.CKM_ECDSA, nil)
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			hm, ok := pssHash[h]
			if !ok {
				return nil, fmt.Errorf("pkcs11: no PSS for %v", h)
			}
			salt := pss.SaltLength
			if salt == rsa.PSSSaltLengthEqualsHash || salt == rsa.PSSSaltLengthAuto {
				salt = h.Size()
			}
			mech = p11.NewMechanism(p11.CKM_RSA_PKCS_PSS, p11.NewPSSParams(hm[0], hm[1], uint(salt)))
		} else {
			prefix, ok := digestInfo[h]
			if !ok {
				return nil, fmt.Errorf("pkcs11: no PKCS#1 v1.5 for %v", h)
			}
			data = append(append([]byte{}, prefix...), digest...)
			mech = p11.NewMechanism(p11.CKM_RSA_PKCS, nil)
		}
	}
	s.k.mu.Lock()
	if s.k.closed {
		s.k.mu.Unlock()
		return nil, errors.New("pkcs11: key store is closed")
	}
	err := s.k.ctx.SignInit(s.k.session, []*p11.Mechanism{mech}, s.priv)
	var sig []byte
	if err == nil {
		sig, err = s.k.ctx.Sign(s.k.session, data)
	}
	s.k.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("pkcs11: sign: %w", err)
	}
	if _, isEC := s.pub.(*ecdsa.PublicKey); isEC {
		// PKCS#11 returns r || s; X.509 wants ECDSA-Sig-Value.
		if len(sig)%2 != 0 {
			return nil, errors.New("pkcs11: malformed ECDSA signature")
		}
		n := len(sig) / 2
		return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
	}
	return sig, nil
}
