package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamra/iamra/cacli"
)

// The AWS CLI (v1 and v2) runs Step 1 of the AWS post on short-lived
// certificates against iamra: a short-lived root CA, its CSR signed with
// the RootCACertificate template and imported, then a workload
// certificate for a CSR made by openssl.
func TestPCAAWSCLI(t *testing.T) {
	clis := awsCLIs(t)
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	for version, bin := range clis {
		t.Run(version, func(t *testing.T) {
			rs := startServer(t, time.Now().UTC().Truncate(time.Second))
			dir := t.TempDir()
			file := func(name string) string { return filepath.Join(dir, name) }
			write := func(name, data string) {
				if err := os.WriteFile(file(name), []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
			}

			out := rs.cli(t, bin, "acm-pca", "create-certificate-authority",
				"--certificate-authority-type", "ROOT", "--usage-mode", "SHORT_LIVED_CERTIFICATE",
				"--certificate-authority-configuration", "KeyAlgorithm=EC_prime256v1,SigningAlgorithm=SHA256WITHECDSA,Subject={CommonName=iamra-short-lived-root,Organization=Example}")
			caARN, _ := out["CertificateAuthorityArn"].(string)
			if !strings.HasPrefix(caARN, "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/") {
				t.Fatalf("create-certificate-authority: %v", out)
			}
			csr, _ := rs.cli(t, bin, "acm-pca", "get-certificate-authority-csr", "--certificate-authority-arn", caARN)["Csr"].(string)
			write("ca.csr", csr)
			// The short-lived limit is for issued certificates, not the
			// root's own (as in PCA).
			out = rs.cli(t, bin, "acm-pca", "issue-certificate", "--certificate-authority-arn", caARN,
				"--csr", "fileb://"+file("ca.csr"), "--signing-algorithm", "SHA256WITHECDSA",
				"--template-arn", "arn:aws:acm-pca:::template/RootCACertificate/V1", "--validity", "Value=10,Type=YEARS")
			rootCertARN, _ := out["CertificateArn"].(string)
			got := rs.cli(t, bin, "acm-pca", "get-certificate", "--certificate-authority-arn", caARN, "--certificate-arn", rootCertARN)
			write("ca.pem", got["Certificate"].(string))
			rs.cli(t, bin, "acm-pca", "import-certificate-authority-certificate", "--certificate-authority-arn", caARN,
				"--certificate", "fileb://"+file("ca.pem"))
			desc := rs.cli(t, bin, "acm-pca", "describe-certificate-authority", "--certificate-authority-arn", caARN)
			if dig(desc, "CertificateAuthority", "Status") != "ACTIVE" || dig(desc, "CertificateAuthority", "UsageMode") != "SHORT_LIVED_CERTIFICATE" {
				t.Fatalf("describe-certificate-authority: %v", desc)
			}

			// A workload CSR from openssl, issued for a day.
			cmd := exec.Command(openssl, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
				"-keyout", file("workload.key"), "-out", file("workload.csr"), "-subj", "/CN=workload/O=Example")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("openssl req: %v\n%s", err, b)
			}
			out = rs.cli(t, bin, "acm-pca", "issue-certificate", "--certificate-authority-arn", caARN,
				"--csr", "fileb://"+file("workload.csr"), "--signing-algorithm", "SHA256WITHECDSA",
				"--template-arn", "arn:aws:acm-pca:::template/EndEntityClientAuthCertificate/V1", "--validity", "Value=1,Type=DAYS")
			certARN, _ := out["CertificateArn"].(string)
			got = rs.cli(t, bin, "acm-pca", "get-certificate", "--certificate-authority-arn", caARN, "--certificate-arn", certARN)
			leaf, root := pcaParse(t, got["Certificate"].(string)), pcaParse(t, got["CertificateChain"].(string))
			roots := x509.NewCertPool()
			roots.AddCert(root)
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: rs.clock.Now(),
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
				t.Fatal(err)
			}
			if leaf.Subject.CommonName != "workload" || leaf.NotAfter.Sub(rs.clock.Now()) != 24*time.Hour {
				t.Fatalf("workload certificate %v until %v", leaf.Subject, leaf.NotAfter)
			}
			// openssl agrees with the chain.
			write("workload.pem", got["Certificate"].(string))
			if b, err := exec.Command(openssl, "verify", "-CAfile", file("ca.pem"), file("workload.pem")).CombinedOutput(); err != nil {
				t.Fatalf("openssl verify: %v\n%s", err, b)
			}
		})
	}
}

// `iamra ca` against the running server, with the server's own data
// directory for credentials and TLS trust.
func TestPCAIamraCACommand(t *testing.T) {
	rs := startServer(t, time.Now().UTC().Truncate(time.Second))
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		args = append(args[:1:1], append([]string{"--data-dir", string(rs.Dir), "--endpoint", rs.Endpoint}, args[1:]...)...)
		if code := cacli.Main(context.Background(), args, &out, &errOut); code != 0 {
			t.Fatalf("iamra ca %v: exit %d: %s", args, code, errOut.String())
		}
		return strings.TrimSpace(out.String())
	}
	caARN := run("create", "--subject", "CN=iamra ca e2e,O=Example", "--short-lived")
	cert := filepath.Join(dir, "cert.pem")
	run("issue", "--ca", caARN, "--subject", "CN=e2e-workload", "--validity", "12h",
		"--cert", cert, "--key", filepath.Join(dir, "key.pem"), "--chain", filepath.Join(dir, "chain.pem"))
	run("revoke", "--ca", caARN, "--cert", cert)
	data, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	serial := pcaParse(t, string(data)).SerialNumber.Text(16)
	if text := run("crl", "--ca", caARN, "--text"); !strings.Contains(text, serial) {
		t.Fatalf("crl --text does not list %s:\n%s", serial, text)
	}
	if list := run("list"); !strings.Contains(list, caARN) || !strings.Contains(list, "ACTIVE") {
		t.Fatalf("list:\n%s", list)
	}
}
