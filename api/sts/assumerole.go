package sts

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/iamra/iamra/api/query"
	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/assumer"
	"github.com/iamra/iamra/authz"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/credentials"
	"github.com/iamra/iamra/iam"
	"github.com/iamra/iamra/policy"
	"github.com/iamra/iamra/sts"
)

type credentialsXML struct {
	AccessKeyId     string     `xml:"AccessKeyId"`
	SecretAccessKey string     `xml:"SecretAccessKey"`
	SessionToken    string     `xml:"SessionToken"`
	Expiration      query.Time `xml:"Expiration"`
}

type assumedRoleUser struct {
	AssumedRoleId string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleResult struct {
	Credentials      credentialsXML  `xml:"Credentials"`
	AssumedRoleUser  assumedRoleUser `xml:"AssumedRoleUser"`
	PackedPolicySize *int            `xml:"PackedPolicySize,omitempty" json:",omitempty"`
	SourceIdentity   string          `xml:"SourceIdentity,omitempty" json:",omitempty"`
}

// Limits from the STS model.
const (
	minDuration      = 900
	maxDuration      = 43200
	defaultDuration  = 3600
	chainingDuration = 3600
	maxSessionTags   = 50
	maxPolicyArns    = 10
	maxPolicyChars   = 2048
)

var (
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
	tagKeyPattern      = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)
	tagValuePattern    = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// violations collects Coral-style constraint failures.
type violations []awserr.Violation

func (v *violations) length(value, field string, min, max int) bool {
	n := utf8.RuneCountInString(value)
	switch {
	case n < min:
		*v = append(*v, awserr.Violation{Value: value, Field: field, Constraint: fmt.Sprintf("Member must have length greater than or equal to %d", min)})
	case n > max:
		*v = append(*v, awserr.Violation{Value: value, Field: field, Constraint: fmt.Sprintf("Member must have length less than or equal to %d", max)})
	default:
		return true
	}
	return false
}

func (v *violations) pattern(value, field string, re *regexp.Regexp, shown string) {
	if !re.MatchString(value) {
		*v = append(*v, awserr.Violation{Value: value, Field: field, Constraint: "Member must satisfy regular expression pattern: " + shown})
	}
}

func validationError(msg, reason, format string, args ...any) *awserr.Error {
	return awserr.New("ValidationError", http.StatusBadRequest, msg).Because(reason, format, args...)
}

// assumeRoleInput is AssumeRole's request after validation.
type assumeRoleInput struct {
	roleArn, sessionName, policy, sourceIdentity, externalID string
	duration                                                 int64
	durationSet                                              bool
	policyArns                                               []string
	tags                                                     []sts.Tag
	transitive                                               []string
}

func parseAssumeRole(f query.Form) (assumeRoleInput, error) {
	in := assumeRoleInput{roleArn: f.Get("RoleArn"), sessionName: f.Get("RoleSessionName"), policy: f.Get("Policy"),
		sourceIdentity: f.Get("SourceIdentity"), externalID: f.Get("ExternalId")}
	var v violations
	if !f.Has("RoleArn") {
		v = append(v, awserr.Violation{Null: true, Field: "roleArn", Constraint: "Member must not be null"})
	} else {
		v.length(in.roleArn, "roleArn", 20, 2048)
	}
	if !f.Has("RoleSessionName") {
		v = append(v, awserr.Violation{Null: true, Field: "roleSessionName", Constraint: "Member must not be null"})
	} else if v.length(in.sessionName, "roleSessionName", 2, 64) {
		v.pattern(in.sessionName, "roleSessionName", sessionNamePattern, `[\w+=,.@-]*`)
	}
	d, ok, err := f.Int("DurationSeconds", "durationSeconds")
	if err != nil {
		return in, err
	}
	in.duration, in.durationSet = d, ok
	if ok && d < minDuration {
		v = append(v, awserr.Violation{Value: strconv.FormatInt(d, 10), Field: "durationSeconds", Constraint: fmt.Sprintf("Member must have value greater than or equal to %d", minDuration)})
	} else if ok && d > maxDuration {
		v = append(v, awserr.Violation{Value: strconv.FormatInt(d, 10), Field: "durationSeconds", Constraint: fmt.Sprintf("Member must have value less than or equal to %d", maxDuration)})
	}
	if f.Has("Policy") {
		v.length(in.policy, "policy", 1, maxPolicyChars)
	}
	if f.Has("SourceIdentity") && v.length(in.sourceIdentity, "sourceIdentity", 2, 64) {
		v.pattern(in.sourceIdentity, "sourceIdentity", sessionNamePattern, `[\w+=,.@-]*`)
	}
	if f.Has("ExternalId") && v.length(in.externalID, "externalId", 2, 1224) {
		v.pattern(in.externalID, "externalId", externalIDPattern, `[\w+=,.@:\/-]*`)
	}
	arns, err := f.Members("PolicyArns")
	if err != nil {
		return in, err
	}
	for i, m := range arns {
		a := m.Get("arn")
		if v.length(a, fmt.Sprintf("policyArns.%d.member.arn", i+1), 20, 2048) {
			if _, err := arn.Parse(a); err != nil {
				v = append(v, awserr.Violation{Value: a, Field: fmt.Sprintf("policyArns.%d.member.arn", i+1), Constraint: "Member must be an ARN"})
			}
		}
		in.policyArns = append(in.policyArns, a)
	}
	if len(arns) > maxPolicyArns {
		v = append(v, awserr.Violation{Value: fmt.Sprint(len(arns)), Field: "policyArns", Constraint: fmt.Sprintf("Member must have length less than or equal to %d", maxPolicyArns)})
	}
	tags, err := f.Members("Tags")
	if err != nil {
		return in, err
	}
	for i, m := range tags {
		t := sts.Tag{Key: m.Get("Key"), Value: m.Get("Value")}
		if v.length(t.Key, fmt.Sprintf("tags.%d.member.key", i+1), 1, 128) {
			v.pattern(t.Key, fmt.Sprintf("tags.%d.member.key", i+1), tagKeyPattern, `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
		}
		if v.length(t.Value, fmt.Sprintf("tags.%d.member.value", i+1), 0, 256) {
			v.pattern(t.Value, fmt.Sprintf("tags.%d.member.value", i+1), tagValuePattern, `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`)
		}
		in.tags = append(in.tags, t)
	}
	if len(tags) > maxSessionTags {
		v = append(v, awserr.Violation{Value: fmt.Sprint(len(tags)), Field: "tags", Constraint: fmt.Sprintf("Member must have length less than or equal to %d", maxSessionTags)})
	}
	if in.transitive, err = f.Strings("TransitiveTagKeys"); err != nil {
		return in, err
	}
	if e := query.Validation(v...); e != nil {
		return in, e
	}
	if f.Has("SerialNumber") || f.Has("TokenCode") {
		return in, iam.AccessDenied("MultiFactorAuthentication failed with invalid MFA one time pass code.").
			Because("sts.mfa_unsupported", "iamra has no MFA devices; SerialNumber/TokenCode cannot be verified")
	}
	seen := map[string]bool{}
	for _, t := range in.tags {
		k := strings.ToLower(t.Key)
		if seen[k] {
			return in, validationError("Duplicate tag keys found. Please note that Tag keys are case insensitive.", "validation.constraint", "tag key %q repeated", t.Key)
		}
		if strings.HasPrefix(k, "aws:") {
			return in, validationError("Tag keys may not start with aws:.", "validation.constraint", "tag key %q", t.Key)
		}
		seen[k] = true
	}
	for _, k := range in.transitive {
		if !seen[strings.ToLower(k)] {
			return in, validationError("The specified transitive tag key must be included in the requested tags.", "validation.constraint",
				"transitive tag key %q is not among the request's tags", k)
		}
	}
	if in.policy != "" {
		if _, err := policy.Parse(in.policy, policy.Session); err != nil {
			return in, err
		}
	}
	return in, nil
}

func (h *Handler) assumeRole(r *http.Request, caller *authz.Principal, f query.Form) (*assumeRoleResult, error) {
	ctx := r.Context()
	in, err := parseAssumeRole(f)
	if err != nil {
		return nil, err
	}
	now := h.cfg.Now()
	denied := func(reason, format string, args ...any) *awserr.Error {
		return iam.AccessDenied(fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.Arn, in.roleArn)).
			Because(reason, format, args...)
	}
	role, ok, err := h.cfg.Directory.Role(ctx, in.roleArn)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, denied("role.not_found", "no role %s", in.roleArn)
	}
	sess := caller.Session()

	// Duration: role chaining is limited to one hour.
	duration := int64(defaultDuration)
	if in.durationSet {
		duration = in.duration
	}
	if sess != nil && duration > chainingDuration {
		return nil, validationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
			"sts.chaining_duration", "%s chains into %s for %d seconds", caller.Arn, in.roleArn, duration)
	}
	if time.Duration(duration)*time.Second > role.MaxSession() {
		return nil, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
			"role.duration_exceeds_max", "requested %d seconds but role %s allows at most %s", duration, role.Arn, role.MaxSession())
	}

	// Source identity and transitive tags carry over from the caller.
	sourceIdentity := in.sourceIdentity
	tags, transitive := in.tags, in.transitive
	if sess != nil {
		if sess.SourceIdentity != "" {
			if in.sourceIdentity != "" && in.sourceIdentity != sess.SourceIdentity {
				return nil, iam.AccessDenied(fmt.Sprintf("User: %s is not authorized to perform: sts:SetSourceIdentity on resource: %s: the source identity of a role session cannot be changed once it is set", caller.Arn, in.roleArn)).
					Because("sts.source_identity_changed", "caller %s has source identity %q, request sets %q", caller.Arn, sess.SourceIdentity, in.sourceIdentity)
			}
			sourceIdentity = sess.SourceIdentity
		}
		carried, keys := transitiveTags(sess)
		for _, t := range in.tags {
			for _, c := range carried {
				if strings.EqualFold(t.Key, c.Key) {
					return nil, awserr.New("InvalidParameterValue", http.StatusBadRequest, "One or more session tags conflict with transitive session tags of the calling session.").
						Because("sts.transitive_tag_conflict", "tag %q is a transitive tag of %s", t.Key, caller.Arn)
				}
			}
		}
		tags = append(carried, in.tags...)
		transitive = append(keys, in.transitive...)
	}

	reqCtx := h.requestContext(r, caller, in, tags, sourceIdentity, now)

	// The caller's own policies must allow what it asks for.
	if !caller.Admin() {
		need := []string{iam.ActionAssumeRole}
		if len(in.tags) > 0 {
			need = append(need, iam.ActionTagSession)
		}
		if in.sourceIdentity != "" && (sess == nil || sess.SourceIdentity == "") {
			need = append(need, iam.ActionSetSourceIdentity)
		}
		for _, a := range need {
			d, err := h.cfg.Verifier.Authorize(ctx, caller, a, role.Arn, reqCtx)
			if err != nil {
				return nil, err
			}
			if !d.Allowed {
				return nil, iam.AccessDenied(fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", caller.Arn, a, role.Arn)).
					Because("sts.identity_denied", "the policies of %s do not allow %s on %s: %s", caller.Arn, a, role.Arn, d.Explanation)
			}
		}
	}

	// The target role must trust the caller.
	principal := policyPrincipal(caller)
	if d := h.cfg.Trust.Check(&role.Role, principal, sts.AssumeRoleInput{Tags: tags, SourceIdentity: sourceIdentity, Context: reqCtx}); d != nil {
		return nil, iam.AccessDenied(fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", caller.Arn, d.Action, role.Arn)).
			Because(d.Reason, "%s", d.Detail)
	}

	packedIn := sts.AssumeRoleInput{SessionPolicy: in.policy, PolicyArns: in.policyArns, Tags: tags}
	packed := assumer.PackedPolicySize(packedIn)
	if packed > 100 {
		return nil, awserr.New("PackedPolicyTooLarge", http.StatusBadRequest,
			fmt.Sprintf("Packed size of consumed session policies and session tags exceeds the limit. It is %d%% of the allowed size.", packed)).
			Because("role.packed_policy_too_large", "session policy, policy ARNs and tags use %d%% of the packed budget", packed)
	}
	ns := credentials.Session{
		RoleArn: role.Arn, RoleID: role.RoleID, RoleSessionName: in.sessionName, SourceIdentity: sourceIdentity,
		Tags: tags, TransitiveTagKeys: transitive, SessionPolicy: in.policy, PolicyArns: in.policyArns,
		Issuer: caller.Arn, IssuedAt: now, Expiration: now.Add(time.Duration(duration) * time.Second),
	}
	if sess != nil {
		ns.CertificateSerial = sess.CertificateSerial
	}
	creds, err := credentials.Mint(ns, h.cfg.Ring, h.cfg.Rand)
	if err != nil {
		return nil, err
	}
	assumed, err := ns.AssumedRoleArn()
	if err != nil {
		return nil, awserr.Internal(err.Error())
	}
	out := &assumeRoleResult{
		Credentials: credentialsXML{AccessKeyId: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey,
			SessionToken: creds.SessionToken, Expiration: query.Time(creds.Expiration)},
		AssumedRoleUser: assumedRoleUser{AssumedRoleId: ns.AssumedRoleID(), Arn: assumed},
		SourceIdentity:  sourceIdentity,
	}
	if len(tags) > 0 || in.policy != "" || len(in.policyArns) > 0 {
		out.PackedPolicySize = &packed
	}
	return out, nil
}

// transitiveTags are the caller's tags marked transitive, and their keys.
func transitiveTags(s *credentials.Session) ([]sts.Tag, []string) {
	var tags []sts.Tag
	var keys []string
	for _, t := range s.Tags {
		for _, k := range s.TransitiveTagKeys {
			if strings.EqualFold(k, t.Key) {
				tags = append(tags, t)
				keys = append(keys, t.Key)
				break
			}
		}
	}
	return tags, keys
}

// policyPrincipal is how the target's trust policy sees the caller: a
// session by its assumed-role ARN and its role, the admin by its user ARN.
func policyPrincipal(p *authz.Principal) policy.Principal {
	if p.Admin() {
		return policy.Principal{AWS: p.Arn}
	}
	return policy.Principal{AWS: p.Arn, Role: p.RoleArn}
}

// requestContext is what the caller's policies and the target's trust
// policy see: the caller's identity keys (aws:PrincipalArn,
// aws:PrincipalTag/…, aws:SourceIdentity, …), the request's tags
// (aws:RequestTag/…, aws:TagKeys, sts:TransitiveTagKeys), sts:RoleSessionName,
// sts:SourceIdentity, sts:ExternalId, aws:SourceIp and the time.
func (h *Handler) requestContext(r *http.Request, caller *authz.Principal, in assumeRoleInput, tags []sts.Tag, sourceIdentity string, now time.Time) map[string][]string {
	extra := authz.RequestContext(r)
	extra["sts:RoleSessionName"] = []string{in.sessionName}
	if sourceIdentity != "" {
		extra["sts:SourceIdentity"] = []string{sourceIdentity}
	}
	if in.externalID != "" {
		extra["sts:ExternalId"] = []string{in.externalID}
	}
	if len(in.transitive) > 0 {
		extra["sts:TransitiveTagKeys"] = in.transitive
	}
	var keys []string
	for _, t := range tags {
		extra["aws:RequestTag/"+t.Key] = []string{t.Value}
		keys = append(keys, t.Key)
	}
	if len(keys) > 0 {
		extra["aws:TagKeys"] = keys
	}
	if sess := caller.Session(); sess != nil {
		var role *iam.Role
		if rr, ok, err := h.cfg.Directory.Role(r.Context(), sess.RoleArn); err == nil && ok {
			role = &rr
		}
		return iam.SessionContext(sess, role, now, extra)
	}
	extra["aws:PrincipalArn"] = []string{caller.Arn}
	extra["aws:PrincipalAccount"] = []string{caller.Account}
	extra["aws:PrincipalType"] = []string{"User"}
	extra["aws:userid"] = []string{caller.UserID}
	if a, err := arn.Parse(caller.Arn); err == nil {
		extra["aws:username"] = []string{a.ResourceName()}
	}
	extra["aws:CurrentTime"] = []string{now.UTC().Format(time.RFC3339)}
	extra["aws:EpochTime"] = []string{strconv.FormatInt(now.Unix(), 10)}
	return extra
}
