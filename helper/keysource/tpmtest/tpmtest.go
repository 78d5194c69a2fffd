// Package tpmtest runs a software TPM 2.0 (swtpm, as Debian packages it)
// for tests of the credential helper's TPM keys, and creates keys in it the
// way the OpenSSL tpm2 provider does: a signing key under the owner
// hierarchy's ECC storage primary key, written as a TSS2 PRIVATE KEY PEM
// file, or made persistent at a handle.
//
// swtpm serves one client at a time, so a test must close its own
// connections (Conn) before the code under test opens one, and the other
// way round.
package tpmtest

import (
	"crypto"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// SWTPM is a running swtpm on loopback.
type SWTPM struct {
	// Device is the TPM_DEVICE value that reaches it.
	Device string
	// TCTI is the tpm2-tss TCTI for tpm2-tools (TPM2TOOLS_TCTI); the same
	// string as Device.
	TCTI string
	// Dir is the TPM's state directory, and a scratch directory.
	Dir  string
	port int
	bin  string
	stop func()
}

// Start runs swtpm on two free loopback ports (commands on P, control on
// P+1) with a fresh state, and stops it when the test ends. Without swtpm
// on PATH the test is skipped.
func Start(t testing.TB) *SWTPM {
	t.Helper()
	bin, err := exec.LookPath("swtpm")
	if err != nil {
		t.Skip("swtpm is not installed (Debian: apt-get install swtpm swtpm-tools); skipping TPM 2.0 tests")
	}
	s := &SWTPM{Dir: t.TempDir(), bin: bin}
	var last error
	for range 5 { // a port picked free may be taken before swtpm binds it
		if s.port, err = freePortPair(); err != nil {
			t.Fatal(err)
		}
		if last = s.start(t); last == nil {
			s.Device = fmt.Sprintf("swtpm:host=127.0.0.1,port=%d", s.port)
			s.TCTI = s.Device
			return s
		}
	}
	t.Fatalf("starting swtpm: %v", last)
	return nil
}

// Restart stops the swtpm and starts it again on the same ports and state,
// as a reboot of the TPM would: persistent objects stay, transient ones
// and connections are gone.
func (s *SWTPM) Restart(t testing.TB) {
	t.Helper()
	s.stop()
	if err := s.start(t); err != nil {
		t.Fatalf("restarting swtpm: %v", err)
	}
}

func (s *SWTPM) start(t testing.TB) error {
	cmd := exec.Command(s.bin, "socket", "--tpm2",
		"--server", "type=tcp,bindaddr=127.0.0.1,port="+strconv.Itoa(s.port),
		"--ctrl", "type=tcp,bindaddr=127.0.0.1,port="+strconv.Itoa(s.port+1),
		"--tpmstate", "dir="+s.Dir, "--flags", "not-need-init,startup-clear",
		"--log", "file="+s.Dir+"/swtpm.log")
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = dieWithParent() // a test binary killed by -timeout leaves no swtpm behind
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	for {
		select {
		case <-exited:
			return fmt.Errorf("swtpm exited: %s", out)
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		time.Sleep(20 * time.Millisecond) // waiting for start-up, not timing anything
	}
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		})
	}
	t.Cleanup(s.stop)
	return nil
}

// freePortPair finds P with P and P+1 free on 127.0.0.1.
func freePortPair() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+1)))
		l.Close()
		if err == nil {
			l2.Close()
			return p, nil
		}
	}
	return 0, errors.New("no two adjacent free ports on 127.0.0.1")
}

// Addr is the loopback address of the TPM command channel.
func (s *SWTPM) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Conn is a raw connection to the TPM for setting it up. Close it before
// the code under test connects.
func (s *SWTPM) Conn(t testing.TB) transport.TPMCloser {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	return &stream{c}
}

// stream frames raw TPM responses by their header's size.
type stream struct{ c net.Conn }

func (s *stream) Send(cmd []byte) ([]byte, error) {
	// swtpm does not answer a second client while another is connected:
	// fail the test instead of hanging it.
	if err := s.c.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		return nil, err
	}
	if _, err := s.c.Write(cmd); err != nil {
		return nil, err
	}
	hdr := make([]byte, 10)
	if _, err := io.ReadFull(s.c, hdr); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[2:])
	if n < 10 || n > 1<<16 {
		return nil, fmt.Errorf("bad response size %d", n)
	}
	rsp := append(hdr, make([]byte, n-10)...)
	_, err := io.ReadFull(s.c, rsp[10:])
	return rsp, err
}

func (s *stream) Close() error { return s.c.Close() }

// SRK is the storage primary key template of tpm2-openssl and
// tpm2-tss-engine: the TCG ECC P-256 SRK, but with an empty unique field.
func SRK() tpm2.TPMTPublic {
	t := tpm2.ECCSRKTemplate
	t.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{})
	return t
}

// KeySpec describes a signing key to create.
type KeySpec struct {
	// Alg is "ecc256", "ecc384" or "rsa2048".
	Alg string
	// Password is the key's userAuth; empty for none.
	Password string
	// Hash, when set, binds the key to ECDSA or RSASSA with this hash
	// (TPM_ALG_SHA256, …); zero leaves the scheme NULL, as tpm2-openssl does.
	Hash tpm2.TPMAlgID
	// DA makes the key subject to dictionary-attack protection (no noDA).
	DA bool
	// Decrypt makes a decryption key instead of a signing one.
	Decrypt bool
}

// Key is a key created in the TPM.
type Key struct {
	Public  crypto.PublicKey
	PubBlob []byte // TPM2B_PUBLIC, with its size
	Private []byte // TPM2B_PRIVATE, with its size
}

// CreateKey creates a key under the SRK of the owner hierarchy.
func (s *SWTPM) CreateKey(t testing.TB, spec KeySpec) *Key {
	t.Helper()
	c := s.Conn(t)
	defer c.Close()
	srk := createSRK(t, c)
	defer flush(c, srk.ObjectHandle)
	r, err := tpm2.Create{
		ParentHandle: tpm2.AuthHandle{Handle: srk.ObjectHandle, Name: srk.Name, Auth: tpm2.PasswordAuth(nil)},
		InSensitive:  tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{UserAuth: tpm2.TPM2BAuth{Buffer: []byte(spec.Password)}}},
		InPublic:     tpm2.New2B(template(t, spec)),
	}.Execute(c)
	if err != nil {
		t.Fatalf("TPM2_Create %+v: %v", spec, err)
	}
	pa, err := r.OutPublic.Contents()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := tpm2.Pub(*pa)
	if err != nil {
		t.Fatal(err)
	}
	return &Key{Public: pub, PubBlob: tpm2.Marshal(r.OutPublic), Private: tpm2.Marshal(r.OutPrivate)}
}

func createSRK(t testing.TB, c transport.TPM) *tpm2.CreatePrimaryResponse {
	t.Helper()
	p, err := tpm2.CreatePrimary{PrimaryHandle: tpm2.TPMRHOwner, InPublic: tpm2.New2B(SRK())}.Execute(c)
	if err != nil {
		t.Fatalf("TPM2_CreatePrimary: %v", err)
	}
	return p
}

func flush(c transport.TPM, h tpm2.TPMHandle) { _, _ = tpm2.FlushContext{FlushHandle: h}.Execute(c) }

func template(t testing.TB, spec KeySpec) tpm2.TPMTPublic {
	t.Helper()
	p := tpm2.TPMTPublic{NameAlg: tpm2.TPMAlgSHA256, ObjectAttributes: tpm2.TPMAObject{
		FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true, UserWithAuth: true,
		NoDA: !spec.DA, SignEncrypt: !spec.Decrypt, Decrypt: spec.Decrypt}}
	switch spec.Alg {
	case "ecc256", "ecc384":
		curve := tpm2.TPMECCNistP256
		if spec.Alg == "ecc384" {
			curve = tpm2.TPMECCNistP384
		}
		scheme := tpm2.TPMTECCScheme{Scheme: tpm2.TPMAlgNull}
		if spec.Hash != 0 {
			scheme = tpm2.TPMTECCScheme{Scheme: tpm2.TPMAlgECDSA,
				Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgECDSA, &tpm2.TPMSSigSchemeECDSA{HashAlg: spec.Hash})}
		}
		p.Type = tpm2.TPMAlgECC
		p.Parameters = tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
			Symmetric: tpm2.TPMTSymDefObject{Algorithm: tpm2.TPMAlgNull}, Scheme: scheme, CurveID: curve,
			KDF: tpm2.TPMTKDFScheme{Scheme: tpm2.TPMAlgNull}})
		p.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &tpm2.TPMSECCPoint{})
	case "rsa2048":
		scheme := tpm2.TPMTRSAScheme{Scheme: tpm2.TPMAlgNull}
		if spec.Hash != 0 {
			scheme = tpm2.TPMTRSAScheme{Scheme: tpm2.TPMAlgRSASSA,
				Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgRSASSA, &tpm2.TPMSSigSchemeRSASSA{HashAlg: spec.Hash})}
		}
		p.Type = tpm2.TPMAlgRSA
		p.Parameters = tpm2.NewTPMUPublicParms(tpm2.TPMAlgRSA, &tpm2.TPMSRSAParms{
			Symmetric: tpm2.TPMTSymDefObject{Algorithm: tpm2.TPMAlgNull}, Scheme: scheme, KeyBits: 2048})
		p.Unique = tpm2.NewTPMUPublicID(tpm2.TPMAlgRSA, &tpm2.TPM2BPublicKeyRSA{})
	default:
		t.Fatalf("tpmtest: unknown algorithm %q", spec.Alg)
	}
	return p
}

// TSS2 encodes k as tpm2-openssl writes it: type loadableKey, emptyAuth
// always present (0xFF or 0x00), parent the owner hierarchy.
func (k *Key) TSS2(emptyAuth bool) []byte {
	return EncodeTSS2(emptyAuth, uint32(tpm2.TPMRHOwner), k.PubBlob, k.Private)
}

// EncodeTSS2 builds a TSS2 PRIVATE KEY PEM block.
func EncodeTSS2(emptyAuth bool, parent uint32, pub, priv []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{2, 23, 133, 10, 1, 3})
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1Boolean(emptyAuth) })
		b.AddASN1Uint64(uint64(parent))
		b.AddASN1OctetString(pub)
		b.AddASN1OctetString(priv)
	})
	return pem.EncodeToMemory(&pem.Block{Type: "TSS2 PRIVATE KEY", Bytes: b.BytesOrPanic()})
}

// Persist loads k under the SRK and makes it persistent at handle with
// TPM2_EvictControl, as tpm2_evictcontrol does.
func (s *SWTPM) Persist(t testing.TB, k *Key, handle uint32) {
	t.Helper()
	c := s.Conn(t)
	defer c.Close()
	srk := createSRK(t, c)
	defer flush(c, srk.ObjectHandle)
	pub, err := tpm2.Unmarshal[tpm2.TPM2BPublic](k.PubBlob)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := tpm2.Unmarshal[tpm2.TPM2BPrivate](k.Private)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tpm2.Load{ParentHandle: tpm2.AuthHandle{Handle: srk.ObjectHandle, Name: srk.Name, Auth: tpm2.PasswordAuth(nil)},
		InPrivate: *priv, InPublic: *pub}.Execute(c)
	if err != nil {
		t.Fatalf("TPM2_Load: %v", err)
	}
	defer flush(c, l.ObjectHandle)
	if _, err := (tpm2.EvictControl{Auth: tpm2.TPMRHOwner, ObjectHandle: tpm2.NamedHandle{Handle: l.ObjectHandle, Name: l.Name},
		PersistentHandle: tpm2.TPMHandle(handle)}).Execute(c); err != nil {
		t.Fatalf("TPM2_EvictControl 0x%08x: %v", handle, err)
	}
}

// Tool runs a tpm2-tools command against the TPM and then flushes the
// transient objects and sessions it left behind (swtpm has no resource
// manager). It skips the test when tpm2-tools are missing.
func (s *SWTPM) Tool(t testing.TB, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed (Debian: apt-get install tpm2-tools); skipping the tpm2-tools interoperability test", name)
	}
	run := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = s.Dir
		cmd.Env = append(os.Environ(), "TPM2TOOLS_TCTI="+s.TCTI)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	for _, f := range []string{"-t", "-l", "-s"} {
		if o, err := run("tpm2_flushcontext", f); err != nil {
			t.Fatalf("tpm2_flushcontext %s: %v\n%s", f, err, o)
		}
	}
	return out
}
