package command

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/datadir"
	"github.com/iamra/iamra/devmode"
	"github.com/iamra/iamra/gcbudget"
	"github.com/iamra/iamra/server"
)

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type serverFlags struct {
	dev        bool
	dataDir    string
	listen     string
	plainHTTP  bool
	scope      arn.Scope
	hosts      stringList
	tlsCert    string
	tlsKey     string
	skew       time.Duration
	storeURL   string
	logLevel   string
	logFormat  string
	cpuProfile string
	publicURL  string
	caPKCS11   struct{ module, token, pinFile string }
}

func (f *serverFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory (default with --dev: a new temporary directory)")
	fs.StringVar(&f.scope.AccountID, "account-id", "123456789012", "account id of the ARNs this server mints")
	fs.StringVar(&f.scope.Region, "region", "us-east-1", "region of the ARNs this server mints")
	fs.StringVar(&f.scope.Partition, "partition", "aws", "partition of the ARNs this server mints")
	fs.Var(&f.hosts, "host", "extra DNS name or IP for the server's TLS certificate (repeatable)")
}

func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f serverFlags
	fs := flag.NewFlagSet("iamra init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if f.dataDir == "" {
		fmt.Fprintln(stderr, "iamra init: --data-dir is required")
		return 2
	}
	st, err := datadir.Init(ctx, datadir.Dir(f.dataDir), datadir.Options{Scope: f.scope, Hosts: f.hosts, Now: time.Now, Rand: rand.Reader})
	if err != nil {
		fmt.Fprintf(stderr, "iamra init: %v\n", err)
		return 1
	}
	d := datadir.Dir(f.dataDir)
	fmt.Fprintf(stdout, "Initialised %s\n  CA bundle:          %s\n  admin credentials:  %s (access key %s)\n  AWS config:         %s\n",
		f.dataDir, d.CABundle(), d.AdminCredentials(), st.AdminKeys[0].AccessKeyID, d.AWSConfig())
	return 0
}

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f serverFlags
	fs := flag.NewFlagSet("iamra server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs)
	fs.BoolVar(&f.dev, "dev", false, "development mode: bootstrap a CA, trust anchor, profile, role and demo certificate, and print how to use them")
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8443", "address to listen on")
	fs.BoolVar(&f.plainHTTP, "plain-http", false, "serve plain HTTP instead of HTTPS (only on a loopback address)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate chain (PEM) to serve instead of the self-issued one")
	fs.StringVar(&f.tlsKey, "tls-key", "", "TLS private key (PEM) for --tls-cert")
	fs.DurationVar(&f.skew, "max-clock-skew", 5*time.Minute, "accepted difference between client and server clocks")
	fs.StringVar(&f.storeURL, "store", "", "store URL (default: sqlite in the data directory)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "text", "text or json")
	fs.StringVar(&f.caPKCS11.module, "ca-pkcs11-module", "", "PKCS#11 library holding private CA keys (default: keys sealed under the KEK in the store)")
	fs.StringVar(&f.caPKCS11.token, "ca-pkcs11-token", "", "label of the PKCS#11 token for CA keys")
	fs.StringVar(&f.caPKCS11.pinFile, "ca-pkcs11-pin-file", "", "file holding the token's user PIN (kept out of the process list)")
	fs.StringVar(&f.publicURL, "public-url", "", "base URL clients reach this server at (default: the listen address); CRL distribution points use it")
	fs.StringVar(&f.cpuProfile, "cpu-profile", "", "write a Go CPU profile to this file until the server stops (performance work)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "iamra server: %v\n", err)
			return 1
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintf(stderr, "iamra server: %v\n", err)
			return 1
		}
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	log, err := newLogger(stderr, f.logLevel, f.logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "iamra server: %v\n", err)
		return 2
	}
	if err := serve(ctx, f, log, stdout); err != nil {
		fmt.Fprintf(stderr, "iamra server: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func serve(ctx context.Context, f serverFlags, log *slog.Logger, stdout io.Writer) error {
	if f.plainHTTP && !isLoopback(f.listen) {
		return errors.New("--plain-http is only allowed on a loopback --listen address; credentials must not cross a network in clear")
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	if f.dataDir == "" {
		if !f.dev {
			return errors.New("--data-dir is required (or use --dev for a temporary one)")
		}
		dir, err := os.MkdirTemp("", "iamra-dev-")
		if err != nil {
			return err
		}
		f.dataDir = dir
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	scheme := "https"
	if f.plainHTTP {
		scheme = "http"
	}
	endpoint := scheme + "://" + ln.Addr().String()
	if f.publicURL == "" {
		f.publicURL = endpoint
	}
	var caKeyStores []ca.KeyStore
	if f.caPKCS11.module != "" {
		pin, err := os.ReadFile(f.caPKCS11.pinFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--ca-pkcs11-pin-file: %w", err)
		}
		ks, closer, err := openCAKeyStore(f.caPKCS11.module, f.caPKCS11.token, strings.TrimSpace(string(pin)), rand.Reader)
		if err != nil {
			ln.Close()
			return fmt.Errorf("PKCS#11 token for CA keys: %w", err)
		}
		defer closer.Close()
		caKeyStores = []ca.KeyStore{ks}
	}
	srv, err := server.New(ctx, server.Config{
		CAKeyStores: caKeyStores,
		PublicURL:   strings.TrimRight(f.publicURL, "/"),
		DataDir:     f.dataDir, StoreURL: f.storeURL, Scope: f.scope, Hosts: f.hosts,
		TLSCertFile: f.tlsCert, TLSKeyFile: f.tlsKey, Skew: f.skew,
		Logger: log, Now: time.Now, Rand: rand.Reader,
	})
	if err != nil {
		ln.Close()
		return err
	}
	if f.dev {
		info, err := devmode.Bootstrap(ctx, srv, devmode.Options{Endpoint: endpoint, Now: time.Now, Rand: rand.Reader})
		if err != nil {
			srv.Close()
			ln.Close()
			return fmt.Errorf("dev bootstrap: %w", err)
		}
		devmode.PrintBanner(stdout, info)
	}
	log.Info("iamra server listening", "endpoint", endpoint, "dataDir", f.dataDir, "account", f.scope.AccountID, "region", f.scope.Region)
	if gcbudget.Start(ctx) {
		log.Debug("GC target follows the live heap", "budgetMiB", gcbudget.DefaultBudget>>20)
	}
	return srv.Run(ctx, ln, f.plainHTTP)
}
