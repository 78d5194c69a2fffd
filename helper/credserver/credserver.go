// Package credserver hands temporary AWS credentials from credcache caches
// to unmodified applications, over the two HTTP protocols every AWS SDK
// speaks: the EC2 instance metadata service (IMDSv2) and the container
// credentials endpoint (ECS, EKS Pod Identity).
//
// It is the `serve` of the iamra credential helper, compatible with the
// official aws_signing_helper's paths, headers and token rules, without its
// bugs: an unknown role name is a 404 (not another role's credentials), the
// token TTL header is sent on every IMDS response, credentials are
// application/json, and when no valid credentials are held the answer is a
// 503 with a JSON message, never an empty "Success".
//
// # Routes
//
// Each Route serves one credcache.Cache. The first route is the default.
//
//	PUT /latest/api/token                                  IMDSv2 session token (TTL 1..21600 s)
//	GET /latest/meta-data/iam/security-credentials/        role name of the default route
//	GET /latest/meta-data/iam/security-credentials/<role>  its credentials
//	GET /latest/meta-data/placement/region                 Config.Region, when set
//	GET /v1/credentials                                    container credentials, default route
//	GET /role/<route>/latest/...                           the IMDS paths above, for <route>
//	GET /creds/<route>                                     container credentials for <route>
//	GET /healthz, /readyz, /metrics                        probes (ready once every cache holds credentials), Prometheus
//
// Applications select a route with AWS_EC2_METADATA_SERVICE_ENDPOINT
// (http://127.0.0.1:9911/ or …/role/<route>/; some SDKs, the Go SDK v2
// among them, drop a path in that endpoint and so reach only the default
// route), or with AWS_CONTAINER_CREDENTIALS_FULL_URI
// (http://127.0.0.1:9911/creds/<route>) plus
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE.
//
// # Security
//
// IMDS requests carrying X-Forwarded-For are refused and IMDS GETs need a
// token from the PUT, as on EC2, so a server-side request forgery that can
// only make GETs obtains nothing. Responses leave with the IP TTL (IPv6 hop
// limit) Config.HopLimit. When Config.AuthToken or AuthTokenFile is set, the
// container endpoint requires it in the Authorization header, compared in
// constant time; the file is re-read when it changes. Serve refuses a
// non-loopback listener without such a token, and refuses IMDS on one unless
// the hop limit is 1, since IMDS clients cannot send the token. Tokens and
// secrets are never logged.
//
// Usage:
//
//	srv, err := credserver.New(credserver.Config{Routes: []credserver.Route{{Cache: c, RoleArn: arn}}})
//	ln, err := net.Listen("tcp", credserver.DefaultAddr)
//	err = srv.Serve(ctx, ln) // until ctx is done, then graceful shutdown
package credserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/helper/credcache"
)

// DefaultAddr is where the official helper listens.
const DefaultAddr = "127.0.0.1:9911"

// DefaultHopLimit is the official helper's --hop-limit default.
const DefaultHopLimit = 64

// Config configures a Server.
type Config struct {
	// Routes to serve; the first is the default. At least one.
	Routes []Route
	// AuthToken, or the contents of AuthTokenFile (re-read when the file
	// changes, surrounding white space trimmed), is required in the
	// Authorization header of container-endpoint requests. At most one of
	// the two; required for a non-loopback listener.
	AuthToken     string
	AuthTokenFile string
	// HopLimit is the IP TTL / IPv6 hop limit of responses, 1..255
	// (default 64; 1 keeps responses from crossing a router, as IMDS on EC2).
	HopLimit int
	// DisableIMDS serves only the container endpoint.
	DisableIMDS bool
	// Region, if set, is served at /latest/meta-data/placement/region for
	// SDKs that discover their region through IMDS.
	Region string
	// Now is the clock (default time.Now), the caches' clock too in tests;
	// Rand keys IMDS tokens (default crypto/rand.Reader).
	Now  func() time.Time
	Rand io.Reader
	// Logger receives start-up, refusal and per-request debug records,
	// never tokens or secrets (default: discard).
	Logger *slog.Logger
	// Registry receives the server's metrics, including every route's
	// cache statistics, and is served at /metrics (default: a new registry).
	// Give each Server its own; other collectors may share it.
	Registry *prometheus.Registry
}

// Route serves one cache.
type Route struct {
	// Cache supplies the credentials; its Name names the route in URLs and
	// metrics: letters, digits, '.', '_' and '-'.
	Cache *credcache.Cache
	// RoleArn, if set, gives the role name listed by IMDS (its last path
	// segment) and the RoleArn and AccountId of container responses. Without
	// it IMDS lists the route name.
	RoleArn string
}

// Server serves credentials over HTTP. Create it with New.
type Server struct {
	routes   []*route
	byName   map[string]*route
	auth     *authToken // nil: container endpoint open (loopback only)
	tokens   *tokenSigner
	hopLimit int
	imds     bool
	region   string
	now      func() time.Time
	rand     io.Reader
	log      *slog.Logger
	mux      *http.ServeMux
	requests *prometheus.CounterVec
}

type route struct {
	name      string
	cache     *credcache.Cache
	roleName  string // listed by IMDS
	roleArn   string
	accountID string
}

var routeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// New validates cfg and returns a server.
func New(cfg Config) (*Server, error) {
	s := &Server{
		byName:   map[string]*route{},
		hopLimit: cfg.HopLimit,
		imds:     !cfg.DisableIMDS,
		region:   cfg.Region,
		now:      cfg.Now,
		rand:     cfg.Rand,
		log:      cfg.Logger,
		mux:      http.NewServeMux(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.hopLimit == 0 {
		s.hopLimit = DefaultHopLimit
	}
	if s.hopLimit < 1 || s.hopLimit > 255 {
		return nil, fmt.Errorf("credserver: hop limit %d out of range 1..255", cfg.HopLimit)
	}
	if len(cfg.Routes) == 0 {
		return nil, errors.New("credserver: no routes configured")
	}
	for i, r := range cfg.Routes {
		rt, err := newRoute(r)
		if err != nil {
			return nil, fmt.Errorf("credserver: route %d: %w", i+1, err)
		}
		if s.byName[rt.name] != nil {
			return nil, fmt.Errorf("credserver: route %d: name %q used twice", i+1, rt.name)
		}
		s.routes = append(s.routes, rt)
		s.byName[rt.name] = rt
	}
	var err error
	if s.auth, err = newAuthToken(cfg.AuthToken, cfg.AuthTokenFile, s.log); err != nil {
		return nil, err
	}
	if s.tokens, err = newTokenSigner(s.rand); err != nil {
		return nil, err
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if err := s.registerMetrics(reg); err != nil {
		return nil, err
	}
	s.routesTable(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return s, nil
}

func newRoute(r Route) (*route, error) {
	if r.Cache == nil {
		return nil, errors.New("no cache")
	}
	rt := &route{name: r.Cache.Name(), cache: r.Cache, roleName: r.Cache.Name(), roleArn: r.RoleArn}
	if !routeName.MatchString(rt.name) {
		return nil, fmt.Errorf("name %q is not 1-64 letters, digits, '.', '_' or '-'", rt.name)
	}
	if r.RoleArn != "" {
		a, err := arn.Parse(r.RoleArn)
		if err != nil || a.Service != "iam" || a.ResourceType() != "role" {
			return nil, fmt.Errorf("%q is not an IAM role ARN", r.RoleArn)
		}
		rt.roleName, rt.accountID = a.ResourceName(), a.AccountID
	}
	return rt, nil
}

// routesTable registers every endpoint on s.mux.
func (s *Server) routesTable(metrics http.Handler) {
	handle := func(pattern, api string, h func(*response, *http.Request)) {
		s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			rw := w.(*response) // ServeHTTP passes its own writer through the mux
			rw.api = api
			h(rw, r)
		})
	}
	if s.imds {
		for _, p := range []string{"", "/role/{route}"} {
			handle("PUT "+p+"/latest/api/token", "imds", s.imdsToken)
			handle("GET "+p+"/latest/meta-data/iam/security-credentials", "imds", s.imdsRoles)
			handle("GET "+p+"/latest/meta-data/iam/security-credentials/{$}", "imds", s.imdsRoles)
			handle("GET "+p+"/latest/meta-data/iam/security-credentials/{role}", "imds", s.imdsCredentials)
			handle("GET "+p+"/latest/meta-data/placement/region", "imds", s.imdsRegion)
		}
	}
	handle("GET /v1/credentials", "container", s.containerCredentials)
	handle("GET /creds/{route}", "container", s.containerCredentials)
	handle("GET /healthz", "probe", func(w *response, _ *http.Request) { w.text(http.StatusOK, "ok\n") })
	handle("GET /readyz", "probe", s.readyz)
	handle("GET /metrics", "probe", func(w *response, r *http.Request) { metrics.ServeHTTP(w, r) })
}

// ServeHTTP serves one request; Serve uses it, tests may too.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &response{ResponseWriter: w}
	s.mux.ServeHTTP(rw, r)
	if rw.status == 0 {
		rw.status = http.StatusOK
	}
	s.requests.WithLabelValues(rw.route, rw.api, strconv.Itoa(rw.status)).Inc()
	s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rw.status, "route", rw.route)
}

// route resolves the {route} path segment, the default route when absent.
// It answers 404 itself for an unknown name.
func (s *Server) route(w *response, r *http.Request, errorBody func(code, msg string) any) *route {
	name := r.PathValue("route")
	rt := s.routes[0]
	if name != "" {
		rt = s.byName[name]
	}
	if rt == nil {
		w.json(http.StatusNotFound, errorBody("NotFound", fmt.Sprintf("no route named %q", name)))
		return nil
	}
	w.route = rt.name
	return rt
}

func (s *Server) readyz(w *response, _ *http.Request) {
	var missing []string
	for _, rt := range s.routes {
		if !rt.cache.Ready() {
			missing = append(missing, rt.name)
		}
	}
	if len(missing) > 0 {
		w.text(http.StatusServiceUnavailable, fmt.Sprintf("not ready: no valid credentials for %q\n", missing))
		return
	}
	w.text(http.StatusOK, "ready\n")
}

// Serve serves on ln until ctx is done, then shuts down gracefully (up to
// 5 s for requests in flight, then connections are cut) and returns nil. It closes ln. It refuses a
// listener that is neither loopback nor a Unix socket unless an
// authorization token is configured, and IMDS there unless the hop limit
// is 1. Serve may run on several listeners at once.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.checkListener(ln.Addr()); err != nil {
		ln.Close()
		s.log.Error("refusing to serve", "error", err)
		return err
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("serving credentials", "address", ln.Addr().String(), "routes", len(s.routes), "imds", s.imds, "hop_limit", s.hopLimit)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(&hopLimitListener{Listener: ln, hops: s.hopLimit, log: s.log}) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		// Requests still running (or connections opened but never used)
		// after the grace period are cut; that is still a clean stop.
		s.log.Warn("closing connections still open after the shutdown grace period", "error", err)
		hs.Close()
	}
	<-errc
	return nil
}

func (s *Server) checkListener(a net.Addr) error {
	switch a := a.(type) {
	case *net.UnixAddr:
		return nil
	case *net.TCPAddr:
		if a.IP.IsLoopback() {
			return nil
		}
	}
	if s.auth == nil {
		return fmt.Errorf("credserver: refusing to serve credentials on non-loopback address %s without an authorization token: configure a token or token file, or listen on 127.0.0.1", a)
	}
	if s.imds && s.hopLimit != 1 {
		return fmt.Errorf("credserver: refusing to serve IMDS on non-loopback address %s with hop limit %d: IMDS clients cannot send the authorization token; set hop limit 1 (responses then cannot cross a router) or disable IMDS", a, s.hopLimit)
	}
	return nil
}
