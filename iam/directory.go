package iam

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	"github.com/iamra/iamra/credentials"
	"github.com/iamra/iamra/policy"
	"github.com/iamra/iamra/store"
)

// Directory is a parsed, cached view of every role and managed policy,
// for the request path: STS finds roles in it and every authorization
// decision about a session evaluates its policies from it, without a
// store read or a policy parse per request.
//
// The view is rebuilt on the first use after Invalidate. Service calls
// Invalidate after each of its writes (when configured with the
// Directory), so a change made through this process's IAM API is in
// force when the API call returns; Watch invalidates on the store's change
// notifications, which covers other replicas and direct store writes.
//
// Evaluation fails closed: a role whose stored policy no longer parses
// allows nothing, and a session policy ARN that names no policy here
// grants nothing.
type Directory struct {
	st    store.Store
	mu    sync.Mutex // serialises rebuilds
	snap  atomic.Pointer[dirSnap]
	stale atomic.Bool

	sessionPolicies parseCache
}

type dirSnap struct {
	roles    map[string]*roleEntry     // by role ARN
	policies map[string]*policy.Policy // managed policies' default versions, by ARN
}

type roleEntry struct {
	role     Role
	identity []*policy.Policy
	err      error // why the role's policies cannot be evaluated
}

// NewDirectory returns a Directory over st. It loads lazily.
func NewDirectory(st store.Store) *Directory {
	return &Directory{st: st, sessionPolicies: parseCache{kind: policy.Session, name: func(string) string { return "session policy" }}}
}

// Invalidate makes the next use rebuild the view.
func (d *Directory) Invalidate() { d.stale.Store(true) }

// Watch invalidates the view whenever roles or policies change in the
// store, until ctx ends. The server runs it in the background.
func (d *Directory) Watch(ctx context.Context) {
	for c := range d.st.Changes(ctx) {
		if slices.Contains(c.Kinds, store.KindRole) || slices.Contains(c.Kinds, store.KindPolicy) {
			d.Invalidate()
		}
	}
}

func (d *Directory) current(ctx context.Context) (*dirSnap, error) {
	if s := d.snap.Load(); s != nil && !d.stale.Load() {
		return s, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if s := d.snap.Load(); s != nil && !d.stale.Load() {
		return s, nil
	}
	// Cleared before reading: a write committed during the build marks
	// the view stale again, so it is never lost.
	d.stale.Store(false)
	s, err := d.build(ctx)
	if err != nil {
		d.stale.Store(true)
		return nil, awserr.Internal("loading roles and policies: " + err.Error())
	}
	d.snap.Store(s)
	return s, nil
}

func (d *Directory) build(ctx context.Context) (*dirSnap, error) {
	var roles []Role
	var managed []ManagedPolicy
	err := d.st.View(ctx, func(tx store.Tx) error {
		var err error
		if roles, _, err = store.List[Role](tx, store.KindRole, store.ListOptions{}); err != nil {
			return err
		}
		managed, _, err = store.List[ManagedPolicy](tx, store.KindPolicy, store.ListOptions{})
		return err
	})
	if err != nil {
		return nil, err
	}
	s := &dirSnap{roles: make(map[string]*roleEntry, len(roles)), policies: parseManaged(managed)}
	for _, r := range roles {
		e := &roleEntry{role: r}
		e.identity, e.err = identityPolicies(&e.role, s.policies)
		s.roles[r.Arn] = e
	}
	return s, nil
}

// parseManaged parses the default version of each managed policy. A
// stored document that no longer parses (a newer server wrote it) maps
// to nil, which identityPolicies reports.
func parseManaged(ps []ManagedPolicy) map[string]*policy.Policy {
	out := make(map[string]*policy.Policy, len(ps))
	for _, p := range ps {
		v, ok := p.DefaultVersion()
		if !ok {
			out[p.Arn] = nil
			continue
		}
		pp, err := policy.Parse(v.Document, policy.Identity)
		if err != nil {
			out[p.Arn] = nil
			continue
		}
		pp.Name = p.Arn
		out[p.Arn] = pp
	}
	return out
}

// identityPolicies parses a role's inline policies and collects its
// attached managed policies. Inline policies are named by their policy
// name, managed ones by ARN.
func identityPolicies(r *Role, managed map[string]*policy.Policy) ([]*policy.Policy, error) {
	out := make([]*policy.Policy, 0, len(r.InlinePolicies)+len(r.AttachedPolicies))
	for _, ip := range r.InlinePolicies {
		p, err := policy.Parse(ip.Document, policy.Identity)
		if err != nil {
			return nil, fmt.Errorf("inline policy %q of role %s does not parse: %v", ip.Name, r.Arn, err)
		}
		p.Name = ip.Name
		out = append(out, p)
	}
	for _, a := range r.AttachedPolicies {
		p, ok := managed[a]
		switch {
		case !ok:
			// Detached by deletion (DeletePolicy refuses that, but a
			// direct store write may not): it grants nothing.
			continue
		case p == nil:
			return nil, fmt.Errorf("managed policy %s attached to role %s does not parse", a, r.Arn)
		}
		out = append(out, p)
	}
	return out, nil
}

// Role returns a role by ARN.
func (d *Directory) Role(ctx context.Context, roleArn string) (Role, bool, error) {
	s, err := d.current(ctx)
	if err != nil {
		return Role{}, false, err
	}
	e, ok := s.roles[roleArn]
	if !ok {
		return Role{}, false, nil
	}
	return e.role, true, nil
}

// SessionRequest asks whether a session may perform Action on Resource.
type SessionRequest struct {
	Session *credentials.Session
	Action  string
	// Resource is the ARN acted on ("*" when the action has none).
	Resource string
	// Context adds request keys (aws:SourceIp, aws:SecureTransport, …);
	// it cannot replace the keys the session defines (aws:PrincipalTag/…,
	// aws:TokenIssueTime, …).
	Context map[string][]string
	Now     time.Time
}

// EvaluateSession decides a request made with session credentials: the
// role's identity policies (inline and attached) intersected with the
// session's policies (the profile's or AssumeRole's inline session policy
// and managed policy ARNs), an explicit deny winning, and every session
// issued before the role's NotBefore denied.
func (d *Directory) EvaluateSession(ctx context.Context, req SessionRequest) (policy.Decision, error) {
	s, err := d.current(ctx)
	if err != nil {
		return policy.Decision{}, err
	}
	sess := req.Session
	e, deny := s.sessionRole(sess)
	if deny != "" {
		return policy.Decision{Effect: policy.Deny, Explanation: deny}, nil
	}
	if sess.IssuedAt.Before(e.role.NotBefore) {
		return policy.Decision{Effect: policy.Deny, Explanation: revokedExplanation(sess, &e.role)}, nil
	}
	if e.err != nil {
		return policy.Decision{Effect: policy.Deny, Explanation: e.err.Error()}, nil
	}
	session, err := d.sessionPolicySet(s, sess)
	if err != nil {
		return policy.Decision{Effect: policy.Deny, Explanation: err.Error()}, nil
	}
	pr, err := sessionPrincipal(sess)
	if err != nil {
		return policy.Decision{Effect: policy.Deny, Explanation: err.Error()}, nil
	}
	dec := policy.EvaluateSession(policy.Request{
		Principal: pr, Action: req.Action, Resource: req.Resource,
		Context: SessionContext(sess, &e.role, req.Now, req.Context),
	}, e.identity, session)
	if !dec.Allowed() {
		var missing []string
		for _, a := range sess.PolicyArns {
			if p := s.policies[a]; p == nil {
				missing = append(missing, a)
			}
		}
		if len(missing) > 0 {
			dec.Explanation += "; session policy ARNs not found in iamra (they grant nothing): " + strings.Join(missing, ", ")
		}
	}
	return dec, nil
}

// sessionRole finds the role of a session; deny explains why there is
// none. A role deleted and created again under the same name has a new
// role id, and the old sessions do not become sessions of the new role.
func (s *dirSnap) sessionRole(sess *credentials.Session) (*roleEntry, string) {
	if sess.Principal != credentials.PrincipalAssumedRole {
		return nil, fmt.Sprintf("%s sessions have no IAM policies in iamra", sess.Principal)
	}
	e, ok := s.roles[sess.RoleArn]
	switch {
	case !ok:
		return nil, fmt.Sprintf("the session's role %s no longer exists", sess.RoleArn)
	case e.role.RoleID != "" && sess.RoleID != "" && e.role.RoleID != sess.RoleID:
		return nil, fmt.Sprintf("the session's role %s was deleted and created again (role id %s, session minted for %s)",
			sess.RoleArn, e.role.RoleID, sess.RoleID)
	}
	return e, ""
}

func revokedExplanation(sess *credentials.Session, r *Role) string {
	return fmt.Sprintf("sessions of role %s issued before %s are revoked; this one was issued at %s",
		r.Arn, r.NotBefore.UTC().Format(time.RFC3339), sess.IssuedAt.UTC().Format(time.RFC3339))
}

// sessionPrincipal is how policies see a role session.
func sessionPrincipal(sess *credentials.Session) (policy.Principal, error) {
	a, err := sess.AssumedRoleArn()
	if err != nil {
		return policy.Principal{}, err
	}
	return policy.Principal{AWS: a, Role: sess.RoleArn}, nil
}

// sessionPolicySet resolves the session policies: nil when none were
// passed (the role's policies then decide alone).
func (d *Directory) sessionPolicySet(s *dirSnap, sess *credentials.Session) ([]*policy.Policy, error) {
	if sess.SessionPolicy == "" && len(sess.PolicyArns) == 0 {
		return nil, nil
	}
	out := make([]*policy.Policy, 0, 1+len(sess.PolicyArns))
	if sess.SessionPolicy != "" {
		p, err := d.sessionPolicies.get(sess.SessionPolicy, sess.SessionPolicy)
		if err != nil {
			return nil, fmt.Errorf("the session policy does not parse: %v", err)
		}
		out = append(out, p)
	}
	for _, a := range sess.PolicyArns {
		p, ok := s.policies[a]
		if !ok || p == nil {
			p = grantsNothing(a)
		}
		out = append(out, p)
	}
	return out, nil
}

// grantsNothing stands for a session policy ARN iamra does not have (an
// AWS managed policy, a deleted one): present, so the session's
// permissions are still intersected, but allowing nothing.
func grantsNothing(policyArn string) *policy.Policy {
	p := *nothingPolicy
	p.Name = policyArn + " (not found in iamra: grants nothing)"
	return &p
}

var nothingPolicy = func() *policy.Policy {
	p, err := policy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":"*","Resource":"*"}]}`, policy.Session)
	if err != nil {
		panic("iam: built-in policy does not parse: " + err.Error())
	}
	return p
}()

// CheckSession refuses a session that may no longer be used at all: its
// role is gone, its sessions were revoked (NotBefore), or the role's
// identity policies explicitly deny action to it — which is how the
// console's AWSRevokeOlderSessions policy (a Deny of "*" for
// aws:TokenIssueTime before T) revokes sessions. iamra applies this to
// sts:GetCallerIdentity too, unlike AWS, so that a revoked session cannot
// authenticate to Kubernetes or to services through package authz.
// Errors are AccessDenied with reason session.revoked or session.denied.
func (d *Directory) CheckSession(ctx context.Context, sess *credentials.Session, action string, now time.Time) error {
	s, err := d.current(ctx)
	if err != nil {
		return err
	}
	who, _ := sess.AssumedRoleArn()
	e, deny := s.sessionRole(sess)
	if deny != "" {
		return sessionDenied(who, action, "session.role_gone", deny)
	}
	if sess.IssuedAt.Before(e.role.NotBefore) {
		return sessionDenied(who, action, "session.revoked", revokedExplanation(sess, &e.role))
	}
	if e.err != nil {
		return sessionDenied(who, action, "session.policy_unusable", e.err.Error())
	}
	pr, err := sessionPrincipal(sess)
	if err != nil {
		return sessionDenied(who, action, "session.policy_unusable", err.Error())
	}
	dec := policy.Evaluate(policy.Request{Principal: pr, Action: action, Resource: "*",
		Context: SessionContext(sess, &e.role, now, nil)}, e.identity...)
	if dec.Effect == policy.Deny {
		return sessionDenied(who, action, "session.denied", dec.Explanation)
	}
	return nil
}

func sessionDenied(who, action, reason, detail string) *awserr.Error {
	return AccessDenied(fmt.Sprintf("User: %s is not authorized to perform: %s with an explicit deny in an identity-based policy", who, action)).
		Because(reason, "%s", detail)
}

// AccessDenied is STS's and IAM's AccessDenied (403).
func AccessDenied(msg string) *awserr.Error { return awserr.New("AccessDenied", 403, msg) }

// SessionContext is the request context a session's policies see:
// aws:PrincipalArn (the role), aws:PrincipalAccount, aws:PrincipalType,
// aws:userid, aws:TokenIssueTime, aws:CurrentTime, aws:EpochTime,
// aws:SourceIdentity, and aws:PrincipalTag/<key> for the role's tags
// overridden by the session's tags (as AWS resolves them). extra adds
// keys the session does not define; keys compare case-insensitively, as
// policies look them up.
func SessionContext(sess *credentials.Session, r *Role, now time.Time, extra map[string][]string) map[string][]string {
	account := ""
	if a, err := arn.Parse(sess.RoleArn); err == nil {
		account = a.AccountID
	}
	c := map[string][]string{
		"aws:PrincipalArn":          {sess.RoleArn},
		"aws:PrincipalAccount":      {account},
		"aws:PrincipalType":         {"AssumedRole"},
		"aws:userid":                {sess.AssumedRoleID()},
		"aws:TokenIssueTime":        {sess.IssuedAt.UTC().Format(time.RFC3339)},
		"aws:CurrentTime":           {now.UTC().Format(time.RFC3339)},
		"aws:EpochTime":             {strconv.FormatInt(now.Unix(), 10)},
		"aws:PrincipalIsAWSService": {"false"},
	}
	if sess.SourceIdentity != "" {
		c["aws:SourceIdentity"] = []string{sess.SourceIdentity}
	}
	// Principal tags by lower-cased key: the session's tags replace the
	// role's.
	tags := map[string]Tag{}
	if r != nil {
		for _, t := range r.Tags {
			tags[strings.ToLower(t.Key)] = t
		}
	}
	for _, t := range sess.Tags {
		tags[strings.ToLower(t.Key)] = Tag{Key: t.Key, Value: t.Value}
	}
	for _, t := range tags {
		c[principalTagPrefix+t.Key] = []string{t.Value}
	}
	defined := make(map[string]bool, len(c))
	for k := range c {
		defined[strings.ToLower(k)] = true
	}
	for k, v := range extra {
		lk := strings.ToLower(k)
		if defined[lk] || lk == "aws:sourceidentity" || strings.HasPrefix(lk, "aws:principaltag/") {
			continue
		}
		c[k] = v
	}
	return c
}

const principalTagPrefix = "aws:PrincipalTag/"

// parseCache keeps parsed policies by key (the document, or the role and
// its document). It is bounded: when full it starts over, which costs
// re-parsing, never correctness.
type parseCache struct {
	kind policy.Kind
	name func(key string) string
	mu   sync.Mutex
	m    map[string]*policy.Policy
}

const parseCacheSize = 1024

func (c *parseCache) get(key, doc string) (*policy.Policy, error) {
	c.mu.Lock()
	p, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := policy.Parse(doc, c.kind)
	if err != nil {
		return nil, err
	}
	p.Name = c.name(key)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= parseCacheSize {
		c.m = make(map[string]*policy.Policy)
	}
	c.m[key] = p
	c.mu.Unlock()
	return p, nil
}
