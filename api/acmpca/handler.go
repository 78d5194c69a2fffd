// Package acmpca serves iamra's private CA (package ca) over the AWS
// Private CA API — the awsJson1_1 protocol, POST / with
// "X-Amz-Target: ACMPrivateCA.<Operation>" — so the AWS CLI (aws acm-pca),
// the AWS SDKs and cert-manager's aws-privateca-issuer use it with nothing
// but an endpoint override.
//
// Served: CreateCertificateAuthority, DescribeCertificateAuthority,
// ListCertificateAuthorities, UpdateCertificateAuthority,
// DeleteCertificateAuthority, RestoreCertificateAuthority,
// GetCertificateAuthorityCsr, ImportCertificateAuthorityCertificate,
// GetCertificateAuthorityCertificate, IssueCertificate, GetCertificate,
// RevokeCertificate, CreateCertificateAuthorityAuditReport,
// DescribeCertificateAuthorityAuditReport, TagCertificateAuthority,
// UntagCertificateAuthority and ListTags. The resource-policy and
// permission operations answer UnknownOperationException.
//
// The Handler does not authenticate: the server verifies SigV4 and routes
// requests whose credential scope names the service "acm-pca" here, with
// the caller's ARN in the context (restjson.WithCaller).
//
// # Wire format
//
// Errors carry the code in the X-Amzn-ErrorType header (the SDKs read it
// first) and as "__type" beside "message" in the body (botocore reads the
// body), with HTTP 400 for every client error as PCA sends them. Times are
// epoch seconds. Blobs (Csr, Certificate, CertificateChain) are base64 in
// the request, as the protocol has them; PEM strings come back as strings.
// Bad input is a 400, never a 5xx.
//
// # Audit reports
//
// PCA writes audit reports to an S3 bucket. iamra writes the report when
// CreateCertificateAuthorityAuditReport is called (its status is SUCCESS
// at once), keeps it in the store, and returns PCA's S3Key,
// "audit-report/<ca-id>/<report-id>.json" (or .csv). The Handler serves the
// report body at GET /audit-report/<ca-id>/<report-id>.<ext>, or
// /<bucket>/audit-report/… (S3's path style), to callers the server has
// authenticated. S3BucketName is recorded and echoed, nothing more.
//
// # CRLs
//
// NewCRLHandler serves GET /crl/<ca-id>.crl, the CRL distribution point
// ca.Service writes into certificates when its CRLBaseURL is the server's
// public URL. It needs no authentication and is cacheable until the CRL's
// nextUpdate.
package acmpca

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/audit"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/ca"
	"github.com/iamra/iamra/store"
)

// Config configures a Handler. Service and Scope are required.
type Config struct {
	Service *ca.Service
	// Store keeps audit reports (normally the CA service's store). Without
	// it CreateCertificateAuthorityAuditReport is refused.
	Store store.Store
	// Scope is the partition, region and account the server serves.
	Scope arn.Scope
	// Now defaults to time.Now.
	Now func() time.Time
	// Logger receives one record per refused or failed request; nil
	// discards them.
	Logger *slog.Logger
	// Audit, if set, is called once per write operation, accepted or not.
	Audit func(ctx context.Context, ev audit.Event)
	// Rand supplies request and audit report ids; defaults to crypto/rand.
	Rand io.Reader
	// MaxBodyBytes bounds request bodies; default DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes fits PCA's largest input, a 2 MiB certificate chain
// in base64 inside JSON.
const DefaultMaxBodyBytes = 3 << 20

// Protocol constants of awsJson1_1 for this service.
const (
	TargetPrefix = "ACMPrivateCA."
	ContentType  = "application/x-amz-json-1.1"
	// EventSource is the audit records' eventSource, as CloudTrail has it.
	EventSource = "acm-pca.amazonaws.com"
)

// Handler serves the ACM-PCA API. It is safe for concurrent use.
type Handler struct {
	cfg Config
	ops map[string]operation
}

// operation is one API operation: fn decodes body and runs it, returning
// the output shape.
type operation struct {
	write bool
	fn    func(ctx context.Context, body []byte, c *call) (any, error)
}

// call is an operation's bookkeeping for the audit record.
type call struct {
	params json.RawMessage
}

// New returns a Handler for cfg, filling in defaults. It panics if
// Service is nil (a wiring error).
func New(cfg Config) *Handler {
	if cfg.Service == nil {
		panic("acmpca: Config.Service is required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &Handler{cfg: cfg}
	h.ops = map[string]operation{
		"CreateCertificateAuthority":              {true, h.createCertificateAuthority},
		"DescribeCertificateAuthority":            {false, h.describeCertificateAuthority},
		"ListCertificateAuthorities":              {false, h.listCertificateAuthorities},
		"UpdateCertificateAuthority":              {true, h.updateCertificateAuthority},
		"DeleteCertificateAuthority":              {true, h.deleteCertificateAuthority},
		"RestoreCertificateAuthority":             {true, h.restoreCertificateAuthority},
		"GetCertificateAuthorityCsr":              {false, h.getCertificateAuthorityCsr},
		"ImportCertificateAuthorityCertificate":   {true, h.importCertificateAuthorityCertificate},
		"GetCertificateAuthorityCertificate":      {false, h.getCertificateAuthorityCertificate},
		"IssueCertificate":                        {true, h.issueCertificate},
		"GetCertificate":                          {false, h.getCertificate},
		"RevokeCertificate":                       {true, h.revokeCertificate},
		"CreateCertificateAuthorityAuditReport":   {true, h.createAuditReport},
		"DescribeCertificateAuthorityAuditReport": {false, h.describeAuditReport},
		"TagCertificateAuthority":                 {true, h.tagCertificateAuthority},
		"UntagCertificateAuthority":               {true, h.untagCertificateAuthority},
		"ListTags":                                {false, h.listTags},
	}
	return h
}

// Operations lists the operations the Handler serves, for documentation
// and tests.
func (h *Handler) Operations() []string {
	out := make([]string, 0, len(h.ops))
	for name := range h.ops {
		out = append(out, name)
	}
	return out
}

// ServeHTTP serves one request: an API call (POST with X-Amz-Target) or
// an audit report body (GET).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = restjson.EnsureRequestID(w, r, h.requestID)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			err := awserr.Internal(fmt.Sprintf("panic: %v", v))
			h.cfg.Logger.Error("acmpca: handler panic", "request_id", restjson.RequestID(r.Context()), "detail", err.Detail)
			writeError(w, err)
		}
	}()
	switch r.Method {
	case http.MethodPost:
		h.serveOperation(w, r)
	case http.MethodGet, http.MethodHead:
		h.serveReport(w, r)
	default:
		h.refuse(w, r, "", unknownOperation("%s %s", r.Method, r.URL.EscapedPath()))
	}
}

func (h *Handler) serveOperation(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, TargetPrefix)
	op, known := h.ops[name]
	if !ok || !known {
		h.refuse(w, r, name, unknownOperation("X-Amz-Target %q", target))
		return
	}
	// Metrics label requests by operation, as they do for the other APIs.
	restjson.SetOperation(r.Context(), name)
	body, err := restjson.ReadBody(r.Body, r.ContentLength, h.cfg.MaxBodyBytes)
	c := &call{}
	var out any
	switch {
	case err != nil:
		err = restjson.Serialization(restjson.ReasonBodyRead, "The request body could not be read")
	case int64(len(body)) > h.cfg.MaxBodyBytes:
		err = restjson.TooLarge(h.cfg.MaxBodyBytes)
	default:
		out, err = op.fn(r.Context(), body, c)
	}
	if err != nil {
		h.refuse(w, r, name, err)
	} else {
		writeJSON(w, http.StatusOK, out)
	}
	if op.write && h.cfg.Audit != nil {
		h.cfg.Audit(r.Context(), h.auditEvent(r, name, c, out, err))
	}
}

// refuse logs a refused request with its reason and sends the error.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, op string, err error) {
	e := awserr.As(err)
	level := slog.LevelInfo
	if e.Status >= 500 {
		level = slog.LevelError
	}
	h.cfg.Logger.Log(r.Context(), level, "acmpca: request refused", "request_id", restjson.RequestID(r.Context()),
		"operation", op, "code", e.Code, "reason", e.Reason, "detail", e.Detail)
	writeError(w, e)
}

// errorBody is the awsJson1_1 error document.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, err error) {
	e := awserr.As(err)
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	writeJSON(w, e.Status, errorBody{Type: e.Code, Message: e.Message})
}

// writeJSON sends v as json.Marshal encodes it; the outputs that encode
// themselves (audit.JSONAppender) do so without reflection.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var body []byte
	var err error
	if a, ok := v.(audit.JSONAppender); ok {
		body = a.AppendJSON(make([]byte, 0, 256))
	} else {
		body, err = json.Marshal(v)
	}
	if err != nil {
		// Only our own output types get here; a failure is a bug.
		status = http.StatusInternalServerError
		w.Header().Set("X-Amzn-ErrorType", "InternalFailure")
		body, _ = json.Marshal(errorBody{Type: "InternalFailure", Message: "An internal error occurred."})
	}
	w.Header().Set("Content-Type", ContentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// unknownOperation is PCA's answer to a target it does not have.
func unknownOperation(format string, args ...any) *awserr.Error {
	return awserr.New("UnknownOperationException", http.StatusBadRequest, "The requested operation is not supported by iamra's ACM Private CA API.").
		Because(restjson.ReasonUnknownRoute, format, args...)
}

func (h *Handler) requestID() string {
	id, err := newUUID(h.cfg.Rand)
	if err != nil {
		// A request id is for correlation only; never fail a request for
		// want of one.
		return fmt.Sprintf("%x", h.cfg.Now().UnixNano())
	}
	return id
}

func newUUID(rnd io.Reader) (string, error) {
	u, err := uuid.NewRandomFromReader(rnd)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// auditEvent builds the CloudTrail-shaped record of a write.
func (h *Handler) auditEvent(r *http.Request, name string, c *call, out any, err error) audit.Event {
	caller := restjson.Caller(r.Context())
	ip, _, splitErr := net.SplitHostPort(r.RemoteAddr)
	if splitErr != nil {
		ip = r.RemoteAddr
	}
	idType := "Unknown"
	if a, perr := arn.Parse(caller); perr == nil && a.ResourceType() == "user" {
		idType = "IAMUser"
	}
	ev := audit.Event{
		EventTime:          h.cfg.Now(),
		EventSource:        EventSource,
		EventName:          name,
		AWSRegion:          h.cfg.Scope.Region,
		SourceIPAddress:    ip,
		UserAgent:          r.UserAgent(),
		UserIdentity:       audit.Identity{Type: idType, Arn: caller, AccountID: h.cfg.Scope.AccountID},
		RequestID:          restjson.RequestID(r.Context()),
		RecipientAccountID: h.cfg.Scope.AccountID,
	}
	if len(c.params) > 0 {
		ev.RequestParameters = c.params
	}
	if err != nil {
		e := awserr.As(err)
		ev.ErrorCode, ev.ErrorMessage = e.Code, e.Message
		ev.AdditionalEventData = map[string]any{"reason": e.Reason, "detail": e.Detail}
	} else if out != nil {
		ev.ResponseElements = out
	}
	return ev
}
