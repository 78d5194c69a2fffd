// Package sts mints role sessions: the AssumeRole that CreateSession
// performs on behalf of a certificate.
//
// Assumer is the seam between CreateSession and IAM. Today a role is a
// stored record (ARN, maximum session duration, trust policy document);
// the IAM/STS work replaces the implementation behind Assumer with
// trust-policy evaluation without CreateSession changing.
package sts

import (
	"context"
	"encoding/base32"
	"io"
	"time"
)

// ServicePrincipal is the principal CreateSession assumes roles as.
const ServicePrincipal = "rolesanywhere.amazonaws.com"

// TrustPolicy is the trust policy AWS documents for IAM Roles Anywhere
// roles, pinned with ArnEquals aws:SourceArn to one trust anchor so that
// certificates from other anchors cannot assume the role.
func TrustPolicy(trustAnchorArn string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + ServicePrincipal + `"},` +
		`"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],` +
		`"Condition":{"ArnEquals":{"aws:SourceArn":"` + trustAnchorArn + `"}}}]}`
}

// Role is an IAM role as CreateSession needs it.
type Role struct {
	Arn                      string    `json:"arn"`
	RoleName                 string    `json:"roleName"`
	Path                     string    `json:"path"`
	RoleID                   string    `json:"roleId"` // AROA…
	MaxSessionDuration       int32     `json:"maxSessionDuration"`
	AssumeRolePolicyDocument string    `json:"assumeRolePolicyDocument"`
	Description              string    `json:"description,omitempty"`
	CreateDate               time.Time `json:"createDate"`
	// NotBefore, when set, revokes every session of this role issued
	// before it ("revoke active sessions").
	NotBefore time.Time `json:"notBefore,omitzero"`
}

// Tag is a session tag.
type Tag struct {
	Key   string
	Value string
}

// AssumeRoleInput is what a caller asks for. Context carries the condition
// keys the trust policy may test (aws:SourceArn, aws:PrincipalTag/…), each
// with all its values.
type AssumeRoleInput struct {
	RoleArn         string
	RoleSessionName string
	Duration        time.Duration
	Tags            []Tag
	SourceIdentity  string
	SessionPolicy   string
	PolicyArns      []string
	// Principal is the caller: a service principal ("rolesanywhere.amazonaws.com")
	// or an ARN for role chaining.
	Principal string
	Context   map[string][]string
	Now       time.Time
}

// Credentials are temporary AWS credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// AssumeRoleOutput is the session handed out.
type AssumeRoleOutput struct {
	Credentials      Credentials
	AssumedRoleArn   string // arn:…:sts::acct:assumed-role/name/session
	AssumedRoleID    string // AROA…:session
	RoleArn          string
	SourceIdentity   string
	PackedPolicySize int
}

// Assumer assumes roles. Errors are *awserr.Error values that explain
// the refusal.
type Assumer interface {
	AssumeRole(ctx context.Context, in AssumeRoleInput) (AssumeRoleOutput, error)
}

// NewRoleID returns a role id as AWS formats them: "AROA" and 17
// characters of base32.
func NewRoleID(rnd io.Reader) (string, error) {
	b := make([]byte, 11)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", err
	}
	return "AROA" + base32.StdEncoding.EncodeToString(b)[:17], nil
}
