// Package assumer implements sts.Assumer over stored role records: it
// checks the role and the requested duration, and mints credentials whose
// session token carries the whole session, sealed, so that no session is
// ever written to the database.
//
// Trust-policy evaluation plugs in through TrustEvaluator; until the IAM
// policy engine provides one, a role's trust policy is stored but not
// evaluated (documented in docs/architecture.md).
package assumer

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/credentials"
	"github.com/iamra/iamra/sts"
)

// Roles finds roles (the configuration snapshot in production).
type Roles interface {
	Role(arn string) (*sts.Role, bool)
}

// TrustEvaluator decides whether a principal may assume a role with the
// given request context. It returns nil to allow, or an *awserr.Error that
// names the statement or missing allow that decided.
type TrustEvaluator interface {
	EvaluateTrust(role *sts.Role, in sts.AssumeRoleInput) error
}

// Assumer mints role sessions.
type Assumer struct {
	Roles func() Roles
	Ring  *credentials.KeyRing
	Rand  io.Reader
	// Trust evaluates trust policies; nil skips evaluation.
	Trust TrustEvaluator
	// Issuer names who minted the session (the trust anchor ARN for
	// CreateSession), for the token and the audit trail.
	Issuer func(in sts.AssumeRoleInput) string
}

// packedBudget approximates STS's packed budget for session tags and
// session policies; AWS does not publish the real encoding.
const packedBudget = 2048

// PackedPolicySize approximates AWS's packedPolicySize percentage.
func PackedPolicySize(in sts.AssumeRoleInput) int {
	n := len(in.SessionPolicy)
	for _, p := range in.PolicyArns {
		n += len(p)
	}
	for _, t := range in.Tags {
		n += len(t.Key) + len(t.Value) + 2
	}
	return (n*100 + packedBudget - 1) / packedBudget
}

// AssumeRole implements sts.Assumer.
func (a *Assumer) AssumeRole(ctx context.Context, in sts.AssumeRoleInput) (sts.AssumeRoleOutput, error) {
	role, ok := a.Roles().Role(in.RoleArn)
	if !ok {
		return sts.AssumeRoleOutput{}, awserr.AccessDenied(fmt.Sprintf("Not authorized to perform sts:AssumeRole on %s", in.RoleArn)).
			Because("role.not_found", "no role %s", in.RoleArn)
	}
	if max := time.Duration(role.MaxSessionDuration) * time.Second; role.MaxSessionDuration > 0 && in.Duration > max {
		return sts.AssumeRoleOutput{}, awserr.Validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.").
			Because("role.duration_exceeds_max", "requested %s but role %s allows at most %s", in.Duration, in.RoleArn, max)
	}
	if a.Trust != nil {
		if err := a.Trust.EvaluateTrust(role, in); err != nil {
			return sts.AssumeRoleOutput{}, err
		}
	}
	packed := PackedPolicySize(in)
	if packed > 100 {
		return sts.AssumeRoleOutput{}, awserr.New("PackedPolicyTooLarge", 400,
			fmt.Sprintf("Packed size of consumed session policies and session tags exceeds the limit. It is %d%% of the allowed size.", packed)).
			Because("role.packed_policy_too_large", "session policy, policy ARNs and tags use %d%% of the packed budget", packed)
	}
	ra, err := arn.Parse(role.Arn)
	if err != nil {
		return sts.AssumeRoleOutput{}, awserr.Internal("stored role has a malformed ARN: " + role.Arn)
	}
	assumedArn := arn.ARN{Partition: ra.Partition, Service: "sts", AccountID: ra.AccountID,
		Resource: "assumed-role/" + role.RoleName + "/" + in.RoleSessionName}.String()
	issuer := ""
	if a.Issuer != nil {
		issuer = a.Issuer(in)
	}
	creds, err := credentials.Mint(credentials.Session{
		RoleArn:         role.Arn,
		RoleID:          role.RoleID,
		RoleSessionName: in.RoleSessionName,
		SourceIdentity:  in.SourceIdentity,
		Tags:            in.Tags,
		SessionPolicy:   in.SessionPolicy,
		PolicyArns:      in.PolicyArns,
		Issuer:          issuer,
		IssuedAt:        in.Now,
		Expiration:      in.Now.Add(in.Duration),
	}, a.Ring, a.Rand)
	if err != nil {
		return sts.AssumeRoleOutput{}, err
	}
	return sts.AssumeRoleOutput{
		Credentials:      creds,
		AssumedRoleArn:   assumedArn,
		AssumedRoleID:    role.RoleID + ":" + in.RoleSessionName,
		RoleArn:          role.Arn,
		SourceIdentity:   in.SourceIdentity,
		PackedPolicySize: packed,
	}, nil
}
