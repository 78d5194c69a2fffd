package cli

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/cloudflare/circl/sign"

	"github.com/iamra/iamra/helper/keysource"
)

// enumFlag is a string flag limited to some values, like the official
// helper's --format and --digest.
type enumFlag struct {
	allowed []string
	value   string
}

func (f *enumFlag) String() string { return f.value }
func (f *enumFlag) Set(v string) error {
	if !slices.Contains(f.allowed, v) {
		return fmt.Errorf("%s is not included in %s", v, strings.Join(f.allowed, ","))
	}
	f.value = v
	return nil
}

// signTestVersion is SIGN_STRING_TEST_VERSION of the official helper.
const signTestVersion = 1

// fixedStringToSign is what sign-string signs: "AWS Roles Anywhere
// Credential Helper Signing Test" ‖ "1" ‖ SHA-256("IAM RA" ‖ public key),
// the key as an uncompressed EC point, PKCS#1 RSAPublicKey, or (iamra; the
// official helper leaves the suffix empty for other keys) the raw ML-DSA
// public key.
func fixedStringToSign(pub crypto.PublicKey) []byte {
	var keyBytes []byte
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		keyBytes, _ = k.Bytes()
	case *rsa.PublicKey:
		keyBytes = x509.MarshalPKCS1PublicKey(k)
	case sign.PublicKey:
		keyBytes, _ = k.MarshalBinary()
	}
	msg := []byte("AWS Roles Anywhere Credential Helper Signing Test" + strconv.Itoa(signTestVersion))
	if keyBytes != nil {
		sum := sha256.Sum256(append([]byte("IAM RA"), keyBytes...))
		msg = append(msg, sum[:]...)
	}
	return msg
}

func signString(ctx context.Context, e *env, args []string) int {
	c := newCommand(e, "sign-string", "Signs a fixed string using the passed-in private key (or reference to private key)")
	fs := c.fs
	certificate := fs.String("certificate", "", "Path to certificate file or PKCS#11 URI to identify the certificate")
	privateKey := fs.String("private-key", "", "Path to private key file or PKCS#11 URI to identify the private key")
	fs.Bool("debug", false, "To print debug output")
	certSelector := fs.String("cert-selector", "", "JSON structure to identify a certificate from a certificate store. "+
		"Can be passed in either as string or a file name (prefixed by \"file://\")")
	fs.String("system-store-name", "MY", "Name of the system store to search for. Note that this flag is only relevant for Windows certificate stores and will be ignored otherwise")
	fs.String("system-store-location", "CurrentUser", "Location of the system store to search for. Note that this flag is only relevant for Windows certificate stores and will be ignored otherwise")
	latest := fs.Bool("use-latest-expiring-certificate", false, "If multiple certificates match a given certificate selector, the one that expires the latest will be chosen")
	pkcs11Lib := fs.String("pkcs11-lib", "", "Library for smart card / cryptographic device (default: p11-kit-proxy.so)")
	reusePIN := fs.Bool("reuse-pin", false, "Use the CKU_USER PIN as the CKU_CONTEXT_SPECIFIC PIN for private key objects, when they are first used to sign")
	tpmKeyPassword := fs.String("tpm-key-password", "", "Password for TPM key, if applicable")
	noTPMKeyPassword := fs.Bool("no-tpm-key-password", false, "Required if the TPM key has no password and a handle is used to refer to the key")
	format := &enumFlag{allowed: []string{"json", "text", "bin"}, value: "json"}
	digest := &enumFlag{allowed: []string{"SHA256", "SHA384", "SHA512"}, value: "SHA256"}
	fs.Var(format, "format", "Output format. One of json, text, and bin")
	fs.Var(digest, "digest", "One of SHA256, SHA384, and SHA512")
	password := fs.String("pkcs8-password", "", "Password for PKCS#8 key, if applicable")
	for _, g := range [][]string{
		{"certificate", "cert-selector"}, {"certificate", "system-store-name"}, {"certificate", "system-store-location"},
		{"private-key", "cert-selector"}, {"private-key", "system-store-name"}, {"private-key", "system-store-location"},
		{"private-key", "use-latest-expiring-certificate"}, {"use-latest-expiring-certificate", "reuse-pin"},
		{"cert-selector", "reuse-pin"}, {"system-store-name", "reuse-pin"}, {"system-store-location", "reuse-pin"},
		{"tpm-key-password", "cert-selector"}, {"tpm-key-password", "reuse-pin"}, {"no-tpm-key-password", "cert-selector"},
		{"no-tpm-key-password", "reuse-pin"}, {"no-tpm-key-password", "tpm-key-password"}, {"pkcs8-password", "tpm-key-password"},
	} {
		c.exclusive(g...)
	}
	if ok, code := c.parse(args); !ok {
		return code
	}
	ko, err := keyOptions(e, *certificate, *privateKey, "", *certSelector, *password, *pkcs11Lib, *reusePIN, *latest)
	if err != nil {
		e.log.Println(err)
		return 1
	}
	ko.TPMKeyPassword, ko.NoTPMKeyPassword = *tpmKeyPassword, *noTPMKeyPassword
	src, err := keysource.Open(ko)
	if err != nil {
		e.log.Println(err)
		return 1
	}
	defer src.Close()
	id, err := src.Load(ctx)
	if err != nil {
		e.log.Println(err)
		return 1
	}
	msg := fixedStringToSign(id.Signer.Public())
	var sig []byte
	if _, isMLDSA := id.Signer.Public().(sign.PublicKey); isMLDSA {
		sig, err = id.Signer.Sign(rand.Reader, msg, crypto.Hash(0)) // pure ML-DSA signs the message itself
	} else {
		h := map[string]crypto.Hash{"SHA256": crypto.SHA256, "SHA384": crypto.SHA384, "SHA512": crypto.SHA512}[digest.value]
		hh := h.New()
		hh.Write(msg)
		sig, err = id.Signer.Sign(rand.Reader, hh.Sum(nil), h)
	}
	if err != nil {
		e.log.Println("unable to sign the digest:", err)
		return 1
	}
	switch format.value {
	case "text":
		fmt.Fprint(e.stdout, hex.EncodeToString(sig))
	case "bin":
		e.stdout.Write(sig)
	default:
		b, _ := json.Marshal(hex.EncodeToString(sig))
		e.stdout.Write(b)
	}
	return 0
}

// certificateData is read-certificate-data's JSON for a file certificate.
type certificateData struct {
	KeyType         string   `json:"keyType"`
	CertificateData string   `json:"certificateData"`
	SerialNumber    string   `json:"serialNumber"`
	Algorithms      []string `json:"supportedAlgorithms"`
}

func readCertificateData(_ context.Context, e *env, args []string) int {
	c := newCommand(e, "read-certificate-data", "Diagnostic command to read certificate data, either from files or from a certificate store")
	certificate := c.fs.String("certificate", "", "Path to certificate file")
	certSelector := c.fs.String("cert-selector", "", "JSON structure to identify a certificate from a certificate store. "+
		"Can be passed in either as string or a file name (prefixed by \"file://\")")
	c.fs.String("system-store-name", "MY", "Name of the system store to search for within the CERT_SYSTEM_STORE_CURRENT_USER context. "+
		"Note that this flag is only relevant for Windows certificate stores and will be ignored otherwise")
	pkcs11Lib := c.fs.String("pkcs11-lib", "", "Library for smart card / cryptographic device (default: p11-kit-proxy.so)")
	c.fs.Bool("debug", false, "To print debug output")
	c.exclusive("certificate", "cert-selector")
	c.exclusive("certificate", "system-store-name")
	if ok, code := c.parse(args); !ok {
		return code
	}
	if *certificate != "" && !strings.HasPrefix(*certificate, "pkcs11:") {
		data, err := fileCertificateData(e, *certificate)
		if err != nil {
			e.log.Println(err)
			return 1
		}
		b, _ := json.Marshal(data)
		e.stdout.Write(b)
		return 0
	}
	ko, err := keyOptions(e, *certificate, "", "", *certSelector, "", *pkcs11Lib, false, false)
	if err != nil {
		e.log.Println(err)
		return 1
	}
	certs, err := keysource.ListPKCS11Certificates(ko)
	if err != nil {
		e.log.Println(err)
		return 1
	}
	if len(certs) == 0 {
		fmt.Fprintln(e.stdout, "No matching identities")
		return 0
	}
	fmt.Fprintln(e.stdout, "Matching identities")
	for i, tc := range certs {
		fp := sha1Hex(tc.Cert.Raw)
		fmt.Fprintf(e.stdout, "%d) %s %q\n\tURI: %s\n", i+1, fp, tc.Cert.Subject.String(), tc.URI)
	}
	return 0
}

// fileCertificateData describes the first certificate of a PEM (or DER)
// file, as the official helper's ReadCertificateData.
func fileCertificateData(e *env, path string) (certificateData, error) {
	raw, err := e.readFile(path)
	if err != nil {
		return certificateData{}, err
	}
	der := firstCertificate(raw)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return certificateData{}, fmt.Errorf("could not parse certificate: %v", err)
	}
	keyType := ""
	switch cert.PublicKeyAlgorithm {
	case x509.RSA:
		keyType = "RSA"
	case x509.ECDSA:
		keyType = "EC"
	default:
		keyType = keysource.MLDSAName(cert)
	}
	algs := []string{keyType + "SHA256", keyType + "SHA384", keyType + "SHA512"}
	if keyType != "RSA" && keyType != "EC" && keyType != "" {
		algs = []string{keyType} // ML-DSA signs without a separate digest
	}
	return certificateData{KeyType: keyType, CertificateData: base64.StdEncoding.EncodeToString(cert.Raw),
		SerialNumber: new(big.Int).Set(cert.SerialNumber).String(), Algorithms: algs}, nil
}
