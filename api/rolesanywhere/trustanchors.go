package rolesanywhere

import (
	"context"
	"net/http"
	"time"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/awserr"
	ra "github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
)

// CreateTrustAnchor validates in as CreateTrustAnchor does and stores the
// new trust anchor. The HTTP API calls it; so does in-process bootstrap
// (iamra server --dev). Errors are *awserr.Error.
func (h *Handler) CreateTrustAnchor(ctx context.Context, in ra.CreateTrustAnchorInput) (ra.TrustAnchor, error) {
	if err := in.Validate(); err != nil {
		return ra.TrustAnchor{}, err
	}
	if err := h.checkCrlDp(in.CrlDpRevocationEnabled); err != nil {
		return ra.TrustAnchor{}, err
	}
	resolved, err := h.resolveSource(ctx, in.Source, "creating")
	if err != nil {
		return ra.TrustAnchor{}, err
	}
	id, err := h.newID()
	if err != nil {
		return ra.TrustAnchor{}, err
	}
	now := h.now()
	ta := ra.TrustAnchor{
		TrustAnchorID:           id,
		TrustAnchorArn:          h.arn(ra.ResourceTrustAnchor, id),
		Name:                    *in.Name,
		Source:                  sourceOf(in.Source),
		Enabled:                 bool0(in.Enabled),
		CreatedAt:               now,
		UpdatedAt:               now,
		NotificationSettings:    ra.ApplyNotificationSettings(ra.DefaultNotificationSettings(), in.NotificationSettings, h.cfg.Scope.AccountID),
		CrlDpRevocationEnabled:  bool0(in.CrlDpRevocationEnabled),
		Tags:                    ra.Tags(in.Tags),
		ResolvedCertificateData: resolved,
	}
	if err := create(ctx, h.cfg.Store, store.KindTrustAnchor, id, ta, nil); err != nil {
		return ra.TrustAnchor{}, err
	}
	return ta, nil
}

// checkCrlDp refuses crlDpRevocationEnabled=true on a server that does
// not download CRLs from distribution points.
func (h *Handler) checkCrlDp(v *bool) error {
	if bool0(v) && !h.cfg.CRLDistributionPoints {
		return invalidSource(ReasonCRLDPUnsupported,
			"crlDpRevocationEnabled is not supported by this server; import CRLs with ImportCrl instead")
	}
	return nil
}

func sourceOf(in *ra.SourceInput) ra.Source {
	var s ra.Source
	s.SourceType = *in.SourceType
	if d := in.SourceData; d != nil {
		if d.X509CertificateData != nil {
			s.SourceData.X509CertificateData = *d.X509CertificateData
		}
		if d.AcmPcaArn != nil {
			s.SourceData.AcmPcaArn = *d.AcmPcaArn
		}
	}
	return s
}

func invalidSource(reason, msg string) *awserr.Error {
	return awserr.Validation(msg).Because(reason, "%s", msg)
}

// resolveSource checks a validated source beyond the model's constraints
// (union, type, certificates) and returns, for AWS_ACM_PCA, the CA PEM
// read from the private CA. verb words AWS's PCA error ("creating").
func (h *Handler) resolveSource(ctx context.Context, s *ra.SourceInput, verb string) (string, error) {
	if s.SourceType == nil {
		return "", awserr.Violations(awserr.Violation{Null: true, Field: "source.sourceType", Constraint: "Member must not be null"})
	}
	if s.SourceData == nil {
		return "", awserr.Violations(awserr.Violation{Null: true, Field: "source.sourceData", Constraint: "Member must not be null"})
	}
	pemData, pcaArn := s.SourceData.X509CertificateData, s.SourceData.AcmPcaArn
	if pemData != nil && pcaArn != nil {
		return "", invalidSource(ReasonSourceUnion, "sourceData must contain exactly one of x509CertificateData or acmPcaArn")
	}
	now := h.cfg.Now()
	switch *s.SourceType {
	case ra.SourceCertificateBundle:
		if pemData == nil {
			return "", invalidSource(ReasonSourceMismatch, "sourceType CERTIFICATE_BUNDLE requires sourceData.x509CertificateData")
		}
		return "", h.checkBundle(*pemData, now)
	case ra.SourceACMPCA:
		if pcaArn == nil {
			return "", invalidSource(ReasonSourceMismatch, "sourceType AWS_ACM_PCA requires sourceData.acmPcaArn")
		}
		if a, err := arn.Parse(*pcaArn); err != nil || a.Service != "acm-pca" || a.ResourceType() != "certificate-authority" || a.ResourceID() == "" {
			return "", invalidSource(ReasonPCAArn, "Invalid acmPcaArn: '"+*pcaArn+"' is not the ARN of an AWS Private CA certificate authority")
		}
		if h.cfg.ResolvePCA == nil {
			return "", invalidSource(ReasonPCAUnavailable,
				"AWS_ACM_PCA trust anchors are not supported by this server (no AWS Private CA access is configured); use CERTIFICATE_BUNDLE with the CA certificate PEM")
		}
		pemText, err := h.cfg.ResolvePCA(ctx, *pcaArn)
		if err != nil {
			// AWS's words when its service-linked role cannot read the CA.
			return "", clientError(err, ReasonPCAGet, "Error "+verb+" TrustAnchor. Given AWS PCA did not allow get request.")
		}
		return pemText, h.checkBundle(pemText, now)
	default: // SELF_SIGNED_REPOSITORY: in the enum, documented nowhere.
		return "", invalidSource(ReasonSourceType, "sourceType "+*s.SourceType+" is not supported; use CERTIFICATE_BUNDLE or AWS_ACM_PCA")
	}
}

// checkBundle runs the anchor validator and guards the per-anchor
// certificate limit even if a custom validator forgets it.
func (h *Handler) checkBundle(pemText string, now time.Time) error {
	certs, err := h.cfg.ValidateAnchor(pemText, now)
	if err != nil {
		return clientError(err, ReasonAnchorInvalid, "Invalid certificate bundle: "+err.Error())
	}
	if len(certs) == 0 || len(certs) > ra.MaxCertificatesPerTrustAnchor {
		return invalidSource(ReasonAnchorCount, "A trust anchor must contain 1 or 2 CA certificates")
	}
	return nil
}

func (h *Handler) createTrustAnchor(r *http.Request, c *call) (int, any, error) {
	var in ra.CreateTrustAnchorInput
	if err := h.decode(r, c, &in); err != nil {
		return 0, nil, err
	}
	ta, err := h.CreateTrustAnchor(r.Context(), in)
	if err != nil {
		return 0, nil, err
	}
	return trustAnchors.created(c, ta)
}

func (h *Handler) updateTrustAnchor(r *http.Request, c *call) (int, any, error) {
	in := ra.UpdateTrustAnchorInput{TrustAnchorID: r.PathValue("trustAnchorId")}
	if err := h.input(r, c, &in); err != nil {
		return 0, nil, err
	}
	if err := h.checkCrlDp(in.CrlDpRevocationEnabled); err != nil {
		return 0, nil, err
	}
	var resolved string
	if in.Source != nil {
		var err error
		if resolved, err = h.resolveSource(r.Context(), in.Source, "updating"); err != nil {
			return 0, nil, err
		}
	}
	return trustAnchors.change(h, r, c, in.TrustAnchorID, func(_ store.Tx, ta *ra.TrustAnchor) error {
		if in.Name != nil {
			ta.Name = *in.Name
		}
		if in.Source != nil {
			ta.Source = sourceOf(in.Source)
			ta.ResolvedCertificateData = resolved
		}
		if in.CrlDpRevocationEnabled != nil {
			ta.CrlDpRevocationEnabled = *in.CrlDpRevocationEnabled
		}
		return nil
	})
}

// deleteCRLsOf cascades DeleteTrustAnchor to the anchor's CRLs (§13): a
// CRL belongs to exactly one trust anchor and means nothing without it.
func deleteCRLsOf(tx store.Tx, ta ra.TrustAnchor) ([]string, error) {
	all, _, err := store.List[ra.CRL](tx, store.KindCRL, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	var deleted []string
	for _, crl := range all {
		if crl.TrustAnchorArn == ta.TrustAnchorArn {
			if err := tx.Delete(store.KindCRL, crl.CrlID); err != nil {
				return nil, err
			}
			deleted = append(deleted, crl.CrlArn)
		}
	}
	return deleted, nil
}

func (h *Handler) putNotificationSettings(r *http.Request, c *call) (int, any, error) {
	var in ra.PutNotificationSettingsInput
	if err := h.input(r, c, &in); err != nil {
		return 0, nil, err
	}
	return trustAnchors.change(h, r, c, *in.TrustAnchorID, func(_ store.Tx, ta *ra.TrustAnchor) error {
		ta.NotificationSettings = ra.ApplyNotificationSettings(ta.NotificationSettings, in.NotificationSettings, h.cfg.Scope.AccountID)
		return nil
	})
}

func (h *Handler) resetNotificationSettings(r *http.Request, c *call) (int, any, error) {
	var in ra.ResetNotificationSettingsInput
	if err := h.input(r, c, &in); err != nil {
		return 0, nil, err
	}
	return trustAnchors.change(h, r, c, *in.TrustAnchorID, func(_ store.Tx, ta *ra.TrustAnchor) error {
		ta.NotificationSettings = ra.ResetNotificationSettings(ta.NotificationSettings, in.NotificationSettingKeys)
		return nil
	})
}
