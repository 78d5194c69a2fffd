// Package iam is iamra's minimal AWS IAM: roles (with paths, AROA ids,
// trust policies, tags and a maximum session duration), their inline
// policies, customer managed policies with versions and attachments, and
// "revoke active sessions" — stored through the store contract, validated
// as IAM validates, and evaluated with package policy.
//
// Roles are store.KindRole records keyed by role name. Their document is
// a superset of sts.Role (Role embeds it), so the configuration snapshot
// that CreateSession reads decodes the same record as an sts.Role and
// ignores the IAM-only members (tags, inline policies, attachments).
// Managed policies are store.KindPolicy records keyed by policy name.
//
// Besides the Service that performs IAM operations, the package provides
// what turns a session into permissions: Directory (a cached, parsed view
// of every role and policy that answers "may this session do X on Y"),
// Trust (the trust-policy evaluator CreateSession and STS AssumeRole use)
// and the request context a session's policies see.
//
// Errors are *awserr.Error with IAM's codes (NoSuchEntity,
// EntityAlreadyExists, MalformedPolicyDocument, LimitExceeded,
// ValidationError, DeleteConflict, InvalidInput) and operator reasons:
//
//	iam.role_not_found, iam.role_exists, iam.policy_not_found, iam.policy_exists,
//	iam.role_policy_not_found, iam.version_not_found, iam.delete_conflict,
//	iam.limit_exceeded, iam.invalid_input, iam.invalid_marker
//
// plus validation.constraint and the policy.* reasons of package policy.
package iam

import (
	"time"

	"github.com/iamra/iamra/sts"
)

// Tag is a role or policy tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// InlinePolicy is a policy embedded in a role (PutRolePolicy).
type InlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"document"`
}

// Role is a stored role: the sts.Role CreateSession reads, plus what only
// IAM needs.
type Role struct {
	sts.Role
	Tags           []Tag          `json:"tags,omitempty"`
	InlinePolicies []InlinePolicy `json:"inlinePolicies,omitempty"`
	// AttachedPolicies are managed policy ARNs, in attachment order.
	AttachedPolicies []string `json:"attachedPolicies,omitempty"`
}

// sessionDuration is the role's maximum session duration, IAM's default
// for records written without one.
func (r *Role) sessionDuration() int32 {
	if r.MaxSessionDuration == 0 {
		return DefaultMaxSessionDuration
	}
	return r.MaxSessionDuration
}

// MaxSession is MaxSessionDuration, with IAM's default for records that
// have none.
func (r *Role) MaxSession() time.Duration {
	return time.Duration(r.sessionDuration()) * time.Second
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	VersionID  string    `json:"versionId"`
	Document   string    `json:"document"`
	CreateDate time.Time `json:"createDate"`
}

// ManagedPolicy is a customer managed policy.
type ManagedPolicy struct {
	PolicyName       string          `json:"policyName"`
	PolicyID         string          `json:"policyId"` // ANPA…
	Arn              string          `json:"arn"`
	Path             string          `json:"path"`
	Description      string          `json:"description,omitempty"`
	DefaultVersionID string          `json:"defaultVersionId"`
	AttachmentCount  int             `json:"attachmentCount"`
	CreateDate       time.Time       `json:"createDate"`
	UpdateDate       time.Time       `json:"updateDate"`
	Tags             []Tag           `json:"tags,omitempty"`
	Versions         []PolicyVersion `json:"versions"`
}

// DefaultVersion is the version in force.
func (p *ManagedPolicy) DefaultVersion() (PolicyVersion, bool) {
	return p.Version(p.DefaultVersionID)
}

// Version finds a version by id.
func (p *ManagedPolicy) Version(id string) (PolicyVersion, bool) {
	for _, v := range p.Versions {
		if v.VersionID == id {
			return v, true
		}
	}
	return PolicyVersion{}, false
}

// AttachedPolicy names an attached managed policy.
type AttachedPolicy struct {
	PolicyName string
	PolicyArn  string
}

// Page is one page of a listing; Marker resumes after it.
type Page[T any] struct {
	Items       []T
	IsTruncated bool
	Marker      string
}

// Limits IAM enforces (IAM User Guide, "IAM and AWS STS quotas").
const (
	DefaultMaxSessionDuration = 3600
	MinMaxSessionDuration     = 3600
	MaxMaxSessionDuration     = 43200
	// MaxTrustPolicySize is the default ACLSizePerRole quota, in
	// characters without whitespace.
	MaxTrustPolicySize = 2048
	// MaxInlinePolicySize is the aggregate size of a role's inline
	// policies (RolePolicySize), without whitespace.
	MaxInlinePolicySize = 10240
	// MaxManagedPolicySize is PolicySize, without whitespace.
	MaxManagedPolicySize   = 6144
	MaxAttachedPolicies    = 10
	MaxTags                = 50
	DefaultMaxItems        = 100
	MaxMaxItems            = 1000
	RevokeOlderSessions    = "AWSRevokeOlderSessions"
	firstPolicyVersion     = "v1"
	policyDocumentMaxChars = 131072
)
