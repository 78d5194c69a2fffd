package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/iamra/iamra/arn"
	"github.com/iamra/iamra/rolesanywhere"
	"github.com/iamra/iamra/store"
	"github.com/iamra/iamra/trust/trusttest"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Notification settings become log events and metrics, once a day per
// certificate, only inside the threshold, and not when disabled.
func TestExpiryNotifications(t *testing.T) {
	now := time.Date(2026, 11, 22, 13, 0, 0, 0, time.UTC)
	var logs syncBuf
	srv, err := New(context.Background(), Config{
		DataDir: t.TempDir(), Scope: arn.Scope{Partition: "aws", Region: "us-east-1", AccountID: "123456789012"},
		Now: func() time.Time { return now }, Rand: rand.Reader, AuditWriter: &bytes.Buffer{},
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	pki := trusttest.New(t, nil, now)
	soon := pki.Root("Expiring Root", trusttest.Validity(now.Add(-time.Hour), now.Add(10*24*time.Hour)))
	later := pki.Root("Lasting Root", trusttest.Validity(now.Add(-time.Hour), now.Add(400*24*time.Hour)))
	ctx := context.Background()
	mk := func(name string, root *trusttest.Cert) rolesanywhere.TrustAnchor {
		ta, err := srv.Control.CreateTrustAnchor(ctx, rolesanywhere.CreateTrustAnchorInput{Name: rolesanywhere.Ptr(name), Enabled: rolesanywhere.Ptr(true),
			Source: &rolesanywhere.SourceInput{SourceType: rolesanywhere.Ptr(rolesanywhere.SourceCertificateBundle),
				SourceData: &rolesanywhere.SourceDataInput{X509CertificateData: rolesanywhere.Ptr(root.PEM())}}})
		if err != nil {
			t.Fatal(err)
		}
		return ta
	}
	expiring := mk("expiring", soon)
	mk("lasting", later)
	if err := srv.Snapshot.Rebuild(ctx); err != nil {
		t.Fatal(err)
	}

	notified := map[string]time.Time{}
	srv.checkExpiry(ctx, notified)
	srv.checkExpiry(ctx, notified) // the same day: no second event
	if got := metricValue(srv.metrics.expiryEvents.WithLabelValues(rolesanywhere.EventCACertificateExpiry)); got != 1 {
		t.Fatalf("%v CA expiry notifications, want 1 (logs: %s)", got, logs.String())
	}
	var ev map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		json.Unmarshal([]byte(line), &m)
		if m["msg"] == "Roles Anywhere Certificate Expiration State Change" {
			ev = m
		}
	}
	if ev == nil || ev["trustAnchorArn"] != expiring.TrustAnchorArn || ev["days-to-expiry"] != float64(10) || ev["issuer"] != "CN=Expiring Root" {
		t.Fatalf("notification event %v", ev)
	}
	days := metricValue(srv.metrics.certExpiry.WithLabelValues(expiring.TrustAnchorArn, hex.EncodeToString(soon.Cert.SerialNumber.Bytes())))
	if days < 9.9 || days > 10 {
		t.Errorf("expiry gauge %v days", days)
	}

	// A day later it repeats; with the setting disabled it stops.
	now = now.Add(25 * time.Hour)
	srv.checkExpiry(ctx, notified)
	if got := metricValue(srv.metrics.expiryEvents.WithLabelValues(rolesanywhere.EventCACertificateExpiry)); got != 2 {
		t.Fatalf("%v notifications after a day, want 2", got)
	}
	err = srv.Store.Update(ctx, func(tx store.Tx) error {
		ta, v, err := store.Get[rolesanywhere.TrustAnchor](tx, store.KindTrustAnchor, expiring.TrustAnchorID)
		if err != nil {
			return err
		}
		ta.NotificationSettings = rolesanywhere.ApplyNotificationSettings(ta.NotificationSettings,
			[]rolesanywhere.NotificationSettingInput{{Enabled: rolesanywhere.Ptr(false), Event: rolesanywhere.Ptr(rolesanywhere.EventCACertificateExpiry)}}, "123456789012")
		_, err = store.Put(tx, store.KindTrustAnchor, expiring.TrustAnchorID, v, ta)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Snapshot.Rebuild(ctx)
	now = now.Add(25 * time.Hour)
	srv.checkExpiry(ctx, notified)
	if got := metricValue(srv.metrics.expiryEvents.WithLabelValues(rolesanywhere.EventCACertificateExpiry)); got != 2 {
		t.Fatalf("%v notifications with the setting disabled, want still 2", got)
	}
}

// metricValue reads a counter or gauge.
func metricValue(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		return -1
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
