// Package cli is the command line of iamra's credential helper: the
// official aws_signing_helper's subcommands (credential-process, serve,
// update, sign-string, read-certificate-data, version), flag names,
// defaults, mutual exclusions and output bytes, so that it is a drop-in
// replacement when the iamra binary is invoked as aws_signing_helper.
//
// It only parses and wires: keys come from helper/keysource, CreateSession
// from helper/rolesclient, serve's endpoints from helper/credserver over a
// helper/credcache cache. Main returns an exit status and never calls
// os.Exit: 0 on success, 1 on any error, as the official helper.
package cli

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/iamra/iamra/helper/keysource"
	"github.com/iamra/iamra/helper/rolesclient"
)

// env is everything a command takes from the process, injectable in tests.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	sleep          func(ctx context.Context, d time.Duration) error
	homeDir        func() (string, error)
	readFile       func(string) ([]byte, error)
	// prompt asks for a password or PIN on the terminal; nil when there is
	// none (tests).
	prompt func(string) (string, error)
	// log prints errors and notices to stderr like the official helper's
	// log.Println: "2006/01/02 15:04:05 message".
	log *log.Logger
}

// Main runs the helper with args (the subcommand first, without the program
// name) and returns the exit status.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{
		stdin: stdin, stdout: stdout, stderr: stderr,
		getenv: os.Getenv, now: time.Now, sleep: keysource.Sleep,
		homeDir: os.UserHomeDir, readFile: os.ReadFile,
		prompt: ttyPrompt,
		log:    log.New(stderr, "", log.LstdFlags),
	}
	return run(ctx, e, args)
}

const usage = `A tool that utilizes certificates and their associated private keys to
sign requests to AWS IAM Roles Anywhere's CreateSession API and retrieve temporary
AWS security credentials. This tool can also be used to sign strings and read certificate data.

Usage:
  aws_signing_helper [command]

Available Commands:
  credential-process    Retrieve AWS credentials in the appropriate format for external credential processes
  help                  Help about any command
  read-certificate-data Diagnostic command to read certificate data
  serve                 Serve AWS credentials through a local endpoint
  sign-string           Signs a fixed string using the passed-in private key (or reference to private key)
  update                Updates a profile in the AWS credentials file with new AWS credentials
  version               Prints the version number of the credential helper

Flags:
  -h, --help   help for aws_signing_helper

Use "aws_signing_helper [command] --help" for more information about a command.
`

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stdout, usage)
		return 0
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "credential-process":
		return credentialProcess(ctx, e, rest)
	case "serve":
		return serve(ctx, e, rest)
	case "update":
		return update(ctx, e, rest)
	case "sign-string":
		return signString(ctx, e, rest)
	case "read-certificate-data":
		return readCertificateData(ctx, e, rest)
	case "version":
		fmt.Fprintln(e.stdout, Version())
		return 0
	case "help", "-h", "--help":
		if len(rest) > 0 && rest[0] != "help" {
			return run(ctx, e, []string{rest[0], "--help"})
		}
		fmt.Fprint(e.stdout, usage)
		return 0
	}
	fmt.Fprintf(e.stderr, "Error: unknown command %q for \"aws_signing_helper\"\nRun 'aws_signing_helper --help' for usage.\n", cmd)
	return 1
}

// Version is what `version` prints and what follows "CredHelper/" in the
// User-Agent: the official release iamra reproduces, with iamra's module
// version as semver build metadata when the binary records one.
func Version() string {
	v := rolesclient.DefaultVersion
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v += "." + strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '.' {
				return r
			}
			return '-'
		}, strings.TrimPrefix(bi.Main.Version, "v"))
	}
	return v
}
