package restjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"

	"github.com/iamra/iamra/awserr"
)

// Serialization is the error for a body or parameter that cannot be read
// as the operation's input shape.
func Serialization(reason, format string, args ...any) *awserr.Error {
	msg := fmt.Sprintf(format, args...)
	return awserr.New("SerializationException", http.StatusBadRequest, msg).Because(reason, "%s", msg)
}

// TooLarge is the error for a request body over the operation's limit.
func TooLarge(limit int64) *awserr.Error {
	return awserr.New("RequestEntityTooLargeException", http.StatusRequestEntityTooLarge, "Request entity too large").
		Because(ReasonTooLarge, "the request body exceeds %d bytes", limit)
}

// DecodeBody reads r's body, at most limit bytes, into v, which must point
// to a struct. See the package documentation for what is tolerated.
func DecodeBody(r *http.Request, limit int64, v any) error {
	if r.Body == nil {
		return nil
	}
	data, err := ReadBody(r.Body, r.ContentLength, limit)
	if err != nil {
		return Serialization(ReasonBodyRead, "The request body could not be read")
	}
	if int64(len(data)) > limit {
		return TooLarge(limit)
	}
	return Unmarshal(data, v)
}

// ReadBody is io.ReadAll(io.LimitReader(body, limit+1)) — the same bytes
// and error — with the buffer sized from the declared Content-Length
// (negative: none) rather than grown through io.ReadAll's chunks and
// copied once more. A body longer than declared still reads whole, up to
// the limit; one longer than limit reads limit+1 bytes, for the caller to
// refuse.
func ReadBody(body io.Reader, declared, limit int64) ([]byte, error) {
	lr := &io.LimitedReader{R: body, N: limit + 1}
	if declared < 0 || declared > limit {
		return io.ReadAll(lr)
	}
	b := make([]byte, 0, declared+1) // +1: room to read the end
	for {
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// Unmarshal decodes one JSON document into v with DecodeBody's rules. It
// is separate so fuzzers and in-process callers can use it on bytes.
//
// Its result — the error and what is left in v, which callers record even
// when decoding fails — is unmarshalStream's, the definition, by
// construction: json.Unmarshal checks that data is exactly one JSON value
// and whitespace before it touches v, and then decodes it as the stream
// decoder would, after which the stream finds only whitespace. So when
// json.Unmarshal succeeds, or fails on valid JSON (a type or base64 error,
// after the same partial decoding), the result is the same; when data is
// not valid JSON, v is untouched and unmarshalStream words the error
// (a syntax error, the end of input, or data after the document, in the
// order the stream meets them). json.Unmarshal saves the stream decoder's
// copy of the body and its buffer growth.
func Unmarshal(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	err := json.Unmarshal(data, v)
	switch {
	case err == nil:
		return nil
	case json.Valid(data):
		return decodeError(err)
	default:
		return unmarshalStream(data, v)
	}
}

// unmarshalStream is Unmarshal by its definition: the first JSON value of
// data decoded into v, and nothing but whitespace after it. data is not
// all whitespace.
func unmarshalStream(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Serialization(ReasonJSONTrailing, "Unexpected data after the JSON document")
	}
	return nil
}

// decodeError words a decoding failure in the model's terms. Go type names
// never reach the client.
func decodeError(err error) *awserr.Error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		at := typeErr.Field
		if at == "" {
			return Serialization(ReasonJSONType, "Expected a JSON object, found %s", typeErr.Value)
		}
		return Serialization(ReasonJSONType, "Unexpected %s at '%s': expected %s", typeErr.Value, at, shapeName(typeErr.Type))
	case errors.As(err, &syntaxErr):
		return Serialization(ReasonJSONSyntax, "Invalid JSON at offset %d: %s", syntaxErr.Offset, syntaxErr.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Serialization(ReasonJSONSyntax, "Invalid JSON: unexpected end of input")
	default:
		// encoding/base64 errors of blob members land here; their text
		// names no Go types.
		return Serialization(ReasonJSONValue, "Invalid JSON value: %s", err.Error())
	}
}

// shapeName names a Go type by the Smithy shape it stands for.
func shapeName(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 blob"
		}
		return "a list"
	case reflect.Map:
		return "a map"
	case reflect.Struct:
		return "a structure"
	default:
		return "a value"
	}
}
