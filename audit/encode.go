package audit

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The Writer encodes events itself rather than with json.Marshal, which
// reflects over Event and its interface-typed members on every record.
// The bytes are json.Marshal's, by the same rules: fields in declaration
// order, omitempty as encoding/json judges it, strings HTML-escaped,
// map keys sorted, time.Time as its MarshalJSON, json.RawMessage
// compacted and HTML-escaped. Values of other types are encoded by
// json.Marshal, whose output for a value inside the event is its output
// for the value alone; and whenever anything fails, the whole event is
// encoded by json.Marshal instead, so failures are its failures.
// TestAppendEvent and FuzzAppendEvent hold the encoder to json.Marshal.

// JSONAppender is implemented by values that append their own JSON
// encoding, which must be byte for byte what json.Marshal produces for
// the value. The Writer encodes such request parameters and response
// elements without reflection.
type JSONAppender interface {
	AppendJSON(dst []byte) []byte
}

// AppendJSONString appends s as json.Marshal encodes a string: quoted,
// with <, > and & escaped, invalid UTF-8 replaced by U+FFFD, and U+2028
// and U+2029 escaped.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if htmlSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// htmlSafe is encoding/json's htmlSafeSet: the ASCII bytes a string
// keeps as they are (not control characters, ", \, <, > or &).
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

// appendEvent appends e's JSON encoding, or reports false if it did not
// manage (the caller then uses json.Marshal).
func appendEvent(b []byte, e *Event) ([]byte, bool) {
	var ok bool
	b = append(b, `{"eventVersion":`...)
	b = AppendJSONString(b, e.EventVersion)
	b = append(b, `,"eventTime":"`...)
	if b, ok = appendTime(b, e); !ok {
		return b, false
	}
	b = append(b, `","eventSource":`...)
	b = AppendJSONString(b, e.EventSource)
	b = append(b, `,"eventName":`...)
	b = AppendJSONString(b, e.EventName)
	b = append(b, `,"awsRegion":`...)
	b = AppendJSONString(b, e.AWSRegion)
	b = append(b, `,"sourceIPAddress":`...)
	b = AppendJSONString(b, e.SourceIPAddress)
	b = optionalString(b, `,"userAgent":`, e.UserAgent)
	id := &e.UserIdentity
	b = append(b, `,"userIdentity":{"type":`...)
	b = AppendJSONString(b, id.Type)
	b = optionalString(b, `,"principalId":`, id.PrincipalID)
	b = optionalString(b, `,"arn":`, id.Arn)
	b = optionalString(b, `,"accountId":`, id.AccountID)
	b = optionalString(b, `,"accessKeyId":`, id.AccessKeyID)
	b = optionalString(b, `,"x509Subject":`, id.X509Subject)
	b = optionalString(b, `,"x509Issuer":`, id.X509Issuer)
	b = optionalString(b, `,"serialNumber":`, id.SerialNumber)
	b = append(b, '}')
	if e.RequestParameters != nil {
		b = append(b, `,"requestParameters":`...)
		if b, ok = appendValue(b, e.RequestParameters, 0); !ok {
			return b, false
		}
	}
	if e.ResponseElements != nil {
		b = append(b, `,"responseElements":`...)
		if b, ok = appendValue(b, e.ResponseElements, 0); !ok {
			return b, false
		}
	}
	b = optionalString(b, `,"errorCode":`, e.ErrorCode)
	b = optionalString(b, `,"errorMessage":`, e.ErrorMessage)
	b = append(b, `,"requestID":`...)
	b = AppendJSONString(b, e.RequestID)
	b = optionalString(b, `,"eventID":`, e.EventID)
	b = append(b, `,"readOnly":`...)
	b = strconv.AppendBool(b, e.ReadOnly)
	b = append(b, `,"eventType":`...)
	b = AppendJSONString(b, e.EventType)
	b = optionalString(b, `,"recipientAccountId":`, e.RecipientAccountID)
	if len(e.AdditionalEventData) > 0 {
		b = append(b, `,"additionalEventData":`...)
		if b, ok = appendMap(b, e.AdditionalEventData, 0); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// appendTime appends the text of time.Time's MarshalJSON, within quotes
// the caller writes: RFC 3339, refused outside the years 0 to 9999.
func appendTime(b []byte, e *Event) ([]byte, bool) {
	b, err := e.EventTime.AppendText(b)
	return b, err == nil
}

func optionalString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return AppendJSONString(append(b, key...), s)
}

// maxDepth bounds the nesting appendValue follows itself; deeper values
// go to json.Marshal.
const maxDepth = 32

// appendValue appends the JSON encoding of v, a value in an interface.
func appendValue(b []byte, v any, depth int) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return AppendJSONString(b, x), true
	case bool:
		return strconv.AppendBool(b, x), true
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case int32:
		return strconv.AppendInt(b, int64(x), 10), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case json.RawMessage:
		return appendRaw(b, x)
	case map[string]string:
		return appendStringMap(b, x), true
	case map[string]any:
		if depth < maxDepth {
			return appendMap(b, x, depth+1)
		}
	case JSONAppender:
		return x.AppendJSON(b), true
	}
	out, err := json.Marshal(v)
	if err != nil {
		return b, false
	}
	return append(b, out...), true
}

// appendRaw appends a json.RawMessage as encoding/json does: a nil one is
// null, and the text is validated, compacted and HTML-escaped. What
// appendCompactJSON declines (invalid, or nested deeper than it follows)
// fails the event, which then goes to json.Marshal whole.
func appendRaw(b []byte, raw json.RawMessage) ([]byte, bool) {
	if raw == nil {
		return append(b, "null"...), true
	}
	return appendCompactJSON(b, raw)
}

// keys returns m's keys sorted, as encoding/json orders them.
func keys[V any](m map[string]V, scratch []string) []string {
	ks := scratch[:0]
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func appendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	var scratch [8]string
	b = append(b, '{')
	for i, k := range keys(m, scratch[:]) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(AppendJSONString(b, k), ':')
		b = AppendJSONString(b, m[k])
	}
	return append(b, '}')
}

func appendMap(b []byte, m map[string]any, depth int) ([]byte, bool) {
	if m == nil {
		return append(b, "null"...), true
	}
	var scratch [8]string
	var ok bool
	b = append(b, '{')
	for i, k := range keys(m, scratch[:]) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(AppendJSONString(b, k), ':')
		if b, ok = appendValue(b, m[k], depth); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}
