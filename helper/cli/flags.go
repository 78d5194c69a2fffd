package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// command is one subcommand's flag set plus the official helper's cobra
// mutual-exclusion groups.
type command struct {
	use, short string
	fs         *flag.FlagSet
	groups     [][]string
	set        map[string]bool
	e          *env
}

func newCommand(e *env, use, short string) *command {
	fs := flag.NewFlagSet(use, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {} // printed by parse, to stdout for --help
	return &command{use: use, short: short, fs: fs, e: e, set: map[string]bool{}}
}

// exclusive adds a cobra MarkFlagsMutuallyExclusive group.
func (c *command) exclusive(names ...string) { c.groups = append(c.groups, names) }

// parse parses args; ok is false when the command must stop with code.
func (c *command) parse(args []string) (ok bool, code int) {
	err := c.fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		c.usage(c.e.stdout)
		return false, 0
	}
	if err != nil { // the flag package has printed what was wrong
		c.usage(c.e.stderr)
		return false, 1
	}
	if c.fs.NArg() > 0 {
		fmt.Fprintf(c.e.stderr, "Error: unexpected argument %q (flags take the form --name value or --name=value)\n", c.fs.Arg(0))
		return false, 1
	}
	c.fs.Visit(func(f *flag.Flag) { c.set[f.Name] = true })
	for _, g := range c.groups {
		var set []string
		for _, n := range g {
			if c.set[n] {
				set = append(set, n)
			}
		}
		if len(set) > 1 {
			sort.Strings(set)
			// cobra's wording, so scripts matching on it keep working.
			fmt.Fprintf(c.e.stderr, "Error: if any flags in the group [%s] are set none of the others can be; %v were all set\n", strings.Join(g, " "), set)
			return false, 1
		}
	}
	return true, 0
}

func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "%s\n\nUsage:\n  aws_signing_helper %s [flags]\n\nFlags:\n", c.short, c.use)
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	var names []string
	c.fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	slices.Sort(names)
	for _, n := range names {
		f := c.fs.Lookup(n)
		typ, text := flag.UnquoteUsage(f)
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			def = fmt.Sprintf(" (default %q)", f.DefValue)
			if typ == "int" {
				def = " (default " + f.DefValue + ")"
			}
		}
		fmt.Fprintf(tw, "      --%s %s\t%s%s\n", n, typ, text, def)
	}
	fmt.Fprintf(tw, "  -h, --help\thelp for %s\n", c.use)
	tw.Flush()
}

// credFlags are the flags shared by credential-process, serve and update
// (initCredentialsSubCommand in the official cmd/credentials.go).
type credFlags struct {
	roleARN, profileARN, trustAnchorARN string
	sessionDuration                     int
	region, endpoint                    string
	noVerifySSL, withProxy, debug       bool
	certificate, privateKey             string
	intermediates                       string
	certSelector, systemStoreName       string
	useLatestExpiring                   bool
	pkcs11Lib                           string
	reusePIN                            bool
	tpmKeyPassword                      string
	noTPMKeyPassword                    bool
	roleSessionName                     string
	pkcs8Password                       string
}

func (f *credFlags) register(c *command) {
	fs := c.fs
	fs.StringVar(&f.roleARN, "role-arn", "", "Target role to assume")
	fs.StringVar(&f.profileARN, "profile-arn", "", "Profile to pull policies from")
	fs.StringVar(&f.trustAnchorARN, "trust-anchor-arn", "", "Trust anchor to use for authentication")
	fs.IntVar(&f.sessionDuration, "session-duration", 3600, "Duration, in seconds, for the resulting session")
	fs.StringVar(&f.region, "region", "", "Signing region")
	fs.StringVar(&f.endpoint, "endpoint", "", "Endpoint used to call CreateSession")
	fs.BoolVar(&f.noVerifySSL, "no-verify-ssl", false, "To disable SSL verification")
	fs.BoolVar(&f.withProxy, "with-proxy", false, "To make the CreateSession call with a proxy")
	fs.BoolVar(&f.debug, "debug", false, "To print debug output")
	fs.StringVar(&f.certificate, "certificate", "", "Path to certificate file")
	fs.StringVar(&f.privateKey, "private-key", "", "Path to private key file")
	fs.StringVar(&f.intermediates, "intermediates", "", "Path to intermediate certificate bundle file")
	fs.StringVar(&f.certSelector, "cert-selector", "", "JSON structure to identify a certificate from a certificate store. "+
		"Can be passed in either as string or a file name (prefixed by \"file://\")")
	fs.StringVar(&f.systemStoreName, "system-store-name", "MY", "Name of the system store to search for within the "+
		"CERT_SYSTEM_STORE_CURRENT_USER context. Note that this flag is only relevant for Windows certificate stores and will be ignored otherwise")
	fs.BoolVar(&f.useLatestExpiring, "use-latest-expiring-certificate", false, "If multiple certificates match "+
		"a given certificate selector, the one that expires the latest will be chosen")
	fs.StringVar(&f.pkcs11Lib, "pkcs11-lib", "", "Library for smart card / cryptographic device (default: p11-kit-proxy.so)")
	fs.BoolVar(&f.reusePIN, "reuse-pin", false, "Use the CKU_USER PIN as the CKU_CONTEXT_SPECIFIC PIN for "+
		"private key objects, when they are first used to sign")
	fs.StringVar(&f.tpmKeyPassword, "tpm-key-password", "", "Password for TPM key, if applicable")
	fs.BoolVar(&f.noTPMKeyPassword, "no-tpm-key-password", false, "Required if the TPM key has no password and "+
		"a handle is used to refer to the key")
	fs.StringVar(&f.roleSessionName, "role-session-name", "", "An identifier of a role session")
	fs.StringVar(&f.pkcs8Password, "pkcs8-password", "", "Password for PKCS#8 key, if applicable")

	c.exclusive("certificate", "cert-selector")
	c.exclusive("certificate", "system-store-name")
	c.exclusive("private-key", "cert-selector")
	c.exclusive("private-key", "system-store-name")
	c.exclusive("private-key", "use-latest-expiring-certificate")
	c.exclusive("use-latest-expiring-certificate", "intermediates")
	c.exclusive("use-latest-expiring-certificate", "reuse-pin")
	c.exclusive("cert-selector", "intermediates")
	c.exclusive("cert-selector", "reuse-pin")
	c.exclusive("system-store-name", "reuse-pin")
	c.exclusive("tpm-key-password", "cert-selector")
	c.exclusive("tpm-key-password", "reuse-pin")
	c.exclusive("no-tpm-key-password", "cert-selector")
	c.exclusive("no-tpm-key-password", "tpm-key-password")
	c.exclusive("pkcs8-password", "tpm-key-password")
}
