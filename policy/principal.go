package policy

import (
	"fmt"
	"strings"

	"github.com/iamra/iamra/arn"
)

// Principal is who makes a request, as trust and resource-based policies
// see it. Set exactly one of AWS, Service and Federated; all empty is an
// anonymous caller.
type Principal struct {
	// AWS is the caller's ARN: an IAM user or role, an assumed-role
	// session (arn:aws:sts::111122223333:assumed-role/Name/session), a
	// federated user, or an account root (arn:aws:iam::111122223333:root).
	// A bare 12-digit account id means the account root.
	AWS string
	// Role is, for an assumed-role session, the ARN of its role including
	// the path, which the session ARN drops. Statements naming the role
	// match its sessions, as IAM's stored role ids make them do.
	Role string
	// Service is a service principal, e.g. "rolesanywhere.amazonaws.com".
	Service string
	// Federated is an identity provider for web identity or SAML
	// federation, e.g. "cognito-identity.amazonaws.com".
	Federated string
}

func (p Principal) String() string {
	switch {
	case p.Service != "":
		return "service " + p.Service
	case p.Federated != "":
		return "federated " + p.Federated
	case p.AWS != "":
		return p.AWS
	}
	return "anonymous"
}

// principalSet is a compiled Principal or NotPrincipal element.
type principalSet struct {
	all bool // "Principal": "*": everyone, services included
	// awsAll is {"AWS": "*"}: the User Guide makes it equal to "*" for
	// anonymous callers; it is read as naming AWS principals (accounts,
	// users, roles, sessions, anonymous) but not service or federated
	// principals, the narrower reading where the guide is silent.
	awsAll    bool
	accounts  []string
	arns      []string
	services  []string
	federated []string
}

// identityKind classifies one identity of a request principal.
type identityKind int

const (
	idARN identityKind = iota
	idAccount
	idService
	idFederated
	idAnonymous
)

type identity struct {
	kind  identityKind
	value string
}

// identities lists every name under which a principal can be named in a
// policy: a role session is its session ARN, its role's ARN and its
// account. Principal matches when any of them is listed; NotPrincipal
// excludes the caller only when all of them are, which is why AWS tells
// authors of Deny+NotPrincipal to list the session, the role and the
// account together.
func (p Principal) identities(buf *[3]identity) []identity {
	ids := buf[:0]
	switch {
	case p.Service != "":
		return append(ids, identity{idService, p.Service})
	case p.Federated != "":
		return append(ids, identity{idFederated, p.Federated})
	case p.AWS == "":
		return append(ids, identity{idAnonymous, ""})
	case isAccountID(p.AWS):
		return append(ids, identity{idAccount, p.AWS})
	}
	ids = append(ids, identity{idARN, p.AWS})
	if p.Role != "" && p.Role != p.AWS {
		ids = append(ids, identity{idARN, p.Role})
	}
	if a, err := arn.Parse(p.AWS); err == nil && a.AccountID != "" {
		ids = append(ids, identity{idAccount, a.AccountID})
	}
	return ids
}

// lists reports whether the set names identity id.
func (s *principalSet) lists(id identity) bool {
	if s.all {
		return true
	}
	switch id.kind {
	case idARN:
		return s.awsAll || contains(s.arns, id.value)
	case idAccount:
		return s.awsAll || contains(s.accounts, id.value)
	case idService:
		for _, v := range s.services {
			if strings.EqualFold(v, id.value) {
				return true
			}
		}
	case idFederated:
		return contains(s.federated, id.value)
	case idAnonymous:
		return s.awsAll
	}
	return false
}

func contains(list []string, v string) bool {
	for _, e := range list {
		if e == v {
			return true
		}
	}
	return false
}

// matchPrincipal decides whether the statement's Principal or NotPrincipal
// covers p, and if not (and asked to explain), says why.
func (s *statement) matchPrincipal(p Principal, explain bool) (bool, string) {
	if s.principals == nil {
		return true, ""
	}
	var buf [3]identity
	ids := p.identities(&buf)
	if !s.notPrincipal {
		for _, id := range ids {
			if s.principals.lists(id) {
				return true, ""
			}
		}
		return false, explainf(explain, "principal %s is not named in Principal", p)
	}
	for _, id := range ids {
		if !s.principals.lists(id) {
			return true, ""
		}
	}
	return false, explainf(explain, "principal %s is excluded by NotPrincipal", p)
}

func parsePrincipal(n jnode, where string) (*principalSet, error) {
	set := &principalSet{}
	switch n.kind {
	case jString:
		if n.text != "*" {
			return nil, malformed("principal", where, fmt.Sprintf("Invalid principal in policy: %q", n.text))
		}
		set.all = true
		return set, nil
	case jObject:
	default:
		return nil, syntaxError(where, "Principal must be \"*\" or an object")
	}
	if len(n.obj) == 0 {
		return nil, malformed("principal", where, "Invalid principal in policy: the principal element is empty")
	}
	for _, m := range n.obj {
		values, err := stringList(m.val, where+"."+m.key, m.key)
		if err != nil {
			return nil, err
		}
		if len(values) == 0 {
			return nil, malformed("principal", where+"."+m.key, fmt.Sprintf("Invalid principal in policy: %q has no values", m.key))
		}
		for _, v := range values {
			if !set.add(m.key, v) {
				return nil, malformed("principal", where+"."+m.key, fmt.Sprintf("Invalid principal in policy: %q:%q", m.key, v))
			}
		}
	}
	return set, nil
}

// add records one principal value and reports whether it is valid. IAM
// allows no partial wildcard in a principal; only "*" on its own.
func (s *principalSet) add(typ, v string) bool {
	switch typ {
	case "AWS":
		switch {
		case v == "*":
			s.awsAll = true
		case isAccountID(v):
			s.accounts = append(s.accounts, v)
		default:
			a, err := arn.Parse(v)
			if err != nil || strings.ContainsAny(v, "*?") || !isAccountID(a.AccountID) {
				return false
			}
			switch {
			case a.Service == "iam" && a.Resource == "root":
				s.accounts = append(s.accounts, a.AccountID)
			case a.Service == "iam" && (a.ResourceType() == "user" || a.ResourceType() == "role") && a.ResourceID() != "",
				a.Service == "sts" && (a.ResourceType() == "assumed-role" || a.ResourceType() == "federated-user") && a.ResourceID() != "":
				s.arns = append(s.arns, v)
			default:
				return false
			}
		}
	case "Service":
		if v == "" || strings.ContainsAny(v, "*? ") {
			return false
		}
		s.services = append(s.services, v)
	case "Federated":
		if v == "" || strings.ContainsAny(v, "*? ") {
			return false
		}
		s.federated = append(s.federated, v)
	default:
		return false
	}
	return true
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
