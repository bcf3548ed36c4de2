package server

import (
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Prometheus series of one server, served at /metrics.
type metrics struct {
	requests           *prometheus.CounterVec
	duration           *prometheus.HistogramVec
	validationFailures *prometheus.CounterVec
	// series caches the request series of each (operation, status) seen: resolving label
	// values hashes them under a lock, at every request otherwise.
	series      sync.Map // seriesKey -> *requestSeries
	rateLimited *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fini_http_requests_total",
			Help: "HTTP requests by operation (operationId, or the route outside the API) and status.",
		}, []string{"operation", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fini_http_request_duration_seconds",
			Help:    "HTTP request latency by operation and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"operation", "status"}),
		validationFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fini_validation_failures_total",
			Help: "Requests refused by, and responses failing, validation against openapi.yaml, by kind.",
		}, []string{"kind"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fini_rate_limited_requests_total",
			Help: "Requests refused with a 429 by the per-key rate limit, by operation.",
		}, []string{"operation"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.validationFailures, m.rateLimited} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.validationFailures.WithLabelValues("request")
	m.validationFailures.WithLabelValues("response")
	return m, nil
}

type seriesKey struct {
	op     string
	status int
}

type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// observe counts a request of operation op (or route) answered with status after d.
func (m *metrics) observe(op string, status int, d time.Duration) {
	k := seriesKey{op, status}
	s, ok := m.series.Load(k)
	if !ok {
		code := strconv.Itoa(status)
		s, _ = m.series.LoadOrStore(k, &requestSeries{
			count:    m.requests.WithLabelValues(op, code),
			duration: m.duration.WithLabelValues(op, code),
		})
	}
	rs := s.(*requestSeries)
	rs.count.Inc()
	rs.duration.Observe(d.Seconds())
}
