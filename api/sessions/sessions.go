// Package sessions serves CreateSession (POST /sessions) over HTTP: it
// bounds the body, runs the createsession pipeline, writes the
// credentialSet AWS clients parse, and records every attempt in the audit
// log, the operator log and the metrics.
package sessions

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/audit"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/createsession"
)

// MaxBody bounds the request body. The official client sends ~60 bytes;
// 64 KiB leaves room for 50 instance properties of 200 characters.
const MaxBody = 64 << 10

// Observer receives the outcome of each call, for metrics.
type Observer func(outcome, reason string, d time.Duration)

// Handler serves CreateSession.
type Handler struct {
	Service *createsession.Service
	Audit   audit.Sink
	Log     *slog.Logger
	Observe Observer
	Region  string
	Account string
	Now     func() time.Time
}

// Response shapes (createsession.md §9). Every credentials field is always
// present: the official client dereferences all four.
type response struct {
	CredentialSet []credentialSetItem `json:"credentialSet"`
	SubjectArn    string              `json:"subjectArn"`
}

type credentialSetItem struct {
	AssumedRoleUser  assumedRoleUser `json:"assumedRoleUser"`
	Credentials      credentials     `json:"credentials"`
	PackedPolicySize int             `json:"packedPolicySize"`
	RoleArn          string          `json:"roleArn"`
	SourceIdentity   string          `json:"sourceIdentity"`
}

type assumedRoleUser struct {
	Arn           string `json:"arn"`
	AssumedRoleID string `json:"assumedRoleId"`
}

type credentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	Expiration      string `json:"expiration"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
}

// ExpirationLayout is RFC 3339 in UTC with second precision, which every
// known client parses (the official client uses time.RFC3339, Envoy a
// fixed format).
const ExpirationLayout = "2006-01-02T15:04:05Z"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	restjson.SetOperation(r.Context(), "CreateSession")
	body, err := readBody(r)
	var res *createsession.Result
	tr := &createsession.Trace{}
	if err == nil {
		res, tr, err = h.Service.CreateSession(r.Context(), r, body, sourceIP(r))
	}
	if err != nil {
		e := awserr.As(err)
		restjson.WriteError(w, r, e)
		h.record(r, tr, e, start)
		return
	}
	out := res.Session
	restjson.WriteJSON(w, http.StatusCreated, response{
		CredentialSet: []credentialSetItem{{
			AssumedRoleUser: assumedRoleUser{Arn: out.AssumedRoleArn, AssumedRoleID: out.AssumedRoleID},
			Credentials: credentials{
				AccessKeyID:     out.Credentials.AccessKeyID,
				Expiration:      out.Credentials.Expiration.UTC().Format(ExpirationLayout),
				SecretAccessKey: out.Credentials.SecretAccessKey,
				SessionToken:    out.Credentials.SessionToken,
			},
			PackedPolicySize: out.PackedPolicySize,
			RoleArn:          out.RoleArn,
			SourceIdentity:   out.SourceIdentity,
		}},
		SubjectArn: res.SubjectArn,
	})
	h.recordSuccess(r, tr, res, start)
}

func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxBody {
		return nil, restjson.TooLarge(MaxBody)
	}
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, restjson.TooLarge(MaxBody)
	}
	if err != nil {
		return nil, awserr.Validation("The request body could not be read.").Because("input.body_read", "%v", err)
	}
	return b, nil
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *Handler) event(r *http.Request, tr *createsession.Trace) audit.Event {
	id := audit.Identity{Type: "X509Certificate"}
	if tr.Leaf != nil {
		id.X509Subject = tr.Leaf.Subject.String()
		id.X509Issuer = tr.Leaf.Issuer.String()
		id.SerialNumber = tr.Serial()
	}
	params := map[string]any{}
	for k, v := range map[string]string{"trustAnchorArn": tr.TrustAnchorArn, "profileArn": tr.ProfileArn, "roleArn": tr.RoleArn, "roleSessionName": tr.Input.RoleSessionName} {
		if v != "" {
			params[k] = v
		}
	}
	if tr.Input.DurationSeconds != nil {
		params["durationSeconds"] = *tr.Input.DurationSeconds
	}
	return audit.Event{
		EventTime: h.Now(), EventSource: "rolesanywhere.amazonaws.com", EventName: "CreateSession",
		AWSRegion: h.Region, SourceIPAddress: sourceIP(r), UserAgent: r.UserAgent(), UserIdentity: id,
		RequestParameters: params, RequestID: restjson.RequestID(r.Context()), RecipientAccountID: h.Account,
	}
}

func (h *Handler) record(r *http.Request, tr *createsession.Trace, e *awserr.Error, start time.Time) {
	ev := h.event(r, tr)
	ev.ErrorCode, ev.ErrorMessage = e.Code, e.Message
	ev.AdditionalEventData = map[string]any{"reason": e.Reason, "detail": e.Detail}
	if tr.Algorithm != "" {
		ev.AdditionalEventData["signatureAlgorithm"] = tr.Algorithm
	}
	h.Audit.Record(ev)
	h.Log.Info("CreateSession refused", "requestId", ev.RequestID, "code", e.Code, "reason", e.Reason, "detail", e.Detail,
		"serial", tr.Serial(), "subject", ev.UserIdentity.X509Subject, "trustAnchorArn", tr.TrustAnchorArn,
		"profileArn", tr.ProfileArn, "roleArn", tr.RoleArn, "sourceIp", ev.SourceIPAddress)
	if h.Observe != nil {
		h.Observe("error", e.Reason, time.Since(start))
	}
}

func (h *Handler) recordSuccess(r *http.Request, tr *createsession.Trace, res *createsession.Result, start time.Time) {
	ev := h.event(r, tr)
	// Like CloudTrail, record who got what, never the secret or token.
	ev.ResponseElements = map[string]any{
		"assumedRoleUser": map[string]string{"arn": res.Session.AssumedRoleArn, "assumedRoleId": res.Session.AssumedRoleID},
		"accessKeyId":     res.Session.Credentials.AccessKeyID,
		"expiration":      res.Session.Credentials.Expiration.UTC().Format(ExpirationLayout),
		"sourceIdentity":  res.Session.SourceIdentity,
		"subjectArn":      res.SubjectArn,
	}
	ev.AdditionalEventData = map[string]any{"signatureAlgorithm": tr.Algorithm}
	h.Audit.Record(ev)
	if h.Log.Enabled(r.Context(), slog.LevelDebug) {
		h.Log.Debug("CreateSession", "requestId", ev.RequestID, "serial", tr.Serial(), "roleArn", tr.RoleArn,
			"accessKeyId", res.Session.Credentials.AccessKeyID)
	}
	if h.Observe != nil {
		h.Observe("success", "", time.Since(start))
	}
}
