//go:build unix

package cli

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on path (created 0600), so that
// two updaters (two profiles, two helpers) do not lose each other's
// read-modify-write of the credentials file. Readers need no lock: the
// file is replaced atomically.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
