package rolesanywhere

import (
	"context"
	"net/http"

	ra "github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
)

// CreateProfile validates in as CreateProfile does and stores the new
// profile, with AWS's default attribute mappings and duration. createdBy
// is the caller in ctx (restjson.WithCaller), else the account. The HTTP
// API calls it; so does in-process bootstrap. Errors are *awserr.Error.
func (h *Handler) CreateProfile(ctx context.Context, in ra.CreateProfileInput) (ra.Profile, error) {
	if err := in.Validate(); err != nil {
		return ra.Profile{}, err
	}
	id, err := h.newID()
	if err != nil {
		return ra.Profile{}, err
	}
	now := h.now()
	p := ra.Profile{
		ProfileID:                 id,
		ProfileArn:                h.arn(ra.ResourceProfile, id),
		Name:                      *in.Name,
		RequireInstanceProperties: bool0(in.RequireInstanceProperties),
		Enabled:                   bool0(in.Enabled),
		CreatedBy:                 h.creator(ctx),
		RoleArns:                  append([]string{}, in.RoleArns...),
		ManagedPolicyArns:         append([]string{}, in.ManagedPolicyArns...),
		CreatedAt:                 now,
		UpdatedAt:                 now,
		DurationSeconds:           ra.DefaultDurationSeconds,
		AcceptRoleSessionName:     bool0(in.AcceptRoleSessionName),
		AttributeMappings:         ra.DefaultAttributeMappings(),
		Tags:                      ra.Tags(in.Tags),
	}
	if in.SessionPolicy != nil {
		p.SessionPolicy = *in.SessionPolicy
	}
	if in.DurationSeconds != nil {
		p.DurationSeconds = *in.DurationSeconds
	}
	if err := create(ctx, h.cfg.Store, store.KindProfile, id, p, nil); err != nil {
		return ra.Profile{}, err
	}
	return p, nil
}

func (h *Handler) createProfile(r *http.Request, c *call) (int, any, error) {
	var in ra.CreateProfileInput
	if err := h.decode(r, c, &in); err != nil {
		return 0, nil, err
	}
	p, err := h.CreateProfile(r.Context(), in)
	if err != nil {
		return 0, nil, err
	}
	return profiles.created(c, p)
}

func (h *Handler) updateProfile(r *http.Request, c *call) (int, any, error) {
	in := ra.UpdateProfileInput{ProfileID: r.PathValue("profileId")}
	if err := h.input(r, c, &in); err != nil {
		return 0, nil, err
	}
	return profiles.change(h, r, c, in.ProfileID, func(_ store.Tx, p *ra.Profile) error {
		if in.Name != nil {
			p.Name = *in.Name
		}
		if in.SessionPolicy != nil {
			p.SessionPolicy = *in.SessionPolicy
		}
		if in.RoleArns != nil {
			p.RoleArns = append([]string{}, in.RoleArns...)
		}
		if in.ManagedPolicyArns != nil {
			p.ManagedPolicyArns = append([]string{}, in.ManagedPolicyArns...)
		}
		if in.DurationSeconds != nil {
			p.DurationSeconds = *in.DurationSeconds
		}
		if in.AcceptRoleSessionName != nil {
			p.AcceptRoleSessionName = *in.AcceptRoleSessionName
		}
		return nil
	})
}

func (h *Handler) putAttributeMapping(r *http.Request, c *call) (int, any, error) {
	in := ra.PutAttributeMappingInput{ProfileID: r.PathValue("profileId")}
	if err := h.input(r, c, &in); err != nil {
		return 0, nil, err
	}
	specs := make([]string, len(in.MappingRules))
	for i, rule := range in.MappingRules {
		specs[i] = *rule.Specifier
	}
	return profiles.change(h, r, c, in.ProfileID, func(_ store.Tx, p *ra.Profile) error {
		p.AttributeMappings = ra.PutMapping(p.AttributeMappings, *in.CertificateField, specs)
		return nil
	})
}

func (h *Handler) deleteAttributeMapping(r *http.Request, c *call) (int, any, error) {
	q := r.URL.Query()
	in := ra.DeleteAttributeMappingInput{ProfileID: r.PathValue("profileId"), Specifiers: q["specifiers"]}
	if q.Has("certificateField") {
		in.CertificateField = ra.Ptr(q.Get("certificateField"))
	}
	c.params = map[string]any{"profileId": in.ProfileID, "certificateField": in.CertificateField, "specifiers": in.Specifiers}
	if err := in.Validate(); err != nil {
		return 0, nil, err
	}
	return profiles.change(h, r, c, in.ProfileID, func(_ store.Tx, p *ra.Profile) error {
		p.AttributeMappings = ra.DeleteMapping(p.AttributeMappings, *in.CertificateField, in.Specifiers)
		return nil
	})
}
