// Package cacli is `iamra ca`: iamra's private CA from the command line,
// for people who do not use the AWS CLI. It talks to a running server over
// the ACM Private CA API with the AWS SDK for Go v2, so it exercises
// exactly what aws acm-pca and cert-manager's aws-privateca-issuer use.
//
// Credentials come from a data directory (--data-dir DIR: DIR/credentials,
// DIR/config and the server's CA bundle DIR/ca.pem, as `iamra init`
// writes them) or, without --data-dir, from the standard AWS environment
// (AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_CA_BUNDLE, AWS_ENDPOINT_URL, …).
package cacli

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/acmpca"
	"github.com/aws/aws-sdk-go-v2/service/acmpca/types"
	smithy "github.com/aws/smithy-go"

	"github.com/iamra/iamra/atomicfile"
	"github.com/iamra/iamra/ca"
)

const usage = `Usage: iamra ca <command> [flags]

Commands:
  create    create a CA: a root, or with --parent a subordinate signed by another iamra CA
  issue     issue a certificate from a CSR (--csr) or for a key generated here (--key-type)
  revoke    revoke a certificate (--serial or --cert)
  list      list the CAs
  describe  show one CA as JSON
  crl       fetch a CA's current CRL from its distribution point

Connection flags (every command):
  --data-dir DIR    use DIR/credentials, DIR/config and DIR/ca.pem (from 'iamra init')
  --endpoint URL    the iamra server (default with --data-dir: https://127.0.0.1:8443;
                    otherwise AWS_ENDPOINT_URL_ACM_PCA or AWS_ENDPOINT_URL)
  --region NAME     region (default: the config's, else us-east-1)

Run 'iamra ca <command> --help' for a command's flags.
`

// DefaultEndpoint is the server's default listen address.
const DefaultEndpoint = "https://127.0.0.1:8443"

// Main runs `iamra ca` with args (after "ca") and returns the exit code:
// 0 success, 1 failure, 2 usage error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func(*env, []string) error{
		"create": (*env).create, "issue": (*env).issue, "revoke": (*env).revoke,
		"list": (*env).list, "describe": (*env).describe, "crl": (*env).crl,
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	run, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "iamra ca: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	e := &env{ctx: ctx, name: "iamra ca " + args[0], stdout: stdout, stderr: stderr, now: time.Now}
	err := run(e, args[1:])
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s: %v\n", e.name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "%s: %s\n", e.name, describeErr(err))
		return 1
	}
}

// usageError is a mistake in the command line (exit code 2).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// describeErr words an API error as "Code: message".
func describeErr(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// env is one command's context: output, flags and, once connected, the
// API client.
type env struct {
	ctx            context.Context
	name           string
	stdout, stderr io.Writer
	now            func() time.Time

	dataDir, endpoint, region string

	client *acmpca.Client
	http   *http.Client
	base   string // resolved endpoint, for the CRL distribution point
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// flags returns a FlagSet with the connection flags.
func (e *env) flags() *flag.FlagSet {
	fs := flag.NewFlagSet(e.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.StringVar(&e.dataDir, "data-dir", "", "data directory with credentials, config and ca.pem")
	fs.StringVar(&e.endpoint, "endpoint", "", "iamra server URL")
	fs.StringVar(&e.region, "region", "", "region")
	return fs
}

func (e *env) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// connect builds the ACM-PCA client from the data directory or the
// environment.
func (e *env) connect() error {
	var creds aws.CredentialsProvider
	region, bundle, endpoint := e.region, "", e.endpoint
	if e.dataDir != "" {
		sc, err := config.LoadSharedConfigProfile(e.ctx, "default", func(o *config.LoadSharedConfigOptions) {
			o.CredentialsFiles = []string{filepath.Join(e.dataDir, "credentials")}
			o.ConfigFiles = []string{filepath.Join(e.dataDir, "config")}
		})
		if err != nil {
			return fmt.Errorf("reading credentials from %s: %w", e.dataDir, err)
		}
		if !sc.Credentials.HasKeys() {
			return fmt.Errorf("%s has no access key in its [default] profile", filepath.Join(e.dataDir, "credentials"))
		}
		creds = aws.NewCredentialsCache(staticCreds(sc.Credentials))
		if region == "" {
			region = sc.Region
		}
		bundle = sc.CustomCABundle
		if bundle == "" {
			bundle = filepath.Join(e.dataDir, "ca.pem")
		}
		if endpoint == "" {
			endpoint = DefaultEndpoint
		}
	} else {
		cfg, err := config.LoadDefaultConfig(e.ctx)
		if err != nil {
			return fmt.Errorf("loading AWS configuration: %w", err)
		}
		creds = cfg.Credentials
		if region == "" {
			region = cfg.Region
		}
		bundle = os.Getenv("AWS_CA_BUNDLE")
		if endpoint == "" {
			endpoint = os.Getenv("AWS_ENDPOINT_URL_ACM_PCA")
		}
		if endpoint == "" {
			endpoint = aws.ToString(cfg.BaseEndpoint)
		}
		if endpoint == "" {
			return usagef("no server: give --endpoint, --data-dir or AWS_ENDPOINT_URL")
		}
	}
	if region == "" {
		region = "us-east-1"
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if bundle != "" {
		data, err := os.ReadFile(bundle)
		if err != nil {
			return fmt.Errorf("CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return fmt.Errorf("CA bundle %s holds no PEM certificate", bundle)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	e.http = &http.Client{Transport: tr, Timeout: time.Minute}
	e.base = strings.TrimRight(endpoint, "/")
	e.client = acmpca.New(acmpca.Options{Region: region, Credentials: creds, BaseEndpoint: aws.String(e.base), HTTPClient: e.http})
	return nil
}

type staticCreds aws.Credentials

func (c staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials(c), nil
}

// resolveCA accepts a CA ARN or its id (the last part of the ARN).
func (e *env) resolveCA(s string) (string, error) {
	if s == "" {
		return "", usagef("--ca is required (a CA ARN or id; 'iamra ca list' shows them)")
	}
	if strings.HasPrefix(s, "arn:") {
		return s, nil
	}
	p := acmpca.NewListCertificateAuthoritiesPaginator(e.client, &acmpca.ListCertificateAuthoritiesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			return "", err
		}
		for _, a := range page.CertificateAuthorities {
			if strings.HasSuffix(aws.ToString(a.Arn), "/"+s) {
				return *a.Arn, nil
			}
		}
	}
	return "", fmt.Errorf("no CA with id %s", s)
}

func (e *env) create(args []string) error {
	fs := e.flags()
	subject := fs.String("subject", "", "the CA's subject, e.g. \"CN=Example Root,O=Example\" (required)")
	keyAlg := fs.String("key-algorithm", ca.KeyECP256, "key algorithm: EC_prime256v1, EC_secp384r1, EC_secp521r1, RSA_2048, RSA_3072, RSA_4096")
	sigAlg := fs.String("signing-algorithm", "", "signing algorithm (default: SHA-256/384/512 matching the key)")
	validity := fs.String("validity", "10y", "the CA certificate's validity, e.g. 10y, 365d, 7d")
	parent := fs.String("parent", "", "make a subordinate CA signed by this iamra CA (ARN or id)")
	pathLen := fs.Int("path-len", 0, "with --parent: the subordinate's path length constraint (0-3)")
	shortLived := fs.Bool("short-lived", false, "SHORT_LIVED_CERTIFICATE mode: certificates valid at most 7 days")
	crl := fs.Bool("crl", true, "publish CRLs and write the distribution point into certificates")
	var tags stringList
	fs.Var(&tags, "tag", "tag key=value (repeatable)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	subj, err := ParseSubject(*subject)
	if err != nil {
		return usageError{err.Error()}
	}
	if subj.IsZero() {
		return usagef("--subject is required")
	}
	v, err := ParseValidity(*validity, e.now())
	if err != nil {
		return usageError{err.Error()}
	}
	if *pathLen < 0 || *pathLen > 3 {
		return usagef("--path-len must be 0 to 3")
	}
	if *sigAlg == "" {
		if *sigAlg, err = defaultSigningAlgorithm(*keyAlg); err != nil {
			return usageError{err.Error()}
		}
	}
	in := &acmpca.CreateCertificateAuthorityInput{
		CertificateAuthorityType: types.CertificateAuthorityTypeRoot,
		CertificateAuthorityConfiguration: &types.CertificateAuthorityConfiguration{
			KeyAlgorithm: types.KeyAlgorithm(*keyAlg), SigningAlgorithm: types.SigningAlgorithm(*sigAlg), Subject: asn1Subject(subj),
		},
		RevocationConfiguration: &types.RevocationConfiguration{CrlConfiguration: &types.CrlConfiguration{Enabled: crl}},
	}
	if *shortLived {
		in.UsageMode = types.CertificateAuthorityUsageModeShortLivedCertificate
	}
	if *parent != "" {
		in.CertificateAuthorityType = types.CertificateAuthorityTypeSubordinate
	}
	for _, t := range tags {
		k, val, _ := strings.Cut(t, "=")
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(val)})
	}
	if err := e.connect(); err != nil {
		return err
	}
	signer, template := "", "arn:aws:acm-pca:::template/RootCACertificate/V1"
	if *parent != "" {
		if signer, err = e.resolveCA(*parent); err != nil {
			return err
		}
		template = fmt.Sprintf("arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen%d/V1", *pathLen)
	}
	out, err := e.client.CreateCertificateAuthority(e.ctx, in)
	if err != nil {
		return err
	}
	caARN := *out.CertificateAuthorityArn
	if signer == "" {
		signer = caARN
	}
	csr, err := e.client.GetCertificateAuthorityCsr(e.ctx, &acmpca.GetCertificateAuthorityCsrInput{CertificateAuthorityArn: &caARN})
	if err != nil {
		return err
	}
	sig, err := e.signingAlgorithmOf(signer)
	if err != nil {
		return err
	}
	_, cert, chain, err := e.issueAndGet(&acmpca.IssueCertificateInput{CertificateAuthorityArn: &signer, Csr: []byte(*csr.Csr),
		SigningAlgorithm: sig, TemplateArn: &template, Validity: v})
	if err != nil {
		return fmt.Errorf("CA %s was created but not signed: %w", caARN, err)
	}
	imp := &acmpca.ImportCertificateAuthorityCertificateInput{CertificateAuthorityArn: &caARN, Certificate: []byte(cert)}
	if *parent != "" {
		imp.CertificateChain = []byte(chain)
	}
	if _, err := e.client.ImportCertificateAuthorityCertificate(e.ctx, imp); err != nil {
		return fmt.Errorf("CA %s was created but its certificate not imported: %w", caARN, err)
	}
	fmt.Fprintln(e.stdout, caARN)
	return nil
}

func defaultSigningAlgorithm(keyAlg string) (string, error) {
	switch keyAlg {
	case ca.KeyECP256:
		return ca.SHA256WithECDSA, nil
	case ca.KeyECP384:
		return ca.SHA384WithECDSA, nil
	case ca.KeyECP521:
		return ca.SHA512WithECDSA, nil
	case ca.KeyRSA2048, ca.KeyRSA3072, ca.KeyRSA4096:
		return ca.SHA256WithRSA, nil
	}
	return "", fmt.Errorf("unknown --key-algorithm %q", keyAlg)
}

func (e *env) signingAlgorithmOf(caARN string) (types.SigningAlgorithm, error) {
	d, err := e.client.DescribeCertificateAuthority(e.ctx, &acmpca.DescribeCertificateAuthorityInput{CertificateAuthorityArn: &caARN})
	if err != nil {
		return "", err
	}
	return d.CertificateAuthority.CertificateAuthorityConfiguration.SigningAlgorithm, nil
}

// issueAndGet issues a certificate and fetches it with its chain.
func (e *env) issueAndGet(in *acmpca.IssueCertificateInput) (certARN, cert, chain string, err error) {
	out, err := e.client.IssueCertificate(e.ctx, in)
	if err != nil {
		return "", "", "", err
	}
	got, err := e.client.GetCertificate(e.ctx, &acmpca.GetCertificateInput{CertificateAuthorityArn: in.CertificateAuthorityArn, CertificateArn: out.CertificateArn})
	if err != nil {
		return "", "", "", err
	}
	return *out.CertificateArn, aws.ToString(got.Certificate), aws.ToString(got.CertificateChain), nil
}

func (e *env) issue(args []string) error {
	fs := e.flags()
	caFlag := fs.String("ca", "", "the issuing CA (ARN or id)")
	csrFile := fs.String("csr", "", "PEM CSR to sign (instead of generating a key)")
	keyType := fs.String("key-type", ca.KeyECP256, "key to generate without --csr: EC_prime256v1, EC_secp384r1, RSA_2048, RSA_3072, RSA_4096")
	subject := fs.String("subject", "", "subject of the generated CSR, e.g. \"CN=workload,O=Example\"")
	validity := fs.String("validity", "24h", "validity: 24h, 7d, 1y, 90m, or an RFC 3339 end time")
	template := fs.String("template", ca.TemplateEndEntityClientAuth, "PCA template name or ARN")
	certOut := fs.String("cert", "cert.pem", "where to write the certificate")
	keyOut := fs.String("key", "key.pem", "where to write the generated key (mode 0600)")
	chainOut := fs.String("chain", "chain.pem", "where to write the CA chain")
	force := fs.Bool("force", false, "overwrite existing output files")
	var dns, uris stringList
	fs.Var(&dns, "dns", "DNS SAN of the generated CSR (repeatable)")
	fs.Var(&uris, "uri", "URI SAN of the generated CSR, e.g. spiffe://example.org/w (repeatable)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	v, err := ParseValidity(*validity, e.now())
	if err != nil {
		return usageError{err.Error()}
	}
	var csr []byte
	var key crypto.Signer
	outputs := []string{*certOut, *chainOut}
	if *csrFile != "" {
		if *subject != "" || len(dns)+len(uris) > 0 {
			return usagef("--subject, --dns and --uri describe a generated key's CSR; with --csr they come from the CSR")
		}
		if csr, err = os.ReadFile(*csrFile); err != nil {
			return err
		}
	} else {
		outputs = append(outputs, *keyOut)
		if csr, key, err = NewCSR(*keyType, *subject, dns, uris); err != nil {
			return usageError{err.Error()}
		}
	}
	if !*force {
		for _, p := range outputs {
			if _, err := os.Lstat(p); err == nil {
				return usagef("%s exists; use --force to overwrite", p)
			}
		}
	}
	if err := e.connect(); err != nil {
		return err
	}
	caARN, err := e.resolveCA(*caFlag)
	if err != nil {
		return err
	}
	sig, err := e.signingAlgorithmOf(caARN)
	if err != nil {
		return err
	}
	certARN, cert, chain, err := e.issueAndGet(&acmpca.IssueCertificateInput{CertificateAuthorityArn: &caARN, Csr: csr,
		SigningAlgorithm: sig, TemplateArn: template, Validity: v})
	if err != nil {
		return err
	}
	// The key is written only once there is a certificate for it.
	if key != nil {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(*keyOut, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return err
		}
	}
	if err := atomicfile.WriteFile(*certOut, []byte(cert), 0o644); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(*chainOut, []byte(chain), 0o644); err != nil {
		return err
	}
	c, err := parseCertificate([]byte(cert))
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, certARN)
	fmt.Fprintf(e.stderr, "wrote %s (serial %s, valid until %s)", *certOut, c.SerialNumber.Text(16), c.NotAfter.UTC().Format(time.RFC3339))
	if key != nil {
		fmt.Fprintf(e.stderr, ", %s", *keyOut)
	}
	fmt.Fprintf(e.stderr, ", %s\n", *chainOut)
	return nil
}

func parseCertificate(data []byte) (*x509.Certificate, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}

func (e *env) revoke(args []string) error {
	fs := e.flags()
	caFlag := fs.String("ca", "", "the issuing CA (ARN or id)")
	serial := fs.String("serial", "", "serial number in hex (with or without colons)")
	certFile := fs.String("cert", "", "PEM certificate to revoke (instead of --serial)")
	reason := fs.String("reason", "UNSPECIFIED", "reason: UNSPECIFIED, KEY_COMPROMISE, CERTIFICATE_AUTHORITY_COMPROMISE, AFFILIATION_CHANGED, SUPERSEDED, CESSATION_OF_OPERATION, PRIVILEGE_WITHDRAWN, A_A_COMPROMISE")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if (*serial == "") == (*certFile == "") {
		return usagef("give exactly one of --serial and --cert")
	}
	if *certFile != "" {
		data, err := os.ReadFile(*certFile)
		if err != nil {
			return err
		}
		c, err := parseCertificate(data)
		if err != nil {
			return fmt.Errorf("%s: %w", *certFile, err)
		}
		*serial = c.SerialNumber.Text(16)
	}
	if err := e.connect(); err != nil {
		return err
	}
	caARN, err := e.resolveCA(*caFlag)
	if err != nil {
		return err
	}
	if _, err := e.client.RevokeCertificate(e.ctx, &acmpca.RevokeCertificateInput{CertificateAuthorityArn: &caARN,
		CertificateSerial: serial, RevocationReason: types.RevocationReason(*reason)}); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "revoked %s; the CA's CRL is regenerated and trust anchors using the CA refuse it from the next snapshot on\n", *serial)
	return nil
}

func (e *env) list(args []string) error {
	if err := e.parse(e.flags(), args); err != nil {
		return err
	}
	if err := e.connect(); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ARN\tSTATUS\tTYPE\tMODE\tSUBJECT\tNOT AFTER")
	p := acmpca.NewListCertificateAuthoritiesPaginator(e.client, &acmpca.ListCertificateAuthoritiesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			return err
		}
		for _, a := range page.CertificateAuthorities {
			notAfter := "-"
			if a.NotAfter != nil {
				notAfter = a.NotAfter.UTC().Format(time.RFC3339)
			}
			subj := ""
			if c := a.CertificateAuthorityConfiguration; c != nil && c.Subject != nil {
				subj = FormatSubject(c.Subject)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", aws.ToString(a.Arn), a.Status, a.Type, a.UsageMode, subj, notAfter)
		}
	}
	return tw.Flush()
}

func (e *env) describe(args []string) error {
	fs := e.flags()
	caFlag := fs.String("ca", "", "the CA (ARN or id)")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := e.connect(); err != nil {
		return err
	}
	caARN, err := e.resolveCA(*caFlag)
	if err != nil {
		return err
	}
	d, err := e.client.DescribeCertificateAuthority(e.ctx, &acmpca.DescribeCertificateAuthorityInput{CertificateAuthorityArn: &caARN})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(d.CertificateAuthority)
}

func (e *env) crl(args []string) error {
	fs := e.flags()
	caFlag := fs.String("ca", "", "the CA (ARN or id)")
	out := fs.String("out", "", "write the CRL here instead of standard output")
	der := fs.Bool("der", false, "write DER instead of PEM")
	text := fs.Bool("text", false, "print a summary (number, dates, revoked serials) instead of the CRL")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := e.connect(); err != nil {
		return err
	}
	caARN, err := e.resolveCA(*caFlag)
	if err != nil {
		return err
	}
	id := caARN[strings.LastIndex(caARN, "/")+1:]
	url := e.base + "/crl/" + id + ".crl"
	req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	rl, err := x509.ParseRevocationList(body)
	if err != nil {
		return fmt.Errorf("GET %s: not a CRL: %w", url, err)
	}
	data := body
	switch {
	case *text:
		var b strings.Builder
		fmt.Fprintf(&b, "CRL of %s\n  number:      %s\n  this update: %s\n  next update: %s\n  revoked:     %d\n", caARN, rl.Number,
			rl.ThisUpdate.UTC().Format(time.RFC3339), rl.NextUpdate.UTC().Format(time.RFC3339), len(rl.RevokedCertificateEntries))
		for _, r := range rl.RevokedCertificateEntries {
			fmt.Fprintf(&b, "    %s  %s  reason %d\n", r.SerialNumber.Text(16), r.RevocationTime.UTC().Format(time.RFC3339), r.ReasonCode)
		}
		data = []byte(b.String())
	case !*der:
		data = pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: body})
	}
	if *out != "" {
		return atomicfile.WriteFile(*out, data, 0o644)
	}
	_, err = e.stdout.Write(data)
	return err
}

// ParseValidity reads a validity for IssueCertificate: "24h" (HOURS, an
// iamra extension), "7d" (DAYS), "6mo" (MONTHS), "1y" (YEARS), another Go
// duration such as "90m" or "1h30m" (ABSOLUTE: now + duration), or an RFC
// 3339 time (ABSOLUTE).
func ParseValidity(s string, now time.Time) (*types.Validity, error) {
	for _, u := range []struct {
		suffix string
		typ    types.ValidityPeriodType
	}{{"mo", types.ValidityPeriodTypeMonths}, {"h", ca.ValidityHours}, {"d", types.ValidityPeriodTypeDays}, {"y", types.ValidityPeriodTypeYears}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			if v, err := strconv.ParseInt(n, 10, 64); err == nil && v > 0 {
				return &types.Validity{Type: u.typ, Value: aws.Int64(v)}, nil
			}
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return nil, fmt.Errorf("validity %q must be positive", s)
		}
		return &types.Validity{Type: types.ValidityPeriodTypeAbsolute, Value: aws.Int64(now.Add(d).Unix())}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &types.Validity{Type: types.ValidityPeriodTypeAbsolute, Value: aws.Int64(t.Unix())}, nil
	}
	return nil, fmt.Errorf("validity %q is not like 24h, 7d, 6mo, 1y, 90m or an RFC 3339 time", s)
}

// NewCSR generates a key of a PCA key type and a CSR for it.
func NewCSR(keyType, subject string, dns, uris []string) ([]byte, crypto.Signer, error) {
	subj, err := ParseSubject(subject)
	if err != nil {
		return nil, nil, err
	}
	name, err := subj.Name()
	if err != nil {
		return nil, nil, errors.New(describeErr(err))
	}
	tmpl := &x509.CertificateRequest{Subject: name, DNSNames: dns}
	for _, u := range uris {
		parsed, err := parseURI(u)
		if err != nil {
			return nil, nil, err
		}
		tmpl.URIs = append(tmpl.URIs, parsed)
	}
	if subj.IsZero() && len(dns)+len(uris) == 0 {
		return nil, nil, errors.New("the certificate needs --subject, --dns or --uri")
	}
	key, err := ca.GenerateKey(keyType, rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("--key-type %q: %s", keyType, describeErr(err))
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), key, nil
}
