package credserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// IMDSv2 header names (canonical forms; matching is case-insensitive).
const (
	imdsTokenHeader = "X-Aws-Ec2-Metadata-Token"
	imdsTTLHeader   = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	maxTokenTTL     = 21600 // seconds, as EC2
)

// imdsError is the body of IMDS error responses; the field names follow the
// credential document's Code/Message.
type imdsError struct {
	Code    string
	Message string
}

func imdsErr(code, msg string) any { return imdsError{Code: code, Message: msg} }

// imdsCredentials is the credential document, fields in EC2's order.
type imdsCredentials struct {
	Code            string
	LastUpdated     string
	Type            string
	AccessKeyId     string
	SecretAccessKey string
	Token           string
	Expiration      string
}

// imdsToken answers PUT /latest/api/token.
func (s *Server) imdsToken(w *response, r *http.Request) {
	if s.route(w, r, imdsErr) == nil || refuseForwarded(w, r) {
		return
	}
	v := r.Header.Get(imdsTTLHeader)
	ttl, err := strconv.Atoi(v)
	if err != nil || ttl < 1 || ttl > maxTokenTTL {
		msg := fmt.Sprintf("invalid token TTL %q: %s must be a whole number of seconds from 1 to %d", v, imdsTTLHeader, maxTokenTTL)
		if v == "" {
			msg = fmt.Sprintf("missing token TTL: send %s with a whole number of seconds from 1 to %d", imdsTTLHeader, maxTokenTTL)
		}
		w.json(http.StatusBadRequest, imdsErr("InvalidTokenTTL", msg))
		return
	}
	tok, err := s.tokens.issue(s.now(), ttl, s.rand)
	if err != nil {
		s.log.Error("issuing IMDS token", "error", err)
		w.json(http.StatusInternalServerError, imdsErr("InternalError", "could not issue a token"))
		return
	}
	w.Header().Set(imdsTTLHeader, strconv.Itoa(ttl))
	w.text(http.StatusOK, tok)
}

// imdsAuth resolves the route and checks the session token, answering
// itself when the request must stop. It sets the TTL header, as EC2 does on
// every response to a token-bearing request.
func (s *Server) imdsAuth(w *response, r *http.Request) *route {
	rt := s.route(w, r, imdsErr)
	if rt == nil || refuseForwarded(w, r) {
		return nil
	}
	tok := r.Header.Get(imdsTokenHeader)
	if tok == "" {
		w.json(http.StatusUnauthorized, imdsErr("MissingToken", "no token provided: PUT /latest/api/token first and send it in "+imdsTokenHeader))
		return nil
	}
	left, ok := s.tokens.verify(tok, s.now())
	if !ok {
		w.json(http.StatusUnauthorized, imdsErr("InvalidToken", "invalid or expired token provided"))
		return nil
	}
	w.Header().Set(imdsTTLHeader, strconv.Itoa(left))
	return rt
}

// refuseForwarded rejects proxied requests: a proxy (or an SSRF through
// one) is not the local workload IMDS is for.
func refuseForwarded(w *response, r *http.Request) bool {
	if _, ok := r.Header["X-Forwarded-For"]; !ok {
		return false
	}
	w.json(http.StatusBadRequest, imdsErr("Forwarded", "unable to process requests with X-Forwarded-For header"))
	return true
}

func (s *Server) imdsRoles(w *response, r *http.Request) {
	if rt := s.imdsAuth(w, r); rt != nil {
		w.text(http.StatusOK, rt.roleName)
	}
}

func (s *Server) imdsRegion(w *response, r *http.Request) {
	if s.imdsAuth(w, r) == nil {
		return
	}
	if s.region == "" {
		w.json(http.StatusNotFound, imdsErr("NotFound", "no region configured"))
		return
	}
	w.text(http.StatusOK, s.region)
}

func (s *Server) imdsCredentials(w *response, r *http.Request) {
	rt := s.imdsAuth(w, r)
	if rt == nil {
		return
	}
	if name := r.PathValue("role"); name != rt.roleName {
		w.json(http.StatusNotFound, imdsErr("NotFound", fmt.Sprintf("no role named %q here; this endpoint serves %q", name, rt.roleName)))
		return
	}
	cr, err := rt.cache.Get(r.Context())
	if err != nil {
		w.json(http.StatusServiceUnavailable, imdsErr("CredentialsUnavailable", err.Error()))
		return
	}
	w.json(http.StatusOK, imdsCredentials{
		Code:            "Success",
		LastUpdated:     wireTime(cr.LastUpdated),
		Type:            "AWS-HMAC",
		AccessKeyId:     cr.AccessKeyID,
		SecretAccessKey: cr.SecretAccessKey,
		Token:           cr.SessionToken,
		Expiration:      wireTime(cr.Expiration),
	})
}

// wireTime formats t as EC2 and ECS do: UTC, whole seconds.
func wireTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// tokenSigner issues stateless IMDS session tokens: expiry, nonce and an
// HMAC under a per-process key. Unlike the official helper's global token
// map, nothing is stored, capped or purged, and a restart simply makes old
// tokens invalid (SDKs then fetch a new one on the 401).
type tokenSigner struct{ key []byte }

const (
	tokenExpLen   = 8
	tokenNonceLen = 8
	tokenRawLen   = tokenExpLen + tokenNonceLen + sha256.Size
)

var tokenEncoding = base64.RawURLEncoding

func newTokenSigner(rnd io.Reader) (*tokenSigner, error) {
	key := make([]byte, 32)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return nil, fmt.Errorf("credserver: generating the IMDS token key: %w", err)
	}
	return &tokenSigner{key: key}, nil
}

// issue returns a token valid for ttl seconds from now.
func (t *tokenSigner) issue(now time.Time, ttl int, rnd io.Reader) (string, error) {
	b := make([]byte, tokenExpLen+tokenNonceLen, tokenRawLen)
	binary.BigEndian.PutUint64(b, uint64(now.Unix()+int64(ttl)))
	if _, err := io.ReadFull(rnd, b[tokenExpLen:]); err != nil {
		return "", err
	}
	return tokenEncoding.EncodeToString(t.mac(b, b)), nil
}

// mac appends the MAC of msg (expiry and nonce) to dst.
func (t *tokenSigner) mac(dst, msg []byte) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write(msg)
	return m.Sum(dst)
}

// verify reports whether tok is genuine and unexpired, and its remaining
// lifetime in whole seconds.
func (t *tokenSigner) verify(tok string, now time.Time) (left int, ok bool) {
	if len(tok) != tokenEncoding.EncodedLen(tokenRawLen) {
		return 0, false
	}
	var raw [tokenRawLen]byte
	if n, err := tokenEncoding.Decode(raw[:], []byte(tok)); err != nil || n != tokenRawLen {
		return 0, false
	}
	signed := tokenExpLen + tokenNonceLen
	if !hmac.Equal(t.mac(nil, raw[:signed]), raw[signed:]) {
		return 0, false
	}
	exp := int64(binary.BigEndian.Uint64(raw[:tokenExpLen]))
	left64 := exp - now.Unix()
	if left64 <= 0 {
		return 0, false
	}
	return int(left64), true
}
