package policy

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/iamra/iamra/awserr"
)

// fuzzRequest is the fixed request the fuzzers evaluate parsed policies
// against: CreateSession's internal AssumeRole.
func fuzzRequest() Request {
	return trustRequest(assumeRole, createSessionContext("node-1", "node-1", taARN))
}

// FuzzParse feeds arbitrary documents to Parse: it must return a policy
// or a MalformedPolicyDocument error, never panic, and any policy it
// returns must evaluate (twice, identically) without panicking.
func FuzzParse(f *testing.F) {
	for _, doc := range []string{eksHybridTrust, docStringLikeHome, docIfExists, docForAllValues, docNotPrincipalRole, docArnEquals, docIP, `{}`, `[`} {
		f.Add(doc, uint8(Trust))
		f.Add(doc, uint8(Identity))
	}
	f.Fuzz(func(t *testing.T, doc string, kind uint8) {
		k := Kind(kind % 4)
		p, err := Parse(doc, k)
		if err != nil {
			var e *awserr.Error
			if !errors.As(err, &e) || e.Code != MalformedPolicyDocument || e.Status != 400 || e.Message == "" {
				t.Fatalf("bad error %T %v", err, err)
			}
			return
		}
		req := fuzzRequest()
		req.Resource = "arn:aws:s3:::bucket/home/node-1/x"
		if a, b := p.Evaluate(req), p.Evaluate(req); a != b {
			t.Fatalf("nondeterministic: %+v vs %+v", a, b)
		}
		EvaluateSession(req, []*Policy{p}, []*Policy{p})
	})
}

// FuzzEvaluate parses a document as a trust policy and evaluates it
// against the fixed request with fuzzed certificate-derived values: the
// decision must be deterministic and explained.
func FuzzEvaluate(f *testing.F) {
	f.Add(eksHybridTrust, "node-1", "node-1", taARN)
	f.Add(eksHybridTrust, "node-1", "node-2", otherTA)
	f.Add(strings.ReplaceAll(raIssuerCN, "TRUST_ANCHOR_ARN", taARN), "Bob", "x", taARN)
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"sts:*","Condition":{"StringNotLike":{"aws:PrincipalTag/x509Subject/CN":"${aws:PrincipalTag/x509Issuer/CN, 'x'}*"}}}}`, "a*b", "ab", "")
	f.Fuzz(func(t *testing.T, doc, cn, sessionName, sourceArn string) {
		p, err := Parse(doc, Trust)
		if err != nil {
			return
		}
		req := fuzzRequest()
		req.Context = createSessionContext(cn, sessionName, sourceArn)
		d := p.Evaluate(req)
		if d != p.Evaluate(req) {
			t.Fatal("nondeterministic decision")
		}
		switch d.Effect {
		case Allow, Deny, ImplicitDeny:
		default:
			t.Fatalf("effect %q", d.Effect)
		}
		if d.Explanation == "" {
			t.Fatalf("unexplained decision %+v", d)
		}
	})
}

// reference builds the regular expression the matchers must agree with.
func reference(parts []part, resource bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	colons := 0
	for i, p := range parts {
		free := !resource || colons >= 5
		switch p.kind {
		case pLit:
			b.WriteString(regexp.QuoteMeta(p.text))
			colons += strings.Count(p.text, ":")
		case pOne:
			if free {
				b.WriteString(`.`)
			} else {
				b.WriteString(`[^:]`)
			}
		case pStar:
			if free || i == len(parts)-1 || parts[i+1].kind == pLit && strings.HasPrefix(parts[i+1].text, ":") {
				b.WriteString(`.*`)
			} else {
				b.WriteString(`[^:]*`)
			}
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String())
}

// FuzzMatch checks glob and matchResource against regular expressions.
func FuzzMatch(f *testing.F) {
	f.Add("arn:aws:s3:::b/*", "arn:aws:s3:::b/x:y")
	f.Add("arn:aws:sqs:*:1:q", "arn:aws:sqs:a:b:1:q")
	f.Add("a*b?c", "aXXbYc")
	f.Add("caf?", "café")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		// Policies come from JSON and are valid UTF-8; for invalid
		// request values only the absence of panics matters.
		if len(pattern) > 64 || len(s) > 256 || !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			glob(compileTmpl(pattern, true).parts, s)
			matchResource(compileTmpl(pattern, true).parts, s)
			return
		}
		tm := compileTmpl(pattern, false)
		if got, want := glob(tm.parts, s), reference(tm.parts, false).MatchString(s); got != want {
			t.Fatalf("glob(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
		if got, want := matchResource(tm.parts, s), reference(tm.parts, true).MatchString(s); got != want {
			t.Fatalf("matchResource(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}
