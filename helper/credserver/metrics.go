package credserver

import (
	"github.com/prometheus/client_golang/prometheus"
)

// registerMetrics registers the request counter and a collector that reads
// every route's cache at scrape time (so seconds-to-expiry is current
// without a ticker).
func (s *Server) registerMetrics(reg prometheus.Registerer) error {
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "iamra_helper_http_requests_total",
		Help: "HTTP requests served, by route, API (imds, container, probe) and status code.",
	}, []string{"route", "api", "code"})
	if err := reg.Register(s.requests); err != nil {
		return err
	}
	return reg.Register(cacheCollector{s})
}

var (
	descRefreshes = prometheus.NewDesc("iamra_helper_credential_refreshes_total",
		"Successful credential fetches.", []string{"route"}, nil)
	descFailures = prometheus.NewDesc("iamra_helper_credential_refresh_failures_total",
		"Failed credential fetches.", []string{"route"}, nil)
	descExpiry = prometheus.NewDesc("iamra_helper_credential_expiry_seconds",
		"Seconds until the held credentials expire (negative once expired); absent before the first fetch.", []string{"route"}, nil)
	descReady = prometheus.NewDesc("iamra_helper_credentials_ready",
		"1 when the route holds unexpired credentials.", []string{"route"}, nil)
)

type cacheCollector struct{ s *Server }

func (cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRefreshes, descFailures, descExpiry, descReady} {
		ch <- d
	}
}

func (c cacheCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.s.now()
	for _, rt := range c.s.routes {
		st := rt.cache.Stats()
		ch <- prometheus.MustNewConstMetric(descRefreshes, prometheus.CounterValue, float64(st.Refreshes), rt.name)
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(st.Failures), rt.name)
		if !st.Expiration.IsZero() {
			ch <- prometheus.MustNewConstMetric(descExpiry, prometheus.GaugeValue, st.Expiration.Sub(now).Seconds(), rt.name)
		}
		ready := 0.0
		if st.Ready {
			ready = 1
		}
		ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, ready, rt.name)
	}
}
