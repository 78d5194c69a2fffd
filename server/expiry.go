package server

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"time"

	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
)

// expiryInterval is how often certificate expiry is checked. Thresholds
// are in days, so an hourly check is more than precise enough.
const expiryInterval = time.Hour

// watchExpiry turns trust anchors' notification settings into what AWS
// sends to EventBridge: here a structured log event
// ("Roles Anywhere Certificate Expiration State Change", same detail
// fields) and a metric, at most once a day per certificate.
func (s *Server) watchExpiry(ctx context.Context) {
	notified := map[string]time.Time{}
	t := time.NewTicker(expiryInterval)
	defer t.Stop()
	for {
		s.checkExpiry(ctx, notified)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func threshold(settings []rolesanywhere.NotificationSetting, event string) (days int32, ok bool) {
	for _, n := range settings {
		if n.Event == event && n.Enabled {
			if n.Threshold != nil {
				return *n.Threshold, true
			}
			return 45, true
		}
	}
	return 0, false
}

func (s *Server) checkExpiry(ctx context.Context, notified map[string]time.Time) {
	now := s.cfg.Now()
	// Forget notifications older than a day: they may repeat now, and the
	// map stays as small as one day's worth of expiring certificates.
	for k, at := range notified {
		if now.Sub(at) >= 24*time.Hour {
			delete(notified, k)
		}
	}
	snap := s.Snapshot.Load()
	var endEntity []rolesanywhere.TrustAnchor
	for _, a := range snap.Anchors() {
		for _, c := range a.Trust.Certificates {
			days := c.NotAfter.Sub(now).Hours() / 24
			serial := hex.EncodeToString(c.SerialNumber.Bytes())
			s.metrics.certExpiry.WithLabelValues(a.Detail.TrustAnchorArn, serial).Set(days)
			if limit, ok := threshold(a.Detail.NotificationSettings, rolesanywhere.EventCACertificateExpiry); ok && days <= float64(limit) {
				s.notify(now, notified, rolesanywhere.EventCACertificateExpiry, a.Detail.TrustAnchorArn, c, days)
			}
		}
		if _, ok := threshold(a.Detail.NotificationSettings, rolesanywhere.EventEndEntityCertificateExpiry); ok {
			endEntity = append(endEntity, a.Detail)
		}
	}
	if len(endEntity) == 0 {
		return
	}
	// End-entity certificates are known from the subjects that used them.
	// Subjects are read a page at a time, each page in its own short
	// transaction, so memory stays flat however many subjects there are and
	// the writer is never held up.
	after := ""
	for {
		var page []rolesanywhere.Subject
		var next string
		err := s.Store.View(ctx, func(tx store.Tx) error {
			var err error
			page, next, err = store.List[rolesanywhere.Subject](tx, store.KindSubject, store.ListOptions{After: after, Limit: 500})
			return err
		})
		if err != nil {
			s.cfg.Logger.Warn("expiry check: reading subjects failed", "err", err)
			return
		}
		for _, sub := range page {
			s.checkSubjectExpiry(now, notified, sub, endEntity)
		}
		if next == "" || ctx.Err() != nil {
			return
		}
		after = next
	}
}

func (s *Server) checkSubjectExpiry(now time.Time, notified map[string]time.Time, sub rolesanywhere.Subject, anchors []rolesanywhere.TrustAnchor) {
	for _, cs := range sub.Credentials {
		b, _ := pem.Decode([]byte(cs.X509CertificateData))
		if b == nil {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil || c.NotAfter.Before(now) {
			continue
		}
		days := c.NotAfter.Sub(now).Hours() / 24
		for _, ta := range anchors {
			if limit, _ := threshold(ta.NotificationSettings, rolesanywhere.EventEndEntityCertificateExpiry); days <= float64(limit) {
				s.notify(now, notified, rolesanywhere.EventEndEntityCertificateExpiry, ta.TrustAnchorArn, c, days)
			}
		}
	}
}

func (s *Server) notify(now time.Time, notified map[string]time.Time, event, anchorArn string, c *x509.Certificate, days float64) {
	sum := sha256.Sum256(c.Raw)
	key := event + "|" + anchorArn + "|" + string(sum[:])
	if last, ok := notified[key]; ok && now.Sub(last) < 24*time.Hour {
		return
	}
	notified[key] = now
	s.metrics.expiryEvents.WithLabelValues(event).Inc()
	s.cfg.Logger.Warn("Roles Anywhere Certificate Expiration State Change",
		"event", event, "trustAnchorArn", anchorArn,
		"certificate-serial-number", hex.EncodeToString(c.SerialNumber.Bytes()),
		"days-to-expiry", int(days), "issuer", c.Issuer.String(), "subject", c.Subject.String())
}
