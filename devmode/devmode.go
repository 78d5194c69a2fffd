// Package devmode bootstraps a working demo on a fresh server, the way
// `vault server -dev` does: a workload CA, a trust anchor holding it, a
// role, a profile for the role, and a demo workload certificate, plus
// DIR/dev.env with everything a user needs to `source` and go.
package devmode

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/iamra/iamra/atomicfile"
	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/datadir"
	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/server"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/sts"
)

// Options control Bootstrap.
type Options struct {
	Endpoint string // the URL clients use, e.g. https://127.0.0.1:8443
	Now      func() time.Time
	Rand     io.Reader
}

// Info is what the bootstrap made.
type Info struct {
	DataDir        string
	EnvFile        string
	Endpoint       string
	CABundle       string
	AdminKey       datadir.AdminKey
	Region         string
	TrustAnchorArn string
	ProfileArn     string
	RoleArn        string
	DemoCert       string
	DemoKey        string
	WorkloadCA     string
	// CAArn is the dev workload CA, an iamra private CA.
	CAArn string
	// DemoCertArn is the demo certificate's ARN at the CA (for revocation).
	DemoCertArn string
}

const roleName = "iamra-dev"

// Bootstrap creates the demo resources, or reuses those of an earlier run
// on the same data directory (it keeps their ARNs in DIR/dev/state.json).
func Bootstrap(ctx context.Context, srv *server.Server, opts Options) (*Info, error) {
	dir := string(srv.Dir)
	devDir := filepath.Join(dir, "dev")
	if err := os.MkdirAll(devDir, 0o700); err != nil {
		return nil, err
	}
	info := &Info{
		DataDir: dir, EnvFile: filepath.Join(dir, "dev.env"), Endpoint: opts.Endpoint,
		CABundle: srv.Dir.CABundle(), AdminKey: srv.State.AdminKeys[0], Region: srv.Scope().Region,
		DemoCert: filepath.Join(devDir, "demo-cert.pem"), DemoKey: filepath.Join(devDir, "demo-key.pem"),
		WorkloadCA: filepath.Join(devDir, "workload-ca.pem"),
	}
	statePath := filepath.Join(devDir, "state.json")
	if b, err := os.ReadFile(statePath); err == nil {
		if err := json.Unmarshal(b, info); err != nil {
			return nil, fmt.Errorf("%s: %w", statePath, err)
		}
		info.Endpoint = opts.Endpoint
		// Short-lived: a dev server started again days later gets a fresh
		// demo certificate.
		if demoExpiresWithin(info.DemoCert, opts.Now(), 24*time.Hour) {
			if err := issueDemo(ctx, srv, info, opts); err != nil {
				return nil, err
			}
			if err := saveState(statePath, info); err != nil {
				return nil, err
			}
		}
		return info, writeEnv(info)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	// The workload CA is an iamra private CA in short-lived mode, the
	// shape the AWS posts use with AWS Private CA. The trust anchor reads
	// it live (source AWS_ACM_PCA), so revoking a certificate at the CA
	// blocks it within seconds, with no CRL import.
	caArn, err := srv.CA.CreateActiveRoot(ctx, ca.CreateRequest{
		CertificateAuthorityConfiguration: ca.Configuration{KeyAlgorithm: "EC_prime256v1", SigningAlgorithm: "SHA256WITHECDSA",
			Subject: ca.Subject{CommonName: "iamra dev workload CA", Organization: "iamra"}},
		RevocationConfiguration: ca.RevocationConfiguration{CrlConfiguration: &ca.CrlConfiguration{Enabled: true}},
		UsageMode:               ca.UsageModeShortLived,
	}, ca.Validity{Type: ca.ValidityYears, Value: 1})
	if err != nil {
		return nil, fmt.Errorf("creating the workload CA: %w", err)
	}
	info.CAArn = caArn
	caPEM, _, err := srv.CA.GetCertificateAuthorityCertificate(ctx, caArn)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(info.WorkloadCA, []byte(caPEM), 0o644); err != nil {
		return nil, err
	}

	ta, err := srv.Control.CreateTrustAnchor(ctx, rolesanywhere.CreateTrustAnchorInput{
		Name:    rolesanywhere.Ptr("iamra-dev"),
		Enabled: rolesanywhere.Ptr(true),
		Source: &rolesanywhere.SourceInput{SourceType: rolesanywhere.Ptr(rolesanywhere.SourceACMPCA),
			SourceData: &rolesanywhere.SourceDataInput{AcmPcaArn: rolesanywhere.Ptr(caArn)}},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the trust anchor: %w", err)
	}
	info.TrustAnchorArn = ta.TrustAnchorArn

	role, err := putRole(ctx, srv, ta.TrustAnchorArn, opts)
	if err != nil {
		return nil, err
	}
	info.RoleArn = role.Arn

	p, err := srv.Control.CreateProfile(ctx, rolesanywhere.CreateProfileInput{
		Name: rolesanywhere.Ptr("iamra-dev"), Enabled: rolesanywhere.Ptr(true), RoleArns: []string{role.Arn},
		AcceptRoleSessionName: rolesanywhere.Ptr(true),
	})
	if err != nil {
		return nil, fmt.Errorf("creating the profile: %w", err)
	}
	info.ProfileArn = p.ProfileArn

	if err := issueDemo(ctx, srv, info, opts); err != nil {
		return nil, err
	}
	if err := saveState(statePath, info); err != nil {
		return nil, err
	}
	// The CreateSession path reads the snapshot: make sure it has the new
	// resources before anyone is told to use them.
	if err := srv.Snapshot.Rebuild(ctx); err != nil {
		return nil, err
	}
	return info, writeEnv(info)
}

func putRole(ctx context.Context, srv *server.Server, taArn string, opts Options) (sts.Role, error) {
	id, err := sts.NewRoleID(opts.Rand)
	if err != nil {
		return sts.Role{}, err
	}
	role := sts.Role{
		Arn: srv.Scope().New("iam", "role/"+roleName, false).String(), RoleName: roleName, Path: "/", RoleID: id,
		MaxSessionDuration: 43200, AssumeRolePolicyDocument: sts.TrustPolicy(taArn), CreateDate: opts.Now().UTC(),
		Description: "iamra dev mode demo role",
	}
	err = srv.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.Put(tx, store.KindRole, roleName, 0, role)
		return err
	})
	return role, err
}

func saveState(path string, info *Info) error {
	b, _ := json.MarshalIndent(info, "", "  ")
	return atomicfile.WriteFile(path, b, 0o600)
}

func demoExpiresWithin(path string, now time.Time, d time.Duration) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return true
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return true
	}
	c, err := x509.ParseCertificate(b.Bytes)
	return err != nil || c.NotAfter.Before(now.Add(d))
}

// issueDemo issues the demo workload certificate from the dev CA, for a
// key made here, the way cert-manager would: key, CSR, IssueCertificate.
func issueDemo(ctx context.Context, srv *server.Server, info *Info, opts Options) error {
	key, err := ca.GenerateKey("EC_prime256v1", opts.Rand)
	if err != nil {
		return err
	}
	csr, err := ca.CreateCSR(key, pkix.Name{CommonName: "iamra-demo-workload", Organization: []string{"iamra"}, OrganizationalUnit: []string{"dev"}}, "", opts.Rand)
	if err != nil {
		return err
	}
	certArn, err := srv.CA.IssueCertificate(ctx, ca.IssueCertificateRequest{CertificateAuthorityArn: info.CAArn, Csr: csr,
		TemplateArn: ca.TemplateEndEntityClientAuth, Validity: ca.Validity{Type: ca.ValidityDays, Value: 7}})
	if err != nil {
		return fmt.Errorf("issuing the demo certificate: %w", err)
	}
	certPEM, _, err := srv.CA.GetCertificate(ctx, info.CAArn, certArn)
	if err != nil {
		return err
	}
	info.DemoCertArn = certArn
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(info.DemoKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return atomicfile.WriteFile(info.DemoCert, []byte(certPEM), 0o644)
}

func writeEnv(info *Info) error {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"IAMRA_ENDPOINT", info.Endpoint},
		{"AWS_CA_BUNDLE", info.CABundle},
		{"AWS_ACCESS_KEY_ID", info.AdminKey.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", info.AdminKey.SecretAccessKey},
		{"AWS_REGION", info.Region},
		{"AWS_DEFAULT_REGION", info.Region},
		{"IAMRA_TRUST_ANCHOR_ARN", info.TrustAnchorArn},
		{"IAMRA_PROFILE_ARN", info.ProfileArn},
		{"IAMRA_ROLE_ARN", info.RoleArn},
		{"IAMRA_DEMO_CERT", info.DemoCert},
		{"IAMRA_DEMO_KEY", info.DemoKey},
		{"IAMRA_CA_ARN", info.CAArn},
		{"IAMRA_DEMO_CERT_ARN", info.DemoCertArn},
	} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	return atomicfile.WriteFile(info.EnvFile, []byte(b.String()), 0o600)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// PrintBanner tells the user what was made and how to use it.
func PrintBanner(w io.Writer, info *Info) {
	fmt.Fprintf(w, `
iamra is running in development mode: data in %[1]s (deleted by nobody; remove it when done).

Load the settings into your shell:

    source %[2]s

Get credentials with the demo certificate (the credential_process JSON):

    iamra helper credential-process --certificate "$IAMRA_DEMO_CERT" --private-key "$IAMRA_DEMO_KEY" \
      --trust-anchor-arn "$IAMRA_TRUST_ANCHOR_ARN" --profile-arn "$IAMRA_PROFILE_ARN" \
      --role-arn "$IAMRA_ROLE_ARN" --endpoint "$IAMRA_ENDPOINT"

Use the control plane with the AWS CLI (admin credentials are in the environment):

    aws rolesanywhere list-trust-anchors --endpoint-url "$IAMRA_ENDPOINT"
    aws rolesanywhere list-subjects --endpoint-url "$IAMRA_ENDPOINT"

The workload CA is an iamra private CA; revoke the demo certificate and the next
credential request is refused within seconds (no CRL import needed):

    aws acm-pca revoke-certificate --endpoint-url "$IAMRA_ENDPOINT" --certificate-authority-arn "$IAMRA_CA_ARN" \
      --certificate-serial "$(openssl x509 -in "$IAMRA_DEMO_CERT" -noout -serial | cut -d= -f2)" --revocation-reason KEY_COMPROMISE

Endpoint:      %[3]s
Trust anchor:  %[4]s
Profile:       %[5]s
Role:          %[6]s
`, info.DataDir, info.EnvFile, info.Endpoint, info.TrustAnchorArn, info.ProfileArn, info.RoleArn)
}
