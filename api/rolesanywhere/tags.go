package rolesanywhere

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	ra "github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
)

// Tags live inside each resource's stored document, so a resource and its
// tags change in one transaction and go away together.

// tagged resolves resourceArn to the record holding its tags. A string
// that cannot name a taggable resource of this server is a
// ValidationException; a well-formed ARN of another account or region, or
// of no resource, is ResourceNotFoundException.
func (h *Handler) tagged(resourceArn string) (store.Kind, string, error) {
	kind, id, ok := h.resourceOf(resourceArn)
	if ok {
		return kind, id, nil
	}
	a, err := arn.Parse(resourceArn)
	if err != nil || a.Service != ra.Service || !ra.ValidID(a.ResourceID()) ||
		(a.ResourceType() != ra.ResourceTrustAnchor && a.ResourceType() != ra.ResourceProfile && a.ResourceType() != ra.ResourceCRL) {
		return "", "", awserr.Validation("Invalid resourceArn: "+resourceArn).
			Because(ReasonTagsArn, "not the ARN of a rolesanywhere trust anchor, profile or CRL")
	}
	return "", "", awserr.NotFound(notFoundMessage).
		Because(ReasonNotFound, "%s is outside this server's partition, region and account", resourceArn)
}

// withTags decodes a taggable resource document, lets fn read or change
// its tags, and returns the document re-encoded.
func withTags(kind store.Kind, data []byte, fn func(tags *[]ra.Tag) error) ([]byte, error) {
	switch kind {
	case store.KindTrustAnchor:
		return editDoc(data, func(v *ra.TrustAnchor) error { return fn(&v.Tags) })
	case store.KindProfile:
		return editDoc(data, func(v *ra.Profile) error { return fn(&v.Tags) })
	case store.KindCRL:
		return editDoc(data, func(v *ra.CRL) error { return fn(&v.Tags) })
	}
	return nil, fmt.Errorf("rolesanywhere: %s resources have no tags", kind)
}

func editDoc[T any](data []byte, fn func(*T) error) ([]byte, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	if err := fn(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// editTags applies fn to the tags of the resource named by resourceArn
// and answers with status and an empty structure.
func (h *Handler) editTags(ctx context.Context, c *call, resourceArn string, status int, fn func([]ra.Tag) ([]ra.Tag, error)) (int, any, error) {
	c.resources = []string{resourceArn}
	kind, id, err := h.tagged(resourceArn)
	if err != nil {
		return 0, nil, err
	}
	err = h.cfg.Store.Update(ctx, func(tx store.Tx) error {
		rec, err := tx.Get(kind, id)
		if err != nil {
			return err
		}
		data, err := withTags(kind, rec.Data, func(tags *[]ra.Tag) error {
			out, err := fn(*tags)
			*tags = out
			return err
		})
		if err != nil {
			return err
		}
		rec.Data = data
		_, err = tx.Put(rec)
		return err
	})
	if err != nil {
		return 0, nil, storeErr(err, kind, id)
	}
	return status, struct{}{}, nil
}

func (h *Handler) tagResource(r *http.Request, c *call) (int, any, error) {
	var in ra.TagResourceInput
	if err := h.input(r, c, &in); err != nil {
		return 0, nil, err
	}
	return h.editTags(r.Context(), c, *in.ResourceArn, http.StatusCreated, func(tags []ra.Tag) ([]ra.Tag, error) {
		out := ra.MergeTags(tags, ra.Tags(in.Tags))
		if len(out) > ra.MaxTags {
			return nil, awserr.TooManyTags(fmt.Sprintf("A resource can have at most %d tags", ra.MaxTags)).
				Because(ReasonTooManyTags, "%d existing and %d new tags would make %d", len(tags), len(in.Tags), len(out))
		}
		return out, nil
	})
}

func (h *Handler) untagResource(r *http.Request, c *call) (int, any, error) {
	var in ra.UntagResourceInput
	if err := h.input(r, c, &in); err != nil {
		return 0, nil, err
	}
	return h.editTags(r.Context(), c, *in.ResourceArn, http.StatusOK, func(tags []ra.Tag) ([]ra.Tag, error) {
		return ra.RemoveTags(tags, in.TagKeys), nil
	})
}

func (h *Handler) listTagsForResource(r *http.Request, c *call) (int, any, error) {
	q := r.URL.Query()
	var resourceArn *string
	if q.Has("resourceArn") {
		resourceArn = ra.Ptr(q.Get("resourceArn"))
	}
	if err := ra.ValidateResourceArn(resourceArn); err != nil {
		return 0, nil, err
	}
	kind, id, err := h.tagged(*resourceArn)
	if err != nil {
		return 0, nil, err
	}
	var tags []ra.Tag
	err = h.cfg.Store.View(r.Context(), func(tx store.Tx) error {
		rec, err := tx.Get(kind, id)
		if err != nil {
			return err
		}
		_, err = withTags(kind, rec.Data, func(t *[]ra.Tag) error {
			tags = *t
			return nil
		})
		return err
	})
	if err != nil {
		return 0, nil, storeErr(err, kind, id)
	}
	if tags == nil {
		tags = []ra.Tag{}
	}
	return http.StatusOK, struct {
		Tags []ra.Tag `json:"tags"`
	}{tags}, nil
}
