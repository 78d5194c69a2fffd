package policy

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/iamra/iamra/awserr"
)

// Kind is what a policy document is attached to; it decides which
// elements a statement must and must not have.
type Kind int

const (
	// Identity is a permissions policy attached to a user or role:
	// Resource (or NotResource) required, Principal prohibited.
	Identity Kind = iota
	// Session is a session policy passed to AssumeRole (a profile's
	// sessionPolicy): validated like an identity policy.
	Session
	// Trust is a role trust policy (AssumeRolePolicyDocument): Principal
	// (or NotPrincipal) required, Resource prohibited.
	Trust
	// ResourceBased is any other resource-based policy: Principal and
	// Resource both required.
	ResourceBased
)

func (k Kind) String() string {
	switch k {
	case Identity:
		return "identity"
	case Session:
		return "session"
	case Trust:
		return "trust"
	case ResourceBased:
		return "resource-based"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Versions of the policy language. Policy variables exist only in
// Version2012; a document without Version is read as Version2008.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is a statement's effect, or the outcome of an evaluation.
type Effect string

const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny" // an explicit deny
	// ImplicitDeny is the outcome when no statement allows the request.
	ImplicitDeny Effect = "ImplicitDeny"
)

// Policy is a parsed, validated policy document. It is immutable apart
// from Name and safe for concurrent evaluation.
type Policy struct {
	// Name labels the policy in decisions and explanations (for example
	// "trust policy of arn:aws:iam::111122223333:role/Node" or a managed
	// policy ARN). Parse leaves it empty; set it before sharing the Policy.
	Name string

	kind       Kind
	version    string // as written; "" when absent
	id         string
	statements []statement
}

// Kind is the kind the policy was parsed as.
func (p *Policy) Kind() Kind { return p.kind }

// Version is the Version element as written ("" when absent).
func (p *Policy) Version() string { return p.version }

// ID is the optional Id element.
func (p *Policy) ID() string { return p.id }

// statement is one compiled statement.
type statement struct {
	index  int
	sid    string
	effect Effect
	// name and title are label() and describe(), computed at Parse.
	name, title string

	principals   *principalSet // nil: the statement names no principal
	notPrincipal bool

	actions   []tmpl // lower-cased
	notAction bool

	resources   []tmpl // nil: the statement names no resource
	notResource bool

	conditions []condition
}

// label is how decisions name a statement: its Sid, or its position.
func (s *statement) label() string { return s.name }

// describe is how explanations name a statement: position and Sid.
func (s *statement) describe() string { return s.title }

func (s *statement) setNames() {
	s.name = fmt.Sprintf("Statement[%d]", s.index)
	s.title = s.name
	if s.sid != "" {
		s.name = s.sid
		s.title = fmt.Sprintf("Statement[%d] (Sid %q)", s.index, s.sid)
	}
}

// MalformedPolicyDocument is the error code IAM and STS return for an
// invalid policy (HTTP 400).
const MalformedPolicyDocument = "MalformedPolicyDocument"

// malformed builds the error: msg is for the client and names what is
// wrong; where names the place in the document for the operator.
func malformed(reason, where, msg string) *awserr.Error {
	detail := msg
	if where != "" {
		detail = where + ": " + msg
	}
	return &awserr.Error{Code: MalformedPolicyDocument, Status: http.StatusBadRequest,
		Message: msg, Reason: "policy." + reason, Detail: detail}
}

// syntaxError is IAM's catch-all wording, completed with what is wrong.
func syntaxError(where, what string) *awserr.Error {
	return malformed("syntax", where, "Syntax errors in policy: "+what+".")
}

var sidPattern = regexp.MustCompile(`^[0-9A-Za-z]*$`)

// Parse validates doc as IAM validates a policy of the given kind and
// returns it compiled for evaluation. Errors are *awserr.Error with code
// MalformedPolicyDocument and a message naming what is wrong.
func Parse(doc string, kind Kind) (*Policy, error) {
	if kind < Identity || kind > ResourceBased {
		return nil, fmt.Errorf("policy: unknown kind %d", int(kind))
	}
	root, err := decodeJSON(doc)
	if err != nil {
		return nil, malformed("syntax", "", "Syntax errors in policy.").Because("policy.syntax", "invalid JSON: %v", err)
	}
	if root.kind != jObject {
		return nil, syntaxError("", "the policy must be a JSON object, not "+root.kind.String())
	}
	p := &Policy{kind: kind}
	var stmts jnode
	haveStatement := false
	for _, m := range root.obj {
		switch m.key {
		case "Version":
			if m.val.kind != jString {
				return nil, syntaxError("Version", "Version must be a string")
			}
			if m.val.text != Version2012 && m.val.text != Version2008 {
				return nil, malformed("version", "Version",
					fmt.Sprintf("The policy Version %q is not supported; use %q or %q.", m.val.text, Version2012, Version2008))
			}
			p.version = m.val.text
		case "Id":
			if m.val.kind != jString {
				return nil, syntaxError("Id", "Id must be a string")
			}
			p.id = m.val.text
		case "Statement":
			stmts, haveStatement = m.val, true
		default:
			return nil, malformed("field", "", "Unknown field "+m.key)
		}
	}
	if !haveStatement {
		return nil, malformed("field", "", "Missing required field Statement")
	}
	var list []jnode
	switch stmts.kind {
	case jObject:
		list = []jnode{stmts}
	case jArray:
		list = stmts.arr
	default:
		return nil, syntaxError("Statement", "Statement must be an object or an array of objects")
	}
	if len(list) == 0 {
		return nil, malformed("field", "Statement", "The policy must contain at least one statement.")
	}
	vars := p.version == Version2012
	sids := map[string]bool{}
	for i, n := range list {
		where := fmt.Sprintf("Statement[%d]", i)
		if n.kind != jObject {
			return nil, syntaxError(where, where+" must be an object, not "+n.kind.String())
		}
		s, err := parseStatement(n, i, where, kind, vars)
		if err != nil {
			return nil, err
		}
		if s.sid != "" {
			if sids[s.sid] {
				return nil, malformed("sid", where, "Statement IDs (SID) in a single policy must be unique.")
			}
			sids[s.sid] = true
		}
		p.statements = append(p.statements, s)
	}
	return p, nil
}

func parseStatement(n jnode, index int, where string, kind Kind, vars bool) (statement, error) {
	s := statement{index: index}
	seen := map[string]jnode{}
	for _, m := range n.obj {
		switch m.key {
		case "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition":
			seen[m.key] = m.val
		default:
			return s, malformed("field", where, "Unknown field "+m.key)
		}
	}

	if v, ok := seen["Sid"]; ok {
		if v.kind != jString {
			return s, syntaxError(where+".Sid", "Sid must be a string")
		}
		if !sidPattern.MatchString(v.text) {
			return s, malformed("sid", where+".Sid",
				"Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*")
		}
		s.sid = v.text
	}

	v, ok := seen["Effect"]
	switch {
	case !ok:
		return s, malformed("field", where, "Missing required field Effect")
	case v.kind != jString:
		return s, syntaxError(where+".Effect", "Effect must be a string")
	case v.text == string(Allow) || v.text == string(Deny):
		s.effect = Effect(v.text)
	default:
		return s, malformed("effect", where+".Effect", fmt.Sprintf("Invalid effect %q: must be Allow or Deny.", v.text))
	}

	// Principal.
	pr, hasP := seen["Principal"]
	npr, hasNP := seen["NotPrincipal"]
	switch {
	case (hasP || hasNP) && (kind == Identity || kind == Session):
		return s, malformed("principal", where, "Policy document should not specify a principal.")
	case hasP && hasNP:
		return s, malformed("principal", where, "A statement cannot contain both Principal and NotPrincipal.")
	case !hasP && !hasNP && (kind == Trust || kind == ResourceBased):
		return s, malformed("field", where, "Missing required field Principal")
	case hasP || hasNP:
		name, node := "Principal", pr
		if hasNP {
			name, node, s.notPrincipal = "NotPrincipal", npr, true
		}
		set, err := parsePrincipal(node, where+"."+name)
		if err != nil {
			return s, err
		}
		s.principals = set
	}

	// Action.
	act, hasA := seen["Action"]
	nact, hasNA := seen["NotAction"]
	switch {
	case hasA && hasNA:
		return s, malformed("action", where, "A statement cannot contain both Action and NotAction.")
	case !hasA && !hasNA:
		return s, malformed("action", where, "Policy statement must contain actions.")
	}
	name, node := "Action", act
	if hasNA {
		name, node, s.notAction = "NotAction", nact, true
	}
	actions, err := stringList(node, where+"."+name, name)
	if err != nil {
		return s, err
	}
	if len(actions) == 0 {
		return s, malformed("action", where+"."+name, "Policy statement must contain actions.")
	}
	for _, a := range actions {
		if msg := checkAction(a); msg != "" {
			return s, malformed("action", where+"."+name, msg)
		}
		s.actions = append(s.actions, compileTmpl(strings.ToLower(a), false))
	}

	// Resource.
	res, hasR := seen["Resource"]
	nres, hasNR := seen["NotResource"]
	switch {
	case hasR && hasNR:
		return s, malformed("resource", where, "A statement cannot contain both Resource and NotResource.")
	case (hasR || hasNR) && kind == Trust:
		field := "Resource"
		if hasNR {
			field = "NotResource"
		}
		return s, malformed("field", where, "Has prohibited field "+field)
	case !hasR && !hasNR && kind != Trust:
		return s, malformed("resource", where, "Policy statement must contain resources.")
	case hasR || hasNR:
		name, node := "Resource", res
		if hasNR {
			name, node, s.notResource = "NotResource", nres, true
		}
		list, err := stringList(node, where+"."+name, name)
		if err != nil {
			return s, err
		}
		if len(list) == 0 {
			return s, malformed("resource", where+"."+name, "Policy statement must contain resources.")
		}
		s.resources = []tmpl{}
		for _, r := range list {
			if r != "*" && !strings.HasPrefix(r, "arn:") {
				return s, malformed("resource", where+"."+name, fmt.Sprintf("Resource %s must be in ARN format or \"*\".", r))
			}
			s.resources = append(s.resources, compileTmpl(r, vars))
		}
	}

	if c, ok := seen["Condition"]; ok {
		conds, err := parseConditions(c, where+".Condition", vars)
		if err != nil {
			return s, err
		}
		s.conditions = conds
	}
	s.setNames()
	return s, nil
}

// stringList reads an element that is a string or an array of strings.
func stringList(n jnode, where, name string) ([]string, error) {
	switch n.kind {
	case jString:
		return []string{n.text}, nil
	case jArray:
		out := make([]string, 0, len(n.arr))
		for _, e := range n.arr {
			if e.kind != jString {
				return nil, syntaxError(where, name+" must be a string or an array of strings")
			}
			out = append(out, e.text)
		}
		return out, nil
	}
	return nil, syntaxError(where, name+" must be a string or an array of strings")
}

// Messages IAM uses for bad actions and condition keys.
const (
	msgNoVendor  = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgTwoColons = "Actions/Condition can contain only one colon."
)

// checkAction applies IAM's action grammar, "*" or vendor:action with no
// wildcard in the vendor, and returns what is wrong ("" when valid).
func checkAction(a string) string {
	if a == "*" {
		return ""
	}
	vendor, rest, ok := strings.Cut(a, ":")
	switch {
	case !ok || vendor == "" || rest == "":
		return msgNoVendor
	case strings.Contains(rest, ":"):
		return msgTwoColons
	case strings.ContainsAny(vendor, "*?"):
		return "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards: " + a
	case !validVendor(vendor):
		return "Vendor " + vendor + " is not valid"
	}
	return ""
}

func validVendor(v string) bool {
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
