package iam

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/iamra/iamra/awserr"
)

// IAM's error codes.
func noSuchEntity(reason, msg string) *awserr.Error {
	return awserr.New("NoSuchEntity", http.StatusNotFound, msg).Because(reason, "%s", msg)
}

func entityExists(reason, msg string) *awserr.Error {
	return awserr.New("EntityAlreadyExists", http.StatusConflict, msg).Because(reason, "%s", msg)
}

func deleteConflict(msg, format string, args ...any) *awserr.Error {
	return awserr.New("DeleteConflict", http.StatusConflict, msg).Because("iam.delete_conflict", format, args...)
}

func limitExceeded(msg, format string, args ...any) *awserr.Error {
	return awserr.New("LimitExceeded", http.StatusConflict, msg).Because("iam.limit_exceeded", format, args...)
}

func invalidInput(msg string) *awserr.Error {
	return awserr.New("InvalidInput", http.StatusBadRequest, msg).Because("iam.invalid_input", "%s", msg)
}

func noSuchRole(name string) *awserr.Error {
	return noSuchEntity("iam.role_not_found", fmt.Sprintf("The role with name %s cannot be found.", name))
}

func noSuchPolicy(arn string) *awserr.Error {
	return noSuchEntity("iam.policy_not_found", fmt.Sprintf("Policy %s does not exist or is not attachable.", arn))
}

// validationError is IAM's ValidationError (Coral's words, IAM's code).
func validationError(vs ...awserr.Violation) *awserr.Error {
	e := awserr.Violations(vs...)
	if e != nil {
		e.Code = "ValidationError"
	}
	return e
}

// checker collects constraint violations in field order, as Coral
// reports them all at once.
type checker struct{ vs []awserr.Violation }

func (c *checker) add(value, field, constraint string) {
	c.vs = append(c.vs, awserr.Violation{Value: value, Field: field, Constraint: constraint})
}

func (c *checker) err() error {
	if e := validationError(c.vs...); e != nil {
		return e
	}
	return nil
}

// length checks a string's length in characters; min 0 skips the lower
// bound.
func (c *checker) length(value, field string, min, max int) bool {
	n := utf8.RuneCountInString(value)
	switch {
	case n < min:
		c.add(value, field, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	case n > max:
		c.add(value, field, fmt.Sprintf("Member must have length less than or equal to %d", max))
	default:
		return true
	}
	return false
}

func (c *checker) pattern(value, field string, re *regexp.Regexp, shown string) {
	if !re.MatchString(value) {
		c.add(value, field, "Member must satisfy regular expression pattern: "+shown)
	}
}

func (c *checker) required(present bool, field string) bool {
	if !present {
		c.vs = append(c.vs, awserr.Violation{Null: true, Field: field, Constraint: "Member must not be null"})
	}
	return present
}

func (c *checker) between(value int64, field string, min, max int64) {
	switch {
	case value < min:
		c.add(fmt.Sprint(value), field, fmt.Sprintf("Member must have value greater than or equal to %d", min))
	case value > max:
		c.add(fmt.Sprint(value), field, fmt.Sprintf("Member must have value less than or equal to %d", max))
	}
}

// Patterns from the IAM API model.
var (
	namePattern        = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathPattern        = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
	pathPrefixPattern  = regexp.MustCompile(`^/[\x21-\x7F]*$`)
	descriptionPattern = regexp.MustCompile(`^[\t\n\r\x20-\x7E\x{A1}-\x{FF}]*$`)
	tagKeyPattern      = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValuePattern    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	documentPattern    = regexp.MustCompile(`^[\x{09}\x{0A}\x{0D}\x{20}-\x{FF}\x{100}-\x{10FFFF}]+$`)
	versionIDPattern   = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)
)

const (
	shownName        = `[\w+=,.@-]+`
	shownPath        = `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`
	shownPathPrefix  = `\u002F[\u0021-\u007F]*`
	shownDescription = `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`
	shownTagKey      = `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`
	shownTagValue    = `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`
	shownDocument    = `[\u0009\u000A\u000D\u0020-\u00FF]+`
)

func (c *checker) name(value, field string, max int) {
	if c.length(value, field, 1, max) {
		c.pattern(value, field, namePattern, shownName)
	}
}

// path checks a role or policy path; "" (absent) is fine.
func (c *checker) path(value, field string) {
	if value == "" {
		return
	}
	if c.length(value, field, 1, 512) {
		c.pattern(value, field, pathPattern, shownPath)
	}
}

func (c *checker) pathPrefix(value, field string) {
	if value == "" {
		return
	}
	if c.length(value, field, 1, 512) {
		c.pattern(value, field, pathPrefixPattern, shownPathPrefix)
	}
}

func (c *checker) description(value, field string) {
	if c.length(value, field, 0, 1000) {
		c.pattern(value, field, descriptionPattern, shownDescription)
	}
}

func (c *checker) document(value, field string) {
	if c.length(value, field, 1, policyDocumentMaxChars) {
		c.pattern(value, field, documentPattern, shownDocument)
	}
}

// tags checks a tag list: each key and value, then the count and
// duplicates (IAM tag keys are case-insensitive).
func checkTags(tags []Tag, field string) error {
	var c checker
	for i, t := range tags {
		f := fmt.Sprintf("%s.%d.member.", field, i+1)
		if c.length(t.Key, f+"key", 1, 128) {
			c.pattern(t.Key, f+"key", tagKeyPattern, shownTagKey)
		}
		if c.length(t.Value, f+"value", 0, 256) {
			c.pattern(t.Value, f+"value", tagValuePattern, shownTagValue)
		}
	}
	if err := c.err(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, t := range tags {
		k := strings.ToLower(t.Key)
		if seen[k] {
			return invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
		if strings.HasPrefix(k, "aws:") {
			return invalidInput("User-defined tag keys can't start with the prefix aws:.")
		}
	}
	return nil
}

// policySize counts a document's characters the way IAM quotas do:
// whitespace does not count.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// Markers are opaque to clients; inside they hold the key to resume after.
func encodeMarker(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func decodeMarker(m string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || len(b) == 0 {
		return "", awserr.New("ValidationError", http.StatusBadRequest, "Invalid Marker.").
			Because("iam.invalid_marker", "marker %q was not issued by this server", m)
	}
	return string(b), nil
}

// paginate returns the page of items (sorted by key) after marker.
func paginate[T any](items []T, key func(T) string, marker string, maxItems int) (Page[T], error) {
	start := 0
	if marker != "" {
		after, err := decodeMarker(marker)
		if err != nil {
			return Page[T]{}, err
		}
		for start < len(items) && key(items[start]) <= after {
			start++
		}
	}
	if maxItems <= 0 {
		maxItems = DefaultMaxItems
	}
	end := min(start+maxItems, len(items))
	p := Page[T]{Items: items[start:end]}
	if end < len(items) {
		p.IsTruncated = true
		p.Marker = encodeMarker(key(items[end-1]))
	}
	return p, nil
}

// CheckMaxItems validates a MaxItems parameter (1..1000).
func CheckMaxItems(n int64) error {
	var c checker
	c.between(n, "maxItems", 1, MaxMaxItems)
	return c.err()
}
