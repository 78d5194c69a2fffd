package keysource

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// fileSource reads certificate, key and intermediates from files on every
// Load.
type fileSource struct {
	opts Options

	mu       sync.Mutex
	password []byte // from Options.Password or, once asked, from Prompt
	closed   bool
}

// errTorn means a file changed while the snapshot was being read.
var errTorn = errors.New("files changed while being read (rotation in progress)")

// errClosed is returned by Load after Close.
var errClosed = errors.New("keysource: source is closed")

// permanent marks errors that retrying cannot fix (configuration mistakes).
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// maxFileSize bounds what is read; certificates and keys are a few KiB.
const maxFileSize = 1 << 20

func (s *fileSource) Load(ctx context.Context) (*Identity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if s.password == nil && s.opts.Password != "" {
		s.password = []byte(s.opts.Password)
	}
	id, err := retrying(ctx, s.opts.Sleep, s.loadOnce, fileTransient)
	if errors.Is(err, errNeedPassword) && s.opts.Prompt != nil {
		pw, perr := s.opts.Prompt("Please enter your password: ")
		if perr != nil {
			return nil, fmt.Errorf("%w (reading password: %v)", err, perr)
		}
		s.password = []byte(pw)
		id, err = retrying(ctx, s.opts.Sleep, s.loadOnce, fileTransient)
		if err != nil {
			s.password = nil // ask again next time rather than repeat a wrong answer
		}
	}
	return id, err
}

func (s *fileSource) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func fileTransient(err error) bool {
	var p permanent
	return !errors.As(err, &p) && !errors.Is(err, errNeedPassword) &&
		!errors.Is(err, ErrIncorrectPassword) && !errors.Is(err, fs.ErrPermission)
}

// loadOnce reads one snapshot and assembles it.
func (s *fileSource) loadOnce() (*Identity, error) {
	o := s.opts
	data, err := readSnapshot(o.Certificate, o.PrivateKey, o.Intermediates)
	if err != nil {
		return nil, err
	}
	parse := func(name string) (bundle, error) {
		if name == "" {
			return bundle{}, nil
		}
		return parseFile(name, data[name], s.password)
	}
	certB, err := parse(o.Certificate)
	if err != nil {
		return nil, err
	}
	keyB := certB
	if o.PrivateKey != o.Certificate {
		if keyB, err = parse(o.PrivateKey); err != nil {
			return nil, err
		}
	}
	var more []*x509.Certificate
	if o.Intermediates != "" {
		ib, err := parse(o.Intermediates)
		if err != nil {
			return nil, err
		}
		if ib.key != nil {
			return nil, permanent{fmt.Errorf("%s: the intermediates bundle must hold only certificates, not a private key", o.Intermediates)}
		}
		more = ib.certs
	}

	// The leaf is the first certificate of --certificate, or of the
	// --private-key file when that is a combined key+chain bundle.
	certs, from := certB.certs, o.Certificate
	if o.Certificate == "" {
		certs, from = keyB.certs, o.PrivateKey
	}
	if len(certs) == 0 && o.Certificate == "" {
		return nil, permanent{fmt.Errorf("%s holds no certificate; pass --certificate", from)}
	}
	if len(certs) == 0 {
		return nil, permanent{fmt.Errorf("%s: no certificate found", from)}
	}
	var key crypto.Signer
	switch {
	case o.PrivateKey != "":
		if key = keyB.key; key == nil {
			return nil, permanent{fmt.Errorf("%s: no private key found", o.PrivateKey)}
		}
	default:
		if key = certB.key; key == nil {
			return nil, permanent{fmt.Errorf("%s holds no private key; pass --private-key (only PKCS#12 files and combined key+certificate PEM files carry their own key)", o.Certificate)}
		}
	}
	return assemble(certs[0], append(certs[1:len(certs):len(certs)], more...), key)
}

// fileState identifies the file a path leads to at one moment.
type fileState struct {
	resolved string
	info     fs.FileInfo
}

func stateOf(path string) (fileState, error) {
	r, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fileState{}, err
	}
	fi, err := os.Stat(r)
	if err != nil {
		return fileState{}, err
	}
	return fileState{r, fi}, nil
}

func (a fileState) same(b fileState) bool {
	return a.resolved == b.resolved && os.SameFile(a.info, b.info) &&
		a.info.Size() == b.info.Size() && a.info.ModTime().Equal(b.info.ModTime())
}

// readSnapshot reads the named files (empty names skipped) as of one
// moment. Each path is resolved through its symlinks first, so a kubelet
// AtomicWriter or csi-driver volume (file -> ..data/file, ..data -> a
// timestamped directory) is read from one generation; if any path resolves
// differently afterwards, or a file changed underneath, the snapshot is
// torn and errTorn is returned for the caller to retry.
func readSnapshot(paths ...string) (map[string][]byte, error) {
	before := map[string]fileState{}
	for _, p := range paths {
		if p == "" || before[p].resolved != "" {
			continue
		}
		st, err := stateOf(p)
		if err != nil {
			return nil, err
		}
		if !st.info.Mode().IsRegular() {
			return nil, permanent{fmt.Errorf("%s is not a regular file", p)}
		}
		before[p] = st
	}
	data := make(map[string][]byte, len(before))
	for p, st := range before {
		b, err := readLimited(st.resolved)
		if errors.Is(err, fs.ErrNotExist) {
			// The generation we resolved was removed after the swap.
			return nil, fmt.Errorf("%s: %w", p, errTorn)
		}
		if err != nil {
			return nil, err
		}
		data[p] = b
	}
	for p, st := range before {
		now, err := stateOf(p)
		if err != nil || !now.same(st) {
			return nil, fmt.Errorf("%s: %w", p, errTorn)
		}
	}
	return data, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileSize {
		return nil, permanent{fmt.Errorf("%s is larger than %d bytes; not a certificate or key", path, maxFileSize)}
	}
	return b, nil
}
