// Package iam serves iamra's IAM API (AWS Query protocol, version
// 2010-05-08) over package iam: roles, inline and managed policies,
// attachments, tags and SimulatePrincipalPolicy, with XML responses and
// IAM's error codes, so the AWS SDKs, the AWS CLI and Terraform manage
// iamra roles with nothing but an endpoint override.
//
// The Handler authenticates every request itself (SigV4 with an admin key
// or session credentials, through authz.Verifier), because Query clients
// need Query-shaped authentication errors. The administrator may do
// everything; a session may call an operation when its effective policy
// allows iam:<Operation> on the role or policy ARN.
//
// Two operations are iamra extensions, for the administrator:
// RevokeRoleSessions (RoleName, optional NotBefore as ISO 8601) sets the
// role's NotBefore, and RotateSessionKeys rotates the session-token key
// ring when the server provides Config.RotateKeys. The console's way of
// revoking sessions, PutRolePolicy of AWSRevokeOlderSessions, works as on
// AWS.
//
// Every write, accepted or refused, is reported to the Audit hook.
package iam

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/iamra/iamra/api/query"
	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/audit"
	"github.com/iamra/iamra/authz"
	"github.com/iamra/iamra/awserr"
	iamd "github.com/iamra/iamra/iam"
	"github.com/iamra/iamra/iam/keyrotation"
	"github.com/iamra/iamra/sigv4"
	"github.com/iamra/iamra/store"
)

// Config configures a Handler. Store, Scope and Verifier are required.
type Config struct {
	Store store.Store
	Scope arn.Scope
	// Now defaults to time.Now.
	Now func() time.Time
	// Rand supplies ids; defaults to crypto/rand.
	Rand io.Reader
	// Directory is the role and policy view shared with STS and authz;
	// writes invalidate it. One is made over Store when nil.
	Directory *iamd.Directory
	// Verifier authenticates callers and authorizes sessions.
	Verifier *authz.Verifier
	// Audit, if set, receives one event per write operation.
	Audit func(ctx context.Context, ev audit.Event)
	// Logger receives refused and failed requests; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; DefaultMaxBodyBytes when zero.
	MaxBodyBytes int64
	// RotateKeys rotates the session-token key ring (RotateSessionKeys);
	// nil refuses the operation.
	RotateKeys func(ctx context.Context) (keyrotation.Result, error)
}

// DefaultMaxBodyBytes fits a request with the largest policy documents.
const DefaultMaxBodyBytes = 1 << 20

// Handler serves the IAM API. It is safe for concurrent use.
type Handler struct {
	cfg Config
	svc *iamd.Service
	ops map[string]operation
}

type operation struct {
	fn    func(ctx context.Context, f query.Form) (any, error)
	write bool
	// resource is the ARN a session's policy is evaluated against.
	resource func(ctx context.Context, f query.Form) string
	admin    bool // administrator only
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
	if cfg.Directory == nil {
		cfg.Directory = iamd.NewDirectory(cfg.Store)
	}
	h := &Handler{cfg: cfg, svc: iamd.New(iamd.Config{Store: cfg.Store, Scope: cfg.Scope, Now: cfg.Now, Rand: cfg.Rand, Directory: cfg.Directory})}
	h.ops = h.operations()
	return h
}

// Service is the IAM service the handler drives.
func (h *Handler) Service() *iamd.Service { return h.svc }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.cfg.Now()
	r = query.EnsureRequestID(w, r, h.cfg.Rand)
	var p *authz.Principal
	action, err := h.serve(w, r, &p)
	if err == nil {
		return
	}
	e := awserr.As(err)
	h.cfg.Logger.Info("IAM request refused", "requestId", restjson.RequestID(r.Context()), "action", action,
		"code", e.Code, "reason", e.Reason, "detail", e.Detail)
	if op, ok := h.ops[action]; ok && op.write {
		h.audit(r, start, action, p, nil, e)
	}
	query.IAM.WriteError(w, r, e)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request, pp **authz.Principal) (string, error) {
	form, body, err := query.IAM.ReadRequest(w, r, h.cfg.MaxBodyBytes)
	if err != nil {
		return "", err
	}
	p, err := h.cfg.Verifier.Authenticate(r.Context(), r, body, authz.Options{Service: "iam", Dialect: sigv4.Query})
	if err != nil {
		return form.Action(), err
	}
	*pp = p
	action, err := query.IAM.CheckAction(form, func(a string) bool { _, ok := h.ops[a]; return ok })
	if err != nil {
		return form.Action(), err
	}
	op := h.ops[action]
	if !p.Admin() {
		if op.admin {
			return action, iamd.AccessDenied("User: "+p.Arn+" is not authorized to perform: iam:"+action+" (administrator only)").
				Because("authz.denied", "%s is an iamra administrator operation", action)
		}
		res := "*"
		if op.resource != nil {
			res = op.resource(r.Context(), form)
		}
		d, err := h.cfg.Verifier.Authorize(r.Context(), p, "iam:"+action, res, authz.RequestContext(r))
		if err != nil {
			return action, err
		}
		if !d.Allowed {
			return action, authz.Denied(p, d, sigv4.Query)
		}
	}
	result, err := op.fn(r.Context(), form)
	if err != nil {
		return action, err
	}
	if op.write {
		h.audit(r, h.cfg.Now(), action, p, &form, nil)
	}
	query.IAM.WriteResult(w, r, action, result)
	return action, nil
}

// audit reports a write. form is nil for refused requests.
func (h *Handler) audit(r *http.Request, at time.Time, action string, p *authz.Principal, form *query.Form, e *awserr.Error) {
	if h.cfg.Audit == nil {
		return
	}
	ev := audit.Event{
		EventTime: at, EventSource: "iam.amazonaws.com", EventName: action, AWSRegion: h.cfg.Scope.Region,
		SourceIPAddress: authz.SourceIP(r), UserAgent: r.UserAgent(), RequestID: restjson.RequestID(r.Context()),
		EventType: "AwsApiCall", RecipientAccountID: h.cfg.Scope.AccountID,
	}
	if p != nil {
		ev.UserIdentity = audit.Identity{Type: p.Type, PrincipalID: p.UserID, Arn: p.Arn, AccountID: p.Account, AccessKeyID: p.AccessKeyID}
	} else {
		ev.UserIdentity = audit.Identity{Type: "Anonymous"}
	}
	if form != nil {
		ev.RequestParameters = requestParameters(*form)
	}
	if e != nil {
		ev.ErrorCode, ev.ErrorMessage = e.Code, e.Message
		ev.AdditionalEventData = map[string]any{"reason": e.Reason, "detail": e.Detail}
	}
	h.cfg.Audit(r.Context(), ev)
}

// requestParameters are the operation's parameters, without the
// protocol's and the signature's.
func requestParameters(f query.Form) map[string]string {
	out := map[string]string{}
	for _, k := range f.Names() {
		if k == "Action" || k == "Version" || strings.HasPrefix(k, "X-Amz-") {
			continue
		}
		out[k] = f.Get(k)
	}
	return out
}
