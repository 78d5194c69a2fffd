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

// evaluateSet finds the deciding statement. Explanations of statements
// that do not apply are only needed for an implicit deny, so a first pass
// builds none and, when nothing applies, a second pass explains.
func evaluateSet(req *Request, policies []*Policy) setResult {
	r := scan(req, policies, false)
	if r.deny.s == nil && r.allow.s == nil {
		r = scan(req, policies, true)
	}
	return r
}

func scan(req *Request, policies []*Policy, explain bool) setResult {
	var r setResult
	for _, p := range policies {
		if p == nil {
			continue
		}
		for i := range p.statements {
			s := &p.statements[i]
			st, why := s.evaluate(req, explain)
			switch {
			case st == stageApplies && s.effect == Deny:
				r.deny = hit{p: p, s: s, why: s.heldConditions()}
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
				if !explain {
					continue
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

// heldConditions explains an explicit deny: every condition held.
func (s *statement) heldConditions() string {
	if len(s.conditions) == 0 {
		return ""
	}
	held := make([]string, len(s.conditions))
	for i := range s.conditions {
		held[i] = s.conditions[i].op.name + " " + s.conditions[i].key
	}
	return "conditions held: " + strings.Join(held, ", ")
}

// explainf formats an explanation only when one is wanted.
func explainf(explain bool, format string, args ...any) string {
	if !explain {
		return ""
	}
	return fmt.Sprintf(format, args...)
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

// evaluate reports how far the statement matches the request and, when
// asked to explain, why it stops there.
func (s *statement) evaluate(req *Request, explain bool) (stage, string) {
	if ok, why := s.matchPrincipal(req.Principal, explain); !ok {
		return stagePrincipal, why
	}
	if ok, why := s.matchAction(req.Action, explain); !ok {
		return stageAction, why
	}
	if ok, why := s.matchResource(req, explain); !ok {
		return stageResource, why
	}
	for i := range s.conditions {
		if ok, why := s.conditions[i].evaluate(req.Context, explain); !ok {
			return stageCondition, why
		}
	}
	return stageApplies, ""
}

func (s *statement) matchAction(action string, explain bool) (bool, string) {
	found := false
	lower := ""
	for i := range s.actions {
		a := &s.actions[i]
		if !a.wild {
			if strings.EqualFold(a.raw, action) {
				found = true
				break
			}
			continue
		}
		if lower == "" {
			lower = strings.ToLower(action)
		}
		if glob(a.parts, lower) {
			found = true
			break
		}
	}
	switch {
	case found && s.notAction:
		return false, explainf(explain, "action %s is excluded by NotAction", action)
	case !found && !s.notAction:
		return false, explainf(explain, "action %s is not in Action", action)
	}
	return true, ""
}

func (s *statement) matchResource(req *Request, explain bool) (bool, string) {
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
	if found != s.notResource {
		return true, ""
	}
	if !explain {
		return false, ""
	}
	why := fmt.Sprintf("resource %s is not in Resource", quote(req.Resource))
	if found {
		why = fmt.Sprintf("resource %s is excluded by NotResource", quote(req.Resource))
	}
	if unresolved != "" {
		why += fmt.Sprintf(" (${%s} has no value)", unresolved)
	}
	return false, why
}
