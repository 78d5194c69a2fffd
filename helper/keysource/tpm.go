package keysource

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// TPM 2.0 keys, in the two forms the official helper accepts: a
// "TSS2 PRIVATE KEY" PEM file (the ASN.1 TPMKey written by the OpenSSL tpm2
// provider, tpm2-tss-engine and tpm2_encodeobject) and a persistent handle
// ("handle:0x81000001"). The certificate and intermediates stay files and
// are re-read on every Load like any file identity; the key file is re-read
// too, and a changed key is loaded into the TPM in place of the old one.
// The TPM is talked to directly in pure Go (github.com/google/go-tpm), so
// this works in CGO_ENABLED=0 builds.

// tss2PEMType is the PEM label of a TPMKey.
const tss2PEMType = "TSS2 PRIVATE KEY"

// defaultTPMDevices are tried in order when Options.TPMDevice is empty:
// the kernel's resource manager first, since it lets several processes
// share the TPM and flushes what a killed process left loaded.
func defaultTPMDevices() []string { return []string{"/dev/tpmrm0", "/dev/tpm0"} }

// OIDs of draft-bottomley-tpm2-keys; only loadable keys are signing keys.
var (
	oidTPMLoadableKey   = asn1.ObjectIdentifier{2, 23, 133, 10, 1, 3}
	oidTPMImportableKey = asn1.ObjectIdentifier{2, 23, 133, 10, 1, 4}
	oidTPMSealedData    = asn1.ObjectIdentifier{2, 23, 133, 10, 1, 5}
)

// ErrTPMKeyPasswordNeeded means a TPM key may have a password and none was
// given; the CLI's answer is a prompt.
var ErrTPMKeyPasswordNeeded = errors.New("the TPM key needs a password: pass --tpm-key-password, or --no-tpm-key-password if it has none")

// tss2Key is a parsed TPMKey:
//
//	TPMKey ::= SEQUENCE {
//	  type        OBJECT IDENTIFIER,
//	  emptyAuth   [0] EXPLICIT BOOLEAN OPTIONAL,
//	  policy      [1] EXPLICIT SEQUENCE OF TPMPolicy OPTIONAL,
//	  secret      [2] EXPLICIT OCTET STRING OPTIONAL,
//	  authPolicy  [3] EXPLICIT SEQUENCE OF TPMAuthPolicy OPTIONAL,
//	  description [4] EXPLICIT UTF8String OPTIONAL,
//	  rsaParent   [5] EXPLICIT BOOLEAN OPTIONAL,
//	  parent      INTEGER,
//	  pubkey      OCTET STRING,  -- TPM2B_PUBLIC
//	  privkey     OCTET STRING } -- TPM2B_PRIVATE
type tss2Key struct {
	emptyAuth bool
	rsaParent bool
	parent    tpm2.TPMHandle
	public    tpm2.TPMTPublic
	pubBlob   []byte // TPM2B_PUBLIC without its size prefix
	privBlob  []byte // TPM2B_PRIVATE without its size prefix
}

// parseTSS2Key parses the DER of a TSS2 PRIVATE KEY block.
func parseTSS2Key(der []byte) (*tss2Key, error) {
	in := cryptobyte.String(der)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("TSS2 PRIVATE KEY: not a DER SEQUENCE")
	}
	var oid asn1.ObjectIdentifier
	if !seq.ReadASN1ObjectIdentifier(&oid) {
		return nil, errors.New("TSS2 PRIVATE KEY: missing key type OID")
	}
	switch {
	case oid.Equal(oidTPMImportableKey):
		return nil, errors.New("TSS2 PRIVATE KEY: importable keys (2.23.133.10.1.4) are not supported; load the key into the TPM and re-encode it as a loadable key")
	case oid.Equal(oidTPMSealedData):
		return nil, errors.New("TSS2 PRIVATE KEY: sealed data (2.23.133.10.1.5) is not a signing key")
	case !oid.Equal(oidTPMLoadableKey):
		return nil, fmt.Errorf("TSS2 PRIVATE KEY: unknown key type OID %s (want 2.23.133.10.1.3, a loadable key)", oid)
	}
	k := &tss2Key{}
	var err error
	if k.emptyAuth, err = readOptionalBool(&seq, 0); err != nil {
		return nil, fmt.Errorf("TSS2 PRIVATE KEY: emptyAuth: %v", err)
	}
	if seq.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) || seq.PeekASN1Tag(cbasn1.Tag(3).Constructed().ContextSpecific()) {
		return nil, errors.New("TSS2 PRIVATE KEY: keys that need TPM policy sessions are not supported")
	}
	if seq.PeekASN1Tag(cbasn1.Tag(2).Constructed().ContextSpecific()) {
		return nil, errors.New("TSS2 PRIVATE KEY: a secret field belongs to importable keys, not loadable ones")
	}
	if !seq.SkipOptionalASN1(cbasn1.Tag(4).Constructed().ContextSpecific()) {
		return nil, errors.New("TSS2 PRIVATE KEY: malformed description")
	}
	if k.rsaParent, err = readOptionalBool(&seq, 5); err != nil {
		return nil, fmt.Errorf("TSS2 PRIVATE KEY: rsaParent: %v", err)
	}
	var parent int64
	if !seq.ReadASN1Integer(&parent) || parent < 0 || parent > 0xffffffff {
		return nil, errors.New("TSS2 PRIVATE KEY: parent is not a 32-bit handle")
	}
	k.parent = tpm2.TPMHandle(parent)
	if parent == 0 { // tpm2-openssl reads 0 as the owner hierarchy
		k.parent = tpm2.TPMRHOwner
	}
	var pub, priv []byte
	if !seq.ReadASN1Bytes(&pub, cbasn1.OCTET_STRING) || !seq.ReadASN1Bytes(&priv, cbasn1.OCTET_STRING) {
		return nil, errors.New("TSS2 PRIVATE KEY: missing pubkey or privkey")
	}
	if !seq.Empty() {
		return nil, errors.New("TSS2 PRIVATE KEY: unexpected data after privkey")
	}
	if k.pubBlob, err = unwrap2B(pub); err != nil {
		return nil, fmt.Errorf("TSS2 PRIVATE KEY: pubkey: %v", err)
	}
	if k.privBlob, err = unwrap2B(priv); err != nil {
		return nil, fmt.Errorf("TSS2 PRIVATE KEY: privkey: %v", err)
	}
	if err := checkParent(k.parent); err != nil {
		return nil, fmt.Errorf("TSS2 PRIVATE KEY: %v", err)
	}
	pa, err := decodePublic(k.pubBlob)
	if err != nil {
		return nil, fmt.Errorf("TSS2 PRIVATE KEY: pubkey: %v", err)
	}
	k.public = *pa
	return k, nil
}

// readOptionalBool reads an optional [tag] EXPLICIT BOOLEAN. Any non-zero
// byte is true: DER wants 0xFF, but tpm2-tss-engine and tpm2_encodeobject
// (tpm2-tools 5.4, Debian 12) write 0x01, and OpenSSL reads it.
func readOptionalBool(s *cryptobyte.String, tag int) (bool, error) {
	var inner cryptobyte.String
	var present bool
	if !s.ReadOptionalASN1(&inner, &present, cbasn1.Tag(tag).Constructed().ContextSpecific()) {
		return false, errors.New("malformed")
	}
	if !present {
		return false, nil
	}
	var v cryptobyte.String
	if !inner.ReadASN1(&v, cbasn1.BOOLEAN) || len(v) != 1 || !inner.Empty() {
		return false, errors.New("not a BOOLEAN")
	}
	return v[0] != 0, nil
}

// unwrap2B strips a TPM2B's big-endian size, which must cover the rest.
func unwrap2B(b []byte) ([]byte, error) {
	if len(b) < 2 || int(binary.BigEndian.Uint16(b)) != len(b)-2 {
		return nil, errors.New("TPM2B size does not match its length")
	}
	return b[2:], nil
}

// decodePublic decodes a TPMT_PUBLIC and refuses trailing bytes and kinds
// of key that cannot sign for IAM Roles Anywhere.
func decodePublic(b []byte) (pub *tpm2.TPMTPublic, err error) {
	defer func() { // the reflection-based decoder is not hardened against every input
		if r := recover(); r != nil {
			pub, err = nil, errors.New("malformed TPMT_PUBLIC")
		}
	}()
	pub, err = tpm2.Unmarshal[tpm2.TPMTPublic](b)
	if err != nil {
		return nil, fmt.Errorf("malformed TPMT_PUBLIC: %v", err)
	}
	if !bytes.Equal(tpm2.Marshal(*pub), b) {
		return nil, errors.New("malformed TPMT_PUBLIC: trailing or non-canonical bytes")
	}
	if _, _, err := publicKeyOf(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// publicKeyOf converts a TPM public area to a crypto public key and checks
// that the key can sign external digests.
func publicKeyOf(p *tpm2.TPMTPublic) (crypto.PublicKey, int, error) {
	if !p.ObjectAttributes.SignEncrypt {
		return nil, 0, errors.New("the TPM key does not have the sign attribute")
	}
	if p.ObjectAttributes.Restricted {
		return nil, 0, errors.New("the TPM key is restricted (an attestation key), so it cannot sign external data")
	}
	switch p.Type {
	case tpm2.TPMAlgRSA:
		parms, err := p.Parameters.RSADetail()
		if err != nil {
			return nil, 0, err
		}
		n, err := p.Unique.RSA()
		if err != nil {
			return nil, 0, err
		}
		if len(n.Buffer)*8 != int(parms.KeyBits) || parms.KeyBits < 2048 {
			return nil, 0, fmt.Errorf("the TPM RSA key has %d-bit parameters and a %d-byte modulus; want RSA 2048 or larger", parms.KeyBits, len(n.Buffer))
		}
		e := int(parms.Exponent)
		if e == 0 {
			e = 65537 // the TPM's encoding of the default exponent
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n.Buffer), E: e}, int(parms.KeyBits), nil
	case tpm2.TPMAlgECC:
		parms, err := p.Parameters.ECCDetail()
		if err != nil {
			return nil, 0, err
		}
		pt, err := p.Unique.ECC()
		if err != nil {
			return nil, 0, err
		}
		var c elliptic.Curve
		switch parms.CurveID {
		case tpm2.TPMECCNistP256:
			c = elliptic.P256()
		case tpm2.TPMECCNistP384:
			c = elliptic.P384()
		case tpm2.TPMECCNistP521:
			c = elliptic.P521()
		default:
			return nil, 0, fmt.Errorf("the TPM key's curve 0x%04x is not one IAM Roles Anywhere accepts (P-256, P-384, P-521)", uint16(parms.CurveID))
		}
		size := (c.Params().BitSize + 7) / 8
		if len(pt.X.Buffer) > size || len(pt.Y.Buffer) > size {
			return nil, 0, errors.New("the TPM key's EC point is too large for its curve")
		}
		raw := make([]byte, 1+2*size)
		raw[0] = 4
		copy(raw[1+size-len(pt.X.Buffer):], pt.X.Buffer)
		copy(raw[1+2*size-len(pt.Y.Buffer):], pt.Y.Buffer)
		pub, err := ecdsa.ParseUncompressedPublicKey(c, raw)
		if err != nil {
			return nil, 0, errors.New("the TPM key's EC point is not on its curve")
		}
		return pub, c.Params().BitSize, nil
	}
	return nil, 0, fmt.Errorf("the TPM key's type %s is neither RSA nor ECC", algName(p.Type))
}

// checkParent accepts the parents a key file may name: a hierarchy (whose
// standard storage primary key is re-created) or a persistent key.
func checkParent(h tpm2.TPMHandle) error {
	switch {
	case h == tpm2.TPMRHOwner, h == tpm2.TPMRHEndorsement, h == tpm2.TPMRHPlatform, h == tpm2.TPMRHNull:
		return nil
	case isPersistent(h):
		return nil
	}
	return fmt.Errorf("parent 0x%08x is neither a hierarchy nor a persistent handle", uint32(h))
}

func isPersistent(h tpm2.TPMHandle) bool { return h>>24 == 0x81 }

// ParseTPMHandle parses the official helper's "handle:0x81000001" (the
// 0x is optional) and checks it names a persistent object.
func ParseTPMHandle(s string) (uint32, error) {
	hex, ok := strings.CutPrefix(s, "handle:")
	if !ok {
		return 0, fmt.Errorf("%q is not a TPM handle (handle:0x81…)", s)
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(hex, "0x"), "0X"), 16, 32)
	if err != nil {
		return 0, fmt.Errorf("TPM handle %q is not a hexadecimal 32-bit value", hex)
	}
	if !isPersistent(tpm2.TPMHandle(v)) {
		return 0, fmt.Errorf("TPM handle 0x%08x is not a persistent handle (0x81000000-0x81ffffff); make the key persistent with tpm2_evictcontrol", v)
	}
	return uint32(v), nil
}

// splitTSS2 removes the TSS2 PRIVATE KEY blocks from PEM data, returning
// the rest (for parseFile) and the blocks' DER.
func splitTSS2(data []byte) (rest []byte, keys [][]byte) {
	marker := []byte("-----BEGIN " + tss2PEMType + "-----")
	for {
		i := bytes.Index(data, marker)
		if i < 0 {
			return append(rest, data...), keys
		}
		block, after := pem.Decode(data[i:])
		if block == nil || block.Type != tss2PEMType {
			// An unterminated block: leave it for parseFile to ignore.
			return append(rest, data...), keys
		}
		keys = append(keys, block.Bytes)
		rest = append(rest, data[:i]...)
		data = after
	}
}

// holdsTPMKey reports whether the file at path is PEM with a TSS2 PRIVATE
// KEY block. Unreadable files are not TPM keys; the file source reports
// why they cannot be read.
func holdsTPMKey(path string) bool {
	if path == "" || strings.HasPrefix(path, "pkcs11:") {
		return false
	}
	b, err := readLimited(path)
	return err == nil && bytes.Contains(b, []byte("-----BEGIN "+tss2PEMType+"-----"))
}

// --- talking to the TPM --------------------------------------------------

// tpmConn is one connection to a TPM, shared by the sources of a process
// that use the same device: /dev/tpm0 admits one opener and a swtpm socket
// serves one client at a time, so a second connection from a helper with
// several roles would fail or hang.
type tpmConn struct {
	device string
	// loading is held across CreatePrimary, Load and FlushContext: a TPM
	// without a resource manager has about three object slots, which two
	// sources loading at once would overrun.
	loading sync.Mutex
	mu      sync.Mutex // one command at a time
	t       transport.TPMCloser
	refs    int
	broken  bool // a transport error happened; objects loaded through it are gone
}

var tpmConns = struct {
	sync.Mutex
	m map[string]*tpmConn
}{m: map[string]*tpmConn{}}

func (c *tpmConn) isBroken() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.broken
}

func acquireTPM(device string) (*tpmConn, error) {
	tpmConns.Lock()
	defer tpmConns.Unlock()
	if c := tpmConns.m[device]; c != nil {
		if !c.isBroken() {
			c.refs++
			return c, nil
		}
		delete(tpmConns.m, device) // its last user closes it
	}
	t, err := openTPMDevice(device)
	if err != nil {
		return nil, err
	}
	c := &tpmConn{device: device, t: t, refs: 1}
	tpmConns.m[device] = c
	return c, nil
}

func releaseTPM(c *tpmConn) {
	tpmConns.Lock()
	defer tpmConns.Unlock()
	if c.refs--; c.refs > 0 {
		return
	}
	if tpmConns.m[c.device] == c {
		delete(tpmConns.m, c.device)
	}
	_ = c.t.Close()
}

// tpmRun executes one command on c. A failure that is not a TPM response
// code marks the connection broken, so the next Load reconnects.
func tpmRun[R any](c *tpmConn, cmd tpm2.Command[R, *R], sess ...tpm2.Session) (*R, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken {
		return nil, errTPMBroken
	}
	r, err := cmd.Execute(c.t, sess...)
	// TPM_RC_RETRY and friends ask for the same command again: libtpms
	// answers so when it must first update its NV state, as on the first
	// use of a dictionary-attack protected key.
	for i := 0; i < 10 && (errors.Is(err, tpm2.TPMRCRetry) || errors.Is(err, tpm2.TPMRCYielded) || errors.Is(err, tpm2.TPMRCTesting)); i++ {
		r, err = cmd.Execute(c.t, sess...)
	}
	var rc tpm2.TPMRC
	if err != nil && !errors.As(err, &rc) {
		c.broken = true
		return nil, fmt.Errorf("%w: %v", errTPMBroken, err)
	}
	return r, err
}

var errTPMBroken = errors.New("lost the connection to the TPM")

// openTPMDevice opens spec: empty for the default devices; a path to a
// character device or to a Unix socket (swtpm --server type=unixio, as the
// official helper's TPM_DEVICE allows); or, in tpm2-tss TCTI syntax,
// "device:PATH" or "swtpm:host=H,port=P" / "swtpm:path=SOCKET".
func openTPMDevice(spec string) (transport.TPMCloser, error) {
	if spec == "" {
		var errs []string
		for _, d := range defaultTPMDevices() {
			t, err := openTPMPath(d)
			if err == nil {
				return t, nil
			}
			errs = append(errs, err.Error())
		}
		return nil, fmt.Errorf("no TPM found (%s); set TPM_DEVICE", strings.Join(errs, "; "))
	}
	name, conf, hasTCTI := strings.Cut(spec, ":")
	if !hasTCTI || strings.ContainsAny(name, `/\.`) {
		return openTPMPath(spec)
	}
	switch name {
	case "device":
		return openTPMPath(conf)
	case "swtpm":
		host, port, path := "localhost", "2321", ""
		for _, kv := range strings.Split(conf, ",") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "host":
				host = v
			case "port":
				port = v
			case "path":
				path = v
			default:
				return nil, fmt.Errorf("TPM_DEVICE %q: unknown swtpm option %q (host, port, path)", spec, k)
			}
		}
		if path != "" {
			return dialTPM("unix", path)
		}
		return dialTPM("tcp", net.JoinHostPort(host, port))
	}
	return nil, fmt.Errorf("TPM_DEVICE %q: unsupported TCTI %q (use a device path, a Unix socket path, device:PATH or swtpm:host=H,port=P)", spec, name)
}

func openTPMPath(path string) (transport.TPMCloser, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("TPM %s: %v", path, err)
	}
	switch {
	case fi.Mode()&os.ModeSocket != 0:
		return dialTPM("unix", path)
	case fi.Mode()&os.ModeCharDevice != 0:
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("TPM %s: %v", path, err)
		}
		// A TPM character device returns a whole response to one read.
		return transport.FromReadWriteCloser(f), nil
	}
	return nil, fmt.Errorf("TPM %s is neither a character device nor a Unix socket", path)
}

func dialTPM(network, addr string) (transport.TPMCloser, error) {
	c, err := net.Dial(network, addr)
	if err != nil {
		return nil, fmt.Errorf("TPM at %s: %v", addr, err)
	}
	return &streamTPM{c: c}, nil
}

// streamTPM speaks raw TPM commands over a stream socket (swtpm's server
// channel). Unlike a device, a stream may split a response across reads,
// so the response is framed by the size in its header.
type streamTPM struct{ c net.Conn }

// maxTPMResponse bounds what a TPM may answer; real responses are < 4 KiB.
const maxTPMResponse = 64 << 10

// tpmCommandTimeout bounds one command on a socket TPM.
const tpmCommandTimeout = 2 * time.Minute

func (s *streamTPM) Send(cmd []byte) ([]byte, error) {
	// A swtpm serving another client does not answer at all; fail rather
	// than hang. The bound is generous: RSA key generation on a slow TPM
	// takes tens of seconds.
	if err := s.c.SetDeadline(time.Now().Add(tpmCommandTimeout)); err != nil {
		return nil, err
	}
	if _, err := s.c.Write(cmd); err != nil {
		return nil, err
	}
	hdr := make([]byte, 10) // tag, size, response code
	if _, err := io.ReadFull(s.c, hdr); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(hdr[2:6])
	if size < 10 || size > maxTPMResponse {
		return nil, fmt.Errorf("TPM response size %d out of range", size)
	}
	rsp := make([]byte, size)
	copy(rsp, hdr)
	if _, err := io.ReadFull(s.c, rsp[10:]); err != nil {
		return nil, err
	}
	return rsp, nil
}

func (s *streamTPM) Close() error { return s.c.Close() }

// srkTemplates are the storage primary keys that tools re-create for a key
// file whose parent is a hierarchy: tpm2-openssl and tpm2-tss-engine use
// ECC P-256 when the TPM has it, else RSA 2048, both with an empty unique
// field (unlike the TCG provisioning guidance's SRK).
func srkTemplates(rsaFirst bool) []tpm2.TPMTPublic {
	attrs := tpm2.TPMAObject{FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true,
		UserWithAuth: true, NoDA: true, Restricted: true, Decrypt: true}
	aes128 := tpm2.TPMTSymDefObject{Algorithm: tpm2.TPMAlgAES,
		KeyBits: tpm2.NewTPMUSymKeyBits(tpm2.TPMAlgAES, tpm2.TPMKeyBits(128)),
		Mode:    tpm2.NewTPMUSymMode(tpm2.TPMAlgAES, tpm2.TPMAlgCFB)}
	ecc := tpm2.TPMTPublic{Type: tpm2.TPMAlgECC, NameAlg: tpm2.TPMAlgSHA256, ObjectAttributes: attrs,
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
			Symmetric: aes128, Scheme: tpm2.TPMTECCScheme{Scheme: tpm2.TPMAlgNull},
			CurveID: tpm2.TPMECCNistP256, KDF: tpm2.TPMTKDFScheme{Scheme: tpm2.TPMAlgNull}}),
		Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{})}
	rsa := tpm2.TPMTPublic{Type: tpm2.TPMAlgRSA, NameAlg: tpm2.TPMAlgSHA256, ObjectAttributes: attrs,
		Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgRSA, &tpm2.TPMSRSAParms{
			Symmetric: aes128, Scheme: tpm2.TPMTRSAScheme{Scheme: tpm2.TPMAlgNull}, KeyBits: 2048}),
		Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgRSA, &tpm2.TPM2BPublicKeyRSA{})}
	if rsaFirst {
		return []tpm2.TPMTPublic{rsa, ecc}
	}
	return []tpm2.TPMTPublic{ecc, rsa}
}

// flush forgets a transient object; failures are ignored, since the
// object is unusable either way.
func flush(c *tpmConn, h tpm2.TPMHandle) {
	_, _ = tpmRun(c, tpm2.FlushContext{FlushHandle: h})
}

// loadTSS2 loads a key file's key under its parent and returns the
// transient handle and name.
func loadTSS2(c *tpmConn, k *tss2Key) (tpm2.TPMHandle, tpm2.TPM2BName, error) {
	c.loading.Lock()
	defer c.loading.Unlock()
	load := func(parent tpm2.AuthHandle) (*tpm2.LoadResponse, error) {
		return tpmRun(c, tpm2.Load{ParentHandle: parent,
			InPrivate: tpm2.TPM2BPrivate{Buffer: k.privBlob},
			InPublic:  tpm2.BytesAs2B[tpm2.TPMTPublic](k.pubBlob)})
	}
	if isPersistent(k.parent) {
		// Parent keys with passwords are not supported, as in the
		// official helper.
		rp, err := tpmRun(c, tpm2.ReadPublic{ObjectHandle: k.parent})
		if err != nil {
			return 0, tpm2.TPM2BName{}, fmt.Errorf("TPM parent key 0x%08x: %w", uint32(k.parent), err)
		}
		r, err := load(tpm2.AuthHandle{Handle: k.parent, Name: rp.Name, Auth: tpm2.PasswordAuth(nil)})
		if err != nil {
			return 0, tpm2.TPM2BName{}, fmt.Errorf("loading the TPM key under 0x%08x: %w", uint32(k.parent), err)
		}
		return r.ObjectHandle, r.Name, nil
	}
	var first error
	for _, tmpl := range srkTemplates(k.rsaParent) {
		p, err := tpmRun(c, tpm2.CreatePrimary{
			PrimaryHandle: tpm2.AuthHandle{Handle: k.parent, Auth: tpm2.PasswordAuth(nil)},
			InPublic:      tpm2.New2B(tmpl)})
		if err == nil {
			var r *tpm2.LoadResponse
			r, err = load(tpm2.AuthHandle{Handle: p.ObjectHandle, Name: p.Name, Auth: tpm2.PasswordAuth(nil)})
			flush(c, p.ObjectHandle)
			if err == nil {
				return r.ObjectHandle, r.Name, nil
			}
		}
		if errors.Is(err, errTPMBroken) {
			return 0, tpm2.TPM2BName{}, err
		}
		if first == nil {
			first = err
		}
	}
	return 0, tpm2.TPM2BName{}, fmt.Errorf("loading the TPM key under the storage primary key of hierarchy 0x%08x (ECC and RSA templates tried): %w", uint32(k.parent), first)
}

// --- the source ------------------------------------------------------------

type tpmSource struct {
	opts    Options
	handle  tpm2.TPMHandle // persistent key, or 0 for a key file
	keyFile string         // the file holding the TSS2 key

	mu       sync.Mutex // guards everything below, and orders signing
	conn     *tpmConn
	key      *tpmKey
	password []byte // from Options.TPMKeyPassword or, once asked, from Prompt
	closed   bool
}

// tpmKey is the key currently loaded for a source.
type tpmKey struct {
	src       *tpmSource
	conn      *tpmConn
	blob      []byte // the key file's DER; nil for a persistent handle
	handle    tpm2.TPMHandle
	name      tpm2.TPM2BName
	transient bool
	public    tpm2.TPMTPublic
	pub       crypto.PublicKey
	bits      int  // RSA modulus or EC order size
	emptyAuth bool // the key file says the key has no password

	// proven is the password a test signature succeeded with; failed the
	// password the TPM refused. Each refusal counts towards the TPM's
	// dictionary-attack lockout, so a refused configured password is not
	// tried again on every Load of a refresh loop.
	proven, failed []byte
	provenOK       bool
}

func openTPM(opts Options) (Source, error) {
	s := &tpmSource{opts: opts}
	switch {
	case strings.HasPrefix(opts.Certificate, "pkcs11:"):
		return nil, errors.New("a TPM key cannot be combined with a PKCS#11 certificate; give the certificate as a file")
	case opts.Selector != nil:
		return nil, errors.New("a TPM key cannot be combined with --cert-selector; give the certificate as a file")
	case opts.TPMKeyPassword != "" && opts.NoTPMKeyPassword:
		return nil, errors.New("--tpm-key-password and --no-tpm-key-password contradict each other")
	}
	if strings.HasPrefix(opts.PrivateKey, "handle:") {
		h, err := ParseTPMHandle(opts.PrivateKey)
		if err != nil {
			return nil, err
		}
		if opts.Certificate == "" {
			return nil, fmt.Errorf("no certificate given for TPM key %s: pass --certificate", opts.PrivateKey)
		}
		s.handle = tpm2.TPMHandle(h)
	} else if s.keyFile = opts.PrivateKey; s.keyFile == "" {
		s.keyFile = opts.Certificate
	}
	if opts.TPMKeyPassword != "" {
		s.password = []byte(opts.TPMKeyPassword)
	}
	c, err := acquireTPM(opts.TPMDevice)
	if err != nil {
		return nil, err
	}
	s.conn = c
	return s, nil
}

func (s *tpmSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.dropKey()
	if s.conn != nil {
		releaseTPM(s.conn)
		s.conn = nil
	}
	return nil
}

// dropKey flushes the loaded key, if it was loaded by this source.
func (s *tpmSource) dropKey() {
	if s.key != nil && s.key.transient {
		flush(s.key.conn, s.key.handle)
	}
	s.key = nil
}

func (s *tpmSource) Load(ctx context.Context) (*Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if s.conn == nil || s.conn.isBroken() {
		if err := s.reconnect(); err != nil {
			return nil, err
		}
	}
	id, err := s.loadRetrying(ctx)
	if errors.Is(err, errTPMBroken) {
		// The TPM (or the swtpm) went away and maybe came back: reconnect
		// once and load the key again.
		if cerr := s.reconnect(); cerr != nil {
			return nil, fmt.Errorf("%v; reconnecting: %w", err, cerr)
		}
		id, err = s.loadRetrying(ctx)
	}
	if errors.Is(err, ErrTPMKeyPasswordNeeded) && s.opts.Prompt != nil {
		pw, perr := s.opts.Prompt("Please enter your TPM key password: ")
		if perr != nil {
			return nil, fmt.Errorf("%w (reading password: %v)", err, perr)
		}
		s.password = []byte(pw)
		if id, err = s.loadRetrying(ctx); errors.Is(err, ErrIncorrectPassword) {
			s.password = nil // ask again next time
		}
	}
	return id, err
}

// reconnect replaces a broken connection; objects loaded through it are
// gone with it.
func (s *tpmSource) reconnect() error {
	s.key = nil
	if s.conn != nil {
		releaseTPM(s.conn)
		s.conn = nil
	}
	c, err := acquireTPM(s.opts.TPMDevice)
	if err != nil {
		return err
	}
	s.conn = c
	return nil
}

func (s *tpmSource) loadRetrying(ctx context.Context) (*Identity, error) {
	return retrying(ctx, s.opts.Sleep, s.loadOnce, func(err error) bool {
		return errors.Is(err, errTorn) || (fileTransient(err) && !isTPMError(err))
	})
}

func isTPMError(err error) bool {
	var rc tpm2.TPMRC
	return errors.As(err, &rc) || errors.Is(err, errTPMBroken) || errors.Is(err, ErrTPMKeyPasswordNeeded)
}

// loadOnce reads the files as one snapshot, makes sure the key they name
// is the one loaded, and proves the password with a test signature.
func (s *tpmSource) loadOnce() (*Identity, error) {
	o := s.opts
	keyFile := s.keyFile
	data, err := readSnapshot(o.Certificate, keyFile, o.Intermediates)
	if err != nil {
		return nil, err
	}
	parsed := map[string]bundle{}
	var tpmDER [][]byte
	for _, name := range []string{o.Certificate, keyFile, o.Intermediates} {
		if _, done := parsed[name]; done || name == "" {
			continue
		}
		rest, keys := splitTSS2(data[name])
		if name == keyFile {
			tpmDER = keys
		} else if len(keys) > 0 {
			return nil, permanent{fmt.Errorf("%s: unexpected TSS2 PRIVATE KEY block", name)}
		}
		var b bundle
		if len(keys) == 0 || bytes.Contains(rest, []byte("-----BEGIN")) {
			if b, err = parseFile(name, rest, []byte(o.Password)); err != nil {
				return nil, err
			}
		}
		parsed[name] = b
	}
	certFile := o.Certificate
	if certFile == "" {
		certFile = keyFile
	}
	certs := parsed[certFile].certs
	if len(certs) == 0 {
		return nil, permanent{fmt.Errorf("%s: no certificate found; pass --certificate", certFile)}
	}
	more := append(certs[1:len(certs):len(certs)], parsed[o.Intermediates].certs...)
	if o.Intermediates != "" && parsed[o.Intermediates].key != nil {
		return nil, permanent{fmt.Errorf("%s: the intermediates bundle must hold only certificates, not a private key", o.Intermediates)}
	}

	var key *tpmKey
	switch {
	case s.handle != 0:
		key, err = s.persistentKey()
	case len(tpmDER) > 1:
		return nil, permanent{fmt.Errorf("%s: more than one TSS2 PRIVATE KEY block", keyFile)}
	case len(tpmDER) == 1:
		key, err = s.fileKey(keyFile, tpmDER[0])
	case parsed[keyFile].key != nil:
		// The key file was rotated to a software key: use it.
		s.dropKey()
		return assemble(certs[0], more, parsed[keyFile].key)
	default:
		return nil, permanent{fmt.Errorf("%s: no TSS2 PRIVATE KEY found", keyFile)}
	}
	if err != nil {
		return nil, err
	}
	id, err := assemble(certs[0], more, &tpmSigner{key: key})
	if err != nil {
		return nil, err
	}
	if err := s.prove(key); err != nil {
		return nil, err
	}
	return id, nil
}

// persistentKey reads the persistent key's public area on every Load, so a
// key replaced under the same handle is noticed.
func (s *tpmSource) persistentKey() (*tpmKey, error) {
	rp, err := tpmRun(s.conn, tpm2.ReadPublic{ObjectHandle: s.handle})
	if err != nil {
		return nil, permanent{fmt.Errorf("TPM key handle:0x%08x: %w", uint32(s.handle), err)}
	}
	if s.key != nil && s.key.blob == nil && s.key.conn == s.conn && bytes.Equal(s.key.name.Buffer, rp.Name.Buffer) {
		return s.key, nil
	}
	public, err := rp.OutPublic.Contents()
	if err != nil {
		return nil, permanent{fmt.Errorf("TPM key handle:0x%08x: %v", uint32(s.handle), err)}
	}
	pub, bits, err := publicKeyOf(public)
	if err != nil {
		return nil, permanent{fmt.Errorf("TPM key handle:0x%08x: %v", uint32(s.handle), err)}
	}
	s.key = &tpmKey{src: s, conn: s.conn, handle: s.handle, name: rp.Name, public: *public, pub: pub, bits: bits}
	return s.key, nil
}

// fileKey returns the loaded key for der, loading it (in place of the
// previous one) when the file changed.
func (s *tpmSource) fileKey(name string, der []byte) (*tpmKey, error) {
	if s.key != nil && s.key.conn == s.conn && bytes.Equal(s.key.blob, der) {
		// Still loaded? A TPM without a resource manager forgets transient
		// objects when it restarts, and may reuse the handle.
		rp, err := tpmRun(s.conn, tpm2.ReadPublic{ObjectHandle: s.key.handle})
		switch {
		case errors.Is(err, errTPMBroken):
			return nil, err
		case err == nil && bytes.Equal(rp.Name.Buffer, s.key.name.Buffer):
			return s.key, nil
		}
		s.key = nil // not ours to flush any more
	}
	k, err := parseTSS2Key(der)
	if err != nil {
		return nil, permanent{fmt.Errorf("%s: %v", name, err)}
	}
	pub, bits, err := publicKeyOf(&k.public)
	if err != nil {
		return nil, permanent{fmt.Errorf("%s: %v", name, err)}
	}
	s.dropKey() // first, so a TPM without a resource manager has a slot free
	h, objName, err := loadTSS2(s.conn, k)
	if err != nil {
		return nil, permanent{fmt.Errorf("%s: %w", name, err)}
	}
	s.key = &tpmKey{src: s, conn: s.conn, blob: append([]byte(nil), der...), handle: h, name: objName,
		transient: true, public: k.public, pub: pub, bits: bits, emptyAuth: k.emptyAuth}
	return s.key, nil
}

// auth is the password to use for k, or ErrTPMKeyPasswordNeeded. A given
// password wins over the key file's emptyAuth, which is only a hint:
// tpm2_encodeobject of tpm2-tools 5.4 (Debian 12) writes it inverted.
func (s *tpmSource) auth(k *tpmKey) ([]byte, error) {
	switch {
	case s.password != nil:
		return s.password, nil
	case s.opts.NoTPMKeyPassword, k.emptyAuth:
		return []byte{}, nil
	}
	return nil, ErrTPMKeyPasswordNeeded
}

// prove signs a random digest once per key and password, so a wrong
// password fails the Load (where the CLI can ask again) instead of the
// request.
func (s *tpmSource) prove(k *tpmKey) error {
	pw, err := s.auth(k)
	if err != nil {
		return err
	}
	if k.provenOK && bytes.Equal(k.proven, pw) {
		return nil
	}
	if k.failed != nil && bytes.Equal(k.failed, pw) {
		return fmt.Errorf("TPM key: %w (not retried, to spare the TPM's dictionary-attack counter)", ErrIncorrectPassword)
	}
	digest := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, digest); err != nil {
		return err
	}
	sig, err := k.sign(digest, crypto.SHA256, pw)
	if err != nil {
		if errors.Is(err, ErrIncorrectPassword) {
			k.failed = append([]byte{}, pw...)
		}
		return err
	}
	if !verifyDigest(k.pub, digest, sig) {
		return permanent{errors.New("TPM key: a test signature did not verify with the key's public part")}
	}
	k.proven, k.provenOK = append([]byte{}, pw...), true
	return nil
}

func verifyDigest(pub crypto.PublicKey, digest, sig []byte) bool {
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsa.VerifyASN1(pub, digest, sig)
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig) == nil
	}
	return false
}

// tpmSigner is the crypto.Signer of an Identity with a TPM key.
type tpmSigner struct{ key *tpmKey }

func (t *tpmSigner) Public() crypto.PublicKey { return t.key.pub }

// Sign signs a digest: PKCS#1 v1.5 (TPM_ALG_RSASSA) for RSA, ASN.1 DER
// ECDSA for EC (the TPM returns r and s).
func (t *tpmSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, errors.New("TPM signer: RSA-PSS is not used by IAM Roles Anywhere")
	}
	s := t.key.src
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != t.key {
		return nil, errors.New("TPM signer: the key was replaced or the source closed; load the identity again")
	}
	pw, err := s.auth(t.key)
	if err != nil {
		return nil, err
	}
	return t.key.sign(digest, opts.HashFunc(), pw)
}

var tpmHashes = map[crypto.Hash]tpm2.TPMAlgID{
	crypto.SHA256: tpm2.TPMAlgSHA256, crypto.SHA384: tpm2.TPMAlgSHA384, crypto.SHA512: tpm2.TPMAlgSHA512,
}

// sign runs TPM2_Sign with the key's own scheme when it has one, else
// ECDSA or RSASSA with the digest's hash.
func (k *tpmKey) sign(digest []byte, h crypto.Hash, pw []byte) ([]byte, error) {
	alg, ok := tpmHashes[h]
	if !ok || len(digest) != h.Size() {
		return nil, fmt.Errorf("TPM signer needs a SHA-256, SHA-384 or SHA-512 digest (got %d bytes for %v)", len(digest), h)
	}
	var scheme tpm2.TPMTSigScheme
	switch k.public.Type {
	case tpm2.TPMAlgECC:
		parms, err := k.public.Parameters.ECCDetail()
		if err != nil {
			return nil, err
		}
		switch parms.Scheme.Scheme {
		case tpm2.TPMAlgNull:
		case tpm2.TPMAlgECDSA:
			d, err := parms.Scheme.Details.ECDSA()
			if err != nil {
				return nil, err
			}
			if d.HashAlg != alg {
				// The key is bound to another hash: give the TPM a value of
				// that hash's size that ECDSA reduces to the same number.
				kh, err := d.HashAlg.Hash()
				if err != nil {
					return nil, fmt.Errorf("TPM key's ECDSA scheme: %v", err)
				}
				if digest, err = fitECDSADigest(digest, k.bits, kh.Size()); err != nil {
					return nil, err
				}
				alg = d.HashAlg
			}
		default:
			return nil, fmt.Errorf("the TPM EC key is bound to signature scheme %s; IAM Roles Anywhere needs ECDSA", algName(parms.Scheme.Scheme))
		}
		scheme = tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgECDSA,
			Details: tpm2.NewTPMUSigScheme(tpm2.TPMAlgECDSA, &tpm2.TPMSSchemeHash{HashAlg: alg})}
	case tpm2.TPMAlgRSA:
		parms, err := k.public.Parameters.RSADetail()
		if err != nil {
			return nil, err
		}
		switch parms.Scheme.Scheme {
		case tpm2.TPMAlgNull:
		case tpm2.TPMAlgRSASSA:
			d, err := parms.Scheme.Details.RSASSA()
			if err != nil {
				return nil, err
			}
			if d.HashAlg != alg {
				return nil, fmt.Errorf("the TPM RSA key only signs %s digests, not %v", algName(d.HashAlg), h)
			}
		default:
			return nil, fmt.Errorf("the TPM RSA key is bound to signature scheme %s; IAM Roles Anywhere needs RSASSA (PKCS#1 v1.5)", algName(parms.Scheme.Scheme))
		}
		scheme = tpm2.TPMTSigScheme{Scheme: tpm2.TPMAlgRSASSA,
			Details: tpm2.NewTPMUSigScheme(tpm2.TPMAlgRSASSA, &tpm2.TPMSSchemeHash{HashAlg: alg})}
	default:
		return nil, fmt.Errorf("unsupported TPM key type %s", algName(k.public.Type))
	}
	r, err := tpmRun(k.conn, tpm2.Sign{
		KeyHandle:  tpm2.AuthHandle{Handle: k.handle, Name: k.name, Auth: tpm2.PasswordAuth(pw)},
		Digest:     tpm2.TPM2BDigest{Buffer: digest},
		InScheme:   scheme,
		Validation: tpm2.TPMTTKHashCheck{Tag: tpm2.TPMSTHashCheck, Hierarchy: tpm2.TPMRHNull},
	})
	switch {
	case errors.Is(err, tpm2.TPMRCAuthFail), errors.Is(err, tpm2.TPMRCBadAuth):
		return nil, fmt.Errorf("TPM key: %w", ErrIncorrectPassword)
	case errors.Is(err, tpm2.TPMRCLockout):
		return nil, fmt.Errorf("TPM key: the TPM is in dictionary-attack lockout after too many wrong passwords: %w", err)
	case err != nil:
		return nil, fmt.Errorf("TPM2_Sign: %w", err)
	}
	if k.public.Type == tpm2.TPMAlgRSA {
		rs, err := r.Signature.Signature.RSASSA()
		if err != nil {
			return nil, fmt.Errorf("TPM2_Sign: %v", err)
		}
		return rs.Sig.Buffer, nil
	}
	es, err := r.Signature.Signature.ECDSA()
	if err != nil {
		return nil, fmt.Errorf("TPM2_Sign: %v", err)
	}
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(es.SignatureR.Buffer), new(big.Int).SetBytes(es.SignatureS.Buffer)})
}

// algName names the TPM algorithms errors mention (go-tpm prints numbers).
func algName(a tpm2.TPMAlgID) string {
	if n, ok := map[tpm2.TPMAlgID]string{
		tpm2.TPMAlgSHA1: "SHA-1", tpm2.TPMAlgSHA256: "SHA-256", tpm2.TPMAlgSHA384: "SHA-384", tpm2.TPMAlgSHA512: "SHA-512",
		tpm2.TPMAlgRSA: "RSA", tpm2.TPMAlgECC: "ECC", tpm2.TPMAlgKeyedHash: "KEYEDHASH", tpm2.TPMAlgSymCipher: "SYMCIPHER",
		tpm2.TPMAlgRSASSA: "RSASSA", tpm2.TPMAlgRSAPSS: "RSAPSS", tpm2.TPMAlgECDSA: "ECDSA", tpm2.TPMAlgECDAA: "ECDAA",
		tpm2.TPMAlgSM2: "SM2", tpm2.TPMAlgECSchnorr: "ECSCHNORR",
	}[a]; ok {
		return n
	}
	return fmt.Sprintf("TPM_ALG 0x%04x", uint16(a))
}

// fitECDSADigest returns the size-byte value whose ECDSA reduction for an
// orderBits-bit curve (its leftmost orderBits bits) equals that of digest,
// for keys whose scheme fixes a hash other than the caller's.
func fitECDSADigest(digest []byte, orderBits, size int) ([]byte, error) {
	e := new(big.Int).SetBytes(digest)
	if excess := len(digest)*8 - orderBits; excess > 0 {
		e.Rsh(e, uint(excess))
	}
	if shift := size*8 - orderBits; shift > 0 {
		e.Lsh(e, uint(shift))
	}
	if e.BitLen() > size*8 {
		return nil, fmt.Errorf("a %d-byte digest cannot be signed by a TPM key bound to a %d-byte hash", len(digest), size)
	}
	return e.FillBytes(make([]byte, size)), nil
}
