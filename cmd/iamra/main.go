// Command iamra is the whole of iamra in one binary: the server, the
// private CA tools, and (invoked as aws_signing_helper or `iamra helper`)
// the credential helper.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/iamra/iamra/command"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := command.Main(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
