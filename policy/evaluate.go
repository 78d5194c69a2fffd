package policy

import (
	"fmt"
	"strings"
)

// Request is one authorization question: may Principal perform Action on
// Resource, given the request context?
type Request struct {
	// Principal is the caller. Statements of identity and session policies
	// name no principal and ignore it.
	Principal Principal
	// Action is service:operation, e.g. "sts:AssumeRole"; matched
	// case-insensitively.
	Action string
	// Resource is the ARN acted on. Trust policies have no Resource
	// element and ignore it.
	Resource string
	// Context holds the condition keys with all their values. Keys are
	// looked up case-insensitively; values are compared as each operator
	// says. Time keys (aws:CurrentTime, aws:EpochTime) come from the
	// caller: the package reads no clock.
	Context map[string][]string
}

// Decision is the outcome of an evaluation.
type Decision struct {
	// Effect is Allow, Deny (an explicit deny) or ImplicitDeny.
	Effect Effect
	// Policy is the Name of the policy holding Statement ("" if unnamed).
	Policy string
	// Statement is the Sid, or "Statement[i]", of the statement that
	// decided. For an implicit deny it is the Allow statement that came
	// closest (its principal, action and resource matched but a condition
	// failed), or "" when none did.
	Statement string
	// Explanation says which statement decided and why, naming the
	// condition operator and key that failed or held, for audit records.
	Explanation string
}

// Allowed reports whether the decision allows the request.
func (d Decision) Allowed() bool { return d.Effect == Allow }

// Evaluate evaluates the request against this policy alone.
func (p *Policy) Evaluate(req Request) Decision {
	return Evaluate(req, p)
}

// Evaluate applies AWS's evaluation logic to a set of policies evaluated
// together (say a role's identity policies, or a trust policy): an
// explicit Deny in any statement wins; otherwise any Allow allows;
// otherwise the request is implicitly denied. Nil policies are skipped.
func Evaluate(req Request, policies ...*Policy) Decision {
	return evaluateSet(&req, policies).decision(&req)
}

// EvaluateSession decides a request made with role-session credentials:
// the session's permissions are the intersection of the role's identity
// policies and, when any session policy was passed to AssumeRole (a
// profile's inline sessionPolicy and managed policies), those session
// policies. An explicit Deny in either set wins; otherwise both sets must
// allow. Permissions granted directly to the session by resource-based
// policies are outside this function.
func EvaluateSession(req Request, identity []*Policy, session []*Policy) Decision {
	ir := evaluateSet(&req, identity)
	if ir.deny.s != nil {
		return ir.decision(&req)
	}
	if countPolicies(session) == 0 {
		return ir.decision(&req)
	}
	sr := evaluateSet(&req, session)
	if sr.deny.s != nil {
		return sr.decision(&req)
	}
	if ir.allow.s == nil {
		d := ir.decision(&req)
		d.Explanation = "identity policies: " + d.Explanation
		return d
	}
	if sr.allow.s == nil {
		d := sr.decision(&req)
		d.Explanation = fmt.Sprintf("%s allows it, but the session policies do not: %s", ir.allow.describe(), d.Explanation)
		return d
	}
	return Decision{Effect: Allow, Policy: ir.allow.p.Name, Statement: ir.allow.s.label(),
		Explanation: fmt.Sprintf("allowed by %s and by session policy %s", ir.allow.describe(), sr.allow.describe())}
}

func countPolicies(ps []*Policy) int {
	n := 0
	for _, p := range ps {
		if p != nil {
			n++
		}
	}
	return n
}

// hit is one statement of one policy.
type hit struct {
	p   *Policy
	s   *statement
	why string // for a deny: the conditions that held
}

func (h hit) describe() string {
	if h.p.Name != "" {
		return fmt.Sprintf("policy %q %s", h.p.Name, h.s.describe())
	}
	return h.s.describe()
}

// maxMisses bounds how many non-matching Allow statements an implicit
// deny explains.
const maxMisses = 8

type setResult struct {
	deny, allow hit
	near        hit      // the closest Allow that did not apply
	misses      []string // why each Allow statement did not apply
	moreMisses  int
	allows      int // Allow statements seen
}

// stage is how far a statement got before it stopped applying.
type stage int

const (
	stagePrincipal stage = iota
	stageAction
	stageResource
	stageCondition
	stageApplies
)

func evaluateSet(req *Request, policies []*Policy) setResult {
	var r setResult
	action := strings.ToLower(req.Action)
	for _, p := range policies {
		if p == nil {
			continue
		}
		for i := range p.statements {
			s := &p.statements[i]
			st, why := s.evaluate(req, action)
			switch {
			case st == stageApplies && s.effect == Deny:
				r.deny = hit{p: p, s: s, why: why}
				return r
			case s.effect == Deny:
			case st == stageApplies:
				r.allows++
				if r.allow.s == nil {
					r.allow = hit{p: p, s: s}
				}
			default:
				r.allows++
				if st == stageCondition && r.near.s == nil {
					r.near = hit{p: p, s: s}
				}
				if len(r.misses) < maxMisses {
					r.misses = append(r.misses, hit{p: p, s: s}.describe()+": "+why)
				} else {
					r.moreMisses++
				}
			}
		}
	}
	return r
}

func (r setResult) decision(req *Request) Decision {
	switch {
	case r.deny.s != nil:
		e := "explicitly denied by " + r.deny.describe()
		if r.deny.why != "" {
			e += ": " + r.deny.why
		}
		return Decision{Effect: Deny, Policy: r.deny.p.Name, Statement: r.deny.s.label(), Explanation: e}
	case r.allow.s != nil:
		return Decision{Effect: Allow, Policy: r.allow.p.Name, Statement: r.allow.s.label(),
			Explanation: "allowed by " + r.allow.describe()}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "no statement allows %s", req.Action)
	if req.Resource != "" {
		fmt.Fprintf(&b, " on %s", req.Resource)
	}
	fmt.Fprintf(&b, " for %s", req.Principal)
	switch {
	case r.allows == 0:
		b.WriteString(": there is no applicable Allow statement")
	default:
		b.WriteString(": ")
		b.WriteString(strings.Join(r.misses, "; "))
		if r.moreMisses > 0 {
			fmt.Fprintf(&b, "; and %d more", r.moreMisses)
		}
	}
	d := Decision{Effect: ImplicitDeny, Explanation: b.String()}
	if r.near.s != nil {
		d.Policy, d.Statement = r.near.p.Name, r.near.s.label()
	}
	return d
}

// evaluate reports how far the statement matches the request, with the
// reason it stops; for a statement that applies, the reason lists the
// conditions that held (used to explain explicit denials).
func (s *statement) evaluate(req *Request, action string) (stage, string) {
	if ok, why := s.matchPrincipal(req.Principal); !ok {
		return stagePrincipal, why
	}
	if ok, why := s.matchAction(req.Action, action); !ok {
		return stageAction, why
	}
	if ok, why := s.matchResource(req); !ok {
		return stageResource, why
	}
	var held []string
	for i := range s.conditions {
		c := &s.conditions[i]
		ok, why := c.evaluate(req.Context)
		if !ok {
			return stageCondition, why
		}
		if s.effect == Deny {
			held = append(held, c.op.name+" "+c.key)
		}
	}
	if len(held) > 0 {
		return stageApplies, "conditions held: " + strings.Join(held, ", ")
	}
	return stageApplies, ""
}

func (s *statement) matchAction(orig, lower string) (bool, string) {
	found := false
	for i := range s.actions {
		a := &s.actions[i]
		if a.wild && glob(a.parts, lower) || !a.wild && a.raw == lower {
			found = true
			break
		}
	}
	switch {
	case found && s.notAction:
		return false, fmt.Sprintf("action %s is excluded by NotAction", orig)
	case !found && !s.notAction:
		return false, fmt.Sprintf("action %s is not in Action", orig)
	}
	return true, ""
}

func (s *statement) matchResource(req *Request) (bool, string) {
	if s.resources == nil {
		return true, ""
	}
	found := false
	var unresolved string
	for i := range s.resources {
		parts, missing, ok := s.resources[i].resolve(req.Context)
		if !ok {
			if unresolved == "" {
				unresolved = missing
			}
			continue
		}
		if matchResource(parts, req.Resource) {
			found = true
			break
		}
	}
	var why string
	switch {
	case found && s.notResource:
		why = fmt.Sprintf("resource %s is excluded by NotResource", quote(req.Resource))
	case !found && !s.notResource:
		why = fmt.Sprintf("resource %s is not in Resource", quote(req.Resource))
	default:
		return true, ""
	}
	if unresolved != "" {
		why += fmt.Sprintf(" (${%s} has no value)", unresolved)
	}
	return false, why
}
