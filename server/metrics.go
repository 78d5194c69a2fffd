package server

import (
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus series, on a registry of its own so
// several servers in one process (tests) do not collide.
type metrics struct {
	reg              *prometheus.Registry
	requests         *prometheus.CounterVec
	latency          *prometheus.HistogramVec
	sessions         *prometheus.CounterVec
	sessionLatency   *prometheus.HistogramVec
	snapshotBuilds   *prometheus.CounterVec
	snapshotRevision prometheus.Gauge
	subjectFlushes   *prometheus.CounterVec
	subjectPending   prometheus.GaugeFunc
	subjectDropped   prometheus.Counter
	certExpiry       *prometheus.GaugeVec
	expiryEvents     *prometheus.CounterVec
	storeRevision    prometheus.Gauge

	// apiSeries maps (api, operation, outcome) to its request counter and
	// latency histogram, resolved once: WithLabelValues hashes and checks
	// the three values and takes the vector's lock, twice a request. The
	// map is replaced, never changed, so reading it takes no lock.
	apiSeries   atomic.Pointer[map[seriesKey]series]
	apiSeriesMu sync.Mutex // held to replace apiSeries
}

type seriesKey struct{ api, operation, outcome string }

type series struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

// observeRequest counts an API request and its latency.
func (m *metrics) observeRequest(api, operation, outcome string, d time.Duration) {
	k := seriesKey{api, operation, outcome}
	sr, ok := (*m.apiSeries.Load())[k]
	if !ok {
		sr = m.resolveSeries(k)
	}
	sr.requests.Inc()
	sr.latency.Observe(d.Seconds())
}

func (m *metrics) resolveSeries(k seriesKey) series {
	m.apiSeriesMu.Lock()
	defer m.apiSeriesMu.Unlock()
	old := *m.apiSeries.Load()
	if sr, ok := old[k]; ok {
		return sr
	}
	sr := series{requests: m.requests.WithLabelValues(k.api, k.operation, k.outcome), latency: m.latency.WithLabelValues(k.api, k.operation, k.outcome)}
	next := make(map[seriesKey]series, len(old)+1)
	maps.Copy(next, old)
	next[k] = sr
	m.apiSeries.Store(&next)
	return sr
}

func newMetrics(pending func() float64) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.apiSeries.Store(&map[seriesKey]series{})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "iamra_http_requests_total",
		Help: "API requests by API, operation and outcome (success, client_error, server_error)."}, []string{"api", "operation", "outcome"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "iamra_http_request_duration_seconds",
		Help: "API request latency by API, operation and outcome.", Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}, []string{"api", "operation", "outcome"})
	m.sessions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "iamra_createsession_total",
		Help: "CreateSession calls by outcome and rejection reason (see docs/errors.md)."}, []string{"outcome", "reason"})
	m.sessionLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "iamra_createsession_duration_seconds",
		Help: "CreateSession processing time by outcome.", Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16)}, []string{"outcome"})
	m.snapshotBuilds = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "iamra_config_snapshot_builds_total",
		Help: "Configuration snapshot rebuilds by result."}, []string{"result"})
	m.snapshotRevision = prometheus.NewGauge(prometheus.GaugeOpts{Name: "iamra_config_snapshot_revision",
		Help: "Store revision of the configuration snapshot in use."})
	m.subjectFlushes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "iamra_subject_flushes_total",
		Help: "Batched subject writes by result."}, []string{"result"})
	m.subjectPending = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "iamra_subject_pending",
		Help: "Subjects observed and not yet written."}, pending)
	m.subjectDropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "iamra_subject_dropped_total",
		Help: "Subject observations dropped because the pending buffer was full."})
	m.certExpiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "iamra_trust_anchor_certificate_expiry_days",
		Help: "Days until each trust anchor CA certificate expires."}, []string{"trust_anchor_arn", "serial"})
	m.expiryEvents = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "iamra_certificate_expiry_notifications_total",
		Help: "Expiry notifications emitted (notification settings of trust anchors)."}, []string{"event"})
	m.storeRevision = prometheus.NewGauge(prometheus.GaugeOpts{Name: "iamra_store_revision",
		Help: "Revision of the store: it advances by one per committed write transaction, so its rate is the write rate."})
	m.reg.MustRegister(m.storeRevision, m.requests, m.latency, m.sessions, m.sessionLatency, m.snapshotBuilds, m.snapshotRevision,
		m.subjectFlushes, m.subjectPending, m.subjectDropped, m.certExpiry, m.expiryEvents,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
