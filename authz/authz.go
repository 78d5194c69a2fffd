// Package authz is for services that accept iamra credentials: it turns a
// SigV4-signed request, or an EKS-style presigned GetCallerIdentity token
// ("k8s-aws-v1." + base64url URL), into the principal that made it — the
// assumed-role ARN, role, session name, source identity and session tags
// — and answers whether that principal may perform an action on a
// resource under the session's effective policy (the role's inline and
// attached policies intersected with the session's policies, an explicit
// deny winning), with the semantics of iam simulate-principal-policy.
//
// Go services use Verifier directly or as HTTP middleware (Middleware,
// Require); others call the JSON endpoint (Handler), which the iamra
// server mounts. STS and the IAM API authenticate their callers with the
// same Verifier.
//
// Verification is stateless: the session token is opened with the key
// ring (credentials.Open), the signature checked (package sigv4), and the
// role's policies read from an in-memory iam.Directory. Sessions of a
// role whose sessions were revoked (NotBefore, or an explicit deny such
// as the console's AWSRevokeOlderSessions policy) are refused.
//
// Reasons this package adds to those of sigv4 and credentials:
//
//	authz.token_malformed   an EKS-style token that is not a presigned GetCallerIdentity URL
//	authz.bad_request       an endpoint request that is not valid JSON or lacks members
//	authz.denied            Require refused the action
//	session.revoked, session.denied, session.role_gone, session.policy_unusable (iam.Directory)
package authz

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/credentials"
	"github.com/iamra/iamra/iam"
	"github.com/iamra/iamra/policy"
	"github.com/iamra/iamra/sigv4"
)

// AdminKey is a long-term access key of the iamra administrator.
type AdminKey struct {
	AccessKeyID     string
	SecretAccessKey string
	// Arn is the identity the key acts as
	// (arn:aws:iam::<account>:user/iamra-admin).
	Arn string
}

// Config configures a Verifier. Ring is required to accept session
// credentials, Admin to accept admin keys.
type Config struct {
	Ring  *credentials.KeyRing
	Admin func(accessKeyID string) (AdminKey, bool)
	// Directory holds roles and policies; without it sessions are never
	// checked for revocation and Authorize denies every session.
	Directory *iam.Directory
	// Now defaults to time.Now.
	Now func() time.Time
	// Skew is the accepted clock difference (sigv4.DefaultSkew).
	Skew time.Duration
	// Keys caches derived signing keys; one is made when nil.
	Keys *sigv4.KeyCache
}

// Verifier authenticates requests and authorizes principals. It is safe
// for concurrent use.
type Verifier struct {
	cfg Config
}

// New returns a Verifier for cfg.
func New(cfg Config) *Verifier {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Keys == nil {
		cfg.Keys = sigv4.NewKeyCache(4096)
	}
	return &Verifier{cfg: cfg}
}

// Options are per-API verification settings.
type Options struct {
	// Service, when set, is the only credential-scope service accepted.
	Service string
	// Dialect picks the error codes (sigv4.Query for IAM and STS).
	Dialect sigv4.Dialect
	// PresignedLifetime overrides X-Amz-Expires for presigned requests
	// (STS: 15 minutes, as AWS behaves for EKS tokens).
	PresignedLifetime time.Duration
	// ClusterID is the x-k8s-aws-id Middleware requires of bearer tokens.
	ClusterID string
}

// StandardPresignedLifetime is how long STS honours a presigned
// GetCallerIdentity URL, whatever its X-Amz-Expires says.
const StandardPresignedLifetime = 15 * time.Minute

// Tag is a session tag.
type Tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Principal is who signed a request.
type Principal struct {
	// Type is "AssumedRole" for sessions, "IAMUser" for admin keys.
	Type        string `json:"type"`
	Arn         string `json:"arn"`
	UserID      string `json:"userId"`
	Account     string `json:"account"`
	AccessKeyID string `json:"accessKeyId"`

	RoleArn           string     `json:"roleArn,omitempty"`
	RoleName          string     `json:"roleName,omitempty"`
	RoleID            string     `json:"roleId,omitempty"`
	SessionName       string     `json:"sessionName,omitempty"`
	SourceIdentity    string     `json:"sourceIdentity,omitempty"`
	Tags              []Tag      `json:"tags,omitempty"`
	TransitiveTagKeys []string   `json:"transitiveTagKeys,omitempty"`
	Issuer            string     `json:"issuer,omitempty"`
	IssuedAt          *time.Time `json:"issuedAt,omitempty"`
	Expiration        *time.Time `json:"expiration,omitempty"`

	// Region and Service are the request's credential scope.
	Region  string `json:"region"`
	Service string `json:"service"`

	session *credentials.Session // nil for admin keys; secret cleared
}

// Admin reports whether the principal is the iamra administrator.
func (p *Principal) Admin() bool { return p.session == nil }

// Session is the caller's session (nil for admin keys), without its
// secret.
func (p *Principal) Session() *credentials.Session {
	if p.session == nil {
		return nil
	}
	s := *p.session
	return &s
}

// Authenticate verifies r's SigV4 signature (r's body was read into body)
// and returns the principal. Session credentials must open with the ring
// and belong to a role whose sessions have not been revoked.
func (v *Verifier) Authenticate(ctx context.Context, r *http.Request, body []byte, opts Options) (*Principal, error) {
	now := v.cfg.Now()
	var sess *credentials.Session
	var admin AdminKey
	lookup := func(_ context.Context, akid, token string) (string, error) {
		if token != "" {
			s, err := credentials.Open(token, akid, v.cfg.Ring, now)
			if err != nil {
				return "", err
			}
			sess = &s
			return s.SecretAccessKey, nil
		}
		if v.cfg.Admin != nil {
			if k, ok := v.cfg.Admin(akid); ok {
				admin = k
				return k.SecretAccessKey, nil
			}
		}
		return "", awserr.New("InvalidClientTokenId", http.StatusForbidden, "The security token included in the request is invalid.").
			Because("auth.unknown_access_key", "access key %s is neither an admin key nor a session key", akid)
	}
	res, err := sigv4.Verify(ctx, r, body, sigv4.VerifyOptions{
		Now: now, Skew: v.cfg.Skew, Lookup: lookup, Dialect: opts.Dialect, Service: opts.Service,
		PresignedLifetime: opts.PresignedLifetime, Keys: v.cfg.Keys,
	})
	if err != nil {
		return nil, err
	}
	if sess == nil {
		return adminPrincipal(admin, res), nil
	}
	sess.SecretAccessKey = ""
	if v.cfg.Directory != nil {
		if err := v.cfg.Directory.CheckSession(ctx, sess, "sts:GetCallerIdentity", now); err != nil {
			return nil, opts.Dialect.Rewrite(err)
		}
	}
	return sessionPrincipal(sess, res)
}

func adminPrincipal(k AdminKey, res *sigv4.Result) *Principal {
	account := ""
	if a, err := arn.Parse(k.Arn); err == nil {
		account = a.AccountID
	}
	return &Principal{Type: "IAMUser", Arn: k.Arn, UserID: UserID(k.AccessKeyID), Account: account,
		AccessKeyID: k.AccessKeyID, Region: res.Region, Service: res.Service}
}

// UserID is the unique id of the admin user behind an access key: "AIDA"
// and 17 base32 characters derived from the key id, stable across
// restarts.
func UserID(accessKeyID string) string {
	sum := sha256.Sum256([]byte("iamra admin user id\x00" + accessKeyID))
	return "AIDA" + base32.StdEncoding.EncodeToString(sum[:11])[:17]
}

func sessionPrincipal(s *credentials.Session, res *sigv4.Result) (*Principal, error) {
	assumed, err := s.AssumedRoleArn()
	if err != nil {
		return nil, awserr.Internal(err.Error())
	}
	a, _ := arn.Parse(s.RoleArn)
	issued, exp := s.IssuedAt, s.Expiration
	p := &Principal{
		Type: "AssumedRole", Arn: assumed, UserID: s.AssumedRoleID(), Account: a.AccountID, AccessKeyID: s.AccessKeyID,
		RoleArn: s.RoleArn, RoleName: a.ResourceName(), RoleID: s.RoleID, SessionName: s.RoleSessionName,
		SourceIdentity: s.SourceIdentity, TransitiveTagKeys: s.TransitiveTagKeys, Issuer: s.Issuer,
		IssuedAt: &issued, Expiration: &exp, session: s,
	}
	if res != nil {
		p.Region, p.Service = res.Region, res.Service
	}
	if s.Principal == credentials.PrincipalUser {
		p.Type, p.RoleName, p.SessionName = "IAMUser", "", ""
	}
	for _, t := range s.Tags {
		p.Tags = append(p.Tags, Tag{Key: t.Key, Value: t.Value})
	}
	return p, nil
}

// Decision answers one authorization question.
type Decision struct {
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Allowed  bool   `json:"allowed"`
	// Decision is "Allow", "ExplicitDeny" or "ImplicitDeny".
	Decision    string `json:"decision"`
	Policy      string `json:"policy,omitempty"`
	Statement   string `json:"statement,omitempty"`
	Explanation string `json:"explanation"`
}

// Authorize decides whether p may perform action on resource ("*" when
// empty) under its session's effective policy. extra adds request context
// keys (aws:SourceIp, …). The administrator may do everything.
func (v *Verifier) Authorize(ctx context.Context, p *Principal, action, resource string, extra map[string][]string) (Decision, error) {
	if resource == "" {
		resource = "*"
	}
	out := Decision{Action: action, Resource: resource}
	if p.Admin() {
		out.Allowed, out.Decision, out.Explanation = true, "Allow", "the iamra administrator key may perform every action"
		return out, nil
	}
	if v.cfg.Directory == nil {
		out.Decision, out.Explanation = "ImplicitDeny", "no role directory is configured"
		return out, nil
	}
	d, err := v.cfg.Directory.EvaluateSession(ctx, iam.SessionRequest{Session: p.session, Action: action, Resource: resource,
		Context: extra, Now: v.cfg.Now()})
	if err != nil {
		return Decision{}, err
	}
	out.Allowed = d.Allowed()
	out.Decision = string(d.Effect)
	if d.Effect == policy.Deny {
		out.Decision = "ExplicitDeny"
	}
	out.Policy, out.Statement, out.Explanation = d.Policy, d.Statement, d.Explanation
	return out, nil
}

// Denied is the AccessDenied error for a refused decision, in AWS's
// words, with the explanation for the operator.
func Denied(p *Principal, d Decision, dialect sigv4.Dialect) *awserr.Error {
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", p.Arn, d.Action, d.Resource)
	if d.Decision == "ExplicitDeny" {
		msg += " with an explicit deny"
	}
	e := iam.AccessDenied(msg).Because("authz.denied", "%s", d.Explanation)
	return awserr.As(dialect.Rewrite(e))
}

// SourceIP is the client address of r for aws:SourceIp.
func SourceIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// RequestContext is the context keys a request itself supplies:
// aws:SourceIp and aws:SecureTransport.
func RequestContext(r *http.Request) map[string][]string {
	c := map[string][]string{"aws:SecureTransport": {fmt.Sprint(r.TLS != nil)}}
	if ip := SourceIP(r); ip != "" {
		c["aws:SourceIp"] = []string{ip}
	}
	return c
}
