// Package createsession exchanges a certificate-signed request for
// temporary credentials: IAM Roles Anywhere's CreateSession.
//
// The pipeline follows the order AWS documents and the official client
// depends on (signature, certificate, trust anchor, chain, revocation,
// profile, role, session name, duration, tags, role assumption), and reads
// only the in-memory configuration snapshot: nothing on this path touches
// the database. Subject bookkeeping is handed to a batching recorder.
//
// Every refusal is an *awserr.Error carrying AWS's type and message for the
// client and a reason code plus detail for the operator; Trace collects
// what the audit record needs whatever the outcome.
package createsession

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/sigv4x509"
	"github.com/iamra/iamra/snapshot"
	"github.com/iamra/iamra/sts"
	"github.com/iamra/iamra/subject"
	"github.com/iamra/iamra/trust"
	"github.com/iamra/iamra/x509attr"
)

// AWS's messages for CreateSession refusals (createsession.md §10).
const (
	msgInvalidSignature   = "Invalid signature"
	msgUntrusted          = "Untrusted signing certificate"
	msgAnchorNotFound     = "Specified Trust Anchor wasn't found."
	msgInvalidProfile     = "Invalid or empty profile provided."
	msgRoleNotInProfile   = "Requested Role isn't one of those listed in the Profile."
	msgSessionNameRefused = "Not authorized to set roleSessionName."
)

// Recorder is where subject sightings go (subject.Recorder in production).
type Recorder interface {
	Observe(subject.Observation) string
}

// Service runs CreateSession.
type Service struct {
	// Config returns the current configuration snapshot.
	Config  func() *snapshot.Snapshot
	Assumer sts.Assumer
	Subject Recorder
	Now     func() time.Time
	// Skew is the accepted clock difference; 5 minutes when zero.
	Skew time.Duration
	// DropInvalidTags drops tags AWS's rules reject instead of failing.
	DropInvalidTags bool
	// CapAtNotAfter caps expiration at the leaf's notAfter (off by default,
	// as AWS does not cap).
	CapAtNotAfter bool
}

// Trace is what one call learned, for the audit record and the log.
type Trace struct {
	Input          Input
	Algorithm      string
	Leaf           *x509.Certificate
	TrustAnchorArn string
	ProfileArn     string
	RoleArn        string
	SubjectArn     string
	// StaleCRLs were consulted past their nextUpdate (enforced anyway).
	StaleCRLs []trust.StaleCRL
}

// Serial returns the leaf's serial in lower-case hex ("" if unknown).
func (t *Trace) Serial() string {
	if t.Leaf == nil {
		return ""
	}
	return hex.EncodeToString(t.Leaf.SerialNumber.Bytes())
}

// Result is a successful CreateSession.
type Result struct {
	Session    sts.AssumeRoleOutput
	SubjectArn string
}

// CreateSession verifies r (whose body was read into body, bounded by the
// caller) and returns a session. sourceIP feeds aws:SourceIp.
func (s *Service) CreateSession(ctx context.Context, r *http.Request, body []byte, sourceIP string) (*Result, *Trace, error) {
	tr := &Trace{}
	res, err := s.run(ctx, r, body, sourceIP, tr)
	if tr.Leaf != nil && s.Subject != nil && tr.TrustAnchorArn != "" {
		// Only attempts that reached a known trust anchor with a parsed
		// certificate are recorded, as AWS records them.
		tr.SubjectArn = s.Subject.Observe(subject.Observation{Leaf: tr.Leaf, Failed: err != nil, At: s.Now(), InstanceProperties: tr.Input.InstanceProperties})
		if res != nil {
			res.SubjectArn = tr.SubjectArn
		}
	}
	return res, tr, err
}

func (s *Service) run(ctx context.Context, r *http.Request, body []byte, sourceIP string, tr *Trace) (*Result, error) {
	now := s.Now()
	v, err := sigv4x509.Verify(r, body, sigv4x509.VerifyOptions{Now: now, Skew: s.Skew})
	if err != nil {
		return nil, err
	}
	tr.Algorithm = v.Algorithm
	if err := trust.CheckEndEntity(v.Leaf, now); err != nil {
		return nil, err
	}
	in, err := ParseInput(r.URL.Query(), body)
	if err != nil {
		return nil, err
	}
	tr.Input = in
	tr.TrustAnchorArn, tr.ProfileArn, tr.RoleArn = in.TrustAnchorArn, in.ProfileArn, in.RoleArn

	cfg := s.Config()
	anchor, ok := cfg.TrustAnchor(in.TrustAnchorArn)
	if !ok {
		tr.TrustAnchorArn = ""
		return nil, awserr.AccessDenied(msgAnchorNotFound).Because("anchor.not_found", "no trust anchor %s", in.TrustAnchorArn)
	}
	tr.Leaf = v.Leaf
	if !anchor.Detail.Enabled {
		return nil, awserr.AccessDenied(msgAnchorNotFound).Because("anchor.disabled", "trust anchor %s is disabled", in.TrustAnchorArn)
	}
	taARN, _ := arn.Parse(in.TrustAnchorArn)
	if v.Region != taARN.Region {
		return nil, awserr.AccessDenied(msgInvalidSignature).Because("sig.region_mismatch",
			"the signature's credential scope names region %q but the trust anchor is in %q", v.Region, taARN.Region)
	}
	chain, err := trust.VerifyChainCached(cfg.Chains, v.Leaf, v.Chain, anchor.Trust, anchor.Revocations, now)
	if err != nil {
		return nil, err
	}
	tr.StaleCRLs = chain.StaleCRLs

	profile, ok := cfg.Profile(in.ProfileArn)
	if !ok {
		return nil, awserr.AccessDenied(msgInvalidProfile).Because("profile.not_found", "no profile %s", in.ProfileArn)
	}
	if !profile.Enabled {
		return nil, awserr.AccessDenied(msgInvalidProfile).Because("profile.disabled", "profile %s is disabled", in.ProfileArn)
	}
	pARN, _ := arn.Parse(in.ProfileArn)
	if pARN.AccountID != taARN.AccountID || pARN.Region != taARN.Region {
		return nil, awserr.AccessDenied(msgInvalidProfile).Because("profile.scope_mismatch",
			"profile %s and trust anchor %s are not in the same account and region", in.ProfileArn, in.TrustAnchorArn)
	}
	if !slices.Contains(profile.RoleArns, in.RoleArn) {
		return nil, awserr.AccessDenied(msgRoleNotInProfile).Because("profile.role_not_listed", "role %s is not in profile %s (roles: %v)", in.RoleArn, in.ProfileArn, profile.RoleArns)
	}

	sessionName := x509attr.DefaultRoleSessionName(v.Leaf)
	if in.RoleSessionName != "" {
		if !profile.AcceptRoleSessionName {
			return nil, awserr.AccessDenied(msgSessionNameRefused).Because("profile.session_name_not_accepted",
				"the request sets roleSessionName %q but profile %s has acceptRoleSessionName=false", in.RoleSessionName, in.ProfileArn)
		}
		if !x509attr.ValidRoleSessionName(in.RoleSessionName) {
			return nil, awserr.Violations(awserr.Violation{Value: in.RoleSessionName, Field: "roleSessionName",
				Constraint: `Member must satisfy regular expression pattern: [\w+=,.@-]* and have length between 2 and 64`})
		}
		sessionName = in.RoleSessionName
	}

	duration := int64(profile.DurationSeconds)
	if duration == 0 {
		duration = 3600
	}
	if in.DurationSeconds != nil && *in.DurationSeconds < duration {
		duration = *in.DurationSeconds
	}
	expiresIn := time.Duration(duration) * time.Second
	if s.CapAtNotAfter {
		if left := v.Leaf.NotAfter.Sub(now).Truncate(time.Second); left < expiresIn {
			expiresIn = left
		}
	}

	tags, err := x509attr.SessionTags(v.Leaf, profile.AttributeMappings, x509attr.Options{DropInvalid: s.DropInvalidTags})
	if err != nil {
		return nil, err
	}
	sourceIdentity := x509attr.SourceIdentity(v.Leaf)

	out, err := s.Assumer.AssumeRole(ctx, sts.AssumeRoleInput{
		RoleArn:         in.RoleArn,
		RoleSessionName: sessionName,
		Duration:        expiresIn,
		Tags:            tags,
		SourceIdentity:  sourceIdentity,
		SessionPolicy:   profile.SessionPolicy,
		PolicyArns:      profile.ManagedPolicyArns,
		Principal:       sts.ServicePrincipal,
		Context:         conditionContext(in, taARN, tags, sessionName, sourceIdentity, sourceIP, now),
		Now:             now,
	})
	if err != nil {
		return nil, err
	}
	return &Result{Session: out}, nil
}

// conditionContext is the request context a trust policy sees
// (createsession.md §7).
func conditionContext(in Input, ta arn.ARN, tags []sts.Tag, sessionName, sourceIdentity, sourceIP string, now time.Time) map[string][]string {
	c := map[string][]string{
		"aws:SourceArn":            {in.TrustAnchorArn},
		"aws:SourceAccount":        {ta.AccountID},
		"sts:RoleSessionName":      {sessionName},
		"sts:SourceIdentity":       {sourceIdentity},
		"aws:CurrentTime":          {now.UTC().Format(time.RFC3339)},
		"aws:EpochTime":            {formatEpoch(now)},
		"aws:PrincipalType":        {"AWSService"},
		"aws:PrincipalServiceName": {sts.ServicePrincipal},
	}
	if sourceIP != "" {
		c["aws:SourceIp"] = []string{sourceIP}
	}
	keys := make([]string, 0, len(tags))
	for _, t := range tags {
		c["aws:PrincipalTag/"+t.Key] = []string{t.Value}
		c["aws:RequestTag/"+t.Key] = []string{t.Value}
		keys = append(keys, t.Key)
	}
	if len(keys) > 0 {
		c["aws:TagKeys"] = keys
	}
	return c
}

func formatEpoch(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
