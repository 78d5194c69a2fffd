// Package command is the iamra command line: it parses arguments and hands
// off to the packages that do the work, so cmd/iamra stays a few lines and
// every subcommand is testable in-process.
package command

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/iamra/iamra/cacli"
	helpercli "github.com/iamra/iamra/helper/cli"
	"github.com/iamra/iamra/loadtest"
)

// Version is set at build time with -ldflags "-X github.com/iamra/iamra/command.Version=…".
var Version = "0.1.0-dev"

const usage = `iamra: IAM Roles Anywhere, open source, in one binary.

Usage:
  iamra server [--dev] [flags]     run the server (--dev: bootstrap a demo on a temporary data directory)
  iamra init [flags]               create a data directory (KEK, TLS CA and certificate, admin credentials)
  iamra helper <command> [flags]   the credential helper (same commands and flags as aws_signing_helper)
  iamra ca <command> [flags]       the private CA: create, issue, revoke, list, crl, describe
  iamra loadtest --dev-env DIR/dev.env [--api rolesanywhere|acm-pca] [--server-pid PID]
                                   measure CreateSession (default) or private-CA IssueCertificate
                                   throughput through the ACM-PCA API (docs/performance.md)
  iamra version

Invoked as aws_signing_helper (a symlink or copy of this binary), iamra is the credential helper.
Run 'iamra <command> --help' for a command's flags.
`

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && strings.HasPrefix(filepath.Base(args[0]), "aws_signing_helper") {
		return helpercli.Main(ctx, args[1:], stdin, stdout, stderr)
	}
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[1] {
	case "server":
		return runServer(ctx, args[2:], stdout, stderr)
	case "init":
		return runInit(ctx, args[2:], stdout, stderr)
	case "ca":
		return cacli.Main(ctx, args[2:], stdout, stderr)
	case "loadtest":
		return loadtest.Command(ctx, args[2:], stdout, stderr)
	case "helper":
		return helpercli.Main(ctx, args[2:], stdin, stdout, stderr)
	case "version", "--version":
		fmt.Fprintf(stdout, "iamra %s\n", Version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "iamra: unknown command %q\n\n%s", args[1], usage)
		return 2
	}
}
