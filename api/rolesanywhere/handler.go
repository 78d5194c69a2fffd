// Package rolesanywhere serves the IAM Roles Anywhere control plane
// (trust anchors, profiles, CRLs, subjects, tags) over HTTP, in AWS's
// restJson1 protocol, so unmodified AWS SDKs, the AWS CLI and Terraform
// manage an iamra server with nothing but an endpoint override.
//
// The Handler does not authenticate: the server's SigV4 middleware does,
// and puts the caller's ARN in the request context (restjson.WithCaller).
// Every write runs in one store.Update transaction; every write, accepted
// or refused, is reported to the Audit hook, and every refusal is logged
// with its reason and detail under the request id the client received.
//
// Behaviour AWS leaves open follows rolesanywhere-api.md §13: `enabled`
// omitted on create means false; pageSize defaults to 50 and may not
// exceed 100; deleting a trust anchor deletes its CRLs; malformed ids are a
// ValidationException and unknown ones a ResourceNotFoundException with
// the message "Resource not found".
package rolesanywhere

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/audit"
	"github.com/iamra/iamra/awserr"
	ra "github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/trust"
)

// AuditEvent is what the Audit hook receives: a CloudTrail-shaped record
// (see package audit), with iamra's reason, detail and the resources
// touched in AdditionalEventData.
type AuditEvent = audit.Event

// Config configures a Handler. Store and Scope are required.
type Config struct {
	Store store.Store
	// Scope is the partition, region and account of the ARNs minted.
	Scope arn.Scope
	// Now defaults to time.Now.
	Now func() time.Time
	// Rand supplies resource and request ids; defaults to crypto/rand.
	Rand io.Reader
	// ValidateAnchor parses and checks a CERTIFICATE_BUNDLE (and the PEM
	// an AWS_ACM_PCA source resolves to); defaults to
	// trust.ParseAnchorBundle.
	ValidateAnchor func(pem string, now time.Time) ([]*x509.Certificate, error)
	// ParseCRL parses imported CRL data (PEM or DER); defaults to
	// trust.ParseCRL.
	ParseCRL func([]byte) (*x509.RevocationList, error)
	// ResolvePCA reads the CA certificate PEM of an AWS Private CA. Nil
	// means AWS_ACM_PCA trust anchors are refused.
	ResolvePCA func(ctx context.Context, pcaArn string) (pem string, err error)
	// Audit, if set, is called once per write operation, accepted or not.
	Audit func(ctx context.Context, ev AuditEvent)
	// Logger receives one record per refused or failed request; nil
	// discards them.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies; default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// CRLDistributionPoints says the server's CreateSession honours a
	// trust anchor's crlDpRevocationEnabled. Without it, setting the flag
	// is refused rather than stored and silently ignored: a revocation
	// check the operator believes in must not be a no-op.
	CRLDistributionPoints bool
}

// Pagination and body bounds.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
	// DefaultMaxBodyBytes fits the largest valid request: a profile with
	// 250 role ARNs and a 100,000-character session policy in \u escapes.
	DefaultMaxBodyBytes = 2 << 20
)

// notFoundMessage is the client text of every ResourceNotFoundException;
// which resource it was goes to the operator's detail.
const notFoundMessage = "Resource not found"

// Handler serves the control plane. It is safe for concurrent use.
type Handler struct {
	cfg    Config
	router *restjson.Router
}

// New returns a Handler for cfg, filling in defaults.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.ValidateAnchor == nil {
		cfg.ValidateAnchor = trust.ParseAnchorBundle
	}
	if cfg.ParseCRL == nil {
		cfg.ParseCRL = trust.ParseCRL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &Handler{cfg: cfg, router: restjson.NewRouter()}
	h.routes()
	return h
}

func (h *Handler) routes() {
	for _, op := range []struct {
		pattern, name string
		write         bool
		fn            opFunc
	}{
		{"POST /trustanchors", "CreateTrustAnchor", true, h.createTrustAnchor},
		{"GET /trustanchors", "ListTrustAnchors", false, trustAnchors.listAll(h)},
		{"GET /trustanchor/{trustAnchorId}", "GetTrustAnchor", false, trustAnchors.get(h)},
		{"PATCH /trustanchor/{trustAnchorId}", "UpdateTrustAnchor", true, h.updateTrustAnchor},
		{"DELETE /trustanchor/{trustAnchorId}", "DeleteTrustAnchor", true, trustAnchors.delete(h, deleteCRLsOf)},
		{"POST /trustanchor/{trustAnchorId}/enable", "EnableTrustAnchor", true, trustAnchors.setEnabled(h, true)},
		{"POST /trustanchor/{trustAnchorId}/disable", "DisableTrustAnchor", true, trustAnchors.setEnabled(h, false)},
		{"PATCH /put-notifications-settings", "PutNotificationSettings", true, h.putNotificationSettings},
		{"PATCH /reset-notifications-settings", "ResetNotificationSettings", true, h.resetNotificationSettings},

		{"POST /profiles", "CreateProfile", true, h.createProfile},
		{"GET /profiles", "ListProfiles", false, profiles.listAll(h)},
		{"GET /profile/{profileId}", "GetProfile", false, profiles.get(h)},
		{"PATCH /profile/{profileId}", "UpdateProfile", true, h.updateProfile},
		{"DELETE /profile/{profileId}", "DeleteProfile", true, profiles.delete(h, nil)},
		{"POST /profile/{profileId}/enable", "EnableProfile", true, profiles.setEnabled(h, true)},
		{"POST /profile/{profileId}/disable", "DisableProfile", true, profiles.setEnabled(h, false)},
		{"PUT /profiles/{profileId}/mappings", "PutAttributeMapping", true, h.putAttributeMapping},
		{"DELETE /profiles/{profileId}/mappings", "DeleteAttributeMapping", true, h.deleteAttributeMapping},

		{"POST /crls", "ImportCrl", true, h.importCrl},
		{"GET /crls", "ListCrls", false, crls.listAll(h)},
		{"GET /crl/{crlId}", "GetCrl", false, crls.get(h)},
		{"PATCH /crl/{crlId}", "UpdateCrl", true, h.updateCrl},
		{"DELETE /crl/{crlId}", "DeleteCrl", true, crls.delete(h, nil)},
		{"POST /crl/{crlId}/enable", "EnableCrl", true, crls.setEnabled(h, true)},
		{"POST /crl/{crlId}/disable", "DisableCrl", true, crls.setEnabled(h, false)},

		{"GET /subjects", "ListSubjects", false, subjects.listAll(h)},
		{"GET /subject/{subjectId}", "GetSubject", false, subjects.get(h)},

		{"POST /TagResource", "TagResource", true, h.tagResource},
		{"POST /UntagResource", "UntagResource", true, h.untagResource},
		{"GET /ListTagsForResource", "ListTagsForResource", false, h.listTagsForResource},
	} {
		h.router.HandleFunc(op.pattern, h.serve(op.name, op.write, op.fn))
	}
}

// ServeHTTP serves one control-plane request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = restjson.EnsureRequestID(w, r, h.requestID)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err := awserr.Internal(fmt.Sprintf("panic: %v", v))
			h.cfg.Logger.Error("rolesanywhere: handler panic", "request_id", restjson.RequestID(r.Context()), "detail", err.Detail)
			restjson.WriteError(w, r, err)
		}
	}()
	h.router.ServeHTTP(w, r)
}

func (h *Handler) requestID() string {
	id, err := ra.NewID(h.cfg.Rand)
	if err != nil {
		// A request id is for correlation only; never fail a request
		// for want of one.
		return fmt.Sprintf("%x", h.cfg.Now().UnixNano())
	}
	return id
}

// call is one operation's bookkeeping for the response, log and audit.
type call struct {
	params    any      // requestParameters for the audit record
	resources []string // ARNs the operation touched
}

// opFunc runs an operation and returns the status and body of success.
type opFunc func(r *http.Request, c *call) (int, any, error)

func (h *Handler) serve(name string, write bool, fn opFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		restjson.SetOperation(r.Context(), name)
		c := &call{}
		status, body, err := fn(r, c)
		if err != nil {
			e := awserr.As(err)
			level := slog.LevelInfo
			if e.Status >= 500 {
				level = slog.LevelError
			}
			h.cfg.Logger.Log(r.Context(), level, "rolesanywhere: request refused",
				"request_id", restjson.RequestID(r.Context()), "operation", name, "code", e.Code,
				"reason", e.Reason, "detail", e.Detail)
			restjson.WriteError(w, r, e)
		} else {
			restjson.WriteJSON(w, status, body)
		}
		if write && h.cfg.Audit != nil {
			h.cfg.Audit(r.Context(), h.auditEvent(r, name, c, body, err))
		}
	}
}

func (h *Handler) auditEvent(r *http.Request, name string, c *call, body any, err error) AuditEvent {
	caller := restjson.Caller(r.Context())
	ip, _, splitErr := net.SplitHostPort(r.RemoteAddr)
	if splitErr != nil {
		ip = r.RemoteAddr
	}
	ev := AuditEvent{
		EventTime:          h.cfg.Now(),
		EventSource:        ra.Service + ".amazonaws.com",
		EventName:          name,
		AWSRegion:          h.cfg.Scope.Region,
		SourceIPAddress:    ip,
		UserAgent:          r.UserAgent(),
		UserIdentity:       audit.Identity{Type: identityType(caller), Arn: caller, AccountID: h.cfg.Scope.AccountID},
		RequestParameters:  c.params,
		RequestID:          restjson.RequestID(r.Context()),
		RecipientAccountID: h.cfg.Scope.AccountID,
	}
	extra := map[string]any{}
	if len(c.resources) > 0 {
		extra["resources"] = c.resources
	}
	if err != nil {
		e := awserr.As(err)
		ev.ErrorCode, ev.ErrorMessage = e.Code, e.Message
		extra["reason"], extra["detail"] = e.Reason, e.Detail
	} else {
		ev.ResponseElements = body
		if v, ok := body.(interface{ auditView() any }); ok {
			ev.ResponseElements = v.auditView()
		}
	}
	if len(extra) > 0 {
		ev.AdditionalEventData = extra
	}
	return ev
}

// identityType is CloudTrail's userIdentity.type for a caller ARN.
func identityType(caller string) string {
	a, err := arn.Parse(caller)
	switch {
	case err != nil:
		return "Unknown"
	case a.Service == "sts" && a.ResourceType() == "assumed-role":
		return "AssumedRole"
	case a.Resource == "root":
		return "Root"
	case a.ResourceType() == "user":
		return "IAMUser"
	default:
		return "Unknown"
	}
}

// decode reads the request body into in and records it for the audit.
func (h *Handler) decode(r *http.Request, c *call, in any) error {
	c.params = in
	return restjson.DecodeBody(r, h.cfg.MaxBodyBytes, in)
}

// validated is an operation input that checks the model's constraints.
type validated interface{ Validate() error }

// input decodes and validates an operation's body. Path members must be
// set on in before: the model validates them with the body.
func (h *Handler) input(r *http.Request, c *call, in validated) error {
	if err := h.decode(r, c, in); err != nil {
		return err
	}
	return in.Validate()
}

// pathID reads and checks a path id parameter and records it as the
// request's parameters.
func pathID(r *http.Request, c *call, field string) (string, error) {
	id := r.PathValue(field)
	if c.params == nil {
		c.params = map[string]string{field: id}
	}
	return id, ra.ValidateID(field, id)
}

func (h *Handler) now() ra.Time { return ra.NewTime(h.cfg.Now()) }

func (h *Handler) newID() (string, error) {
	id, err := ra.NewID(h.cfg.Rand)
	if err != nil {
		return "", awserr.Internal(err.Error())
	}
	return id, nil
}

// creator is who a profile's createdBy names: the caller, or the account
// for in-process bootstrap.
func (h *Handler) creator(ctx context.Context) string {
	if c := restjson.Caller(ctx); c != "" {
		return c
	}
	return h.cfg.Scope.AccountID
}

func (h *Handler) arn(resourceType, id string) string { return ra.ARN(h.cfg.Scope, resourceType, id) }

// notFound is the error for an absent resource.
func notFound(kind store.Kind, id string) *awserr.Error {
	return awserr.NotFound(notFoundMessage).Because(ReasonNotFound, "%s %s does not exist", kind, id)
}

// storeErr turns a store error into the client's error: absent records
// become ResourceNotFoundException, AWS-shaped errors pass, the rest are
// internal failures.
func storeErr(err error, kind store.Kind, id string) error {
	var e *awserr.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return e
	case errors.Is(err, store.ErrNotFound):
		return notFound(kind, id)
	default:
		return awserr.Internal(fmt.Sprintf("store: %s %s: %v", kind, id, err))
	}
}

// bool0 is an optional boolean with AWS's (undocumented, §13) default.
func bool0(b *bool) bool { return b != nil && *b }

// resourceOf resolves a rolesanywhere ARN of this server to the store
// record it names. ok is false for an ARN of another account or region,
// or of a resource type that cannot be named this way.
func (h *Handler) resourceOf(s string) (kind store.Kind, id string, ok bool) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != ra.Service || !h.cfg.Scope.Contains(a) || a.Region == "" {
		return "", "", false
	}
	id = a.ResourceID()
	if !ra.ValidID(id) {
		return "", "", false
	}
	switch a.ResourceType() {
	case ra.ResourceTrustAnchor:
		return store.KindTrustAnchor, id, true
	case ra.ResourceProfile:
		return store.KindProfile, id, true
	case ra.ResourceCRL:
		return store.KindCRL, id, true
	}
	return "", "", false
}

// trimmed shortens a value echoed into an operator detail.
func trimmed(s string) string {
	const max = 200
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// clientError passes an AWS-shaped error from a validator or resolver
// through, and words any other as a ValidationException with message:
// these hooks judge client input, so their failures are the client's.
func clientError(err error, reason, message string) error {
	var e *awserr.Error
	if errors.As(err, &e) {
		return e
	}
	return awserr.Validation(message).Because(reason, "%v", err)
}
