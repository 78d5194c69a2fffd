package rolesanywhere

import (
	"context"
	"errors"
	"net/http"

	"github.com/iamra/iamra/awserr"
	ra "github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
)

// auditCRL is a CRL request as the audit record keeps it: the CRL bytes
// (up to 300 kB) are left out, their size kept.
func auditCRL(name, trustAnchorArn *string, data []byte, id string) map[string]any {
	m := map[string]any{"crlDataLength": len(data)}
	if name != nil {
		m["name"] = *name
	}
	if trustAnchorArn != nil {
		m["trustAnchorArn"] = *trustAnchorArn
	}
	if id != "" {
		m["crlId"] = id
	}
	return m
}

// checkCRL parses CRL data; the signature is checked when a chain uses it
// (rolesanywhere-api.md §7), since its issuer may be an intermediate.
func (h *Handler) checkCRL(data []byte) error {
	if _, err := h.cfg.ParseCRL(data); err != nil {
		return clientError(err, ReasonCRLInvalid, "Invalid CRL: "+err.Error())
	}
	return nil
}

// ImportCrl validates in as ImportCrl does and stores the new CRL. The
// HTTP API calls it; so can in-process code (a private CA publishing its
// CRL). Errors are *awserr.Error.
func (h *Handler) ImportCrl(ctx context.Context, in ra.ImportCrlInput) (ra.CRL, error) {
	if err := in.Validate(); err != nil {
		return ra.CRL{}, err
	}
	// ImportCrl models no ResourceNotFoundException: an unknown trust
	// anchor is a ValidationException.
	unknownTA := awserr.Validation("Trust anchor not found: "+*in.TrustAnchorArn).
		Because(ReasonCRLTrustAnchorUnknown, "no trust anchor %s in this account and region", *in.TrustAnchorArn)
	kind, taID, ok := h.resourceOf(*in.TrustAnchorArn)
	if !ok || kind != store.KindTrustAnchor {
		return ra.CRL{}, unknownTA
	}
	if err := h.checkCRL(in.CrlData); err != nil {
		return ra.CRL{}, err
	}
	id, err := h.newID()
	if err != nil {
		return ra.CRL{}, err
	}
	now := h.now()
	crl := ra.CRL{
		CrlID:     id,
		CrlArn:    h.arn(ra.ResourceCRL, id),
		Name:      *in.Name,
		Enabled:   bool0(in.Enabled),
		CrlData:   in.CrlData,
		CreatedAt: now,
		UpdatedAt: now,
		Tags:      ra.Tags(in.Tags),
		// The canonical ARN, whatever spelling the request used.
		TrustAnchorArn: h.arn(ra.ResourceTrustAnchor, taID),
	}
	err = create(ctx, h.cfg.Store, store.KindCRL, id, crl, func(tx store.Tx) error {
		if _, _, err := store.Get[ra.TrustAnchor](tx, store.KindTrustAnchor, taID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return unknownTA
			}
			return err
		}
		crls, _, err := store.List[ra.CRL](tx, store.KindCRL, store.ListOptions{})
		if err != nil {
			return err
		}
		n := 0
		for _, other := range crls {
			if other.TrustAnchorArn == crl.TrustAnchorArn {
				n++
			}
		}
		if n >= ra.MaxCRLsPerTrustAnchor {
			return awserr.Validation("A trust anchor can have at most 2 CRLs").
				Because(ReasonCRLLimit, "trust anchor %s already has %d CRLs", crl.TrustAnchorArn, n)
		}
		return nil
	})
	if err != nil {
		return ra.CRL{}, err
	}
	return crl, nil
}

func (h *Handler) importCrl(r *http.Request, c *call) (int, any, error) {
	var in ra.ImportCrlInput
	err := h.decode(r, c, &in)
	c.params = auditCRL(in.Name, in.TrustAnchorArn, in.CrlData, "")
	if err != nil {
		return 0, nil, err
	}
	crl, err := h.ImportCrl(r.Context(), in)
	if err != nil {
		return 0, nil, err
	}
	return crls.created(c, crl)
}

func (h *Handler) updateCrl(r *http.Request, c *call) (int, any, error) {
	in := ra.UpdateCrlInput{CrlID: r.PathValue("crlId")}
	err := h.input(r, c, &in)
	c.params = auditCRL(in.Name, nil, in.CrlData, in.CrlID)
	if err != nil {
		return 0, nil, err
	}
	if in.CrlData != nil {
		if err := h.checkCRL(in.CrlData); err != nil {
			return 0, nil, err
		}
	}
	return crls.change(h, r, c, in.CrlID, func(_ store.Tx, crl *ra.CRL) error {
		if in.Name != nil {
			crl.Name = *in.Name
		}
		if in.CrlData != nil {
			crl.CrlData = in.CrlData
		}
		return nil
	})
}
