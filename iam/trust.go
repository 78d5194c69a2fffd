package iam

import (
	"fmt"
	"strings"

	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/policy"
	"github.com/iamra/iamra/sts"
)

// The STS actions a trust policy must allow, and the reason each denial
// carries.
const (
	ActionAssumeRole        = "sts:AssumeRole"
	ActionTagSession        = "sts:TagSession"
	ActionSetSourceIdentity = "sts:SetSourceIdentity"
)

var trustReasons = map[string]string{
	ActionAssumeRole:        "role.trust_denied",
	ActionTagSession:        "role.trust_denied_tag_session",
	ActionSetSourceIdentity: "role.trust_denied_source_identity",
}

// Trust evaluates role trust policies. It implements
// assumer.TrustEvaluator for CreateSession, and STS AssumeRole uses Check
// with the calling session as principal. Parsed policies are cached by
// role and document. It is safe for concurrent use.
type Trust struct {
	cache parseCache
}

// NewTrust returns a trust evaluator.
func NewTrust() *Trust {
	return &Trust{cache: parseCache{kind: policy.Trust, name: func(key string) string {
		roleArn, _, _ := strings.Cut(key, "\x00")
		return "trust policy of " + roleArn
	}}}
}

// Denial says which action a trust policy refused and why.
type Denial struct {
	Action   string
	Reason   string // role.trust_denied, role.trust_denied_tag_session, …
	Decision policy.Decision
	// Detail explains the denial to the operator: the role, the
	// principal, and the policy's explanation (which statement, which
	// condition).
	Detail string
}

// RequiredActions are the actions an AssumeRole needs from the trust
// policy, as AWS requires them: sts:AssumeRole, sts:TagSession when the
// session gets tags, sts:SetSourceIdentity when it gets a source identity.
func RequiredActions(in sts.AssumeRoleInput) []string {
	acts := []string{ActionAssumeRole}
	if len(in.Tags) > 0 {
		acts = append(acts, ActionTagSession)
	}
	if in.SourceIdentity != "" {
		acts = append(acts, ActionSetSourceIdentity)
	}
	return acts
}

// Check evaluates role's trust policy for principal and each required
// action, with in.Context as the request context. It returns nil when
// every action is allowed. A trust policy that does not parse denies.
func (t *Trust) Check(role *sts.Role, principal policy.Principal, in sts.AssumeRoleInput) *Denial {
	p, err := t.cache.get(role.Arn+"\x00"+role.AssumeRolePolicyDocument, role.AssumeRolePolicyDocument)
	if err != nil {
		return &Denial{Action: ActionAssumeRole, Reason: "role.trust_malformed", Decision: policy.Decision{Effect: policy.ImplicitDeny},
			Detail: fmt.Sprintf("the trust policy of %s does not parse: %s", role.Arn, awserr.As(err).Message)}
	}
	for _, a := range RequiredActions(in) {
		d := p.Evaluate(policy.Request{Principal: principal, Action: a, Resource: role.Arn, Context: in.Context})
		if d.Allowed() {
			continue
		}
		return &Denial{Action: a, Reason: trustReasons[a], Decision: d,
			Detail: fmt.Sprintf("trust policy of %s does not allow %s to perform %s: %s", role.Arn, principal, a, d.Explanation)}
	}
	return nil
}

// EvaluateTrust implements assumer.TrustEvaluator: in.Principal is a
// service principal (CreateSession's rolesanywhere.amazonaws.com) or an
// ARN. A denial is an AccessDeniedException naming the action, e.g.
// "Not authorized to perform sts:AssumeRole on arn:aws:iam::…:role/R",
// whose detail quotes the policy's explanation.
func (t *Trust) EvaluateTrust(role *sts.Role, in sts.AssumeRoleInput) error {
	d := t.Check(role, PrincipalOf(in.Principal), in)
	if d == nil {
		return nil
	}
	return awserr.AccessDenied(fmt.Sprintf("Not authorized to perform %s on %s", d.Action, role.Arn)).Because(d.Reason, "%s", d.Detail)
}

// PrincipalOf reads AssumeRoleInput.Principal: an ARN is an AWS
// principal, anything else a service principal.
func PrincipalOf(p string) policy.Principal {
	if strings.HasPrefix(p, "arn:") {
		return policy.Principal{AWS: p}
	}
	return policy.Principal{Service: p}
}
