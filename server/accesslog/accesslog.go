// Package accesslog writes one log line per request and counts it in Prometheus (requests
// and latency by operation and status), whatever answered it: an operation, an unknown
// route, a panic. It never logs headers or bodies, so no key and no customer data reaches
// the log; what a client chose (method, path) is bounded and any key in it masked. It
// depends on auth (the request's workspace and key id), requestid and apierror (the error
// behind a 5xx).
package accesslog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/fini-oss/conversations/server/apierror"
	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/auth"
	"github.com/fini-oss/conversations/server/logline"
	"github.com/fini-oss/conversations/server/requestid"
)

// StatusClientClosed is what the log and the metrics say of a request whose client went
// away before its answer: nginx's 499 (Client Closed Request).
const StatusClientClosed = 499

// What a client controls is logged only up to these many bytes.
const (
	maxLoggedMethod = 32
	maxLoggedPath   = 512
	maxLoggedError  = 2048
)

// Log writes the access log of one server and counts its requests.
type Log struct {
	log *slog.Logger
	// operation names the operation a request was routed to; "" outside the API.
	operation func(echo.Context) string
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	// series caches the series of each (operation, status) seen: resolving label values
	// hashes them under a lock, at every request otherwise.
	series   sync.Map // seriesKey -> *requestSeries
	inFlight atomic.Int64
}

// New returns the access log writing to log, its metrics registered in reg; operation names
// the API's operation a request was routed to (its operationId), "" outside the API.
func New(log *slog.Logger, reg prometheus.Registerer, operation func(echo.Context) string) (*Log, error) {
	l := &Log{
		log:       log,
		operation: operation,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fini_http_requests_total",
			Help: "HTTP requests by operation (operationId, or the route outside the API) and status.",
		}, []string{"operation", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fini_http_request_duration_seconds",
			Help:    "HTTP request latency by operation and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"operation", "status"}),
	}
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "fini_http_requests_in_flight",
		Help: "HTTP requests read and being served, this one included; a graceful shutdown waits for them.",
	}, func() float64 { return float64(l.inFlight.Load()) })
	for _, c := range []prometheus.Collector{l.requests, l.duration, inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("access log metrics: %w", err)
		}
	}
	return l, nil
}

// InFlight is how many requests are being served right now; a graceful shutdown waits for
// it to reach zero.
func (l *Log) InFlight() int64 { return l.inFlight.Load() }

// Around runs next, renders its error (c.Error), then logs and counts the request.
func (l *Log) Around(c echo.Context, next func() error) error {
	l.inFlight.Add(1)
	defer l.inFlight.Add(-1)
	start := time.Now()
	if err := next(); err != nil {
		c.Error(err)
	}
	elapsed := time.Since(start)
	req, res := c.Request(), c.Response()
	op := l.operation(c)
	if op == "" {
		op = c.Path() // the route template outside the API, never the raw path
	}
	if op == "" {
		op = "unmatched"
	}
	status := res.Status
	ierr, failed := apierror.Internal(c)
	if failed && errors.Is(req.Context().Err(), context.Canceled) {
		// The client went away and the store's call was cut short: no answer reached anyone,
		// and the server did not fail. Counted and logged apart, so that an impatient client
		// cannot raise the 5xx rate that alerts watch.
		status, failed = StatusClientClosed, false
	}
	l.observe(op, status, elapsed)

	attrs := make([]slog.Attr, 0, 11)
	attrs = append(attrs,
		slog.String("request_id", requestid.From(c)),
		slog.String("method", loggable(req.Method, maxLoggedMethod)),
		slog.String("path", loggable(req.URL.Path, maxLoggedPath)),
		slog.String("operation", op),
		slog.Int("status", status),
		slog.Duration("latency", elapsed),
		slog.Int64("bytes", res.Size),
	)
	if caller, ok := auth.CallerFrom(req.Context()); ok {
		// As pointers to UUIDs, which slog keeps and the handler writes without formatting
		// or allocating.
		attrs = append(attrs, slog.Any("workspace", &caller.WorkspaceID), slog.Any("key_id", &caller.KeyID))
	}
	// The request's trace, so that a log line leads to its spans.
	if sc := trace.SpanContextFromContext(req.Context()); sc.HasTraceID() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
	}
	level := slog.LevelInfo
	if failed {
		attrs = append(attrs, slog.String("error", loggable(ierr.Error(), maxLoggedError)))
		level = slog.LevelError
	}
	l.log.LogAttrs(req.Context(), level, "request", attrs...)
	return nil
}

// loggable is what the log may keep of s: at most n bytes of it, keys masked.
func loggable(s string, n int) string {
	return apikey.Mask(logline.Clip(s, n))
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
func (l *Log) observe(op string, status int, d time.Duration) {
	k := seriesKey{op, status}
	s, ok := l.series.Load(k)
	if !ok {
		code := strconv.Itoa(status)
		s, _ = l.series.LoadOrStore(k, &requestSeries{
			count:    l.requests.WithLabelValues(op, code),
			duration: l.duration.WithLabelValues(op, code),
		})
	}
	rs := s.(*requestSeries)
	rs.count.Inc()
	rs.duration.Observe(d.Seconds())
}
