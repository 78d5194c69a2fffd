package query

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/iamra/iamra/api/restjson"
	"github.com/iamra/iamra/awserr"
)

// Service describes one Query API: its XML namespace and version.
type Service struct {
	Name      string // signing name: "iam", "sts"
	Namespace string
	Version   string
	// JSON lets clients that send Accept: application/json have JSON
	// answers, as STS does.
	JSON bool
}

// The two Query APIs iamra serves.
var (
	IAM = Service{Name: "iam", Namespace: "https://iam.amazonaws.com/doc/2010-05-08/", Version: "2010-05-08"}
	STS = Service{Name: "sts", Namespace: "https://sts.amazonaws.com/doc/2011-06-15/", Version: "2011-06-15", JSON: true}
)

// HeaderRequestID carries the request id on every response.
const HeaderRequestID = restjson.HeaderRequestID

// EnsureRequestID gives the request an id (the server's middleware
// usually has) and sets the response header; rnd feeds new ids
// (crypto/rand when nil).
func EnsureRequestID(w http.ResponseWriter, r *http.Request, rnd io.Reader) *http.Request {
	if rnd == nil {
		rnd = rand.Reader
	}
	return restjson.EnsureRequestID(w, r, func() string {
		id, err := uuid.NewRandomFromReader(rnd)
		if err != nil {
			return uuid.NewString()
		}
		return id.String()
	})
}

// ReadBody reads the request body, at most limit bytes.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, awserr.New("RequestEntityTooLarge", http.StatusRequestEntityTooLarge,
			fmt.Sprintf("Request body exceeds %d bytes.", limit)).Because("query.body_too_large", "body over %d bytes: %v", limit, err)
	}
	return b, nil
}

// CheckAction returns the operation a form names, or the error AWS sends
// for a missing action, a wrong version, or (when known reports false)
// an operation the service does not have.
func (s Service) CheckAction(f Form, known func(action string) bool) (string, error) {
	a := f.Action()
	if a == "" {
		return "", awserr.New("MissingAction", http.StatusBadRequest, "Missing Action").
			Because("query.missing_action", "request has no Action parameter")
	}
	v := f.Get("Version")
	if (v != "" && v != s.Version) || !known(a) {
		if v == "" {
			v = s.Version
		}
		return "", awserr.New("InvalidAction", http.StatusBadRequest,
			fmt.Sprintf("Could not find operation %s for version %s", a, v)).
			Because("query.unknown_action", "%s API has no operation %q in version %q", s.Name, a, v)
	}
	return a, nil
}

// WantsJSON reports whether the client asked for JSON (STS only).
func (s Service) WantsJSON(r *http.Request) bool {
	if !s.JSON {
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}

type responseMetadata struct {
	RequestID string `xml:"RequestId" json:"RequestId"`
}

// WriteResult sends a successful answer: <ActionResponse> holding
// <ActionResult> (omitted when result is nil) and ResponseMetadata, or
// the same nesting in JSON. Result types tag their fields for both
// encodings and use List for lists and Time for timestamps.
func (s Service) WriteResult(w http.ResponseWriter, r *http.Request, action string, result any) {
	id := restjson.RequestID(r.Context())
	var body []byte
	var err error
	if s.WantsJSON(r) {
		body, err = s.resultJSON(action, result, id)
	} else {
		body, err = s.resultXML(action, result, id)
	}
	if err != nil {
		s.WriteError(w, r, awserr.Internal(fmt.Sprintf("encode %s result: %v", action, err)))
		return
	}
	s.write(w, r, http.StatusOK, body)
}

func (s Service) resultXML(action string, result any, id string) ([]byte, error) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	start := xml.StartElement{Name: xml.Name{Space: s.Namespace, Local: action + "Response"}}
	if err := enc.EncodeToken(start); err != nil {
		return nil, err
	}
	if result != nil {
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return nil, err
		}
	}
	if err := enc.EncodeElement(responseMetadata{RequestID: id}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return nil, err
	}
	if err := enc.EncodeToken(start.End()); err != nil {
		return nil, err
	}
	if err := enc.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s Service) resultJSON(action string, result any, id string) ([]byte, error) {
	inner := map[string]any{"ResponseMetadata": responseMetadata{RequestID: id}}
	if result != nil {
		inner[action+"Result"] = result
	}
	return marshalJSON(map[string]any{action + "Response": inner})
}

func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type errorDetail struct {
	Type    string `xml:"Type" json:"Type"`
	Code    string `xml:"Code" json:"Code"`
	Message string `xml:"Message" json:"Message"`
}

type errorResponse struct {
	XMLName   xml.Name    `xml:"ErrorResponse" json:"-"`
	Xmlns     string      `xml:"xmlns,attr" json:"-"`
	Error     errorDetail `xml:"Error" json:"Error"`
	RequestID string      `xml:"RequestId" json:"RequestId"`
}

// WriteError sends err in the Query error envelope:
//
//	<ErrorResponse xmlns="…"><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>
//
// (JSON {"Error":{…},"RequestId":…} when the client asked for JSON).
// Errors that are not *awserr.Error become a 500 InternalFailure whose
// text stays with the operator.
func (s Service) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := awserr.As(err)
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	env := errorResponse{Xmlns: s.Namespace, Error: errorDetail{Type: typ, Code: e.Code, Message: e.Message},
		RequestID: restjson.RequestID(r.Context())}
	var body []byte
	if s.WantsJSON(r) {
		body, err = marshalJSON(env)
	} else {
		body, err = xml.Marshal(env)
	}
	if err != nil { // only our own types get here; cannot fail
		body = []byte("<ErrorResponse/>")
	}
	s.write(w, r, e.Status, body)
}

func (s Service) write(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	h := w.Header()
	if id := restjson.RequestID(r.Context()); id != "" {
		h.Set(HeaderRequestID, id)
	}
	if s.WantsJSON(r) {
		h.Set("Content-Type", "application/json")
	} else {
		h.Set("Content-Type", "text/xml")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// List is a list member of a result: <Name><member>…</member>…</Name> in
// XML (present even when empty, as AWS sends it), an array in JSON.
type List[T any] []T

// MarshalXML writes each element as <member>.
func (l List[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, v := range l {
		if err := e.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: "member"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// MarshalJSON writes an array, [] for an empty list.
func (l List[T]) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]T(l))
}

// Time is a timestamp as IAM and STS write them: ISO 8601 UTC with second
// precision, 2024-01-02T15:04:05Z.
type Time time.Time

// TimeFormat is the layout of Time.
const TimeFormat = "2006-01-02T15:04:05Z"

// MarshalText formats the time.
func (t Time) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format(TimeFormat)), nil
}

// EncodeDocument URL-encodes a policy document the way IAM returns them
// (GetRolePolicy, GetRole's AssumeRolePolicyDocument): RFC 3986 percent
// encoding with %20 for spaces, which botocore and the AWS CLI decode
// with urllib's unquote.
func EncodeDocument(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// ReadRequest checks the method (GET or POST), reads the body (at most
// limit bytes) and parses the form: the common start of every Query
// operation.
func (s Service) ReadRequest(w http.ResponseWriter, r *http.Request, limit int64) (Form, []byte, error) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return Form{}, nil, awserr.New("InvalidAction", http.StatusMethodNotAllowed, fmt.Sprintf("The %s API accepts GET and POST.", strings.ToUpper(s.Name))).
			Because("query.method", "method %s", r.Method)
	}
	body, err := ReadBody(w, r, limit)
	if err != nil {
		return Form{}, nil, err
	}
	f, err := Parse(r, body)
	return f, body, err
}
