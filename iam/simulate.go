package iam

import (
	"context"
	"fmt"
	"strings"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/policy"
	"github.com/iamra/iamra/store"
)

// SimulateInput is SimulatePrincipalPolicy's request.
type SimulateInput struct {
	// PolicySourceArn is the role whose policies are simulated.
	PolicySourceArn string
	// PolicyInputList are extra identity policies evaluated with the
	// role's, named "PolicyInputList.N".
	PolicyInputList []string
	ActionNames     []string
	// ResourceArns default to "*".
	ResourceArns []string
	// Context is the request context (ContextEntries).
	Context map[string][]string
	// CallerArn, when set, is the principal the statements see.
	CallerArn string
}

// Decisions as SimulatePrincipalPolicy reports them.
const (
	EvalAllowed      = "allowed"
	EvalExplicitDeny = "explicitDeny"
	EvalImplicitDeny = "implicitDeny"
)

// MatchedStatement names the statement that decided.
type MatchedStatement struct {
	SourcePolicyID   string
	SourcePolicyType string // role, user-managed, aws-managed, none
	Statement        string
}

// EvaluationResult is one action on one resource.
type EvaluationResult struct {
	EvalActionName    string
	EvalResourceName  string
	EvalDecision      string
	MatchedStatements []MatchedStatement
	// Explanation is iamra's: which statement or condition decided.
	Explanation string
}

// SimulatePrincipalPolicy evaluates the role's identity policies (and
// any PolicyInputList documents) for each action on each resource, as IAM's
// policy simulator does.
func (s *Service) SimulatePrincipalPolicy(ctx context.Context, in SimulateInput) ([]EvaluationResult, error) {
	var c checker
	if c.required(in.PolicySourceArn != "", "policySourceArn") {
		c.length(in.PolicySourceArn, "policySourceArn", 20, 2048)
	}
	c.required(in.ActionNames != nil, "actionNames")
	for i, a := range in.ActionNames {
		c.length(a, fmt.Sprintf("actionNames.%d.member", i+1), 3, 128)
	}
	for i, d := range in.PolicyInputList {
		c.document(d, fmt.Sprintf("policyInputList.%d.member", i+1))
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	a, err := arn.Parse(in.PolicySourceArn)
	if err != nil || a.Service != "iam" {
		return nil, invalidInput(fmt.Sprintf("Invalid ARN: %s", in.PolicySourceArn))
	}
	if a.ResourceType() != "role" {
		return nil, noSuchEntity("iam.principal_not_found",
			fmt.Sprintf("The principal %s cannot be found; iamra simulates roles only.", in.PolicySourceArn))
	}
	var role Role
	var managed []ManagedPolicy
	err = s.view(ctx, func(tx store.Tx) error {
		var err error
		if role, _, err = getRole(tx, a.ResourceName()); err != nil {
			return err
		}
		managed, _, err = store.List[ManagedPolicy](tx, store.KindPolicy, store.ListOptions{})
		return err
	})
	if err != nil {
		return nil, err
	}
	if role.Arn != in.PolicySourceArn {
		return nil, noSuchRole(a.ResourceName())
	}
	ps, err := identityPolicies(&role, parseManaged(managed))
	if err != nil {
		return nil, invalidInput("The role's policies cannot be evaluated: " + err.Error())
	}
	for i, d := range in.PolicyInputList {
		p, err := policy.Parse(d, policy.Identity)
		if err != nil {
			return nil, err
		}
		p.Name = fmt.Sprintf("PolicyInputList.%d", i+1)
		ps = append(ps, p)
	}
	resources := in.ResourceArns
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	pr := policy.Principal{AWS: role.Arn}
	if in.CallerArn != "" {
		pr = policy.Principal{AWS: in.CallerArn}
	}
	var out []EvaluationResult
	for _, act := range in.ActionNames {
		for _, res := range resources {
			d := policy.Evaluate(policy.Request{Principal: pr, Action: act, Resource: res, Context: in.Context}, ps...)
			r := EvaluationResult{EvalActionName: act, EvalResourceName: res, Explanation: d.Explanation}
			switch d.Effect {
			case policy.Allow:
				r.EvalDecision = EvalAllowed
			case policy.Deny:
				r.EvalDecision = EvalExplicitDeny
			default:
				r.EvalDecision = EvalImplicitDeny
			}
			if d.Effect != policy.ImplicitDeny && d.Policy != "" {
				r.MatchedStatements = []MatchedStatement{{SourcePolicyID: d.Policy, SourcePolicyType: sourcePolicyType(d.Policy), Statement: d.Statement}}
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// sourcePolicyType classifies a policy by the name identityPolicies gave
// it.
func sourcePolicyType(name string) string {
	switch {
	case strings.HasPrefix(name, "PolicyInputList."):
		return "none"
	case strings.HasPrefix(name, "arn:"):
		if a, err := arn.Parse(name); err == nil && a.AccountID == "aws" {
			return "aws-managed"
		}
		return "user-managed"
	}
	return "role"
}
