//go:build cgo

package keysource

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
)

// PKCS#11 needs cgo (github.com/miekg/pkcs11 loads the module with dlopen),
// so this backend exists only in cgo builds; without cgo a pkcs11: URI gives
// a clear error and everything else still works (the official helper cannot
// be built without cgo at all, issue #86).

type pkcs11Source struct {
	opts    Options
	certURI *PKCS11URI // nil when the certificate comes from a file
	keyURI  *PKCS11URI // nil when the key is found through the certificate

	mu      sync.Mutex // PKCS#11 sessions are not safe for concurrent use
	ctx     *pkcs11.Ctx
	slot    uint
	session pkcs11.SessionHandle
	pin     string
	matched map[[sha256.Size]byte]pkcs11.ObjectHandle // leaf → key proven to match it
	closed  bool
}

func openPKCS11(opts Options) (Source, error) {
	s := &pkcs11Source{opts: opts, matched: map[[sha256.Size]byte]pkcs11.ObjectHandle{}}
	var err error
	if strings.HasPrefix(opts.Certificate, "pkcs11:") {
		if s.certURI, err = ParsePKCS11URI(opts.Certificate); err != nil {
			return nil, err
		}
	}
	if strings.HasPrefix(opts.PrivateKey, "pkcs11:") {
		if s.keyURI, err = ParsePKCS11URI(opts.PrivateKey); err != nil {
			return nil, err
		}
	}
	if opts.PrivateKey != "" && s.keyURI == nil {
		return nil, errors.New("a file private key cannot be combined with a PKCS#11 certificate; give the key as a pkcs11: URI too")
	}
	if err := s.open(); err != nil {
		return nil, err
	}
	return s, nil
}

// tokenURI is the URI that names the token: the key's, else the
// certificate's, else (selector only) one matching any token.
func (s *pkcs11Source) tokenURI() *PKCS11URI {
	switch {
	case s.keyURI != nil:
		return s.keyURI
	case s.certURI != nil:
		return s.certURI
	}
	return &PKCS11URI{Path: map[string]string{}, Query: map[string]string{}}
}

func (s *pkcs11Source) module() string {
	if s.opts.PKCS11Lib != "" {
		return s.opts.PKCS11Lib
	}
	if p := s.tokenURI().Query["module-path"]; p != "" {
		return p
	}
	return DefaultPKCS11Lib
}

// modules counts the users of each loaded PKCS#11 module. A module is
// process-global state by the PKCS#11 design: C_Finalize ends every session
// of the process, so with several sources (several roles in one helper) the
// module may only be finalized when the last one closes.
var modules = struct {
	sync.Mutex
	m map[string]*moduleRef
}{m: map[string]*moduleRef{}}

type moduleRef struct {
	ctx  *pkcs11.Ctx
	refs int
}

func acquireModule(lib string) (*pkcs11.Ctx, error) {
	modules.Lock()
	defer modules.Unlock()
	if r := modules.m[lib]; r != nil {
		r.refs++
		return r.ctx, nil
	}
	ctx := pkcs11.New(lib)
	if ctx == nil {
		return nil, fmt.Errorf("cannot load PKCS#11 module %q (set --pkcs11-lib to the module's path)", lib)
	}
	if err := ctx.Initialize(); err != nil && !isP11(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		ctx.Destroy()
		return nil, fmt.Errorf("PKCS#11 module %q: C_Initialize: %v", lib, err)
	}
	modules.m[lib] = &moduleRef{ctx: ctx, refs: 1}
	return ctx, nil
}

func releaseModule(lib string) {
	modules.Lock()
	defer modules.Unlock()
	r := modules.m[lib]
	if r == nil {
		return
	}
	if r.refs--; r.refs == 0 {
		delete(modules.m, lib)
		_ = r.ctx.Finalize()
		r.ctx.Destroy()
	}
}

// open loads the module, finds the token and logs in.
func (s *pkcs11Source) open() error {
	ctx, err := acquireModule(s.module())
	if err != nil {
		return err
	}
	s.ctx = ctx
	slot, info, err := s.findSlot()
	if err != nil {
		s.teardown()
		return err
	}
	s.slot = slot
	if err := s.openSession(info); err != nil {
		s.teardown()
		return err
	}
	return nil
}

func (s *pkcs11Source) findSlot() (uint, pkcs11.TokenInfo, error) {
	slots, err := s.ctx.GetSlotList(true)
	if err != nil {
		return 0, pkcs11.TokenInfo{}, fmt.Errorf("PKCS#11: C_GetSlotList: %v", err)
	}
	want := s.tokenURI().Path
	for _, slot := range slots {
		ti, err := s.ctx.GetTokenInfo(slot)
		if err != nil {
			continue
		}
		si, err := s.ctx.GetSlotInfo(slot)
		if err != nil {
			continue
		}
		have := map[string]string{
			"token": ti.Label, "manufacturer": ti.ManufacturerID, "serial": ti.SerialNumber, "model": ti.Model,
			"slot-description": si.SlotDescription, "slot-manufacturer": si.ManufacturerID,
			"slot-id": strconv.FormatUint(uint64(slot), 10),
		}
		ok := true
		for k, v := range have {
			if w, set := want[k]; set && w != v {
				ok = false
			}
		}
		if ok {
			return slot, ti, nil
		}
	}
	return 0, pkcs11.TokenInfo{}, fmt.Errorf("PKCS#11 module %q: no token matches %s", s.module(), s.tokenURI())
}

func (s *pkcs11Source) openSession(ti pkcs11.TokenInfo) error {
	sh, err := s.ctx.OpenSession(s.slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return fmt.Errorf("PKCS#11: C_OpenSession on token %q: %v", ti.Label, err)
	}
	s.session = sh
	if ti.Flags&pkcs11.CKF_LOGIN_REQUIRED == 0 {
		return nil
	}
	if s.pin == "" {
		if s.pin, err = s.findPIN(ti.Label); err != nil {
			return err
		}
	}
	if err := s.ctx.Login(sh, pkcs11.CKU_USER, s.pin); err != nil && !isP11(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		s.pin = ""
		return fmt.Errorf("PKCS#11: login to token %q failed: %v", ti.Label, err)
	}
	return nil
}

// findPIN takes the PIN from pin-value or pin-source of the URIs, or asks.
func (s *pkcs11Source) findPIN(label string) (string, error) {
	for _, u := range []*PKCS11URI{s.keyURI, s.certURI} {
		if u == nil {
			continue
		}
		if v, ok := u.Query["pin-value"]; ok {
			return v, nil
		}
		if src, ok := u.Query["pin-source"]; ok {
			b, err := os.ReadFile(strings.TrimPrefix(src, "file:"))
			if err != nil {
				return "", fmt.Errorf("PKCS#11: reading pin-source: %v", err)
			}
			return strings.TrimRight(string(b), "\r\n"), nil
		}
	}
	if s.opts.Prompt != nil {
		return s.opts.Prompt("Please enter your user pin: ")
	}
	return "", fmt.Errorf("PKCS#11 token %q requires a PIN: add ?pin-value=… (or pin-source=file) to the URI", label)
}

func (s *pkcs11Source) teardown() {
	if s.ctx == nil {
		return
	}
	if s.session != 0 {
		_ = s.ctx.CloseSession(s.session)
		s.session = 0
	}
	releaseModule(s.module())
	s.ctx = nil
}

func (s *pkcs11Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.teardown()
	return nil
}

// Load re-reads the certificate (from the token or its file) and finds the
// key for it. A token that went away (removed, module restarted) gets one
// reconnect.
func (s *pkcs11Source) Load(ctx context.Context) (*Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	id, err := s.loadLocked(ctx)
	if err != nil && isP11(err, pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED,
		pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_USER_NOT_LOGGED_IN) {
		s.teardown()
		if oerr := s.open(); oerr != nil {
			return nil, fmt.Errorf("%v; reconnecting: %w", err, oerr)
		}
		id, err = s.loadLocked(ctx)
	}
	return id, err
}

func (s *pkcs11Source) loadLocked(ctx context.Context) (*Identity, error) {
	var leaf *x509.Certificate
	var more []*x509.Certificate
	var certID []byte
	if s.certURI == nil && s.opts.Certificate != "" {
		// Hybrid: certificate (and chain) from a file, key on the token.
		data, err := readSnapshot(s.opts.Certificate)
		if err != nil {
			return nil, err
		}
		b, err := parseFile(s.opts.Certificate, data[s.opts.Certificate], []byte(s.opts.Password))
		if err != nil {
			return nil, err
		}
		if len(b.certs) == 0 {
			return nil, fmt.Errorf("%s: no certificate found", s.opts.Certificate)
		}
		leaf, more = b.certs[0], b.certs[1:]
	} else {
		c, id, err := s.findCertificate()
		if err != nil {
			return nil, err
		}
		leaf, certID = c, id
	}
	if s.opts.Intermediates != "" {
		data, err := readSnapshot(s.opts.Intermediates)
		if err != nil {
			return nil, err
		}
		b, err := parseFile(s.opts.Intermediates, data[s.opts.Intermediates], nil)
		if err != nil {
			return nil, err
		}
		more = append(more, b.certs...)
	}
	key, err := s.findKey(leaf, certID)
	if err != nil {
		return nil, err
	}
	return assemble(leaf, more, key)
}

// objectTemplate turns a URI's object attributes into a search template.
func objectTemplate(class uint, u *PKCS11URI) []*pkcs11.Attribute {
	t := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, class)}
	if u == nil {
		return t
	}
	if v, ok := u.Path["object"]; ok {
		t = append(t, pkcs11.NewAttribute(pkcs11.CKA_LABEL, v))
	}
	if v, ok := u.Path["id"]; ok {
		t = append(t, pkcs11.NewAttribute(pkcs11.CKA_ID, []byte(v)))
	}
	return t
}

func (s *pkcs11Source) find(template []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := s.ctx.FindObjectsInit(s.session, template); err != nil {
		return nil, fmt.Errorf("PKCS#11: C_FindObjectsInit: %w", err)
	}
	var all []pkcs11.ObjectHandle
	for {
		hs, _, err := s.ctx.FindObjects(s.session, 64)
		if err != nil {
			_ = s.ctx.FindObjectsFinal(s.session)
			return nil, fmt.Errorf("PKCS#11: C_FindObjects: %w", err)
		}
		all = append(all, hs...)
		if len(hs) < 64 {
			break
		}
	}
	if err := s.ctx.FindObjectsFinal(s.session); err != nil {
		return nil, fmt.Errorf("PKCS#11: C_FindObjectsFinal: %w", err)
	}
	return all, nil
}

// tokenCert is a certificate object on the token.
type tokenCert struct {
	cert  *x509.Certificate
	id    []byte
	label string
}

func (s *pkcs11Source) certificates(u *PKCS11URI) ([]tokenCert, error) {
	t := append(objectTemplate(pkcs11.CKO_CERTIFICATE, u), pkcs11.NewAttribute(pkcs11.CKA_CERTIFICATE_TYPE, pkcs11.CKC_X_509))
	hs, err := s.find(t)
	if err != nil {
		return nil, err
	}
	var out []tokenCert
	for _, h := range hs {
		attrs, err := s.ctx.GetAttributeValue(s.session, h, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil), pkcs11.NewAttribute(pkcs11.CKA_ID, nil), pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil),
		})
		if err != nil || len(attrs) != 3 {
			continue
		}
		c, err := x509.ParseCertificate(attrs[0].Value)
		if err != nil || !s.opts.Selector.Matches(c) {
			continue
		}
		out = append(out, tokenCert{cert: c, id: attrs[1].Value, label: string(attrs[2].Value)})
	}
	return out, nil
}

func (s *pkcs11Source) findCertificate() (*x509.Certificate, []byte, error) {
	u := s.certURI
	if u == nil {
		u = s.keyURI // the official helper looks for the certificate under the key's id/label
	}
	certs, err := s.certificates(u)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case len(certs) == 0:
		return nil, nil, fmt.Errorf("PKCS#11: no certificate on the token matches %s", describe(u, s.opts.Selector))
	case len(certs) > 1 && !s.opts.UseLatestExpiring:
		return nil, nil, fmt.Errorf("PKCS#11: %d certificates match %s; narrow the URI or selector, or pass --use-latest-expiring-certificate", len(certs), describe(u, s.opts.Selector))
	}
	best := certs[0]
	for _, c := range certs[1:] {
		if c.cert.NotAfter.After(best.cert.NotAfter) {
			best = c
		}
	}
	return best.cert, best.id, nil
}

func describe(u *PKCS11URI, sel *Selector) string {
	var parts []string
	if u != nil {
		parts = append(parts, u.String())
	}
	if sel != nil {
		parts = append(parts, fmt.Sprintf("selector{subject=%q issuer=%q serial=%v}", sel.Subject, sel.Issuer, sel.Serial))
	}
	if len(parts) == 0 {
		return "any certificate"
	}
	return strings.Join(parts, " and ")
}

// findKey returns a signer for the private key matching leaf. Candidates are
// the key URI's objects, else those sharing the certificate's CKA_ID; each is
// proven with a test signature once per (leaf, key) and remembered.
func (s *pkcs11Source) findKey(leaf *x509.Certificate, certID []byte) (crypto.Signer, error) {
	fp := sha256.Sum256(leaf.Raw)
	if h, ok := s.matched[fp]; ok {
		if k, err := s.keyFor(h, leaf); err == nil {
			return k, nil
		}
		delete(s.matched, fp)
	}
	var t []*pkcs11.Attribute
	switch {
	case s.keyURI != nil:
		t = objectTemplate(pkcs11.CKO_PRIVATE_KEY, s.keyURI)
	case certID != nil:
		t = []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY), pkcs11.NewAttribute(pkcs11.CKA_ID, certID)}
	default:
		t = objectTemplate(pkcs11.CKO_PRIVATE_KEY, nil)
	}
	hs, err := s.find(t)
	if err != nil {
		return nil, err
	}
	if len(hs) == 0 {
		return nil, fmt.Errorf("PKCS#11: no private key on the token matches %s", describe(s.keyURI, nil))
	}
	for _, h := range hs {
		k, err := s.keyFor(h, leaf)
		if err != nil {
			continue
		}
		if proveKey(func(d []byte) ([]byte, error) { return k.signDigest(d, crypto.SHA256) }, leaf) {
			s.matched[fp] = h
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: none of the %d matching private key(s) on the token fits certificate serial %s", ErrKeyMismatch, len(hs), leaf.SerialNumber)
}

// proveKey signs a random digest and verifies it with the certificate's key.
// This is the only generic test: EC private key objects do not expose their
// public point.
func proveKey(sign func(digest []byte) ([]byte, error), leaf *x509.Certificate) bool {
	var digest [32]byte
	if _, err := io.ReadFull(rand.Reader, digest[:]); err != nil {
		return false
	}
	sig, err := sign(digest[:])
	if err != nil {
		return false
	}
	switch pub := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) == nil
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(pub, digest[:], sig)
	}
	return false
}

func (s *pkcs11Source) keyFor(h pkcs11.ObjectHandle, leaf *x509.Certificate) (*pkcs11Key, error) {
	attrs, err := s.ctx.GetAttributeValue(s.session, h, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil), pkcs11.NewAttribute(pkcs11.CKA_ALWAYS_AUTHENTICATE, nil),
	})
	if err != nil || len(attrs) == 0 {
		// Some tokens refuse CKA_ALWAYS_AUTHENTICATE; ask for the type alone.
		if attrs, err = s.ctx.GetAttributeValue(s.session, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil)}); err != nil {
			return nil, err
		}
	}
	k := &pkcs11Key{src: s, handle: h, pub: leaf.PublicKey}
	for _, a := range attrs {
		switch a.Type {
		case pkcs11.CKA_KEY_TYPE:
			k.keyType = bytesToUint(a.Value)
		case pkcs11.CKA_ALWAYS_AUTHENTICATE:
			k.alwaysAuth = len(a.Value) > 0 && a.Value[0] != 0
		}
	}
	switch leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.keyType != pkcs11.CKK_RSA {
			return nil, errors.New("key type is not RSA")
		}
	case *ecdsa.PublicKey:
		if k.keyType != pkcs11.CKK_EC {
			return nil, errors.New("key type is not EC")
		}
	default:
		return nil, fmt.Errorf("PKCS#11 keys must be RSA or ECDSA, certificate has %v", leaf.PublicKeyAlgorithm)
	}
	return k, nil
}

// bytesToUint decodes a CK_ULONG attribute, which is in host byte order.
func bytesToUint(b []byte) uint {
	switch len(b) {
	case 8:
		return uint(binary.NativeEndian.Uint64(b))
	case 4:
		return uint(binary.NativeEndian.Uint32(b))
	}
	return ^uint(0)
}

// pkcs11Key is a crypto.Signer backed by a token key.
type pkcs11Key struct {
	src        *pkcs11Source
	handle     pkcs11.ObjectHandle
	pub        crypto.PublicKey
	keyType    uint
	alwaysAuth bool
}

func (k *pkcs11Key) Public() crypto.PublicKey { return k.pub }

// DigestInfo prefixes (RFC 8017 §9.2 note 1) for CKM_RSA_PKCS, which signs
// exactly the bytes it is given.
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// Sign signs a digest: PKCS#1 v1.5 for RSA, ASN.1 DER ECDSA for EC (tokens
// return r‖s, which is re-encoded).
func (k *pkcs11Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, errors.New("PKCS#11 signer: RSA-PSS is not used by IAM Roles Anywhere")
	}
	k.src.mu.Lock()
	defer k.src.mu.Unlock()
	return k.signDigest(digest, opts.HashFunc())
}

// signDigest signs with the source's mutex held.
func (k *pkcs11Key) signDigest(digest []byte, h crypto.Hash) ([]byte, error) {
	if h == 0 || len(digest) != h.Size() {
		return nil, fmt.Errorf("PKCS#11 signer needs a digest (got %d bytes for %v)", len(digest), h)
	}
	var mech uint
	msg := digest
	switch k.keyType {
	case pkcs11.CKK_RSA:
		prefix, ok := digestInfoPrefix[h]
		if !ok {
			return nil, fmt.Errorf("PKCS#11 signer: unsupported hash %v", h)
		}
		mech, msg = pkcs11.CKM_RSA_PKCS, append(append([]byte{}, prefix...), digest...)
	case pkcs11.CKK_EC:
		mech = pkcs11.CKM_ECDSA
	default:
		return nil, fmt.Errorf("PKCS#11 signer: unsupported key type %d", k.keyType)
	}
	return k.src.signLocked(k, mech, msg)
}

func (s *pkcs11Source) signLocked(k *pkcs11Key, mech uint, msg []byte) ([]byte, error) {
	if s.ctx == nil {
		return nil, errClosed
	}
	if err := s.ctx.SignInit(s.session, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)}, k.handle); err != nil {
		return nil, fmt.Errorf("PKCS#11: C_SignInit: %w", err)
	}
	if k.alwaysAuth {
		pin := s.pin
		if !s.opts.ReusePIN || pin == "" {
			if s.opts.Prompt == nil {
				return nil, errors.New("PKCS#11 key requires its own PIN (CKA_ALWAYS_AUTHENTICATE); pass --reuse-pin to use the user PIN")
			}
			var err error
			if pin, err = s.opts.Prompt("Please enter your context-specific pin: "); err != nil {
				return nil, err
			}
		}
		if err := s.ctx.Login(s.session, pkcs11.CKU_CONTEXT_SPECIFIC, pin); err != nil {
			return nil, fmt.Errorf("PKCS#11: context-specific login: %w", err)
		}
	}
	sig, err := s.ctx.Sign(s.session, msg)
	if err != nil {
		return nil, fmt.Errorf("PKCS#11: C_Sign: %w", err)
	}
	if k.keyType == pkcs11.CKK_EC {
		if len(sig) == 0 || len(sig)%2 != 0 {
			return nil, fmt.Errorf("PKCS#11: token returned a %d-byte ECDSA signature", len(sig))
		}
		n := len(sig) / 2
		return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
	}
	return sig, nil
}

func isP11(err error, codes ...uint) bool {
	var e pkcs11.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if uint(e) == c {
			return true
		}
	}
	return false
}

// ListPKCS11Certificates lists the certificates on the token named by
// opts.Certificate (a pkcs11: URI, possibly just "pkcs11:") that match
// opts.Selector, for read-certificate-data.
func ListPKCS11Certificates(opts Options) ([]TokenCertificate, error) {
	s := &pkcs11Source{opts: opts, matched: map[[sha256.Size]byte]pkcs11.ObjectHandle{}}
	u := &PKCS11URI{Path: map[string]string{}, Query: map[string]string{}}
	if opts.Certificate != "" {
		var err error
		if u, err = ParsePKCS11URI(opts.Certificate); err != nil {
			return nil, err
		}
	}
	s.certURI = u
	if err := s.open(); err != nil {
		return nil, err
	}
	defer s.teardown()
	ti, err := s.ctx.GetTokenInfo(s.slot)
	if err != nil {
		return nil, fmt.Errorf("PKCS#11: C_GetTokenInfo: %v", err)
	}
	certs, err := s.certificates(u)
	if err != nil {
		return nil, err
	}
	var out []TokenCertificate
	for _, c := range certs {
		cu := &PKCS11URI{Path: map[string]string{
			"model": ti.Model, "manufacturer": ti.ManufacturerID, "serial": ti.SerialNumber, "token": ti.Label, "type": "cert",
		}, Query: map[string]string{}}
		if c.label != "" {
			cu.Path["object"] = c.label
		}
		if len(c.id) > 0 {
			cu.Path["id"] = string(c.id)
		}
		out = append(out, TokenCertificate{Cert: c.cert, URI: cu.String()})
	}
	return out, nil
}
