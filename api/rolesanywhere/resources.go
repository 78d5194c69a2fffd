package rolesanywhere

import (
	"context"
	"net/http"

	ra "github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
)

// kindOps describes one resource kind for the operations every kind
// shares (Get, Delete, Enable/Disable, List, and the read-modify-write
// behind every Update), so each is written once.
type kindOps[T any] struct {
	kind    store.Kind
	idField string         // the path parameter: "trustAnchorId"
	list    string         // the List* output member: "trustAnchors"
	view    func(T) any    // the response body of single-resource operations
	summary func(T) T      // the resource as List* shows it
	arn     func(T) string // for the audit record
	enable  func(*T, bool) // nil for kinds that cannot be enabled
	stamp   func(*T, ra.Time)
}

var (
	trustAnchors = kindOps[ra.TrustAnchor]{
		kind: store.KindTrustAnchor, idField: "trustAnchorId", list: "trustAnchors",
		view:    func(t ra.TrustAnchor) any { return trustAnchorResponse{TrustAnchor: taSummary(t)} },
		summary: taSummary,
		arn:     func(t ra.TrustAnchor) string { return t.TrustAnchorArn },
		enable:  func(t *ra.TrustAnchor, on bool) { t.Enabled = on },
		stamp:   func(t *ra.TrustAnchor, now ra.Time) { t.UpdatedAt = now },
	}
	profiles = kindOps[ra.Profile]{
		kind: store.KindProfile, idField: "profileId", list: "profiles",
		view:    func(p ra.Profile) any { return profileResponse{Profile: profileSummary(p)} },
		summary: profileSummary,
		arn:     func(p ra.Profile) string { return p.ProfileArn },
		enable:  func(p *ra.Profile, on bool) { p.Enabled = on },
		stamp:   func(p *ra.Profile, now ra.Time) { p.UpdatedAt = now },
	}
	crls = kindOps[ra.CRL]{
		kind: store.KindCRL, idField: "crlId", list: "crls",
		view:    func(c ra.CRL) any { return crlResponse{Crl: crlSummary(c)} },
		summary: crlSummary,
		arn:     func(c ra.CRL) string { return c.CrlArn },
		enable:  func(c *ra.CRL, on bool) { c.Enabled = on },
		stamp:   func(c *ra.CRL, now ra.Time) { c.UpdatedAt = now },
	}
	// Subjects are written by CreateSession (package subject); the
	// control plane only reads them.
	subjects = kindOps[ra.Subject]{
		kind: store.KindSubject, idField: "subjectId", list: "subjects",
		view:    func(s ra.Subject) any { return subjectResponse{Subject: s} },
		summary: subjectSummary,
		arn:     func(s ra.Subject) string { return s.SubjectArn },
	}
)

type trustAnchorResponse struct {
	TrustAnchor ra.TrustAnchor `json:"trustAnchor"`
}

type profileResponse struct {
	Profile ra.Profile `json:"profile"`
}

type crlResponse struct {
	Crl ra.CRL `json:"crl"`
}

// auditView leaves the CRL bytes (up to 300 kB) out of the audit record;
// their size stays.
func (r crlResponse) auditView() any {
	n := len(r.Crl.CrlData)
	r.Crl.CrlData = nil
	return map[string]any{"crl": r.Crl, "crlDataLength": n}
}

type subjectResponse struct {
	Subject ra.Subject `json:"subject"`
}

// taSummary is a trust anchor as the API shows it: a TrustAnchorDetail,
// without tags (ListTagsForResource shows those) or iamra's own fields.
func taSummary(t ra.TrustAnchor) ra.TrustAnchor {
	t.Tags = nil
	t.ResolvedCertificateData = ""
	return t
}

// profileSummary is a profile as the API shows it: without tags, with
// empty lists rather than nulls.
func profileSummary(p ra.Profile) ra.Profile {
	p.Tags = nil
	if p.RoleArns == nil {
		p.RoleArns = []string{}
	}
	if p.ManagedPolicyArns == nil {
		p.ManagedPolicyArns = []string{}
	}
	if p.AttributeMappings == nil {
		p.AttributeMappings = []ra.AttributeMapping{}
	}
	return p
}

func crlSummary(c ra.CRL) ra.CRL {
	c.Tags = nil
	return c
}

// subjectSummary is a SubjectSummary: GetSubject adds the credentials and
// instance properties.
func subjectSummary(s ra.Subject) ra.Subject {
	s.Credentials = nil
	s.InstanceProperties = nil
	return s
}

// created answers a Create* or ImportCrl.
func (k kindOps[T]) created(c *call, v T) (int, any, error) {
	c.resources = []string{k.arn(v)}
	return http.StatusCreated, k.view(v), nil
}

func (k kindOps[T]) get(h *Handler) opFunc {
	return func(r *http.Request, c *call) (int, any, error) {
		id, err := pathID(r, c, k.idField)
		if err != nil {
			return 0, nil, err
		}
		v, err := load[T](r.Context(), h.cfg.Store, k.kind, id)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, k.view(v), nil
	}
}

// delete serves Delete*; also runs in the same transaction and returns
// the ARNs of other resources it deleted.
func (k kindOps[T]) delete(h *Handler, also func(tx store.Tx, v T) ([]string, error)) opFunc {
	return func(r *http.Request, c *call) (int, any, error) {
		id, err := pathID(r, c, k.idField)
		if err != nil {
			return 0, nil, err
		}
		var cascaded []string
		v, err := remove(r.Context(), h.cfg.Store, k.kind, id, func(tx store.Tx, v T) error {
			if also == nil {
				return nil
			}
			var err error
			cascaded, err = also(tx, v)
			return err
		})
		if err != nil {
			return 0, nil, err
		}
		c.resources = append([]string{k.arn(v)}, cascaded...)
		return http.StatusOK, k.view(v), nil
	}
}

func (k kindOps[T]) setEnabled(h *Handler, on bool) opFunc {
	return func(r *http.Request, c *call) (int, any, error) {
		id, err := pathID(r, c, k.idField)
		if err != nil {
			return 0, nil, err
		}
		return k.change(h, r, c, id, func(_ store.Tx, v *T) error {
			k.enable(v, on)
			return nil
		})
	}
}

// change applies fn to one resource in a transaction, stamps updatedAt,
// and answers with the result.
func (k kindOps[T]) change(h *Handler, r *http.Request, c *call, id string, fn func(tx store.Tx, v *T) error) (int, any, error) {
	now := h.now()
	v, err := modify(r.Context(), h.cfg.Store, k.kind, id, func(tx store.Tx, v *T) error {
		if err := fn(tx, v); err != nil {
			return err
		}
		k.stamp(v, now)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	c.resources = []string{k.arn(v)}
	return http.StatusOK, k.view(v), nil
}

func (k kindOps[T]) listAll(h *Handler) opFunc {
	return func(r *http.Request, c *call) (int, any, error) {
		items, next, err := listPage(r, h.cfg.Store, k.kind, k.summary)
		if err != nil {
			return 0, nil, err
		}
		body := map[string]any{k.list: items}
		if next != nil {
			body["nextToken"] = *next
		}
		return http.StatusOK, body, nil
	}
}

// load reads one resource.
func load[T any](ctx context.Context, st store.Store, kind store.Kind, id string) (T, error) {
	var v T
	err := st.View(ctx, func(tx store.Tx) error {
		var err error
		v, _, err = store.Get[T](tx, kind, id)
		return err
	})
	return v, storeErr(err, kind, id)
}

// modify applies fn to one resource in a transaction and stores it.
func modify[T any](ctx context.Context, st store.Store, kind store.Kind, id string, fn func(tx store.Tx, v *T) error) (T, error) {
	var v T
	err := st.Update(ctx, func(tx store.Tx) error {
		cur, version, err := store.Get[T](tx, kind, id)
		if err != nil {
			return err
		}
		if err := fn(tx, &cur); err != nil {
			return err
		}
		if _, err := store.Put(tx, kind, id, version, cur); err != nil {
			return err
		}
		v = cur
		return nil
	})
	return v, storeErr(err, kind, id)
}

// remove deletes one resource and returns it as it was.
func remove[T any](ctx context.Context, st store.Store, kind store.Kind, id string, also func(tx store.Tx, v T) error) (T, error) {
	var v T
	err := st.Update(ctx, func(tx store.Tx) error {
		cur, _, err := store.Get[T](tx, kind, id)
		if err != nil {
			return err
		}
		if also != nil {
			if err := also(tx, cur); err != nil {
				return err
			}
		}
		if err := tx.Delete(kind, id); err != nil {
			return err
		}
		v = cur
		return nil
	})
	return v, storeErr(err, kind, id)
}

// create stores a new resource.
func create[T any](ctx context.Context, st store.Store, kind store.Kind, id string, v T, check func(tx store.Tx) error) error {
	err := st.Update(ctx, func(tx store.Tx) error {
		if check != nil {
			if err := check(tx); err != nil {
				return err
			}
		}
		_, err := store.Put(tx, kind, id, 0, v)
		return err
	})
	return storeErr(err, kind, id)
}
