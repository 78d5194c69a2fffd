package cli

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// firstCertificate returns the DER of the first CERTIFICATE block of a PEM
// file, or data itself when it is not PEM (a DER certificate).
func firstCertificate(data []byte) []byte {
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return data
		}
		if b.Type == "CERTIFICATE" {
			return b.Bytes
		}
	}
}

// sha1Hex is the certificate fingerprint read-certificate-data lists, as
// the official helper (SHA-1 identifies, it does not protect, here).
func sha1Hex(der []byte) string {
	sum := sha1.Sum(der) //nolint:gosec // a fingerprint for display
	return hex.EncodeToString(sum[:])
}

// ttyPrompt asks on the controlling terminal with echo off, as the official
// helper does for key passwords and PINs, so that stdin and stdout (the
// credential_process protocol) are left alone.
func ttyPrompt(prompt string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", errors.New("no terminal to ask on; pass the password with --pkcs8-password or the PIN in the URI (pin-value)")
	}
	defer tty.Close()
	fmt.Fprint(tty, prompt)
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return "", fmt.Errorf("reading from the terminal: %w", err)
	}
	return string(b), nil
}
