// Package atomicfile replaces files so that a reader, or a crash, never sees
// a half-written one.
//
// Key files, certificates and credential files are read by other processes
// (the AWS SDKs reading ~/.aws/credentials, a web server reloading its
// certificate) at any moment; truncating and rewriting in place would hand
// them an empty or torn file. Instead the data goes to a temporary file in
// the same directory (so the rename stays on one file system), is flushed to
// disk, and is renamed over the target; the directory is then flushed so the
// rename itself survives a power loss.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// WriteFile atomically replaces path with data. The file gets exactly perm
// (the umask does not apply), also when it already existed with a wider
// mode. On error the target is left as it was and no temporary file remains.
func WriteFile(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// The temporary file is created 0600 by CreateTemp, so secrets are never
	// readable by others, not even for the moment before the Chmod.
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	return syncDir(dir)
}

// WriteFileAtomic is WriteFile under the name the design notes use.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return WriteFile(path, data, perm)
}

// syncDir flushes the directory entry of a rename. Windows cannot open
// directories for syncing and makes renames durable by itself.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("atomicfile: sync directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some file systems (certain FUSE and network mounts) refuse fsync on
	// directories; the rename has happened, so that is not a failure.
	if err != nil && !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("atomicfile: sync directory: %w", err)
	}
	return nil
}
