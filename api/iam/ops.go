package iam

import (
	"context"
	"time"

	"github.com/iamra/iamra/api/query"
	"github.com/iamra/iamra/awserr"
	iamd "github.com/iamra/iamra/iam"
)

// Result shapes, element for element as the IAM API model names them.

type tagXML struct {
	Key   string `xml:"Key" json:"Key"`
	Value string `xml:"Value" json:"Value"`
}

type roleXML struct {
	Path                     string             `xml:"Path"`
	RoleName                 string             `xml:"RoleName"`
	RoleId                   string             `xml:"RoleId"`
	Arn                      string             `xml:"Arn"`
	CreateDate               query.Time         `xml:"CreateDate"`
	AssumeRolePolicyDocument string             `xml:"AssumeRolePolicyDocument"`
	Description              string             `xml:"Description,omitempty"`
	MaxSessionDuration       int32              `xml:"MaxSessionDuration"`
	Tags                     query.List[tagXML] `xml:"Tags,omitempty"`
	RoleLastUsed             *struct{}          `xml:"RoleLastUsed,omitempty"`
}

type policyXML struct {
	PolicyName                    string             `xml:"PolicyName"`
	PolicyId                      string             `xml:"PolicyId"`
	Arn                           string             `xml:"Arn"`
	Path                          string             `xml:"Path"`
	DefaultVersionId              string             `xml:"DefaultVersionId"`
	AttachmentCount               int                `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int                `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool               `xml:"IsAttachable"`
	Description                   string             `xml:"Description,omitempty"`
	CreateDate                    query.Time         `xml:"CreateDate"`
	UpdateDate                    query.Time         `xml:"UpdateDate"`
	Tags                          query.List[tagXML] `xml:"Tags,omitempty"`
}

type page struct {
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

func pageOf[T any](p iamd.Page[T]) page { return page{IsTruncated: p.IsTruncated, Marker: p.Marker} }

func tagsXML(ts []iamd.Tag) query.List[tagXML] {
	out := make(query.List[tagXML], len(ts))
	for i, t := range ts {
		out[i] = tagXML{Key: t.Key, Value: t.Value}
	}
	return out
}

// roleOut renders a role; tags only where AWS includes them.
func roleOut(r iamd.Role, withTags bool) roleXML {
	out := roleXML{
		Path: r.Path, RoleName: r.RoleName, RoleId: r.RoleID, Arn: r.Arn, CreateDate: query.Time(r.CreateDate),
		AssumeRolePolicyDocument: query.EncodeDocument(r.AssumeRolePolicyDocument), Description: r.Description,
		MaxSessionDuration: int32(r.MaxSession() / time.Second),
	}
	if out.Path == "" {
		out.Path = "/"
	}
	if withTags {
		out.Tags = tagsXML(r.Tags)
	}
	return out
}

func policyOut(p iamd.ManagedPolicy, withTags bool) policyXML {
	out := policyXML{
		PolicyName: p.PolicyName, PolicyId: p.PolicyID, Arn: p.Arn, Path: p.Path, DefaultVersionId: p.DefaultVersionID,
		AttachmentCount: p.AttachmentCount, IsAttachable: true, Description: p.Description,
		CreateDate: query.Time(p.CreateDate), UpdateDate: query.Time(p.UpdateDate),
	}
	if withTags {
		out.Tags = tagsXML(p.Tags)
	}
	return out
}

// Form readers.

func tagsIn(f query.Form, name string) ([]iamd.Tag, error) {
	if !f.Has(name) && !hasPrefix(f, name+".member.") {
		return nil, nil
	}
	ms, err := f.Members(name)
	if err != nil {
		return nil, err
	}
	out := make([]iamd.Tag, 0, len(ms))
	for _, m := range ms {
		out = append(out, iamd.Tag{Key: m.Get("Key"), Value: m.Get("Value")})
	}
	return out, nil
}

func stringsIn(f query.Form, name string) ([]string, error) {
	if !f.Has(name) && !hasPrefix(f, name+".member.") {
		return nil, nil
	}
	out, err := f.Strings(name)
	if out == nil && err == nil {
		out = []string{}
	}
	return out, err
}

func hasPrefix(f query.Form, p string) bool {
	for _, k := range f.Names() {
		if len(k) >= len(p) && k[:len(p)] == p {
			return true
		}
	}
	return false
}

// paging reads Marker and MaxItems.
func paging(f query.Form) (string, int, error) {
	n, ok, err := f.Int("MaxItems", "maxItems")
	if err != nil {
		return "", 0, err
	}
	if ok {
		if err := iamd.CheckMaxItems(n); err != nil {
			return "", 0, err
		}
	}
	return f.Get("Marker"), int(n), nil
}

func (h *Handler) operations() map[string]operation {
	s := h.svc
	roleRes := func(ctx context.Context, f query.Form) string {
		if r, err := s.GetRole(ctx, f.Get("RoleName")); err == nil {
			return r.Arn
		}
		path := f.Get("Path")
		if path == "" {
			path = "/"
		}
		return s.RoleArn(path, f.Get("RoleName"))
	}
	policyRes := func(_ context.Context, f query.Form) string {
		if a := f.Get("PolicyArn"); a != "" {
			return a
		}
		path := f.Get("Path")
		if path == "" {
			path = "/"
		}
		return s.PolicyArn(path, f.Get("PolicyName"))
	}
	sourceRes := func(_ context.Context, f query.Form) string { return f.Get("PolicySourceArn") }

	return map[string]operation{
		"CreateRole": {write: true, resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			tags, err := tagsIn(f, "Tags")
			if err != nil {
				return nil, err
			}
			max, _, err := f.Int("MaxSessionDuration", "maxSessionDuration")
			if err != nil {
				return nil, err
			}
			r, err := s.CreateRole(ctx, iamd.CreateRoleInput{RoleName: f.Get("RoleName"), Path: f.Get("Path"),
				AssumeRolePolicyDocument: f.Get("AssumeRolePolicyDocument"), Description: f.Get("Description"),
				MaxSessionDuration: max, Tags: tags, PermissionsBoundary: f.Get("PermissionsBoundary")})
			if err != nil {
				return nil, err
			}
			return struct {
				Role roleXML `xml:"Role"`
			}{roleOut(r, len(r.Tags) > 0)}, nil
		}},
		"GetRole": {resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			r, err := s.GetRole(ctx, f.Get("RoleName"))
			if err != nil {
				return nil, err
			}
			out := roleOut(r, len(r.Tags) > 0)
			out.RoleLastUsed = &struct{}{}
			return struct {
				Role roleXML `xml:"Role"`
			}{out}, nil
		}},
		"ListRoles": {fn: func(ctx context.Context, f query.Form) (any, error) {
			marker, max, err := paging(f)
			if err != nil {
				return nil, err
			}
			p, err := s.ListRoles(ctx, f.Get("PathPrefix"), marker, max)
			if err != nil {
				return nil, err
			}
			roles := make(query.List[roleXML], len(p.Items))
			for i, r := range p.Items {
				roles[i] = roleOut(r, false)
			}
			return struct {
				Roles query.List[roleXML] `xml:"Roles"`
				page
			}{roles, pageOf(p)}, nil
		}},
		"UpdateRole": {write: true, resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			in := iamd.UpdateRoleInput{RoleName: f.Get("RoleName")}
			if f.Has("Description") {
				d := f.Get("Description")
				in.Description = &d
			}
			max, ok, err := f.Int("MaxSessionDuration", "maxSessionDuration")
			if err != nil {
				return nil, err
			}
			if ok {
				in.MaxSessionDuration = &max
			}
			return struct{}{}, s.UpdateRole(ctx, in)
		}},
		"UpdateAssumeRolePolicy": {write: true, resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			return nil, s.UpdateAssumeRolePolicy(ctx, f.Get("RoleName"), f.Get("PolicyDocument"))
		}},
		"DeleteRole": {write: true, resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			return nil, s.DeleteRole(ctx, f.Get("RoleName"))
		}},
		"TagRole": {write: true, resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			tags, err := tagsIn(f, "Tags")
			if err != nil {
				return nil, err
			}
			return nil, s.TagRole(ctx, f.Get("RoleName"), tags)
		}},
		"UntagRole": {write: true, resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			keys, err := stringsIn(f, "TagKeys")
			if err != nil {
				return nil, err
			}
			return nil, s.UntagRole(ctx, f.Get("RoleName"), keys)
		}},
		"ListRoleTags": {resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			marker, max, err := paging(f)
			if err != nil {
				return nil, err
			}
			p, err := s.ListRoleTags(ctx, f.Get("RoleName"), marker, max)
			if err != nil {
				return nil, err
			}
			return struct {
				Tags query.List[tagXML] `xml:"Tags"`
				page
			}{tagsXML(p.Items), pageOf(p)}, nil
		}},
		"PutRolePolicy": {write: true, resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			return nil, s.PutRolePolicy(ctx, f.Get("RoleName"), f.Get("PolicyName"), f.Get("PolicyDocument"))
		}},
		"GetRolePolicy": {resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			r, p, err := s.GetRolePolicy(ctx, f.Get("RoleName"), f.Get("PolicyName"))
			if err != nil {
				return nil, err
			}
			return struct {
				RoleName       string `xml:"RoleName"`
				PolicyName     string `xml:"PolicyName"`
				PolicyDocument string `xml:"PolicyDocument"`
			}{r.RoleName, p.Name, query.EncodeDocument(p.Document)}, nil
		}},
		"DeleteRolePolicy": {write: true, resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			return nil, s.DeleteRolePolicy(ctx, f.Get("RoleName"), f.Get("PolicyName"))
		}},
		"ListRolePolicies": {resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			marker, max, err := paging(f)
			if err != nil {
				return nil, err
			}
			p, err := s.ListRolePolicies(ctx, f.Get("RoleName"), marker, max)
			if err != nil {
				return nil, err
			}
			return struct {
				PolicyNames query.List[string] `xml:"PolicyNames"`
				page
			}{query.List[string](p.Items), pageOf(p)}, nil
		}},
		"CreatePolicy": {write: true, resource: policyRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			tags, err := tagsIn(f, "Tags")
			if err != nil {
				return nil, err
			}
			p, err := s.CreatePolicy(ctx, iamd.CreatePolicyInput{PolicyName: f.Get("PolicyName"), Path: f.Get("Path"),
				PolicyDocument: f.Get("PolicyDocument"), Description: f.Get("Description"), Tags: tags})
			if err != nil {
				return nil, err
			}
			return struct {
				Policy policyXML `xml:"Policy"`
			}{policyOut(p, len(p.Tags) > 0)}, nil
		}},
		"GetPolicy": {resource: policyRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			p, err := s.GetPolicy(ctx, f.Get("PolicyArn"))
			if err != nil {
				return nil, err
			}
			return struct {
				Policy policyXML `xml:"Policy"`
			}{policyOut(p, len(p.Tags) > 0)}, nil
		}},
		"GetPolicyVersion": {resource: policyRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			p, v, err := s.GetPolicyVersion(ctx, f.Get("PolicyArn"), f.Get("VersionId"))
			if err != nil {
				return nil, err
			}
			type version struct {
				Document         string     `xml:"Document"`
				VersionId        string     `xml:"VersionId"`
				IsDefaultVersion bool       `xml:"IsDefaultVersion"`
				CreateDate       query.Time `xml:"CreateDate"`
			}
			return struct {
				PolicyVersion version `xml:"PolicyVersion"`
			}{version{query.EncodeDocument(v.Document), v.VersionID, v.VersionID == p.DefaultVersionID, query.Time(v.CreateDate)}}, nil
		}},
		"ListPolicies": {fn: func(ctx context.Context, f query.Form) (any, error) {
			marker, max, err := paging(f)
			if err != nil {
				return nil, err
			}
			only, _, err := f.Bool("OnlyAttached", "onlyAttached")
			if err != nil {
				return nil, err
			}
			p, err := s.ListPolicies(ctx, iamd.ListPoliciesInput{Scope: f.Get("Scope"), OnlyAttached: only,
				PathPrefix: f.Get("PathPrefix"), Marker: marker, MaxItems: max})
			if err != nil {
				return nil, err
			}
			ps := make(query.List[policyXML], len(p.Items))
			for i, mp := range p.Items {
				ps[i] = policyOut(mp, false)
			}
			return struct {
				Policies query.List[policyXML] `xml:"Policies"`
				page
			}{ps, pageOf(p)}, nil
		}},
		"DeletePolicy": {write: true, resource: policyRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			return nil, s.DeletePolicy(ctx, f.Get("PolicyArn"))
		}},
		"AttachRolePolicy": {write: true, resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			return nil, s.AttachRolePolicy(ctx, f.Get("RoleName"), f.Get("PolicyArn"))
		}},
		"DetachRolePolicy": {write: true, resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			return nil, s.DetachRolePolicy(ctx, f.Get("RoleName"), f.Get("PolicyArn"))
		}},
		"ListAttachedRolePolicies": {resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			marker, max, err := paging(f)
			if err != nil {
				return nil, err
			}
			p, err := s.ListAttachedRolePolicies(ctx, f.Get("RoleName"), f.Get("PathPrefix"), marker, max)
			if err != nil {
				return nil, err
			}
			type attached struct {
				PolicyName string `xml:"PolicyName"`
				PolicyArn  string `xml:"PolicyArn"`
			}
			out := make(query.List[attached], len(p.Items))
			for i, a := range p.Items {
				out[i] = attached{a.PolicyName, a.PolicyArn}
			}
			return struct {
				AttachedPolicies query.List[attached] `xml:"AttachedPolicies"`
				page
			}{out, pageOf(p)}, nil
		}},
		"SimulatePrincipalPolicy": {resource: sourceRes, fn: h.simulate},
		"RevokeRoleSessions": {write: true, admin: true, resource: roleRes, fn: func(ctx context.Context, f query.Form) (any, error) {
			var at time.Time
			if v := f.Get("NotBefore"); v != "" {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					return nil, query.Validation(awserr.Violation{Value: v, Field: "notBefore", Constraint: "Member must be an ISO 8601 time"})
				}
				at = t
			}
			r, err := s.RevokeSessions(ctx, f.Get("RoleName"), at)
			if err != nil {
				return nil, err
			}
			return struct {
				RoleName  string     `xml:"RoleName"`
				NotBefore query.Time `xml:"NotBefore"`
			}{r.RoleName, query.Time(r.NotBefore)}, nil
		}},
		"RotateSessionKeys": {write: true, admin: true, fn: func(ctx context.Context, f query.Form) (any, error) {
			if h.cfg.RotateKeys == nil {
				return nil, awserr.New("InvalidAction", 400, "This server does not rotate session keys through the API.").
					Because("query.unknown_action", "Config.RotateKeys is nil")
			}
			res, err := h.cfg.RotateKeys(ctx)
			if err != nil {
				return nil, err
			}
			return struct {
				CurrentKeyId uint32 `xml:"CurrentKeyId"`
				Keys         int    `xml:"Keys"`
				Pruned       int    `xml:"Pruned"`
			}{res.NewKey, res.KeysNow, res.Pruned}, nil
		}},
	}
}

func (h *Handler) simulate(ctx context.Context, f query.Form) (any, error) {
	actions, err := stringsIn(f, "ActionNames")
	if err != nil {
		return nil, err
	}
	resources, err := stringsIn(f, "ResourceArns")
	if err != nil {
		return nil, err
	}
	inputs, err := stringsIn(f, "PolicyInputList")
	if err != nil {
		return nil, err
	}
	entries, err := f.Members("ContextEntries")
	if err != nil {
		return nil, err
	}
	var c map[string][]string
	for _, e := range entries {
		vals, err := e.Strings("ContextKeyValues")
		if err != nil {
			return nil, err
		}
		if c == nil {
			c = map[string][]string{}
		}
		c[e.Get("ContextKeyName")] = append(c[e.Get("ContextKeyName")], vals...)
	}
	res, err := h.svc.SimulatePrincipalPolicy(ctx, iamd.SimulateInput{PolicySourceArn: f.Get("PolicySourceArn"),
		PolicyInputList: inputs, ActionNames: actions, ResourceArns: resources, Context: c, CallerArn: f.Get("CallerArn")})
	if err != nil {
		return nil, err
	}
	type matched struct {
		SourcePolicyId   string `xml:"SourcePolicyId"`
		SourcePolicyType string `xml:"SourcePolicyType"`
	}
	type result struct {
		EvalActionName       string              `xml:"EvalActionName"`
		EvalResourceName     string              `xml:"EvalResourceName"`
		EvalDecision         string              `xml:"EvalDecision"`
		MatchedStatements    query.List[matched] `xml:"MatchedStatements"`
		MissingContextValues query.List[string]  `xml:"MissingContextValues"`
	}
	out := make(query.List[result], len(res))
	for i, r := range res {
		ms := make(query.List[matched], len(r.MatchedStatements))
		for j, m := range r.MatchedStatements {
			ms[j] = matched{m.SourcePolicyID, m.SourcePolicyType}
		}
		out[i] = result{r.EvalActionName, r.EvalResourceName, r.EvalDecision, ms, query.List[string]{}}
	}
	return struct {
		EvaluationResults query.List[result] `xml:"EvaluationResults"`
		IsTruncated       bool               `xml:"IsTruncated"`
	}{out, false}, nil
}
