package credserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// containerError is the error body the SDKs' container providers parse
// (aws-sdk-go-v2 endpointcreds.EndpointError: lower-case code and message).
type containerError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func containerErr(code, msg string) any { return containerError{Code: code, Message: msg} }

// containerCredentials is what ECS and EKS Pod Identity return.
type containerCredentials struct {
	AccessKeyId     string
	SecretAccessKey string
	Token           string
	Expiration      string
	RoleArn         string `json:",omitempty"`
	AccountId       string `json:",omitempty"`
}

// containerCredentials answers GET /v1/credentials and /creds/{route}.
func (s *Server) containerCredentials(w *response, r *http.Request) {
	rt := s.route(w, r, containerErr)
	if rt == nil {
		return
	}
	if s.auth != nil {
		got := r.Header.Get("Authorization")
		if got == "" {
			w.json(http.StatusUnauthorized, containerErr("MissingAuthorization", "this endpoint requires the Authorization header (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)"))
			return
		}
		if !s.auth.matches(got) {
			w.json(http.StatusUnauthorized, containerErr("InvalidAuthorization", "the Authorization header does not carry the configured token"))
			return
		}
	}
	cr, err := rt.cache.Get(r.Context())
	if err != nil {
		w.json(http.StatusServiceUnavailable, containerErr("CredentialsUnavailable", err.Error()))
		return
	}
	w.json(http.StatusOK, containerCredentials{
		AccessKeyId:     cr.AccessKeyID,
		SecretAccessKey: cr.SecretAccessKey,
		Token:           cr.SessionToken,
		Expiration:      wireTime(cr.Expiration),
		RoleArn:         rt.roleArn,
		AccountId:       rt.accountID,
	})
}

// authToken is the container endpoint's shared secret, fixed or read from a
// file. Only its SHA-256 is kept, so comparisons are constant-time whatever
// the presented length.
type authToken struct {
	path string
	log  *slog.Logger
	cur  atomic.Pointer[tokenFile]

	mu      sync.Mutex // serialises reloads
	lastErr string     // last reload failure logged, to log each once
}

type tokenFile struct {
	sum  [sha256.Size]byte
	info os.FileInfo // nil for a fixed token
}

func newAuthToken(fixed, path string, log *slog.Logger) (*authToken, error) {
	switch {
	case fixed != "" && path != "":
		return nil, errors.New("credserver: set an authorization token or a token file, not both")
	case fixed != "":
		a := &authToken{}
		a.cur.Store(&tokenFile{sum: sha256.Sum256([]byte(fixed))})
		return a, nil
	case path != "":
		a := &authToken{path: path, log: log}
		tf, err := a.load()
		if err != nil {
			return nil, fmt.Errorf("credserver: %w", err)
		}
		a.cur.Store(tf)
		return a, nil
	}
	return nil, nil
}

// load reads the token file.
func (a *authToken) load() (*tokenFile, error) {
	f, err := os.Open(a.path)
	if err != nil {
		return nil, fmt.Errorf("reading authorization token file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading authorization token file: %w", err)
	}
	const maxToken = 64 << 10 // projected service-account tokens are a few KB
	b, err := io.ReadAll(io.LimitReader(f, maxToken+1))
	if err != nil {
		return nil, fmt.Errorf("reading authorization token file: %w", err)
	}
	if len(b) > maxToken {
		return nil, fmt.Errorf("authorization token file %s is larger than %d bytes", a.path, maxToken)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return nil, fmt.Errorf("authorization token file %s is empty", a.path)
	}
	return &tokenFile{sum: sha256.Sum256([]byte(tok)), info: info}, nil
}

// current returns the token, re-reading the file when it changed (a
// rotation, including Kubernetes' atomic symlink swap). A failed re-read
// keeps the previous token: rotations replace files, they do not delete
// them.
func (a *authToken) current() *tokenFile {
	tf := a.cur.Load()
	if a.path == "" {
		return tf
	}
	info, err := os.Stat(a.path)
	if err == nil && os.SameFile(info, tf.info) && info.Size() == tf.info.Size() && info.ModTime().Equal(tf.info.ModTime()) {
		return tf
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if tf2 := a.cur.Load(); tf2 != tf { // another request reloaded meanwhile
		return tf2
	}
	if err == nil {
		var fresh *tokenFile
		if fresh, err = a.load(); err == nil {
			a.cur.Store(fresh)
			a.lastErr = ""
			a.log.Info("authorization token file reloaded", "path", a.path, "modified", info.ModTime().UTC().Format(time.RFC3339))
			return fresh
		}
	}
	if msg := err.Error(); msg != a.lastErr {
		a.lastErr = msg
		a.log.Warn("authorization token file unreadable; keeping the previous token", "error", err)
	}
	return tf
}

func (a *authToken) matches(presented string) bool {
	sum := sha256.Sum256([]byte(presented))
	want := a.current().sum
	return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
}
