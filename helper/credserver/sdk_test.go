package credserver_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"

	"github.com/iamra/iamra/helper/credcache"
	"github.com/iamra/iamra/helper/credserver"
)

// sameCredentials compares what an SDK resolved with what the fetcher minted.
func sameCredentials(t *testing.T, got aws.Credentials, want credcache.Credentials, source string) {
	t.Helper()
	if got.AccessKeyID != want.AccessKeyID || got.SecretAccessKey != want.SecretAccessKey ||
		got.SessionToken != want.SessionToken || !got.CanExpire || got.Expires.After(want.Expiration) {
		t.Fatalf("SDK resolved %+v\nwant %+v", got, want)
	}
	if got.Source != source {
		t.Fatalf("source = %q, want %q", got.Source, source)
	}
}

// The SDK's default chain, configured only by environment variables, finds
// the IMDS emulation last in the chain, as on EC2.
func TestGoSDKDefaultChainIMDS(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	cleanAWSEnv(t)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f.base+"/")
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sameCredentials(t, got, f.fetchers["default"].Mint(1), ec2rolecreds.ProviderName)
}

// ec2rolecreds with an explicit imds client (imds.Options.Endpoint).
func TestGoSDKEC2RoleProvider(t *testing.T) {
	f := newFixture(t, fixtureOpts{})
	p := ec2rolecreds.New(func(o *ec2rolecreds.Options) {
		o.Client = imds.New(imds.Options{Endpoint: f.base})
	})
	got, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sameCredentials(t, got, f.fetchers["default"].Mint(1), ec2rolecreds.ProviderName)
}

// The SDK's container provider, through AWS_CONTAINER_CREDENTIALS_FULL_URI
// and a token file, reads each of several routes; the token file is re-read
// by both sides when it rotates.
func TestGoSDKDefaultChainContainer(t *testing.T) {
	dir := t.TempDir()
	tokenFile := writeToken(t, dir, "first-token")
	f := newFixture(t, fixtureOpts{routes: []string{"default", "second"}, cfg: credserver.Config{AuthTokenFile: tokenFile}})
	cleanAWSEnv(t)
	t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokenFile)
	for i, tc := range []struct{ path, route, token string }{
		{"/v1/credentials", "default", ""},
		{"/creds/second", "second", ""},
		{"/creds/default", "default", "rotated-token"},
	} {
		if tc.token != "" {
			writeToken(t, dir, tc.token)
		}
		t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f.base+tc.path)
		cfg, err := config.LoadDefaultConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got, err := cfg.Credentials.Retrieve(context.Background())
		if err != nil {
			t.Fatalf("%d %s: %v", i, tc.path, err)
		}
		sameCredentials(t, got, f.fetchers[tc.route].Mint(1), endpointcreds.ProviderName)
	}
	code, _, body := f.do(t, "GET", "/v1/credentials", map[string]string{"Authorization": "first-token"})
	if code != 401 {
		t.Fatalf("old token after rotation: %d %s", code, body)
	}
}

// botocore's own IMDS and container providers, selected by the same
// environment variables an application would get, read the server.
func TestBoto3(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 not installed")
	}
	dir := t.TempDir()
	tokenFile := writeToken(t, dir, "boto-token")
	f := newFixture(t, fixtureOpts{routes: []string{"default", "second"}, cfg: credserver.Config{AuthTokenFile: tokenFile}})
	missing := dir + "/none"
	cases := []map[string]string{
		{"AWS_EC2_METADATA_SERVICE_ENDPOINT": f.base + "/"},
		{"AWS_EC2_METADATA_SERVICE_ENDPOINT": f.base + "/role/second/"},
		{"AWS_CONTAINER_CREDENTIALS_FULL_URI": f.base + "/v1/credentials", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile},
		{"AWS_CONTAINER_CREDENTIALS_FULL_URI": f.base + "/creds/second", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile},
	}
	// Every case reads its route's one cached set of credentials.
	want := []string{
		"iam-role " + f.fetchers["default"].Mint(1).AccessKeyID,
		"iam-role " + f.fetchers["second"].Mint(1).AccessKeyID,
		"container-role " + f.fetchers["default"].Mint(1).AccessKeyID,
		"container-role " + f.fetchers["second"].Mint(1).AccessKeyID,
	}
	casesJSON, _ := json.Marshal(cases)
	// One interpreter runs every case: a new botocore session per case
	// re-reads the environment and builds its default chain afresh.
	const script = `
import json, os, sys, botocore.session
for case in json.loads(sys.argv[1]):
    for k in ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"):
        os.environ.pop(k, None)
    os.environ.update(case)
    creds = botocore.session.Session().get_credentials()
    print(creds.method if creds else None, creds.get_frozen_credentials().access_key if creds else None)
`
	cmd := exec.Command("python3", "-c", script, string(casesJSON))
	cmd.Env = []string{
		"AWS_CONFIG_FILE=" + missing, "AWS_SHARED_CREDENTIALS_FILE=" + missing, "AWS_DEFAULT_REGION=us-east-1",
		// botocore's IMDS defaults (1 s, one attempt) are tight on a busy
		// shared machine.
		"AWS_METADATA_SERVICE_TIMEOUT=10", "AWS_METADATA_SERVICE_NUM_ATTEMPTS=3",
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("boto3 resolved:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}

// Documents a limit of the Go SDK v2: its IMDS client replaces the
// endpoint's path, so it reaches only the default route.
func TestGoSDKIMDSIgnoresEndpointPath(t *testing.T) {
	f := newFixture(t, fixtureOpts{routes: []string{"default", "second"}})
	p := ec2rolecreds.New(func(o *ec2rolecreds.Options) {
		o.Client = imds.New(imds.Options{Endpoint: f.base + "/role/second/"})
	})
	got, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	sameCredentials(t, got, f.fetchers["default"].Mint(1), ec2rolecreds.ProviderName)
}
