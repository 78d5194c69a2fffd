// Package devmode bootstraps a working demo on a fresh server, the way
// `vault server -dev` does: a workload CA, a trust anchor holding it, a
// role, a profile for the role, and a demo workload certificate, plus
// DIR/dev.env with everything a user needs to `source` and go.
package devmode

import (
	"context"
	"crypto"
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
		return info, writeEnv(info)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	now := opts.Now()

	// The workload CA: what cert-manager, Vault PKI or AWS Private CA
	// would be in production.
	caKey, err := ca.GenerateKey("EC_prime256v1", opts.Rand)
	if err != nil {
		return nil, err
	}
	caCert, err := ca.NewSelfSignedRoot(pkix.Name{CommonName: "iamra dev workload CA", Organization: []string{"iamra"}},
		caKey, now.Add(-time.Hour), now.AddDate(1, 0, 0), opts.Rand)
	if err != nil {
		return nil, err
	}
	if err := datadir.WriteSealedKey(filepath.Join(devDir, "workload-ca-key.sealed"), caKey, srv.State.KEK, "iamra/dev-workload-ca-key"); err != nil {
		return nil, err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw})
	if err := atomicfile.WriteFile(info.WorkloadCA, caPEM, 0o644); err != nil {
		return nil, err
	}

	ta, err := srv.Control.CreateTrustAnchor(ctx, rolesanywhere.CreateTrustAnchorInput{
		Name:    rolesanywhere.Ptr("iamra-dev"),
		Enabled: rolesanywhere.Ptr(true),
		Source: &rolesanywhere.SourceInput{SourceType: rolesanywhere.Ptr(rolesanywhere.SourceCertificateBundle),
			SourceData: &rolesanywhere.SourceDataInput{X509CertificateData: rolesanywhere.Ptr(string(caPEM))}},
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

	if err := issueDemo(info, caCert, caKey, now, opts); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	if err := atomicfile.WriteFile(statePath, b, 0o600); err != nil {
		return nil, err
	}
	// The CreateSession path reads the snapshot: make sure it has the new
	// resources before anyone is told to use them.
	if err := srv.Snapshot.Rebuild(ctx); err != nil {
		return nil, err
	}
	return info, writeEnv(info)
}

// TrustPolicy is the dev role's trust policy: the documented IAM Roles
// Anywhere policy, pinned to the dev trust anchor.
func TrustPolicy(trustAnchorArn string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"rolesanywhere.amazonaws.com"},` +
		`"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],` +
		`"Condition":{"ArnEquals":{"aws:SourceArn":"` + trustAnchorArn + `"}}}]}`
}

func putRole(ctx context.Context, srv *server.Server, taArn string, opts Options) (sts.Role, error) {
	id, err := sts.NewRoleID(opts.Rand)
	if err != nil {
		return sts.Role{}, err
	}
	role := sts.Role{
		Arn: srv.Scope().New("iam", "role/"+roleName, false).String(), RoleName: roleName, Path: "/", RoleID: id,
		MaxSessionDuration: 43200, AssumeRolePolicyDocument: TrustPolicy(taArn), CreateDate: opts.Now().UTC(),
		Description: "iamra dev mode demo role",
	}
	err = srv.Store.Update(ctx, func(tx store.Tx) error {
		_, err := store.Put(tx, store.KindRole, roleName, 0, role)
		return err
	})
	return role, err
}

func issueDemo(info *Info, caCert *x509.Certificate, caKey crypto.Signer, now time.Time, opts Options) error {
	key, err := ca.GenerateKey("EC_prime256v1", opts.Rand)
	if err != nil {
		return err
	}
	cert, err := ca.Issue(caCert, caKey, ca.IssueRequest{
		Template: ca.TemplateEndEntityClientAuth, PublicKey: key.Public(),
		Subject:   pkix.Name{CommonName: "iamra-demo-workload", Organization: []string{"iamra"}, OrganizationalUnit: []string{"dev"}},
		DNSNames:  []string{"demo.iamra.internal"},
		NotBefore: now.Add(-time.Minute), NotAfter: now.AddDate(0, 0, 30),
	}, opts.Rand)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(info.DemoKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return atomicfile.WriteFile(info.DemoCert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644)
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

Endpoint:      %[3]s
Trust anchor:  %[4]s
Profile:       %[5]s
Role:          %[6]s
`, info.DataDir, info.EnvFile, info.Endpoint, info.TrustAnchorArn, info.ProfileArn, info.RoleArn)
}
