// Package datadir lays out and bootstraps an iamra data directory: the
// key-encryption key, the server's own TLS CA and certificate, the admin
// credentials, and the files a user points the AWS CLI and SDKs at.
//
// Init is idempotent: it creates only what is missing, so running it on an
// existing directory is safe, and `iamra server` calls it on start.
// Private keys never touch the disk in clear: they are sealed under the KEK
// (the KEK file itself is 0600, or the KEK comes from $IAMRA_KEK). The one
// secret written in clear is the admin secret in DIR/credentials (0600),
// because that file exists so people and tools can use it, as
// ~/.aws/credentials does.
package datadir

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/atomicfile"
	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/kek"
)

// Dir is a data directory.
type Dir string

// Paths inside a data directory.
func (d Dir) KEK() string              { return filepath.Join(string(d), "kek") }
func (d Dir) DB() string               { return filepath.Join(string(d), "iamra.db") }
func (d Dir) CABundle() string         { return filepath.Join(string(d), "ca.pem") }
func (d Dir) caKey() string            { return filepath.Join(string(d), "tls", "ca-key.sealed") }
func (d Dir) ServerCert() string       { return filepath.Join(string(d), "tls", "server.pem") }
func (d Dir) serverKey() string        { return filepath.Join(string(d), "tls", "server-key.sealed") }
func (d Dir) adminKeys() string        { return filepath.Join(string(d), "admin-keys.sealed") }
func (d Dir) AdminCredentials() string { return filepath.Join(string(d), "credentials") }
func (d Dir) AWSConfig() string        { return filepath.Join(string(d), "config") }
func (d Dir) AuditLog() string         { return filepath.Join(string(d), "audit.log") }

// KEKEnv names the environment variable that may hold the KEK instead of
// the key file.
const KEKEnv = "IAMRA_KEK"

// Options control Init.
type Options struct {
	Scope arn.Scope
	// Hosts are extra DNS names or IP addresses for the server certificate
	// (localhost, 127.0.0.1 and ::1 are always included).
	Hosts []string
	Now   func() time.Time
	Rand  io.Reader
}

// AdminKey is an access key of the administrator.
type AdminKey struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	// Arn is the identity requests signed with the key act as.
	Arn string `json:"arn"`
}

// State is what a bootstrapped data directory provides to the server.
type State struct {
	KEK       *kek.KEK
	TLS       tls.Certificate
	CA        *x509.Certificate
	AdminKeys []AdminKey
}

const (
	adCAKey     = "iamra/tls-ca-key"
	adServerKey = "iamra/tls-server-key"
	adAdminKeys = "iamra/admin-keys"
)

// Init creates whatever the directory lacks and loads the rest.
func Init(ctx context.Context, d Dir, opts Options) (*State, error) {
	if err := os.MkdirAll(filepath.Join(string(d), "tls"), 0o700); err != nil {
		return nil, err
	}
	if err := os.Chmod(string(d), 0o700); err != nil {
		return nil, err
	}
	k, err := loadOrCreateKEK(d, opts.Rand)
	if err != nil {
		return nil, err
	}
	now := opts.Now()
	st := &State{KEK: k}

	caCert, caKey, err := loadPair(d.CABundle(), d.caKey(), k, adCAKey)
	if errors.Is(err, fs.ErrNotExist) {
		caKey, err = ca.GenerateKey("EC_prime256v1", opts.Rand)
		if err != nil {
			return nil, err
		}
		caCert, err = ca.NewSelfSignedRoot(pkix.Name{CommonName: "iamra local CA", Organization: []string{"iamra"}},
			caKey, now.Add(-time.Hour), now.AddDate(10, 0, 0), opts.Rand)
		if err != nil {
			return nil, err
		}
		if err := writePair(d.CABundle(), d.caKey(), caCert, caKey, k, adCAKey, 0o644); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("TLS CA: %w", err)
	}
	st.CA = caCert

	srvCert, srvKey, err := loadPair(d.ServerCert(), d.serverKey(), k, adServerKey)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && (now.After(srvCert.NotAfter.Add(-24*time.Hour)) || !coversHosts(srvCert, opts.Hosts))) {
		srvCert, srvKey, err = issueServerCert(caCert, caKey, opts, now)
		if err != nil {
			return nil, err
		}
		if err := writePair(d.ServerCert(), d.serverKey(), srvCert, srvKey, k, adServerKey, 0o644); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("TLS server certificate: %w", err)
	}
	st.TLS = tls.Certificate{Certificate: [][]byte{srvCert.Raw, caCert.Raw}, PrivateKey: srvKey, Leaf: srvCert}

	st.AdminKeys, err = loadOrCreateAdmin(d, k, opts)
	if err != nil {
		return nil, err
	}
	return st, nil
}

func loadOrCreateKEK(d Dir, rnd io.Reader) (*kek.KEK, error) {
	if os.Getenv(KEKEnv) != "" {
		return kek.FromEnv(KEKEnv)
	}
	k, err := kek.Load(d.KEK())
	if errors.Is(err, fs.ErrNotExist) {
		k, err = kek.Generate(rnd)
		if err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(d.KEK(), k.Export(), 0o600); err != nil {
			return nil, err
		}
		return kek.Load(d.KEK())
	}
	return k, err
}

func hostsOf(extra []string) (dns []string, ips []net.IP) {
	dns = []string{"localhost"}
	ips = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	for _, h := range extra {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else if h != "" {
			dns = append(dns, h)
		}
	}
	return dns, ips
}

func coversHosts(c *x509.Certificate, extra []string) bool {
	for _, h := range extra {
		if c.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

func issueServerCert(caCert *x509.Certificate, caKey crypto.Signer, opts Options, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ca.GenerateKey("EC_prime256v1", opts.Rand)
	if err != nil {
		return nil, nil, err
	}
	dns, ips := hostsOf(opts.Hosts)
	cert, err := ca.Issue(caCert, caKey, ca.IssueRequest{
		Template: ca.TemplateEndEntityServerAuth, PublicKey: key.Public(),
		Subject: pkix.Name{CommonName: "iamra server"}, DNSNames: dns, IPAddresses: ips,
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0),
	}, opts.Rand)
	return cert, key, err
}

// SealedKeyPEMType marks a private key sealed under the KEK.
const SealedKeyPEMType = "IAMRA SEALED PRIVATE KEY"

// WriteSealedKey seals key's PKCS#8 encoding under k for purpose and writes
// it atomically with mode 0600.
func WriteSealedKey(path string, key crypto.Signer, k *kek.KEK, purpose string) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	sealed, err := k.Seal(der, []byte(purpose))
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: SealedKeyPEMType, Bytes: sealed}), 0o600)
}

// ReadSealedKey reverses WriteSealedKey.
func ReadSealedKey(path string, k *kek.KEK, purpose string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != SealedKeyPEMType {
		return nil, fmt.Errorf("%s: not a sealed private key", path)
	}
	der, err := k.Open(b.Bytes, []byte(purpose))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: key cannot sign", path)
	}
	return s, nil
}

func writePair(certPath, keyPath string, cert *x509.Certificate, key crypto.Signer, k *kek.KEK, purpose string, certPerm os.FileMode) error {
	if err := WriteSealedKey(keyPath, key, k, purpose); err != nil {
		return err
	}
	return atomicfile.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), certPerm)
}

func loadPair(certPath, keyPath string, k *kek.KEK, purpose string) (*x509.Certificate, crypto.Signer, error) {
	data, err := os.ReadFile(certPath)
	if err != nil {
		return nil, nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, nil, fmt.Errorf("%s: no PEM certificate", certPath)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", certPath, err)
	}
	key, err := ReadSealedKey(keyPath, k, purpose)
	if err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func loadOrCreateAdmin(d Dir, k *kek.KEK, opts Options) ([]AdminKey, error) {
	data, err := os.ReadFile(d.adminKeys())
	if err == nil {
		pt, err := k.Open(data, []byte(adAdminKeys))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.adminKeys(), err)
		}
		var keys []AdminKey
		if err := json.Unmarshal(pt, &keys); err != nil {
			return nil, fmt.Errorf("%s: %w", d.adminKeys(), err)
		}
		return keys, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	key, err := NewAdminKey(opts.Rand, opts.Scope)
	if err != nil {
		return nil, err
	}
	keys := []AdminKey{key}
	pt, _ := json.Marshal(keys)
	sealed, err := k.Seal(pt, []byte(adAdminKeys))
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(d.adminKeys(), sealed, 0o600); err != nil {
		return nil, err
	}
	creds := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", key.AccessKeyID, key.SecretAccessKey)
	if err := atomicfile.WriteFile(d.AdminCredentials(), []byte(creds), 0o600); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("[default]\nregion = %s\nca_bundle = %s\n", opts.Scope.Region, d.CABundle())
	return keys, atomicfile.WriteFile(d.AWSConfig(), []byte(cfg), 0o644)
}

// NewAdminKey makes a long-term access key: "AKIA" and 16 base32
// characters, as AWS's look, and a 40-character secret.
func NewAdminKey(rnd io.Reader, scope arn.Scope) (AdminKey, error) {
	b := make([]byte, 40)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return AdminKey{}, err
	}
	id := "AKIA" + base32.StdEncoding.EncodeToString(b[:10])
	secret := base64.StdEncoding.EncodeToString(b[10:])[:40]
	return AdminKey{AccessKeyID: id, SecretAccessKey: secret, Arn: scope.New("iam", "user/iamra-admin", false).String()}, nil
}
