package createsession

import (
	"regexp"
	"strings"
)

// arnPattern is one of the model's ARN patterns, e.g.
// ^arn:aws(-[^:]+)?:rolesanywhere(:.*){2}(:trust-anchor.*)$. CreateSession
// checks three on every call, so they are matched by hand (the regexps
// cost a few percent of a session); FuzzARNPattern holds the hand
// matcher to the regexp.
type arnPattern struct {
	service  string // "rolesanywhere"
	resource string // "trust-anchor"
	re       *regexp.Regexp
}

func newARNPattern(service, resource string) arnPattern {
	return arnPattern{service: service, resource: resource,
		re: regexp.MustCompile(`^arn:aws(-[^:]+)?:` + service + `(:.*){2}(:` + resource + `.*)$`)}
}

func (p arnPattern) String() string { return p.re.String() }

// MatchString reports whether s matches the pattern.
func (p arnPattern) MatchString(s string) bool {
	rest, ok := strings.CutPrefix(s, "arn:aws")
	if !ok {
		return false
	}
	// (-[^:]+)? : a partition suffix without colons.
	if strings.HasPrefix(rest, "-") {
		i := strings.IndexByte(rest, ':')
		if i < 2 {
			return false
		}
		rest = rest[i:]
	}
	rest, ok = strings.CutPrefix(rest, ":"+p.service)
	if !ok {
		return false
	}
	// (:.*){2}(:resource.*)$ : rest = ":" X ":" Y ":resource" Z for any X, Y,
	// Z: a colon at 0, another colon before an occurrence of ":resource".
	// The regexp's "." does not match a newline.
	if !strings.HasPrefix(rest, ":") || strings.IndexByte(rest, '\n') >= 0 {
		return false
	}
	marker := ":" + p.resource
	for i := 1; i < len(rest); i++ {
		if rest[i] != ':' {
			continue
		}
		// rest[i] is the second colon; look for the marker after it.
		return strings.Contains(rest[i+1:], marker)
	}
	return false
}
