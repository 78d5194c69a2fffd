package acmpca

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/ca"
)

// CRLPathPrefix is where NewCRLHandler serves CRLs: the path part of the
// distribution point ca.Service writes (<CRLBaseURL>/crl/<ca-id>.crl).
const CRLPathPrefix = "/crl/"

// CRLHandler serves CA CRLs at their distribution point. Relying parties
// fetch CRLs without credentials (RFC 5280 §4.2.1.13), so it needs no
// authentication: a CRL is signed, public data.
type CRLHandler struct {
	svc *ca.Service
	now func() time.Time
	log *slog.Logger

	mu    sync.Mutex
	times map[string]crlTimes // by CA id: saves parsing the CRL per request
}

type crlTimes struct {
	sum                    [sha256.Size]byte
	thisUpdate, nextUpdate time.Time
	etag                   string
}

// NewCRLHandler returns the handler for GET and HEAD /crl/<ca-id>.crl.
// now defaults to time.Now and log to discarding.
func NewCRLHandler(svc *ca.Service, now func() time.Time, log *slog.Logger) *CRLHandler {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &CRLHandler{svc: svc, now: now, log: log, times: map[string]crlTimes{}}
}

// ServeHTTP sends the CA's current CRL in DER as application/pkix-crl,
// cacheable until its nextUpdate, with Last-Modified (thisUpdate) and an
// ETag so caches revalidate cheaply. Unknown CAs and CAs without a CRL yet
// are 404; errors are plain text, for curl and openssl rather than SDKs.
func (h *CRLHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, CRLPathPrefix)
	id, isCRL := strings.CutSuffix(name, ".crl")
	if !ok || !isCRL || id == "" || strings.ContainsAny(id, "/:~") || len(id) > 64 {
		http.Error(w, "not found: CRLs are at /crl/<ca-id>.crl", http.StatusNotFound)
		return
	}
	der, err := h.svc.CRLByID(r.Context(), id)
	if err != nil {
		e := awserr.As(err)
		switch e.Code {
		case ca.CodeResourceNotFound, ca.CodeInvalidArn, ca.CodeInvalidState:
			http.Error(w, "no CRL for certificate authority "+id, http.StatusNotFound)
		default:
			h.log.Error("acmpca: serving CRL", "ca_id", id, "code", e.Code, "reason", e.Reason, "detail", e.Detail)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
		return
	}
	t, err := h.crlTimes(id, der)
	if err != nil {
		h.log.Error("acmpca: stored CRL does not parse", "ca_id", id, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/pkix-crl")
	hd.Set("ETag", t.etag)
	maxAge := int64(t.nextUpdate.Sub(h.now()) / time.Second)
	if maxAge < 0 {
		maxAge = 0
	}
	hd.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", maxAge))
	hd.Set("Expires", t.nextUpdate.UTC().Format(http.TimeFormat))
	// ServeContent answers If-None-Match / If-Modified-Since with 304,
	// and HEAD and Range requests.
	http.ServeContent(w, r, "", t.thisUpdate, bytes.NewReader(der))
}

func (h *CRLHandler) crlTimes(id string, der []byte) (crlTimes, error) {
	sum := sha256.Sum256(der)
	h.mu.Lock()
	t, ok := h.times[id]
	h.mu.Unlock()
	if ok && t.sum == sum {
		return t, nil
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return crlTimes{}, err
	}
	if rl.NextUpdate.IsZero() {
		return crlTimes{}, errors.New("CRL without nextUpdate")
	}
	t = crlTimes{sum: sum, thisUpdate: rl.ThisUpdate, nextUpdate: rl.NextUpdate, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	h.mu.Lock()
	h.times[id] = t
	h.mu.Unlock()
	return t, nil
}
