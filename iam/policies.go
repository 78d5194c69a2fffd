package iam

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/policy"
	"github.com/iamra/iamra/store"
)

func checkPolicyName(name, field string) *checker {
	c := &checker{}
	if c.required(name != "", field) {
		c.name(name, field, 128)
	}
	return c
}

// PutRolePolicy adds or replaces an inline policy. The console's "revoke
// active sessions" is this call with the policy AWSRevokeOlderSessions
// (a Deny of everything for aws:TokenIssueTime before now), which the
// session evaluation honours like any policy.
func (s *Service) PutRolePolicy(ctx context.Context, roleName, policyName, doc string) error {
	var c checker
	if c.required(roleName != "", "roleName") {
		c.name(roleName, "roleName", 64)
	}
	c.vs = append(c.vs, checkPolicyName(policyName, "policyName").vs...)
	if c.required(doc != "", "policyDocument") {
		c.document(doc, "policyDocument")
	}
	if err := c.err(); err != nil {
		return err
	}
	if _, err := policy.Parse(doc, policy.Identity); err != nil {
		return err
	}
	_, err := s.modifyRole(ctx, roleName, func(_ store.Tx, r *Role) error {
		i := slices.IndexFunc(r.InlinePolicies, func(p InlinePolicy) bool { return p.Name == policyName })
		next := slices.Clone(r.InlinePolicies)
		if i >= 0 {
			next[i].Document = doc
		} else {
			next = append(next, InlinePolicy{Name: policyName, Document: doc})
		}
		total := 0
		for _, p := range next {
			total += policySize(p.Document)
		}
		if total > MaxInlinePolicySize {
			return limitExceeded(fmt.Sprintf("Maximum policy size of %d bytes exceeded for role %s", MaxInlinePolicySize, r.RoleName),
				"inline policies of role %s would total %d characters without whitespace", r.RoleName, total)
		}
		r.InlinePolicies = next
		return nil
	})
	return err
}

// GetRolePolicy returns an inline policy.
func (s *Service) GetRolePolicy(ctx context.Context, roleName, policyName string) (Role, InlinePolicy, error) {
	c := checkPolicyName(policyName, "policyName")
	if err := checkRoleName(roleName); err != nil {
		return Role{}, InlinePolicy{}, err
	}
	if err := c.err(); err != nil {
		return Role{}, InlinePolicy{}, err
	}
	r, err := s.GetRole(ctx, roleName)
	if err != nil {
		return Role{}, InlinePolicy{}, err
	}
	for _, p := range r.InlinePolicies {
		if p.Name == policyName {
			return r, p, nil
		}
	}
	return Role{}, InlinePolicy{}, noSuchRolePolicy(r.RoleName, policyName)
}

func noSuchRolePolicy(role, name string) *awserr.Error {
	return noSuchEntity("iam.role_policy_not_found", fmt.Sprintf("The role policy with name %s cannot be found.", name)).
		Because("iam.role_policy_not_found", "role %s has no inline policy %q", role, name)
}

// DeleteRolePolicy removes an inline policy.
func (s *Service) DeleteRolePolicy(ctx context.Context, roleName, policyName string) error {
	c := checkPolicyName(policyName, "policyName")
	if err := checkRoleName(roleName); err != nil {
		return err
	}
	if err := c.err(); err != nil {
		return err
	}
	_, err := s.modifyRole(ctx, roleName, func(_ store.Tx, r *Role) error {
		i := slices.IndexFunc(r.InlinePolicies, func(p InlinePolicy) bool { return p.Name == policyName })
		if i < 0 {
			return noSuchRolePolicy(r.RoleName, policyName)
		}
		r.InlinePolicies = slices.Delete(slices.Clone(r.InlinePolicies), i, i+1)
		return nil
	})
	return err
}

// ListRolePolicies lists the names of a role's inline policies.
func (s *Service) ListRolePolicies(ctx context.Context, roleName, marker string, maxItems int) (Page[string], error) {
	r, err := s.GetRole(ctx, roleName)
	if err != nil {
		return Page[string]{}, err
	}
	names := make([]string, len(r.InlinePolicies))
	for i, p := range r.InlinePolicies {
		names[i] = p.Name
	}
	sort.Strings(names)
	return paginate(names, func(n string) string { return n }, marker, maxItems)
}

// CreatePolicyInput is CreatePolicy's request.
type CreatePolicyInput struct {
	PolicyName     string
	Path           string
	PolicyDocument string
	Description    string
	Tags           []Tag
}

// CreatePolicy creates a customer managed policy with version v1.
func (s *Service) CreatePolicy(ctx context.Context, in CreatePolicyInput) (ManagedPolicy, error) {
	c := checkPolicyName(in.PolicyName, "policyName")
	c.path(in.Path, "path")
	if c.required(in.PolicyDocument != "", "policyDocument") {
		c.document(in.PolicyDocument, "policyDocument")
	}
	c.description(in.Description, "description")
	if err := c.err(); err != nil {
		return ManagedPolicy{}, err
	}
	if err := checkTags(in.Tags, "tags"); err != nil {
		return ManagedPolicy{}, err
	}
	if len(in.Tags) > MaxTags {
		return ManagedPolicy{}, limitExceeded(fmt.Sprintf("Cannot exceed quota for TagsPerPolicy: %d", MaxTags), "%d tags", len(in.Tags))
	}
	if _, err := policy.Parse(in.PolicyDocument, policy.Identity); err != nil {
		return ManagedPolicy{}, err
	}
	if n := policySize(in.PolicyDocument); n > MaxManagedPolicySize {
		return ManagedPolicy{}, limitExceeded(fmt.Sprintf("Cannot exceed quota for PolicySize: %d", MaxManagedPolicySize),
			"policy %s is %d characters without whitespace", in.PolicyName, n)
	}
	path := in.Path
	if path == "" {
		path = "/"
	}
	id, err := newPolicyID(s.cfg.Rand)
	if err != nil {
		return ManagedPolicy{}, awserr.Internal("policy id: " + err.Error())
	}
	now := s.now()
	p := ManagedPolicy{
		PolicyName: in.PolicyName, PolicyID: id, Arn: s.PolicyArn(path, in.PolicyName), Path: path,
		Description: in.Description, DefaultVersionID: firstPolicyVersion, CreateDate: now, UpdateDate: now,
		Tags:     slices.Clone(in.Tags),
		Versions: []PolicyVersion{{VersionID: firstPolicyVersion, Document: in.PolicyDocument, CreateDate: now}},
	}
	err = s.update(ctx, func(tx store.Tx) error {
		// Policy names are unique in the account whatever their path.
		recs, _, err := tx.List(store.KindPolicy, store.ListOptions{})
		if err != nil {
			return err
		}
		for _, r := range recs {
			if strings.EqualFold(r.ID, in.PolicyName) {
				return entityExists("iam.policy_exists",
					fmt.Sprintf("A policy called %s already exists. Duplicate names are not allowed.", in.PolicyName))
			}
		}
		_, err = store.Put(tx, store.KindPolicy, in.PolicyName, 0, p)
		return err
	})
	return p, err
}

// policyKey checks a managed policy ARN and returns its record id (the
// name). ARNs of another account or partition, and AWS managed policies
// (account "aws"), name policies this server does not have.
func (s *Service) policyKey(policyArn string) (string, error) {
	var c checker
	if c.required(policyArn != "", "policyArn") {
		c.length(policyArn, "policyArn", 20, 2048)
	}
	if err := c.err(); err != nil {
		return "", err
	}
	a, err := arn.Parse(policyArn)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "policy/") || a.ResourceName() == "" {
		return "", invalidInput(fmt.Sprintf("ARN %s is not valid.", policyArn))
	}
	if a.Partition != s.cfg.Scope.Partition || a.AccountID != s.cfg.Scope.AccountID {
		return "", noSuchPolicy(policyArn)
	}
	return a.ResourceName(), nil
}

// getPolicy reads a managed policy by ARN; the whole ARN (path included)
// must match.
func getPolicy(tx store.Tx, key, policyArn string) (ManagedPolicy, int64, error) {
	p, v, err := store.Get[ManagedPolicy](tx, store.KindPolicy, key)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.Arn != policyArn) {
		return ManagedPolicy{}, 0, noSuchPolicy(policyArn)
	}
	return p, v, err
}

// GetPolicy returns a managed policy.
func (s *Service) GetPolicy(ctx context.Context, policyArn string) (ManagedPolicy, error) {
	key, err := s.policyKey(policyArn)
	if err != nil {
		return ManagedPolicy{}, err
	}
	var p ManagedPolicy
	err = s.view(ctx, func(tx store.Tx) error {
		p, _, err = getPolicy(tx, key, policyArn)
		return err
	})
	return p, err
}

// GetPolicyVersion returns one version of a managed policy.
func (s *Service) GetPolicyVersion(ctx context.Context, policyArn, versionID string) (ManagedPolicy, PolicyVersion, error) {
	var c checker
	if c.required(versionID != "", "versionId") {
		c.pattern(versionID, "versionId", versionIDPattern, `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`)
	}
	if err := c.err(); err != nil {
		return ManagedPolicy{}, PolicyVersion{}, err
	}
	p, err := s.GetPolicy(ctx, policyArn)
	if err != nil {
		return ManagedPolicy{}, PolicyVersion{}, err
	}
	v, ok := p.Version(versionID)
	if !ok {
		return ManagedPolicy{}, PolicyVersion{}, noSuchEntity("iam.version_not_found",
			fmt.Sprintf("Policy %s version %s does not exist or is not attachable.", policyArn, versionID))
	}
	return p, v, nil
}

// ListPoliciesInput is ListPolicies' request.
type ListPoliciesInput struct {
	Scope        string // All (default), AWS, Local
	OnlyAttached bool
	PathPrefix   string
	Marker       string
	MaxItems     int
}

// ListPolicies lists managed policies. iamra has no AWS managed policies,
// so Scope=AWS lists nothing.
func (s *Service) ListPolicies(ctx context.Context, in ListPoliciesInput) (Page[ManagedPolicy], error) {
	var c checker
	c.pathPrefix(in.PathPrefix, "pathPrefix")
	switch in.Scope {
	case "", "All", "AWS", "Local":
	default:
		c.add(in.Scope, "scope", "Member must satisfy enum value set: [All, AWS, Local]")
	}
	if err := c.err(); err != nil {
		return Page[ManagedPolicy]{}, err
	}
	var out []ManagedPolicy
	if in.Scope != "AWS" {
		err := s.view(ctx, func(tx store.Tx) error {
			all, _, err := store.List[ManagedPolicy](tx, store.KindPolicy, store.ListOptions{})
			for _, p := range all {
				if strings.HasPrefix(p.Path, in.PathPrefix) && (!in.OnlyAttached || p.AttachmentCount > 0) {
					out = append(out, p)
				}
			}
			return err
		})
		if err != nil {
			return Page[ManagedPolicy]{}, err
		}
	}
	return paginate(out, func(p ManagedPolicy) string { return p.PolicyName }, in.Marker, in.MaxItems)
}

// DeletePolicy deletes a managed policy that is attached to nothing.
func (s *Service) DeletePolicy(ctx context.Context, policyArn string) error {
	key, err := s.policyKey(policyArn)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		p, _, err := getPolicy(tx, key, policyArn)
		if err != nil {
			return err
		}
		if p.AttachmentCount > 0 {
			return deleteConflict("Cannot delete a policy attached to entities.",
				"policy %s is attached to %d roles", policyArn, p.AttachmentCount)
		}
		if len(p.Versions) > 1 {
			return deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
				"policy %s has %d versions", policyArn, len(p.Versions))
		}
		return tx.Delete(store.KindPolicy, key)
	})
}

// AttachRolePolicy attaches a managed policy to a role; attaching it again
// changes nothing.
func (s *Service) AttachRolePolicy(ctx context.Context, roleName, policyArn string) error {
	return s.attachment(ctx, roleName, policyArn, func(r *Role, p *ManagedPolicy, found bool) (bool, error) {
		switch {
		case !found:
			return false, noSuchPolicy(policyArn)
		case slices.Contains(r.AttachedPolicies, policyArn):
			return false, nil
		case len(r.AttachedPolicies) >= MaxAttachedPolicies:
			return false, limitExceeded(fmt.Sprintf("Cannot exceed quota for PoliciesPerRole: %d", MaxAttachedPolicies),
				"role %s already has %d attached policies", r.RoleName, len(r.AttachedPolicies))
		}
		r.AttachedPolicies = append(slices.Clone(r.AttachedPolicies), policyArn)
		p.AttachmentCount++
		return true, nil
	})
}

// DetachRolePolicy detaches a managed policy from a role.
func (s *Service) DetachRolePolicy(ctx context.Context, roleName, policyArn string) error {
	return s.attachment(ctx, roleName, policyArn, func(r *Role, p *ManagedPolicy, _ bool) (bool, error) {
		i := slices.Index(r.AttachedPolicies, policyArn)
		if i < 0 {
			return false, noSuchEntity("iam.policy_not_attached", fmt.Sprintf("Policy %s was not found.", policyArn)).
				Because("iam.policy_not_attached", "policy %s is not attached to role %s", policyArn, r.RoleName)
		}
		r.AttachedPolicies = slices.Delete(slices.Clone(r.AttachedPolicies), i, i+1)
		p.AttachmentCount = max(0, p.AttachmentCount-1)
		return true, nil
	})
}

// attachment changes a role's attachments and the policy's attachment
// count in one transaction. fn reports whether anything changed; found
// says whether the policy exists (a detachment of a deleted policy only
// updates the role).
func (s *Service) attachment(ctx context.Context, roleName, policyArn string, fn func(r *Role, p *ManagedPolicy, found bool) (bool, error)) error {
	if err := checkRoleName(roleName); err != nil {
		return err
	}
	key, err := s.policyKey(policyArn)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		r, rv, err := getRole(tx, roleName)
		if err != nil {
			return err
		}
		p, pv, err := getPolicy(tx, key, policyArn)
		found := err == nil
		if err != nil && awserr.As(err).Code != "NoSuchEntity" {
			return err
		}
		changed, err := fn(&r, &p, found)
		if err != nil || !changed {
			return err
		}
		if _, err := store.Put(tx, store.KindRole, r.RoleName, rv, r); err != nil {
			return err
		}
		if found {
			_, err = store.Put(tx, store.KindPolicy, key, pv, p)
		}
		return err
	})
}

// ListAttachedRolePolicies lists the managed policies attached to a role
// whose path starts with pathPrefix.
func (s *Service) ListAttachedRolePolicies(ctx context.Context, roleName, pathPrefix, marker string, maxItems int) (Page[AttachedPolicy], error) {
	var c checker
	c.pathPrefix(pathPrefix, "pathPrefix")
	if err := checkRoleName(roleName); err != nil {
		return Page[AttachedPolicy]{}, err
	}
	if err := c.err(); err != nil {
		return Page[AttachedPolicy]{}, err
	}
	r, err := s.GetRole(ctx, roleName)
	if err != nil {
		return Page[AttachedPolicy]{}, err
	}
	var out []AttachedPolicy
	for _, pa := range r.AttachedPolicies {
		a, err := arn.Parse(pa)
		if err != nil {
			continue
		}
		// "policy/path/name": the path is what lies between.
		path := a.Resource[len("policy") : strings.LastIndexByte(a.Resource, '/')+1]
		if strings.HasPrefix(path, pathPrefix) {
			out = append(out, AttachedPolicy{PolicyName: a.ResourceName(), PolicyArn: pa})
		}
	}
	slices.SortFunc(out, func(a, b AttachedPolicy) int { return strings.Compare(a.PolicyArn, b.PolicyArn) })
	return paginate(out, func(p AttachedPolicy) string { return p.PolicyArn }, marker, maxItems)
}
