package rolesanywhere

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdk "github.com/aws/aws-sdk-go-v2/service/rolesanywhere"
	smithy "github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/store/sqlite"
	"github.com/iamra/iamra/trust/trusttest"
)

var testScope = arn.Scope{Partition: "aws", Region: "us-east-1", AccountID: "123456789012"}

const testCaller = "arn:aws:iam::123456789012:user/alice"

// clock is a test clock that moves one second per reading, so createdAt
// and updatedAt of successive writes differ without any sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// env is a control plane on a loopback httptest.Server with a real SQLite
// store, driven by the AWS SDK for Go v2.
type env struct {
	t      *testing.T
	h      *Handler
	st     store.Store
	srv    *httptest.Server
	client *sdk.Client
	pki    *trusttest.PKI
	start  time.Time

	mu     sync.Mutex
	events []AuditEvent
}

func newEnv(t *testing.T, tweak ...func(*Config)) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iamra.db"), sqlite.Options{PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	start := time.Now().UTC().Truncate(time.Second)
	e := &env{t: t, st: st, start: start, pki: trusttest.New(t, rand.Reader, start)}
	clk := &clock{t: start}
	cfg := Config{
		Store: st,
		Scope: testScope,
		Now:   clk.Now,
		Audit: func(_ context.Context, ev AuditEvent) {
			e.mu.Lock()
			e.events = append(e.events, ev)
			e.mu.Unlock()
		},
	}
	for _, f := range tweak {
		f(&cfg)
	}
	e.h = New(cfg)
	// Stand-in for the server's SigV4 middleware: it names the caller.
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.h.ServeHTTP(w, r.WithContext(restjson.WithCaller(r.Context(), testCaller)))
	}))
	t.Cleanup(e.srv.Close)
	e.client = sdk.New(sdk.Options{
		Region:       testScope.Region,
		BaseEndpoint: aws.String(e.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
		HTTPClient:   e.srv.Client(),
		Retryer:      aws.NopRetryer{},
	})
	return e
}

func (e *env) audit() []AuditEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]AuditEvent(nil), e.events...)
}

// status is the HTTP status of the response an SDK call decoded.
func status(t *testing.T, md middleware.Metadata) int {
	t.Helper()
	resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if !ok {
		t.Fatal("no raw HTTP response in the result metadata")
	}
	return resp.StatusCode
}

// result carries a call's two results to ok, so a call reads
// got(client.Op(ctx, in)).ok(t).
type result[T any] struct {
	v   T
	err error
}

func got[T any](v T, err error) result[T] { return result[T]{v, err} }

// ok fails the test on the call's error and returns its value.
func (r result[T]) ok(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

// wantAPIError asserts err is the SDK's typed error T with the given code
// and message.
func wantAPIError[T smithy.APIError](t *testing.T, err error, message string) {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error %v (%T) is not %T", err, err, target)
	}
	if target.ErrorMessage() != message {
		t.Fatalf("%s message\n got: %s\nwant: %s", target.ErrorCode(), target.ErrorMessage(), message)
	}
}
