package authz

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"

	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/awserr"
)

// MaxBody bounds bodies read by Middleware and Handler.
const MaxBody = 1 << 20

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// PrincipalFrom returns the principal Middleware authenticated.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(*Principal)
	return p, ok
}

// Middleware authenticates every request — SigV4-signed, or carrying an
// EKS-style token as "Authorization: Bearer k8s-aws-v1.…" for
// opts.ClusterID — and passes it on with the principal in its context
// (PrincipalFrom). Refusals are answered in the restJson1 error envelope
// with status 401/403.
func (v *Verifier) Middleware(opts Options, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p *Principal
		var err error
		if tok := TokenOf(r); tok != "" {
			p, err = v.VerifyToken(r.Context(), tok, opts.ClusterID)
		} else {
			var body []byte
			body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
			if err != nil {
				restjson.WriteError(w, r, restjson.TooLarge(MaxBody))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			p, err = v.Authenticate(r.Context(), r, body, opts)
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		if err != nil {
			restjson.WriteError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
	})
}

// Require lets a request through Middleware only when its principal may
// perform action on the resource resource(r) returns (nil: "*"), with the
// request's aws:SourceIp and aws:SecureTransport in the context.
func (v *Verifier) Require(opts Options, action string, resource func(*http.Request) string, next http.Handler) http.Handler {
	return v.Middleware(opts, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := PrincipalFrom(r.Context())
		res := "*"
		if resource != nil {
			res = resource(r)
		}
		d, err := v.Authorize(r.Context(), p, action, res, RequestContext(r))
		if err != nil {
			restjson.WriteError(w, r, err)
			return
		}
		if !d.Allowed {
			restjson.WriteError(w, r, Denied(p, d, opts.Dialect))
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// CheckRequest is what the endpoint is asked: who made a request, and
// optionally whether they may perform Action on Resource.
type CheckRequest struct {
	// Token is an EKS-style token; ClusterID its x-k8s-aws-id.
	Token     string `json:"token,omitempty"`
	ClusterID string `json:"clusterId,omitempty"`
	// Request is a SigV4-signed request as the service received it.
	Request *SignedRequest `json:"request,omitempty"`
	// Service, when set, is the credential-scope service Request must be
	// signed for.
	Service string `json:"service,omitempty"`

	Action   string `json:"action,omitempty"`
	Resource string `json:"resource,omitempty"`
	// Context adds request context keys (aws:SourceIp of the original
	// client, …).
	Context map[string][]string `json:"context,omitempty"`
}

// SignedRequest is an HTTP request forwarded for verification.
type SignedRequest struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"` // absolute: scheme, host, path, query
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body,omitempty"` // base64
}

// CheckResponse is the endpoint's answer.
type CheckResponse struct {
	Principal     *Principal `json:"principal"`
	Authorization *Decision  `json:"authorization,omitempty"`
}

func badRequest(format string, args ...any) *awserr.Error {
	return awserr.Validation("The request is not a valid authorization check.").Because("authz.bad_request", format, args...)
}

// Handler is the HTTP endpoint: POST a CheckRequest as JSON, get a
// CheckResponse (200), or the restJson1 error envelope when the request
// or token does not verify (401/403) or the check is malformed (400). It
// needs no credentials of its own: the token or signed request is the
// proof.
func (v *Verifier) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			restjson.WriteError(w, r, awserr.New("MethodNotAllowed", http.StatusMethodNotAllowed, "Use POST.").Because("authz.bad_request", "method %s", r.Method))
			return
		}
		var in CheckRequest
		if err := restjson.DecodeBody(r, MaxBody, &in); err != nil {
			restjson.WriteError(w, r, err)
			return
		}
		resp, err := v.Check(r.Context(), in)
		if err != nil {
			restjson.WriteError(w, r, err)
			return
		}
		restjson.WriteJSON(w, http.StatusOK, resp)
	})
}

// Check answers a CheckRequest.
func (v *Verifier) Check(ctx context.Context, in CheckRequest) (*CheckResponse, error) {
	var p *Principal
	var err error
	switch {
	case in.Token != "" && in.Request != nil:
		return nil, badRequest("both token and request are set")
	case in.Token != "":
		p, err = v.VerifyToken(ctx, in.Token, in.ClusterID)
	case in.Request != nil:
		r, body, perr := in.Request.build(ctx)
		if perr != nil {
			return nil, perr
		}
		p, err = v.Authenticate(ctx, r, body, Options{Service: in.Service})
	default:
		return nil, badRequest("neither token nor request is set")
	}
	if err != nil {
		return nil, err
	}
	out := &CheckResponse{Principal: p}
	if in.Action != "" {
		d, err := v.Authorize(ctx, p, in.Action, in.Resource, in.Context)
		if err != nil {
			return nil, err
		}
		out.Authorization = &d
	}
	return out, nil
}

func (s *SignedRequest) build(ctx context.Context) (*http.Request, []byte, error) {
	body, err := base64.StdEncoding.DecodeString(s.Body)
	if err != nil {
		return nil, nil, badRequest("request body is not base64: %v", err)
	}
	if s.Method == "" || strings.ContainsAny(s.Method, " \t\r\n") {
		return nil, nil, badRequest("request method %q", s.Method)
	}
	r, err := http.NewRequestWithContext(ctx, s.Method, s.URL, bytes.NewReader(body))
	if err != nil || r.URL.Host == "" {
		return nil, nil, badRequest("request URL %q is not absolute: %v", s.URL, err)
	}
	for k, vs := range s.Headers {
		if strings.EqualFold(k, "Host") {
			if len(vs) > 0 {
				r.Host = vs[0]
			}
			continue
		}
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return r, body, nil
}
