package iam

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/policy"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/sts"
)

// Config configures a Service. Store and Scope are required.
type Config struct {
	Store store.Store
	// Scope gives the partition and account of the ARNs minted.
	Scope arn.Scope
	// Now defaults to time.Now.
	Now func() time.Time
	// Rand supplies role and policy ids; defaults to crypto/rand.
	Rand io.Reader
	// Directory, when set, is invalidated after every write, so that
	// STS and authorization in this process see the change at once.
	Directory *Directory
}

// Service performs IAM operations. It is safe for concurrent use; every
// write is one store transaction.
type Service struct {
	cfg Config
}

// New returns a Service for cfg.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Service{cfg: cfg}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Second) }

// update runs fn in a write transaction and invalidates the directory
// after a successful commit.
func (s *Service) update(ctx context.Context, fn func(tx store.Tx) error) error {
	err := s.cfg.Store.Update(ctx, fn)
	if err == nil && s.cfg.Directory != nil {
		s.cfg.Directory.Invalidate()
	}
	return storeError(err)
}

func (s *Service) view(ctx context.Context, fn func(tx store.Tx) error) error {
	return storeError(s.cfg.Store.View(ctx, fn))
}

// storeError keeps AWS-shaped errors and hides store failures behind an
// internal error.
func storeError(err error) error {
	if err == nil {
		return nil
	}
	var ae *awserr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return awserr.Internal("store: " + err.Error())
}

// RoleArn is the ARN of a role with the given path and name.
func (s *Service) RoleArn(path, name string) string {
	return s.cfg.Scope.New("iam", "role"+path+name, false).String()
}

// PolicyArn is the ARN of a customer managed policy.
func (s *Service) PolicyArn(path, name string) string {
	return s.cfg.Scope.New("iam", "policy"+path+name, false).String()
}

// getRole reads a role by name. IAM names are case-insensitive: an exact
// key is tried first, then a case-folding scan.
func getRole(tx store.Tx, name string) (Role, int64, error) {
	r, v, err := store.Get[Role](tx, store.KindRole, name)
	if err == nil {
		return r, v, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return Role{}, 0, err
	}
	recs, _, err := tx.List(store.KindRole, store.ListOptions{})
	if err != nil {
		return Role{}, 0, err
	}
	for _, rec := range recs {
		if strings.EqualFold(rec.ID, name) {
			return store.Get[Role](tx, store.KindRole, rec.ID)
		}
	}
	return Role{}, 0, noSuchRole(name)
}

// modifyRole applies fn to a stored role in one transaction.
func (s *Service) modifyRole(ctx context.Context, name string, fn func(tx store.Tx, r *Role) error) (Role, error) {
	var out Role
	err := s.update(ctx, func(tx store.Tx) error {
		r, v, err := getRole(tx, name)
		if err != nil {
			return err
		}
		if err := fn(tx, &r); err != nil {
			return err
		}
		if _, err := store.Put(tx, store.KindRole, r.RoleName, v, r); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}

// CreateRoleInput is CreateRole's request.
type CreateRoleInput struct {
	RoleName                 string
	Path                     string // default "/"
	AssumeRolePolicyDocument string
	Description              string
	MaxSessionDuration       int64 // 0: 3600
	Tags                     []Tag
	// PermissionsBoundary is refused when set: iamra has no boundaries.
	PermissionsBoundary string
}

// CreateRole creates a role.
func (s *Service) CreateRole(ctx context.Context, in CreateRoleInput) (Role, error) {
	var c checker
	if c.required(in.RoleName != "", "roleName") {
		c.name(in.RoleName, "roleName", 64)
	}
	c.path(in.Path, "path")
	if c.required(in.AssumeRolePolicyDocument != "", "assumeRolePolicyDocument") {
		c.document(in.AssumeRolePolicyDocument, "assumeRolePolicyDocument")
	}
	c.description(in.Description, "description")
	if in.MaxSessionDuration != 0 {
		c.between(in.MaxSessionDuration, "maxSessionDuration", MinMaxSessionDuration, MaxMaxSessionDuration)
	}
	if err := c.err(); err != nil {
		return Role{}, err
	}
	if err := checkTags(in.Tags, "tags"); err != nil {
		return Role{}, err
	}
	if len(in.Tags) > MaxTags {
		return Role{}, limitExceeded(fmt.Sprintf("Cannot exceed quota for TagsPerRole: %d", MaxTags), "%d tags", len(in.Tags))
	}
	if in.PermissionsBoundary != "" {
		return Role{}, invalidInput("iamra does not support permissions boundaries.")
	}
	if err := checkTrustPolicy(in.AssumeRolePolicyDocument); err != nil {
		return Role{}, err
	}
	path := in.Path
	if path == "" {
		path = "/"
	}
	id, err := sts.NewRoleID(s.cfg.Rand)
	if err != nil {
		return Role{}, awserr.Internal("role id: " + err.Error())
	}
	max := in.MaxSessionDuration
	if max == 0 {
		max = DefaultMaxSessionDuration
	}
	r := Role{Role: sts.Role{
		Arn: s.RoleArn(path, in.RoleName), RoleName: in.RoleName, Path: path, RoleID: id,
		MaxSessionDuration: int32(max), AssumeRolePolicyDocument: in.AssumeRolePolicyDocument,
		Description: in.Description, CreateDate: s.now(),
	}, Tags: slices.Clone(in.Tags)}
	err = s.update(ctx, func(tx store.Tx) error {
		if _, _, err := getRole(tx, in.RoleName); err == nil {
			return entityExists("iam.role_exists", fmt.Sprintf("Role with name %s already exists.", in.RoleName))
		} else if awserr.As(err).Code != "NoSuchEntity" {
			return err
		}
		_, err := store.Put(tx, store.KindRole, in.RoleName, 0, r)
		return err
	})
	return r, err
}

// checkTrustPolicy validates a trust policy and its size quota.
func checkTrustPolicy(doc string) error {
	if _, err := policy.Parse(doc, policy.Trust); err != nil {
		return err
	}
	if n := policySize(doc); n > MaxTrustPolicySize {
		return limitExceeded(fmt.Sprintf("Cannot exceed quota for ACLSizePerRole: %d", MaxTrustPolicySize),
			"trust policy is %d characters without whitespace", n)
	}
	return nil
}

func checkRoleName(name string) error {
	var c checker
	if c.required(name != "", "roleName") {
		c.name(name, "roleName", 64)
	}
	return c.err()
}

// GetRole returns a role.
func (s *Service) GetRole(ctx context.Context, name string) (Role, error) {
	if err := checkRoleName(name); err != nil {
		return Role{}, err
	}
	var r Role
	err := s.view(ctx, func(tx store.Tx) error {
		var err error
		r, _, err = getRole(tx, name)
		return err
	})
	return r, err
}

// ListRoles lists roles whose path starts with pathPrefix.
func (s *Service) ListRoles(ctx context.Context, pathPrefix, marker string, maxItems int) (Page[Role], error) {
	var c checker
	c.pathPrefix(pathPrefix, "pathPrefix")
	if err := c.err(); err != nil {
		return Page[Role]{}, err
	}
	var roles []Role
	err := s.view(ctx, func(tx store.Tx) error {
		all, _, err := store.List[Role](tx, store.KindRole, store.ListOptions{})
		for _, r := range all {
			if r.Path == "" {
				r.Path = "/"
			}
			if strings.HasPrefix(r.Path, pathPrefix) {
				roles = append(roles, r)
			}
		}
		return err
	})
	if err != nil {
		return Page[Role]{}, err
	}
	return paginate(roles, func(r Role) string { return r.RoleName }, marker, maxItems)
}

// UpdateRoleInput is UpdateRole's request; nil members are left alone.
type UpdateRoleInput struct {
	RoleName           string
	Description        *string
	MaxSessionDuration *int64
}

// UpdateRole changes a role's description and maximum session duration.
func (s *Service) UpdateRole(ctx context.Context, in UpdateRoleInput) error {
	var c checker
	if c.required(in.RoleName != "", "roleName") {
		c.name(in.RoleName, "roleName", 64)
	}
	if in.Description != nil {
		c.description(*in.Description, "description")
	}
	if in.MaxSessionDuration != nil {
		c.between(*in.MaxSessionDuration, "maxSessionDuration", MinMaxSessionDuration, MaxMaxSessionDuration)
	}
	if err := c.err(); err != nil {
		return err
	}
	_, err := s.modifyRole(ctx, in.RoleName, func(_ store.Tx, r *Role) error {
		if in.Description != nil {
			r.Description = *in.Description
		}
		if in.MaxSessionDuration != nil {
			r.MaxSessionDuration = int32(*in.MaxSessionDuration)
		}
		return nil
	})
	return err
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, name, doc string) error {
	var c checker
	if c.required(name != "", "roleName") {
		c.name(name, "roleName", 64)
	}
	if c.required(doc != "", "policyDocument") {
		c.document(doc, "policyDocument")
	}
	if err := c.err(); err != nil {
		return err
	}
	if err := checkTrustPolicy(doc); err != nil {
		return err
	}
	_, err := s.modifyRole(ctx, name, func(_ store.Tx, r *Role) error {
		r.AssumeRolePolicyDocument = doc
		return nil
	})
	return err
}

// DeleteRole deletes a role that has no inline or attached policies, as
// IAM requires.
func (s *Service) DeleteRole(ctx context.Context, name string) error {
	if err := checkRoleName(name); err != nil {
		return err
	}
	return s.update(ctx, func(tx store.Tx) error {
		r, _, err := getRole(tx, name)
		if err != nil {
			return err
		}
		if len(r.AttachedPolicies) > 0 {
			return deleteConflict("Cannot delete entity, must detach all policies first.",
				"role %s has %d attached managed policies", r.RoleName, len(r.AttachedPolicies))
		}
		if len(r.InlinePolicies) > 0 {
			return deleteConflict("Cannot delete entity, must delete policies first.",
				"role %s has %d inline policies", r.RoleName, len(r.InlinePolicies))
		}
		return tx.Delete(store.KindRole, r.RoleName)
	})
}

// TagRole adds or overwrites tags (keys compare case-insensitively).
func (s *Service) TagRole(ctx context.Context, name string, tags []Tag) error {
	if err := checkRoleName(name); err != nil {
		return err
	}
	var c checker
	c.required(tags != nil, "tags")
	if err := c.err(); err != nil {
		return err
	}
	if err := checkTags(tags, "tags"); err != nil {
		return err
	}
	_, err := s.modifyRole(ctx, name, func(_ store.Tx, r *Role) error {
		merged := mergeTags(r.Tags, tags)
		if len(merged) > MaxTags {
			return limitExceeded(fmt.Sprintf("Cannot exceed quota for TagsPerRole: %d", MaxTags),
				"role %s would have %d tags", r.RoleName, len(merged))
		}
		r.Tags = merged
		return nil
	})
	return err
}

func mergeTags(have, add []Tag) []Tag {
	out := slices.Clone(have)
next:
	for _, t := range add {
		for i := range out {
			if strings.EqualFold(out[i].Key, t.Key) {
				out[i] = t
				continue next
			}
		}
		out = append(out, t)
	}
	return out
}

// UntagRole removes tags by key; unknown keys are ignored, as IAM does.
func (s *Service) UntagRole(ctx context.Context, name string, keys []string) error {
	if err := checkRoleName(name); err != nil {
		return err
	}
	var c checker
	c.required(keys != nil, "tagKeys")
	for i, k := range keys {
		f := fmt.Sprintf("tagKeys.%d.member", i+1)
		if c.length(k, f, 1, 128) {
			c.pattern(k, f, tagKeyPattern, shownTagKey)
		}
	}
	if err := c.err(); err != nil {
		return err
	}
	_, err := s.modifyRole(ctx, name, func(_ store.Tx, r *Role) error {
		r.Tags = slices.DeleteFunc(r.Tags, func(t Tag) bool {
			return slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, t.Key) })
		})
		return nil
	})
	return err
}

// ListRoleTags lists a role's tags.
func (s *Service) ListRoleTags(ctx context.Context, name, marker string, maxItems int) (Page[Tag], error) {
	r, err := s.GetRole(ctx, name)
	if err != nil {
		return Page[Tag]{}, err
	}
	tags := slices.Clone(r.Tags)
	slices.SortFunc(tags, func(a, b Tag) int { return strings.Compare(a.Key, b.Key) })
	return paginate(tags, func(t Tag) string { return t.Key }, marker, maxItems)
}

// RevokeSessions makes every session of the role issued before at
// invalid: it sets the role's NotBefore. Session tokens record their issue
// time in whole seconds, so at is rounded up to a whole second, and a zero
// at means the end of the current second: every session issued up to the
// revocation is revoked, none is left valid. NotBefore never moves back.
func (s *Service) RevokeSessions(ctx context.Context, name string, at time.Time) (Role, error) {
	if err := checkRoleName(name); err != nil {
		return Role{}, err
	}
	if at.IsZero() {
		at = s.cfg.Now().UTC().Truncate(time.Second).Add(time.Second)
	}
	at = ceilSecond(at)
	return s.modifyRole(ctx, name, func(_ store.Tx, r *Role) error {
		if at.After(r.NotBefore) {
			r.NotBefore = at
		}
		return nil
	})
}

// newPolicyID returns a managed policy id: "ANPA" and 17 base32
// characters.
func newPolicyID(rnd io.Reader) (string, error) {
	b := make([]byte, 11)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", err
	}
	return "ANPA" + base32.StdEncoding.EncodeToString(b)[:17], nil
}

// ceilSecond rounds t up to a whole second.
func ceilSecond(t time.Time) time.Time {
	t = t.UTC()
	if c := t.Truncate(time.Second); !c.Equal(t) {
		return c.Add(time.Second)
	}
	return t
}
