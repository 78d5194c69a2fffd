package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/helper/credcache"
	"github.com/iamra/iamra/helper/credserver"
	"github.com/iamra/iamra/helper/rolesclient"
)

// serve runs the IMDSv2 and container-credentials endpoints. Unlike the
// official helper it fails fast when the first CreateSession fails (PR #200
// upstream), refreshes in the background, and never answers with empty
// credentials.
func serve(ctx context.Context, e *env, args []string) int {
	c := newCommand(e, "serve", "Serve AWS credentials through a local endpoint that is compatible with IMDSv2")
	var f credFlags
	f.register(c)
	port := c.fs.Int("port", 9911, "The port used to run the local server")
	hopLimit := c.fs.Int("hop-limit", credserver.DefaultHopLimit, "The IP TTL to set on responses")
	bind := c.fs.String("bind-addr", "127.0.0.1", "iamra: address to listen on; other than loopback it requires --auth-token-file, and IMDS there --hop-limit 1")
	tokenFile := c.fs.String("auth-token-file", "", "iamra: file holding the token the container-credentials endpoint requires in the Authorization header (re-read when it changes)")
	var extra extraRoles
	c.fs.Var(&extra, "extra-role", "iamra: another role to serve, as ROLE_ARN or ROLE_ARN,PROFILE_ARN (repeatable); each gets its own route, /creds/<role-name> and /role/<role-name>/latest/…, with the same certificate")
	client, in, src, code, ok := f.start(c, args, func() error {
		if *port < 0 || *port > 65535 {
			return fmt.Errorf("invalid --port %d", *port)
		}
		return extra.validate()
	})
	if !ok {
		return code
	}
	defer src.Close()

	level := slog.LevelInfo
	if f.debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	// One route, cache and background refresh per role; the first is the
	// default route, as the official helper's only one.
	inputs := append([]rolesclient.Input{in}, extra.inputs(in)...)
	var routes []credserver.Route
	seen := map[string]bool{}
	for _, ri := range inputs {
		name := routeName(ri.RoleARN)
		if seen[name] {
			e.log.Printf("--extra-role: two roles would share the route %q", name)
			return 2
		}
		seen[name] = true
		cache := credcache.New(name, fetcher(client, ri), credcache.Options{Now: e.now, Logger: logger})
		if _, err := cache.Get(ctx); err != nil {
			e.log.Println(err)
			return 1
		}
		routes = append(routes, credserver.Route{Cache: cache, RoleArn: ri.RoleARN})
	}
	region := in.Region
	if region == "" {
		if a, err := arn.Parse(in.TrustAnchorARN); err == nil {
			region = a.Region
		}
	}
	srv, err := credserver.New(credserver.Config{
		Routes:        routes,
		AuthTokenFile: *tokenFile,
		HopLimit:      *hopLimit,
		Region:        region,
		Now:           e.now,
		Logger:        logger,
	})
	if err != nil {
		e.log.Println(err)
		return 1
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*bind, strconv.Itoa(*port)))
	if err != nil {
		e.log.Println(err)
		return 1
	}
	addr := ln.Addr().(*net.TCPAddr)
	base := "http://" + net.JoinHostPort(addr.IP.String(), strconv.Itoa(addr.Port))
	// The official helper's two start-up lines (scripts parse the port).
	e.log.Println("Local server started on port:", addr.Port)
	e.log.Println("Make it available to the sdk by running:")
	e.log.Printf("export AWS_EC2_METADATA_SERVICE_ENDPOINT=%s/", base)
	e.log.Printf("or, for the container credentials provider: export AWS_CONTAINER_CREDENTIALS_FULL_URI=%s/v1/credentials", base)
	for _, r := range routes[1:] {
		e.log.Printf("role %s: %s/creds/%s (container) and %s/role/%s/ (IMDS)", r.RoleArn, base, r.Cache.Name(), base, r.Cache.Name())
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, r := range routes {
		go r.Cache.Run(runCtx)
	}
	if err := srv.Serve(runCtx, ln); err != nil {
		e.log.Println(err)
		return 1
	}
	return 0
}

// fetcher adapts CreateSession to the cache.
func fetcher(client *rolesclient.Client, in rolesclient.Input) credcache.Fetcher {
	return func(ctx context.Context) (credcache.Credentials, error) {
		out, err := client.CreateSession(ctx, in)
		if err != nil {
			return credcache.Credentials{}, err
		}
		return credcache.Credentials{AccessKeyID: out.AccessKeyID, SecretAccessKey: out.SecretAccessKey,
			SessionToken: out.SessionToken, Expiration: out.ExpirationTime}, nil
	}
}

var routeChars = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// routeName names the cache (and its /creds/<route> URL and metrics) after
// the role, when the role name is a valid route name.
func routeName(roleARN string) string {
	if a, err := arn.Parse(roleARN); err == nil && routeChars.MatchString(a.ResourceName()) {
		return a.ResourceName()
	}
	return "default"
}

// extraRoles collects --extra-role values.
type extraRoles []string

func (x *extraRoles) String() string     { return strings.Join(*x, " ") }
func (x *extraRoles) Set(v string) error { *x = append(*x, v); return nil }

func (x extraRoles) validate() error {
	for _, v := range x {
		role, profile, _ := strings.Cut(v, ",")
		if a, err := arn.Parse(role); err != nil || a.Service != "iam" || a.ResourceType() != "role" {
			return fmt.Errorf("--extra-role %q: want ROLE_ARN or ROLE_ARN,PROFILE_ARN", v)
		}
		if profile != "" {
			if a, err := arn.Parse(profile); err != nil || a.ResourceType() != "profile" {
				return fmt.Errorf("--extra-role %q: %q is not a profile ARN", v, profile)
			}
		}
	}
	return nil
}

// inputs derives one CreateSession input per extra role from the main one
// (same certificate, trust anchor, duration; the profile unless given).
func (x extraRoles) inputs(base rolesclient.Input) []rolesclient.Input {
	var out []rolesclient.Input
	for _, v := range x {
		role, profile, _ := strings.Cut(v, ",")
		in := base
		in.RoleARN = role
		if profile != "" {
			in.ProfileARN = profile
		}
		out = append(out, in)
	}
	return out
}
