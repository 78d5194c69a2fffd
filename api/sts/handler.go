// Package sts serves iamra's STS API (AWS Query protocol, version
// 2011-06-15): GetCallerIdentity, in XML or, for clients that send
// Accept: application/json (aws-iam-authenticator), JSON; and AssumeRole,
// from an iamra session (role chaining: at most one hour, transitive
// session tags and the source identity carried over) or with the admin
// key, the target role's trust policy evaluated with the caller as
// principal.
//
// Requests are authenticated here (authz.Verifier, Query error codes:
// SignatureDoesNotMatch, InvalidClientTokenId, ExpiredToken, …), both
// header-signed and presigned, presigned URLs honoured for 15 minutes
// after X-Amz-Date as AWS STS does for EKS-style tokens. Sessions whose
// role revoked them are refused, GetCallerIdentity included.
//
// Reasons this package adds: sts.identity_denied (the caller's own
// policies do not allow the AssumeRole), sts.chaining_duration,
// sts.source_identity_changed, sts.transitive_tag_conflict,
// sts.mfa_unsupported; trust denials carry role.trust_denied* from
// package iam.
package sts

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/iamra/iamra/api/query"
	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/audit"
	"github.com/iamra/iamra/authz"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/credentials"
	"github.com/iamra/iamra/iam"
	"github.com/iamra/iamra/sigv4"
)

// Config configures a Handler. Ring, Directory and Verifier are required.
type Config struct {
	Scope arn.Scope
	// Now defaults to time.Now.
	Now func() time.Time
	// Rand supplies credentials and request ids; defaults to crypto/rand.
	Rand io.Reader
	// Ring seals the session tokens AssumeRole mints.
	Ring *credentials.KeyRing
	// Directory finds roles and evaluates the caller's policies.
	Directory *iam.Directory
	// Verifier authenticates callers.
	Verifier *authz.Verifier
	// Trust evaluates trust policies; iam.NewTrust() when nil.
	Trust *iam.Trust
	// Audit, if set, receives one event per AssumeRole.
	Audit func(ctx context.Context, ev audit.Event)
	// Logger receives refused and failed requests; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes fits an AssumeRole with a 2,048-character policy,
// ten policy ARNs and fifty tags, URL-encoded.
const DefaultMaxBodyBytes = 64 << 10

// Handler serves STS. It is safe for concurrent use.
type Handler struct {
	cfg Config
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Trust == nil {
		cfg.Trust = iam.NewTrust()
	}
	return &Handler{cfg: cfg}
}

var actions = map[string]bool{"GetCallerIdentity": true, "AssumeRole": true}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = query.EnsureRequestID(w, r, h.cfg.Rand)
	var p *authz.Principal
	var form query.Form
	action, err := h.serve(w, r, &p, &form)
	if err == nil {
		return
	}
	e := awserr.As(err)
	h.cfg.Logger.Info("STS request refused", "requestId", restjson.RequestID(r.Context()), "action", action,
		"code", e.Code, "reason", e.Reason, "detail", e.Detail)
	if action == "AssumeRole" {
		h.audit(r, action, p, form, nil, e)
	}
	query.STS.WriteError(w, r, e)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, pp **authz.Principal, form *query.Form) (string, error) {
	f, body, err := query.STS.ReadRequest(w, r, h.cfg.MaxBodyBytes)
	if err != nil {
		return "", err
	}
	*form = f
	p, err := h.cfg.Verifier.Authenticate(r.Context(), r, body, authz.Options{Service: "sts", Dialect: sigv4.Query,
		PresignedLifetime: authz.StandardPresignedLifetime})
	if err != nil {
		return f.Action(), err
	}
	*pp = p
	action, err := query.STS.CheckAction(f, func(a string) bool { return actions[a] })
	if err != nil {
		return f.Action(), err
	}
	var result any
	switch action {
	case "GetCallerIdentity":
		result = struct {
			Arn     string `xml:"Arn"`
			UserId  string `xml:"UserId"`
			Account string `xml:"Account"`
		}{p.Arn, p.UserID, p.Account}
	case "AssumeRole":
		out, err := h.assumeRole(r, p, f)
		if err != nil {
			return action, err
		}
		h.audit(r, action, p, f, out, nil)
		result = out
	}
	query.STS.WriteResult(w, r, action, result)
	return action, nil
}

func (h *Handler) audit(r *http.Request, action string, p *authz.Principal, f query.Form, out *assumeRoleResult, e *awserr.Error) {
	if h.cfg.Audit == nil {
		return
	}
	ev := audit.Event{
		EventTime: h.cfg.Now(), EventSource: "sts.amazonaws.com", EventName: action, AWSRegion: h.cfg.Scope.Region,
		SourceIPAddress: authz.SourceIP(r), UserAgent: r.UserAgent(), RequestID: restjson.RequestID(r.Context()),
		EventType: "AwsApiCall", RecipientAccountID: h.cfg.Scope.AccountID, UserIdentity: audit.Identity{Type: "Anonymous"},
	}
	if p != nil {
		ev.UserIdentity = audit.Identity{Type: p.Type, PrincipalID: p.UserID, Arn: p.Arn, AccountID: p.Account, AccessKeyID: p.AccessKeyID}
	}
	params := map[string]string{}
	for _, k := range []string{"RoleArn", "RoleSessionName", "DurationSeconds", "SourceIdentity"} {
		if f.Has(k) {
			params[k] = f.Get(k)
		}
	}
	ev.RequestParameters = params
	if out != nil {
		ev.ResponseElements = map[string]any{
			"assumedRoleUser": map[string]string{"arn": out.AssumedRoleUser.Arn, "assumedRoleId": out.AssumedRoleUser.AssumedRoleId},
			"credentials": map[string]string{"accessKeyId": out.Credentials.AccessKeyId,
				"expiration": time.Time(out.Credentials.Expiration).UTC().Format(time.RFC3339)},
		}
	}
	if e != nil {
		ev.ErrorCode, ev.ErrorMessage = e.Code, e.Message
		ev.AdditionalEventData = map[string]any{"reason": e.Reason, "detail": e.Detail}
	}
	h.cfg.Audit(r.Context(), ev)
}
