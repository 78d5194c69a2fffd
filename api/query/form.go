// Package query is the HTTP plumbing shared by iamra's AWS Query protocol
// APIs (IAM 2010-05-08 and STS 2011-06-15): the form a request carries,
// with its member.N lists and structure lists (Tags.member.N.Key), and
// the responses AWS SDKs, botocore and the AWS CLI parse: XML results and
// error envelopes in the service's namespace with the request id in
// ResponseMetadata, and the JSON rendering STS gives GetCallerIdentity
// when asked with Accept: application/json (aws-iam-authenticator relies
// on it).
//
// # Request form
//
// A Query request is POST with an application/x-www-form-urlencoded body,
// or GET with the same parameters in the query string (presigned URLs).
// Parse merges both. A parameter that appears twice is refused: AWS's
// behaviour for it is undocumented and an ambiguous request must not be
// read one way by the signature check and another by the operation.
package query

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/iamra/iamra/awserr"
)

// Limits on what Parse and the list accessors accept. MaxMembers is above
// every list IAM and STS model (50 tags, 1,000 simulated actions).
const (
	MaxParams  = 10000
	MaxMembers = 1000
)

// Form is a request's parameters: name → value, each name once.
type Form struct {
	v map[string]string
}

// NewForm returns a form of the given values, for tests and for callers
// that assembled parameters themselves.
func NewForm(values map[string]string) Form {
	f := Form{v: make(map[string]string, len(values))}
	for k, v := range values {
		f.v[k] = v
	}
	return f
}

// Parse reads the parameters of a Query request: the URL query string and,
// for a form-encoded body, the body (which the caller has read, bounded).
func Parse(r *http.Request, body []byte) (Form, error) {
	f := Form{v: map[string]string{}}
	if err := f.add(r.URL.RawQuery, "query string"); err != nil {
		return Form{}, err
	}
	if len(body) > 0 {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			mt, _, err := mime.ParseMediaType(ct)
			if err != nil || mt != "application/x-www-form-urlencoded" {
				return Form{}, malformed("query.content_type", "The request body must be application/x-www-form-urlencoded.",
					"Content-Type %q", ct)
			}
		}
		if err := f.add(string(body), "body"); err != nil {
			return Form{}, err
		}
	}
	return f, nil
}

func (f *Form) add(raw, where string) error {
	if raw == "" {
		return nil
	}
	if n := strings.Count(raw, "&") + 1; len(f.v)+n > MaxParams {
		return malformed("query.too_many_params", fmt.Sprintf("The request has more than %d parameters.", MaxParams),
			"%s has %d parameters", where, n)
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return malformed("query.malformed", "The query string is malformed.", "%s: %v", where, err)
	}
	for k, vs := range vals {
		_, dup := f.v[k]
		if dup || len(vs) > 1 {
			return malformed("query.duplicate_param", fmt.Sprintf("The parameter %s appears more than once.", k),
				"%s repeats parameter %q", where, k)
		}
		f.v[k] = vs[0]
	}
	return nil
}

func malformed(reason, msg, format string, args ...any) *awserr.Error {
	return awserr.New("MalformedQueryString", http.StatusBadRequest, msg).Because(reason, format, args...)
}

// Get returns the value of name, "" when absent.
func (f Form) Get(name string) string { return f.v[name] }

// Has reports whether name was sent (possibly empty).
func (f Form) Has(name string) bool {
	_, ok := f.v[name]
	return ok
}

// Len is the number of parameters.
func (f Form) Len() int { return len(f.v) }

// Action is the operation the request names.
func (f Form) Action() string { return f.v["Action"] }

// Members returns the structures of the list named prefix: for
// prefix "Tags" the parameters Tags.member.N.Key and Tags.member.N.Value
// become, for each N in ascending order, a Form holding "Key" and
// "Value". A scalar list (TagKeys.member.N) yields Forms holding the
// value under "". "prefix" alone (botocore's encoding of an empty list) is
// an empty list. N must be a decimal number from 1 to MaxMembers, and
// each N must appear with the same structure members once.
func (f Form) Members(prefix string) ([]Form, error) {
	p := prefix + ".member."
	byN := map[int]Form{}
	for k, v := range f.v {
		rest, ok := strings.CutPrefix(k, p)
		if !ok {
			continue
		}
		num, sub, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || n > MaxMembers || num != strconv.Itoa(n) {
			return nil, Validation(awserr.Violation{Value: k, Field: prefix,
				Constraint: fmt.Sprintf("Member index must be a number from 1 to %d", MaxMembers)}).Because("query.bad_member_index",
				"parameter %q has member index %q", k, num)
		}
		m, ok := byN[n]
		if !ok {
			m = Form{v: map[string]string{}}
			byN[n] = m
		}
		m.v[sub] = v
	}
	ns := make([]int, 0, len(byN))
	for n := range byN {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	out := make([]Form, len(ns))
	for i, n := range ns {
		out[i] = byN[n]
	}
	return out, nil
}

// Strings returns the scalar list named prefix (prefix.member.N).
func (f Form) Strings(prefix string) ([]string, error) {
	ms, err := f.Members(prefix)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		v, ok := m.v[""]
		if !ok || len(m.v) != 1 {
			return nil, Validation(awserr.Violation{Value: prefix, Field: prefix,
				Constraint: "Member must be a list of strings"}).Because("query.bad_member", "list %s has structured members", prefix)
		}
		out = append(out, v)
	}
	return out, nil
}

// Int returns the integer value of name; ok is false when it is absent.
// A value that is not an integer is a ValidationError naming field.
func (f Form) Int(name, field string) (n int64, ok bool, err error) {
	s, ok := f.v[name]
	if !ok {
		return 0, false, nil
	}
	n, perr := strconv.ParseInt(s, 10, 64)
	if perr != nil {
		return 0, true, Validation(awserr.Violation{Value: s, Field: field, Constraint: "Member must be an integer"})
	}
	return n, true, nil
}

// Bool returns the boolean value of name ("true" or "false"); ok is false
// when it is absent.
func (f Form) Bool(name, field string) (b, ok bool, err error) {
	s, ok := f.v[name]
	if !ok {
		return false, false, nil
	}
	switch s {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, true, Validation(awserr.Violation{Value: s, Field: field, Constraint: "Member must be a boolean"})
}

// Validation is the ValidationError Query services send for failed
// constraints, in Coral's words; nil when vs is empty.
func Validation(vs ...awserr.Violation) *awserr.Error {
	e := awserr.Violations(vs...)
	if e == nil {
		return nil
	}
	e.Code = "ValidationError"
	return e
}

// Required is the ValidationError for missing required parameters.
func Required(fields ...string) *awserr.Error {
	vs := make([]awserr.Violation, len(fields))
	for i, f := range fields {
		vs[i] = awserr.Violation{Null: true, Field: f, Constraint: "Member must not be null"}
	}
	return Validation(vs...)
}

// Names lists the parameter names, sorted.
func (f Form) Names() []string {
	out := make([]string, 0, len(f.v))
	for k := range f.v {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
