// Package server assembles iamra's HTTP server: one port for every API,
// requests routed the way single-endpoint AWS emulators route them (path
// for CreateSession and health, SigV4 credential scope or X-Amz-Target for
// the signed APIs), plus the background work (configuration snapshot,
// batched subject writes, expiry notifications) and graceful shutdown.
package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/iamra/iamra/api/acmpca"
	iamapi "github.com/iamra/iamra/api/iam"
	"github.com/iamra/iamra/api/restjson"
	rolesanywhereapi "github.com/iamra/iamra/api/rolesanywhere"
	"github.com/iamra/iamra/api/sessions"
	stsapi "github.com/iamra/iamra/api/sts"
	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/assumer"
	"github.com/iamra/iamra/audit"
	"github.com/iamra/iamra/authz"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/createsession"
	"github.com/iamra/iamra/credentials"
	"github.com/iamra/iamra/datadir"
	"github.com/iamra/iamra/iam"
	"github.com/iamra/iamra/iam/keyrotation"
	"github.com/iamra/iamra/pcasource"
	"github.com/iamra/iamra/sigv4"
	"github.com/iamra/iamra/snapshot"
	"github.com/iamra/iamra/store"
	_ "github.com/iamra/iamra/store/sqlite" // the embedded default back-end
	"github.com/iamra/iamra/sts"
	"github.com/iamra/iamra/subject"
	"github.com/iamra/iamra/trust"
)

// Config configures a server.
type Config struct {
	DataDir string
	// StoreURL overrides the store (default: SQLite in the data directory).
	StoreURL string
	Scope    arn.Scope
	// Hosts are extra names for the server's own TLS certificate.
	Hosts []string
	// TLSCertFile and TLSKeyFile, when set, replace the certificate iamra
	// issues itself.
	TLSCertFile, TLSKeyFile string
	// Skew is the accepted client clock difference (default 5m).
	Skew time.Duration
	// SubjectFlush is the subject batching interval (default 1s).
	SubjectFlush time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
	Rand         io.Reader
	// AuditWriter overrides the audit log file (DIR/audit.log).
	AuditWriter io.Writer
	// PublicURL is the server's base URL as clients reach it; the private
	// CA writes <PublicURL>/crl/<ca-id>.crl into certificates.
	PublicURL string
	// CAKeyStores, when set, make new private CA keys (PKCS#11); keys
	// sealed under the KEK in the store are always readable too.
	CAKeyStores []ca.KeyStore
}

// Server is a running iamra.
type Server struct {
	cfg      Config
	Dir      datadir.Dir
	State    *datadir.State
	Store    store.Store
	Snapshot *snapshot.Holder
	Subjects *subject.Recorder
	Ring     *credentials.KeyRing
	Control  *rolesanywhereapi.Handler
	CA       *ca.Service
	PCA      *acmpca.Handler
	IAM      *iam.Directory
	iamAPI   *iamapi.Handler
	stsAPI   *stsapi.Handler
	verifier *authz.Verifier
	rotator  *keyrotation.Rotator
	crls     *acmpca.CRLHandler
	metrics  *metrics
	audit    audit.Sink
	// auditWriter batches audit lines; Run flushes it.
	auditWriter *audit.Writer
	closers     []io.Closer
	handler     http.Handler
	admin       map[string]datadir.AdminKey
	// adminKeys caches the SigV4 signing keys derived from admin secrets:
	// four HMACs a request saved, and the admin keys are few.
	adminKeys *sigv4.KeyCache
	ready     func(context.Context) error
}

// New opens the data directory and the store and builds the handlers.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Skew == 0 {
		cfg.Skew = 5 * time.Minute
	}
	s := &Server{cfg: cfg, Dir: datadir.Dir(cfg.DataDir), adminKeys: sigv4.NewKeyCache(64)}
	var err error
	s.State, err = datadir.Init(ctx, s.Dir, datadir.Options{Scope: cfg.Scope, Hosts: cfg.Hosts, Now: cfg.Now, Rand: cfg.Rand})
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataDir, err)
	}
	s.admin = map[string]datadir.AdminKey{}
	for _, k := range s.State.AdminKeys {
		s.admin[k.AccessKeyID] = k
	}
	storeURL := cfg.StoreURL
	if storeURL == "" {
		storeURL = "sqlite://" + s.Dir.DB()
	}
	s.Store, err = store.Open(ctx, storeURL)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.Store)
	s.Ring, err = loadKeyRing(ctx, s.Store, s.State, cfg.Now(), cfg.Rand)
	if err != nil {
		s.Close()
		return nil, err
	}

	aw := cfg.AuditWriter
	if aw == nil {
		f, err := os.OpenFile(s.Dir.AuditLog(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.closers = append(s.closers, f)
		aw = f
	}
	w := audit.NewBufferedWriter(aw)
	w.OnError = func(err error) { cfg.Logger.Error("audit log write failed", "err", err) }
	s.audit = w
	s.auditWriter = w

	// Configured stores (PKCS#11) make new CA keys; the KEK-sealed software
	// store stays last so CAs created before keep opening their keys.
	keyStores := append(slices.Clone(cfg.CAKeyStores), &ca.SoftwareKeyStore{Protector: s.State.KEK, Rand: cfg.Rand})
	s.CA, err = ca.New(ca.Config{Store: s.Store, Scope: cfg.Scope, KeyStores: keyStores, CRLBaseURL: cfg.PublicURL, Now: cfg.Now, Rand: cfg.Rand})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("private CA: %w", err)
	}

	s.Subjects = subject.New(s.Store, cfg.Scope, subject.Options{Interval: cfg.SubjectFlush})
	s.metrics = newMetrics(func() float64 { return float64(s.Subjects.Pending()) })

	// Trust anchors whose source is an iamra private CA read its
	// certificate and current CRL from the store, so a revocation reaches
	// them with the next snapshot.
	pca := pcasource.New(s.CA)
	s.Snapshot, err = snapshot.NewHolder(ctx, s.Store, pca, cfg.Now, cfg.Logger)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("loading configuration: %w", err)
	}
	s.Snapshot.OnBuild = func(snap *snapshot.Snapshot, _ time.Duration, err error) {
		if err != nil {
			s.metrics.snapshotBuilds.WithLabelValues("error").Inc()
			return
		}
		s.metrics.snapshotBuilds.WithLabelValues("ok").Inc()
		s.metrics.snapshotRevision.Set(float64(snap.Revision))
	}

	// IAM: roles, policies and sessions' permissions; the trust evaluator
	// decides every role assumption, CreateSession's included.
	s.IAM = iam.NewDirectory(s.Store)
	trustEval := iam.NewTrust()
	s.verifier = authz.New(authz.Config{Ring: s.Ring, Directory: s.IAM, Now: cfg.Now, Skew: cfg.Skew,
		Admin: func(id string) (authz.AdminKey, bool) {
			k, ok := s.admin[id]
			return authz.AdminKey{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, Arn: k.Arn}, ok
		}})
	s.rotator = &keyrotation.Rotator{Ring: s.Ring, Now: cfg.Now, Rand: cfg.Rand,
		OnError: func(err error) { cfg.Logger.Error("session key rotation failed", "err", err) },
		Save:    s.saveRing}
	s.iamAPI = iamapi.New(iamapi.Config{Store: s.Store, Scope: cfg.Scope, Now: cfg.Now, Rand: cfg.Rand, Directory: s.IAM,
		Verifier: s.verifier, Audit: s.auditSigned, Logger: cfg.Logger,
		RotateKeys: func(ctx context.Context) (keyrotation.Result, error) { return s.rotator.Rotate(ctx) }})
	s.stsAPI = stsapi.New(stsapi.Config{Scope: cfg.Scope, Now: cfg.Now, Rand: cfg.Rand, Ring: s.Ring, Directory: s.IAM,
		Verifier: s.verifier, Trust: trustEval, Audit: s.auditSigned, Logger: cfg.Logger})

	svc := &createsession.Service{
		Config: s.Snapshot.Load,
		Assumer: &assumer.Assumer{
			Roles: func() assumer.Roles { return s.Snapshot.Load() },
			Ring:  s.Ring,
			Rand:  cfg.Rand,
			Trust: trustEval,
			// The session remembers the trust anchor that vouched for it.
			Issuer: func(in sts.AssumeRoleInput) string {
				if v := in.Context["aws:SourceArn"]; len(v) > 0 {
					return v[0]
				}
				return in.Principal
			},
		},
		Subject: s.Subjects,
		Now:     cfg.Now,
		Skew:    cfg.Skew,
	}
	sess := &sessions.Handler{
		Service: svc, Audit: s.audit, Log: cfg.Logger, Region: cfg.Scope.Region, Account: cfg.Scope.AccountID, Now: cfg.Now,
		Observe: func(outcome, reason string, d time.Duration) {
			s.metrics.sessions.WithLabelValues(outcome, reason).Inc()
			s.metrics.sessionLatency.WithLabelValues(outcome).Observe(d.Seconds())
		},
	}
	s.Control = rolesanywhereapi.New(rolesanywhereapi.Config{
		Store: s.Store, Scope: cfg.Scope, Now: cfg.Now, Rand: cfg.Rand,
		ValidateAnchor: trust.ParseAnchorBundle, ParseCRL: trust.ParseCRL,
		ResolvePCA: pca.ResolvePCA, Audit: s.auditSigned, Logger: cfg.Logger,
	})
	s.PCA = acmpca.New(acmpca.Config{Service: s.CA, Store: s.Store, Scope: cfg.Scope, Now: cfg.Now, Rand: cfg.Rand,
		Logger: cfg.Logger, Audit: s.auditSigned})
	s.crls = acmpca.NewCRLHandler(s.CA, cfg.Now, cfg.Logger)
	if rev, err := s.Store.Revision(ctx); err == nil {
		s.metrics.storeRevision.Set(float64(rev))
	}
	s.ready = func(ctx context.Context) error {
		_, err := s.Store.Revision(ctx)
		return err
	}
	s.handler = s.routes(sess)
	return s, nil
}

// caMaintenanceInterval is how often CRLs are refreshed before their
// nextUpdate and deleted CAs purged.
const caMaintenanceInterval = time.Minute

// auditFlushInterval bounds how much audit a crash can lose.
const auditFlushInterval = 100 * time.Millisecond

// FlushAudit writes buffered audit events now.
func (s *Server) FlushAudit() { s.auditWriter.Flush() }

// Handler is the server's root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Close releases the store and files. Run calls it on shutdown.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i].Close())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// MaxHeaderBytes bounds request headers: six ML-DSA-87 certificates in
// X-Amz-X509 and X-Amz-X509-Chain fit, anything absurd does not.
const MaxHeaderBytes = 128 << 10

// maxAdminBody bounds signed API bodies: the largest legal inputs are a
// 2 MiB certificate chain in base64 inside JSON (ACM-PCA) and a profile of
// 250 role ARNs with a 100,000-character escaped session policy.
const maxAdminBody = 4 << 20

func (s *Server) routes(sess *sessions.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.ready(r.Context()); err != nil {
			http.Error(w, "not ready: store unavailable", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ready\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	// CRL distribution points are fetched unauthenticated, by anyone
	// checking a certificate of an iamra CA.
	mux.Handle("GET "+acmpca.CRLPathPrefix, s.crls)
	mux.Handle("HEAD "+acmpca.CRLPathPrefix, s.crls)
	// The authz endpoint answers services that accept iamra credentials:
	// who signed this request (or EKS-style token), and may it do this.
	mux.Handle("POST "+AuthzPath, s.instrument(labelled("authz", s.verifier.Handler())))
	signed := s.instrument(s.serveSigned)
	sessionsAPI := s.instrument(labelled("createsession", sess))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// CreateSession is signed as /sessions whatever the path, so it is
		// served under any prefix (a path-rewriting proxy, --endpoint
		// https://host/prefix in the official client).
		if r.Method == http.MethodPost && (r.URL.Path == "/sessions" || strings.HasSuffix(r.URL.Path, "/sessions")) &&
			r.Header.Get("X-Amz-X509") != "" {
			sessionsAPI.ServeHTTP(w, r)
			return
		}
		signed.ServeHTTP(w, r)
	})
	return s.withRequestID(mux)
}

func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The request state carries the request id, the operation the
		// handler names for the metrics and the authenticated caller, so
		// that the request is copied for its context once.
		r, _ = restjson.BeginRequest(w, r, newRequestID)
		defer func() {
			// Safety net: a bug must not kill the process or hang the client.
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.cfg.Logger.Error("panic serving request", "requestId", restjson.RequestID(r.Context()), "panic", fmt.Sprint(v))
				restjson.WriteError(w, r, awserr.Internal(fmt.Sprint(v)))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// newRequestID returns a random (version 4) UUID, the form of AWS's
// request ids. A request id correlates a response with the logs and is
// shown to the client: it must not repeat, but need not be secret, so the
// runtime's generator (ChaCha8, seeded by the system) serves at a fraction
// of crypto/rand's cost.
func newRequestID() string {
	u, _ := uuid.NewRandomFromReader(runtimeRand{}) // runtimeRand never fails
	return u.String()
}

// runtimeRand reads math/rand/v2's generator.
type runtimeRand struct{}

func (runtimeRand) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 8 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], rand.Uint64())
		copy(p[i:], b[:])
	}
	return len(p), nil
}

// outcome buckets a status for metric labels: "success", "client_error"
// or "server_error", so label values stay few.
func outcome(code int) string {
	switch {
	case code >= 500:
		return "server_error"
	case code >= 400:
		return "client_error"
	}
	return "success"
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// apiLabel labels a signed request by the service of its credential
// scope, as sigv4.ParseRequest read it.
func apiLabel(cred sigv4.Credential, signed bool, err error) string {
	switch {
	case err != nil:
		return "malformed"
	case !signed:
		return "unsigned"
	}
	switch cred.Service {
	case "rolesanywhere", "sts", "iam", "acm-pca":
		return cred.Service
	}
	return "other" // bounded label values whatever clients send
}

// labelled serves with h and labels its requests api.
func labelled(api string, h http.Handler) func(http.ResponseWriter, *http.Request) string {
	return func(w http.ResponseWriter, r *http.Request) string {
		h.ServeHTTP(w, r)
		return api
	}
}

// instrument counts and times the requests serve serves, by the API label
// serve returns, the operation the handler names and the outcome. The
// operation slot is withRequestID's request state.
func (s *Server) instrument(serve func(http.ResponseWriter, *http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		api := serve(sw, r)
		op := ""
		if st := restjson.StateOf(r.Context()); st != nil {
			op = st.Operation()
		}
		if op == "" {
			op = "unknown"
		}
		s.metrics.observeRequest(api, op, outcome(sw.code), time.Since(start))
	})
}

// serveSigned authenticates SigV4-HMAC requests and routes them by the
// service in their credential scope, which also labels them.
func (s *Server) serveSigned(w http.ResponseWriter, r *http.Request) string {
	parsed := sigv4.Parse(r)
	cred, signed, err := parsed.Credential()
	api := apiLabel(cred, signed, err)
	if err != nil {
		restjson.WriteError(w, r, err)
		return api
	}
	// IAM and STS speak the Query protocol and authenticate themselves,
	// with admin keys or session credentials, so their errors are
	// Query-shaped and sessions may call them.
	switch {
	case signed && cred.Service == "iam", !signed && isQueryAction(r, "iam"):
		s.iamAPI.ServeHTTP(w, r)
		return api
	case signed && cred.Service == "sts", !signed && isQueryAction(r, "sts"):
		s.stsAPI.ServeHTTP(w, r)
		return api
	}
	if !signed {
		restjson.WriteError(w, r, awserr.MissingAuthenticationToken().Because("auth.unsigned", "%s %s carries no SigV4 signature", r.Method, r.URL.Path))
		return api
	}
	body, err := restjson.ReadBody(http.MaxBytesReader(w, r.Body, maxAdminBody), r.ContentLength, maxAdminBody)
	if err != nil {
		restjson.WriteError(w, r, restjson.TooLarge(maxAdminBody))
		return api
	}
	res, err := sigv4.VerifyParsed(r.Context(), r, body, &parsed, sigv4.VerifyOptions{Now: s.cfg.Now(), Skew: s.cfg.Skew, Lookup: s.lookupAdmin, Keys: s.adminKeys})
	if err != nil {
		e := awserr.As(err)
		s.cfg.Logger.Info("signed request refused", "requestId", restjson.RequestID(r.Context()), "code", e.Code, "reason", e.Reason, "detail", e.Detail, "accessKeyId", cred.AccessKeyID)
		restjson.WriteError(w, r, e)
		return api
	}
	br := &bodyReader{}
	br.Reset(body)
	r.Body = br
	caller := s.admin[res.AccessKeyID].Arn
	if st := restjson.StateOf(r.Context()); st != nil {
		st.SetCaller(caller)
	} else {
		r = r.WithContext(restjson.WithCaller(r.Context(), caller))
	}
	switch res.Service {
	case "rolesanywhere":
		s.Control.ServeHTTP(w, r)
	case "acm-pca":
		s.PCA.ServeHTTP(w, r)
	default:
		restjson.WriteError(w, r, awserr.New("UnknownOperationException", http.StatusBadRequest,
			fmt.Sprintf("iamra does not serve the %q API on this endpoint.", res.Service)).Because("route.unknown_service", "credential scope service %q", res.Service))
	}
	return api
}

// bodyReader is an already-read body handed on to the APIs: one
// allocation where io.NopCloser(bytes.NewReader(body)) makes two.
type bodyReader struct{ bytes.Reader }

func (*bodyReader) Close() error { return nil }

// lookupAdmin resolves admin access keys. Control-plane calls with session
// credentials are refused until IAM policies decide what sessions may do.
func (s *Server) lookupAdmin(_ context.Context, accessKeyID, sessionToken string) (string, error) {
	k, ok := s.admin[accessKeyID]
	if !ok || sessionToken != "" {
		return "", awserr.InvalidClientTokenID().Because("auth.unknown_access_key", "access key %s is not an admin key", accessKeyID)
	}
	return k.SecretAccessKey, nil
}

// auditSigned records a write through a signed API. The handler fills in
// the event; the server adds what only it knows.
func (s *Server) auditSigned(ctx context.Context, ev rolesanywhereapi.AuditEvent) {
	if ev.EventTime.IsZero() {
		ev.EventTime = s.cfg.Now()
	}
	if ev.AWSRegion == "" {
		ev.AWSRegion = s.cfg.Scope.Region
	}
	if ev.RecipientAccountID == "" {
		ev.RecipientAccountID = s.cfg.Scope.AccountID
	}
	if ev.UserIdentity.Arn == "" {
		ev.UserIdentity.Arn = restjson.Caller(ctx)
	}
	s.audit.Record(ev)
}

// TLSConfig is the server's TLS configuration.
func (s *Server) TLSConfig() (*tls.Config, error) {
	cert := s.State.TLS
	if s.cfg.TLSCertFile != "" {
		c, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			return nil, err
		}
		cert = c
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}, nil
}

// Run serves on ln (TLS unless plain) and runs the background work until
// ctx ends, then shuts down gracefully and closes the server.
func (s *Server) Run(ctx context.Context, ln net.Listener, plain bool) error {
	defer s.Close()
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug),
	}
	if !plain {
		tc, err := s.TLSConfig()
		if err != nil {
			return err
		}
		hs.TLSConfig = tc
		ln = tls.NewListener(ln, tc)
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { s.Snapshot.Watch(bg, 5*time.Second) })
	wg.Go(func() { s.Subjects.Run(bg) })
	wg.Go(func() { s.watchExpiry(bg) })
	wg.Go(func() { s.IAM.Watch(bg) })
	wg.Go(func() { s.rotator.Run(bg) })
	wg.Go(func() { s.auditWriter.Run(bg, auditFlushInterval) })
	wg.Go(func() {
		s.CA.Run(bg, caMaintenanceInterval, func(err error) { s.cfg.Logger.Error("private CA maintenance failed", "err", err) })
	})
	wg.Go(func() {
		for c := range s.Store.Changes(bg) {
			s.metrics.storeRevision.Set(float64(c.Revision))
			if slices.Contains(c.Kinds, store.KindKeyRing) || len(c.Kinds) == 0 {
				// Another replica (or the rotator) changed the key ring.
				if err := s.reloadRing(bg); err != nil {
					s.cfg.Logger.Error("reloading the session key ring failed", "err", err)
				}
			}
		}
	})

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err = hs.Shutdown(shutdownCtx)
		cancel()
	case err = <-errc:
	}
	stop()
	wg.Wait() // the subject recorder flushes before the store closes
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// AuthzPath is where the authz endpoint is served.
const AuthzPath = "/iamra/authz"

// isQueryAction recognises an unsigned Query-protocol call (a presigned
// URL, or a request with no credentials at all) meant for iam or sts, so
// it gets that API's own error shape.
func isQueryAction(r *http.Request, service string) bool {
	action := r.URL.Query().Get("Action")
	if action == "" {
		return false
	}
	switch service {
	case "sts":
		return strings.HasPrefix(action, "GetCallerIdentity") || strings.HasPrefix(action, "AssumeRole") || action == "GetSessionToken"
	case "iam":
		return !strings.HasPrefix(action, "GetCallerIdentity") && !strings.HasPrefix(action, "AssumeRole")
	}
	return false
}

// Scope is the partition, region and account of this server's ARNs.
func (s *Server) Scope() arn.Scope { return s.cfg.Scope }
