package createsession

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"unicode/utf8"

	"github.com/iamra/iamra/awserr"
)

// Input is a CreateSession request's parameters, wherever they came from.
type Input struct {
	TrustAnchorArn     string
	ProfileArn         string
	RoleArn            string
	DurationSeconds    *int64
	RoleSessionName    string
	InstanceProperties map[string]string
}

// Patterns from the rolesanywhere API model.
var (
	trustAnchorArnPattern = newARNPattern("rolesanywhere", "trust-anchor")
	profileArnPattern     = newARNPattern("rolesanywhere", "profile")
	roleArnPattern        = newARNPattern("iam", "role")
)

const (
	minDuration = 900
	maxDuration = 43200
)

// body is the JSON body. Numbers are decoded as json.Number because some
// clients (Envoy) send integral durations as floats ("3600.0").
type body struct {
	DurationSeconds    *json.Number      `json:"durationSeconds"`
	RoleSessionName    *string           `json:"roleSessionName"`
	SessionName        *string           `json:"sessionName"` // deprecated, ignored as AWS does
	InstanceProperties map[string]string `json:"instanceProperties"`
	TrustAnchorArn     *string           `json:"trustAnchorArn"`
	ProfileArn         *string           `json:"profileArn"`
	RoleArn            *string           `json:"roleArn"`
}

// ParseInput reads the ARNs from the query string or the JSON body (the
// official helper uses the query, most other clients the body; both are
// accepted, and must agree when both are given) and validates every field
// with the constraints and messages of AWS's validation framework.
func ParseInput(query url.Values, raw []byte) (Input, error) {
	var b body
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&b); err != nil {
			return Input{}, awserr.Validation("The request body is not valid JSON.").Because("input.malformed_json", "decoding body: %v", err)
		}
		if dec.More() {
			return Input{}, awserr.Validation("The request body is not valid JSON.").Because("input.malformed_json", "trailing data after the JSON object")
		}
	}
	var in Input
	var vs []awserr.Violation
	var conflict []string
	pick := func(field string, fromBody *string, pattern arnPattern) string {
		q, inQuery := query[field]
		var v string
		switch {
		case inQuery && fromBody != nil:
			v = q[0]
			if *fromBody != q[0] || len(q) > 1 {
				conflict = append(conflict, field)
			}
		case inQuery:
			v = q[0]
			if len(q) > 1 {
				conflict = append(conflict, field)
			}
		case fromBody != nil:
			v = *fromBody
		default:
			vs = append(vs, awserr.Violation{Null: true, Field: field, Constraint: "Member must not be null"})
			return ""
		}
		if n := utf8.RuneCountInString(v); n < 1 || n > 1011 {
			vs = append(vs, awserr.Violation{Value: v, Field: field, Constraint: "Member must have length between 1 and 1011"})
		} else if !pattern.MatchString(v) {
			vs = append(vs, awserr.Violation{Value: v, Field: field, Constraint: "Member must satisfy regular expression pattern: " + pattern.String()})
		}
		return v
	}
	in.ProfileArn = pick("profileArn", b.ProfileArn, profileArnPattern)
	in.RoleArn = pick("roleArn", b.RoleArn, roleArnPattern)
	in.TrustAnchorArn = pick("trustAnchorArn", b.TrustAnchorArn, trustAnchorArnPattern)
	if len(conflict) > 0 {
		return Input{}, awserr.Validation(fmt.Sprintf("Conflicting values for %v in the query string and the request body.", conflict)).
			Because("input.conflicting_parameters", "parameters %v were given twice with different values", conflict)
	}

	if b.DurationSeconds != nil {
		d, ok := integral(*b.DurationSeconds)
		switch {
		case !ok:
			vs = append(vs, awserr.Violation{Value: b.DurationSeconds.String(), Field: "durationSeconds", Constraint: "Member must be an integer"})
		case d < minDuration:
			vs = append(vs, awserr.Violation{Value: strconv.FormatInt(d, 10), Field: "durationSeconds", Constraint: "Member must have value greater than or equal to 900"})
		case d > maxDuration:
			vs = append(vs, awserr.Violation{Value: strconv.FormatInt(d, 10), Field: "durationSeconds", Constraint: "Member must have value less than or equal to 43200"})
		default:
			in.DurationSeconds = &d
		}
	}
	if b.RoleSessionName != nil {
		in.RoleSessionName = *b.RoleSessionName
	}
	if len(b.InstanceProperties) > 50 {
		vs = append(vs, awserr.Violation{Value: fmt.Sprint(len(b.InstanceProperties)) + " entries", Field: "instanceProperties", Constraint: "Member must have length less than or equal to 50"})
	}
	for k, v := range b.InstanceProperties {
		if n := utf8.RuneCountInString(k); n < 1 || n > 200 {
			vs = append(vs, awserr.Violation{Value: k, Field: "instanceProperties", Constraint: "Map keys must have length between 1 and 200"})
		}
		if n := utf8.RuneCountInString(v); n < 1 || n > 200 {
			vs = append(vs, awserr.Violation{Value: v, Field: "instanceProperties." + k, Constraint: "Member must have length between 1 and 200"})
		}
	}
	in.InstanceProperties = b.InstanceProperties
	if err := awserr.Violations(vs...); err != nil {
		return Input{}, err
	}
	return in, nil
}

// integral accepts 3600 and 3600.0, not 3600.5 or 1e400.
func integral(n json.Number) (int64, bool) {
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}
