// Package audit writes one JSON line per API event, shaped like an AWS
// CloudTrail record, so tools that read CloudTrail (jq recipes, SIEM
// parsers) read iamra's audit log too.
//
// Every CreateSession (success or failure) and every control-plane write is
// recorded. Failures carry AWS's errorCode and errorMessage, as CloudTrail
// does, and additionally iamra's reason code and detail in
// additionalEventData, which is what makes a rejection explainable.
package audit

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Identity is CloudTrail's userIdentity. CreateSession callers have no IAM
// identity; they are identified by their certificate.
type Identity struct {
	Type        string `json:"type"` // "IAMUser", "AssumedRole", "X509Certificate", "Anonymous"
	PrincipalID string `json:"principalId,omitempty"`
	Arn         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	// Certificate identity, for CreateSession.
	X509Subject  string `json:"x509Subject,omitempty"`
	X509Issuer   string `json:"x509Issuer,omitempty"`
	SerialNumber string `json:"serialNumber,omitempty"` // lower-case hex
}

// Event is one audit record.
type Event struct {
	EventVersion        string         `json:"eventVersion"`
	EventTime           time.Time      `json:"eventTime"`
	EventSource         string         `json:"eventSource"` // "rolesanywhere.amazonaws.com"
	EventName           string         `json:"eventName"`   // "CreateSession", "CreateTrustAnchor"
	AWSRegion           string         `json:"awsRegion"`
	SourceIPAddress     string         `json:"sourceIPAddress"`
	UserAgent           string         `json:"userAgent,omitempty"`
	UserIdentity        Identity       `json:"userIdentity"`
	RequestParameters   any            `json:"requestParameters,omitempty"`
	ResponseElements    any            `json:"responseElements,omitempty"`
	ErrorCode           string         `json:"errorCode,omitempty"`
	ErrorMessage        string         `json:"errorMessage,omitempty"`
	RequestID           string         `json:"requestID"`
	EventID             string         `json:"eventID,omitempty"`
	ReadOnly            bool           `json:"readOnly"`
	EventType           string         `json:"eventType"` // "AwsApiCall"
	RecipientAccountID  string         `json:"recipientAccountId,omitempty"`
	AdditionalEventData map[string]any `json:"additionalEventData,omitempty"`
}

// Sink receives audit events.
type Sink interface {
	Record(Event)
}

// Writer writes events as JSON lines. It is safe for concurrent use and
// lines never interleave.
//
// A buffered Writer (NewBufferedWriter) collects lines in memory and
// writes them when Flush runs (Run calls it periodically) or the buffer
// passes bufferLimit, so a busy server makes one write system call per
// batch instead of one per CreateSession. The cost is that a crash loses at
// most one flush interval of audit lines; CloudTrail itself delivers
// minutes late.
type Writer struct {
	mu       sync.Mutex
	w        io.Writer
	buffered bool
	buf      []byte
	// OnError is told about write failures (the disk filling up must not
	// fail API calls, but must be visible).
	OnError func(error)
}

// bufferLimit triggers a write before the next flush.
const bufferLimit = 64 << 10

// NewWriter returns a Writer that writes each event at once.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// NewBufferedWriter returns a Writer that batches events until Flush.
func NewBufferedWriter(w io.Writer) *Writer { return &Writer{w: w, buffered: true} }

// Flush writes buffered events.
func (a *Writer) Flush() {
	a.mu.Lock()
	err := a.flushLocked()
	a.mu.Unlock()
	if err != nil {
		a.fail(err)
	}
}

func (a *Writer) flushLocked() error {
	if len(a.buf) == 0 {
		return nil
	}
	_, err := a.w.Write(a.buf)
	a.buf = a.buf[:0]
	return err
}

// Run flushes every interval until ctx ends, then once more.
func (a *Writer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			a.Flush()
			return
		case <-t.C:
			a.Flush()
		}
	}
}

// Record writes e. EventVersion and EventType get CloudTrail's defaults
// when empty.
func (a *Writer) Record(e Event) {
	if e.EventVersion == "" {
		e.EventVersion = "1.08"
	}
	if e.EventType == "" {
		e.EventType = "AwsApiCall"
	}
	e.EventTime = e.EventTime.UTC().Truncate(time.Second)
	scratch := lines.Get().(*[]byte)
	defer func() {
		if cap(*scratch) <= maxPooledLine {
			lines.Put(scratch)
		}
	}()
	line, err := encodeLine((*scratch)[:0], &e)
	*scratch = line
	if err != nil {
		a.fail(err)
		return
	}
	a.mu.Lock()
	if a.buffered {
		a.buf = append(a.buf, line...)
		if len(a.buf) >= bufferLimit {
			err = a.flushLocked()
		}
	} else {
		_, err = a.w.Write(line)
	}
	a.mu.Unlock()
	if err != nil {
		a.fail(err)
	}
}

// lines are scratch buffers for encoding lines; the Writer copies a line
// into its batch (or hands it to a Write that may not keep it) before the
// buffer is reused.
var lines = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledLine keeps a rare huge line's buffer out of the pool.
const maxPooledLine = 64 << 10

// encodeLine appends e's JSON line, newline included: json.Marshal's
// bytes (see encode.go), and json.Marshal's error if it fails.
func encodeLine(dst []byte, e *Event) ([]byte, error) {
	if b, ok := appendEvent(dst, e); ok {
		return append(b, '\n'), nil
	}
	ev := *e // a copy, so that e does not escape for the rare fallback
	b, err := json.Marshal(ev)
	if err != nil {
		return dst, err
	}
	return append(append(dst, b...), '\n'), nil
}

func (a *Writer) fail(err error) {
	if a.OnError != nil {
		a.OnError(err)
	}
}
