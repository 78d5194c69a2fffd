package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strconv"

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
	client, in, src, code, ok := f.start(c, args, func() error {
		if *port < 0 || *port > 65535 {
			return fmt.Errorf("invalid --port %d", *port)
		}
		return nil
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
	cache := credcache.New(routeName(in.RoleARN), fetcher(client, in), credcache.Options{Now: e.now, Logger: logger})
	if _, err := cache.Get(ctx); err != nil {
		e.log.Println(err)
		return 1
	}
	region := in.Region
	if region == "" {
		if a, err := arn.Parse(in.TrustAnchorARN); err == nil {
			region = a.Region
		}
	}
	srv, err := credserver.New(credserver.Config{
		Routes:        []credserver.Route{{Cache: cache, RoleArn: in.RoleARN}},
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

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go cache.Run(runCtx)
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
