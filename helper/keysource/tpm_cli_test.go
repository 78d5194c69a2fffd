package keysource_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/iamra/iamra/helper/cli"
	kt "github.com/iamra/iamra/helper/keysource/keysourcetest"
	"github.com/iamra/iamra/helper/keysource/tpmtest"
	"github.com/iamra/iamra/helper/rolesclient/rolesclienttest"
)

// TestTPMThroughCLI runs the helper's commands, as a user would, with keys
// in a swtpm reached through TPM_DEVICE: credential-process against a
// CreateSession stub that verifies each signature, and sign-string.
func TestTPMThroughCLI(t *testing.T) {
	s := tpmtest.Start(t)
	pki := kt.NewPKI(t)
	dir := t.TempDir()
	ec := s.CreateKey(t, tpmtest.KeySpec{Alg: "ecc256"})
	rsaKey := s.CreateKey(t, tpmtest.KeySpec{Alg: "rsa2048", Password: "hp"})
	s.Persist(t, rsaKey, 0x81000001)
	ecCert := kt.Write(t, dir, "ec-cert.pem", kt.CertPEM(pki.Issue(t, ec.Public, 0x1234, "tpm-ec")))
	ecKey := kt.Write(t, dir, "ec-key.pem", ec.TSS2(true))
	rsaCert := kt.Write(t, dir, "rsa-cert.pem", kt.CertPEM(pki.Issue(t, rsaKey.Public, 0x5678, "tpm-rsa")))
	t.Setenv("TPM_DEVICE", s.Device)
	srv := rolesclienttest.New(t, false, rolesclienttest.OK("2030-01-02T03:04:05Z"))

	run := func(args ...string) (int, string, string) {
		var out, errs bytes.Buffer
		code := cli.Main(context.Background(), args, strings.NewReader(""), &out, &errs)
		return code, out.String(), errs.String()
	}
	common := []string{"--trust-anchor-arn", "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/a1b2c3d4-0000-1111-2222-333344445555",
		"--profile-arn", "arn:aws:rolesanywhere:us-east-1:123456789012:profile/p1b2c3d4-0000-1111-2222-333344445555",
		"--role-arn", "arn:aws:iam::123456789012:role/test-role", "--endpoint", srv.URL}

	for _, tc := range []struct {
		name, alg, cert string
		args            []string
	}{
		{"key file", "AWS4-X509-ECDSA-SHA256", ecCert, []string{"--certificate", ecCert, "--private-key", ecKey}},
		{"persistent handle", "AWS4-X509-RSA-SHA256", rsaCert, []string{"--certificate", rsaCert, "--private-key", "handle:0x81000001", "--tpm-key-password", "hp"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(srv.Requests())
			code, out, errs := run(append(append([]string{"credential-process"}, tc.args...), common...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil || got["Version"] != 1.0 || got["AccessKeyId"] != "ASIAEXAMPLEEXAMPLE12" {
				t.Fatalf("output %q: %v", out, err)
			}
			reqs := srv.Requests()
			if len(reqs) != before+1 {
				t.Fatalf("%d requests", len(reqs)-before)
			}
			r := reqs[len(reqs)-1]
			if !strings.HasPrefix(r.Header.Get("Authorization"), tc.alg+" ") {
				t.Errorf("Authorization %q", r.Header.Get("Authorization"))
			}
			der, _ := base64.StdEncoding.DecodeString(r.Header.Get("X-Amz-X509"))
			c, err := x509.ParseCertificate(der)
			if err != nil || !sameCert(t, c, tc.cert) {
				t.Errorf("X-Amz-X509 is not the certificate given")
			}
			if v := srv.VerifyErrors(); len(v) != 0 {
				t.Fatalf("the stub rejected the signature: %v", v)
			}
		})
	}

	t.Run("wrong password", func(t *testing.T) {
		code, _, errs := run(append([]string{"credential-process", "--certificate", rsaCert, "--private-key", "handle:0x81000001", "--tpm-key-password", "nope"}, common...)...)
		if code != 1 || !strings.HasSuffix(errs, " TPM key: incorrect password\n") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
	})

	t.Run("sign-string", func(t *testing.T) {
		for _, tc := range []struct {
			digest string
			args   []string
			pub    crypto.PublicKey
		}{
			{"SHA256", []string{"--certificate", ecCert, "--private-key", ecKey}, ec.Public},
			{"SHA384", []string{"--certificate", ecCert, "--private-key", ecKey}, ec.Public},
			{"SHA512", []string{"--certificate", rsaCert, "--private-key", "handle:0x81000001", "--tpm-key-password", "hp"}, rsaKey.Public},
		} {
			code, out, errs := run(append([]string{"sign-string", "--format", "text", "--digest", tc.digest}, tc.args...)...)
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", tc.digest, code, errs)
			}
			sig, err := hex.DecodeString(out)
			if err != nil {
				t.Fatal(err)
			}
			// The official helper's test string: fixed text, version 1,
			// SHA-256("IAM RA" ‖ public key bytes).
			var keyBytes []byte
			switch p := tc.pub.(type) {
			case *ecdsa.PublicKey:
				keyBytes, _ = p.Bytes()
			case *rsa.PublicKey:
				keyBytes = x509.MarshalPKCS1PublicKey(p)
			}
			sum := sha256.Sum256(append([]byte("IAM RA"), keyBytes...))
			msg := append([]byte("AWS Roles Anywhere Credential Helper Signing Test1"), sum[:]...)
			h := map[string]crypto.Hash{"SHA256": crypto.SHA256, "SHA384": crypto.SHA384, "SHA512": crypto.SHA512}[tc.digest]
			d := h.New()
			d.Write(msg)
			ok := false
			switch p := tc.pub.(type) {
			case *ecdsa.PublicKey:
				ok = ecdsa.VerifyASN1(p, d.Sum(nil), sig)
			case *rsa.PublicKey:
				ok = rsa.VerifyPKCS1v15(p, h, d.Sum(nil), sig) == nil
			}
			if !ok {
				t.Errorf("%s: signature does not verify", tc.digest)
			}
		}
	})
}

// sameCert reports whether c is the certificate in the PEM file at path.
func sameCert(t *testing.T, c *x509.Certificate, path string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(b, kt.CertPEM(c))
}
