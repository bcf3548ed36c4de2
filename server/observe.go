package server

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Keys of values kept on the echo.Context for the request's log line.
const (
	ctxKeyRequestID     = "fini.request_id"
	ctxKeyOperation     = "fini.operation"
	ctxKeyInternalError = "fini.internal_error"
)

// HeaderRequestID carries the request id, accepted from the client or generated.
const HeaderRequestID = "X-Request-Id"

// maxRequestIDLen bounds an accepted client request id; longer or odd ones are replaced.
const maxRequestIDLen = 128

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, r := range id {
		ok := r == '-' || r == '_' || r == '.' || r == ':' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

// MaxHeaderBytes bounds the request headers the API reads. The HTTP server accepts more
// (fini-server sets 1 MiB) so that this limit answers in the error envelope.
const MaxHeaderBytes = 64 << 10

// limitHeaders refuses requests whose headers exceed MaxHeaderBytes with a 431 envelope.
func limitHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		n := 0
		for k, vs := range c.Request().Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n > MaxHeaderBytes {
			return newAPIError(http.StatusRequestHeaderFieldsTooLarge, "Request headers are larger than %d bytes", MaxHeaderBytes)
		}
		return next(c)
	}
}

// closeAfterChunked answers a request whose body came chunked and then closes its connection.
// Go's server frames such a request by Transfer-Encoding and drops any Content-Length
// before a handler could see it (RFC 9112), which is unambiguous here; but a proxy in front
// that framed it by Content-Length would take the bytes after the chunks for part of this
// request, while we would read them as the next one. Closing the connection discards them.
func closeAfterChunked(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if len(c.Request().TransferEncoding) > 0 {
			c.Response().Header().Set(echo.HeaderConnection, "close")
		}
		return next(c)
	}
}

// requestID accepts a client's X-Request-Id when it is short and plain, else makes one, and
// echoes it on the response.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(HeaderRequestID)
		if !validRequestID(id) {
			id = uuid.NewString()
		}
		c.Set(ctxKeyRequestID, id)
		c.Response().Header().Set(HeaderRequestID, id)
		return next(c)
	}
}

// metrics are the Prometheus series of one server.
type metrics struct {
	requests           *prometheus.CounterVec
	duration           *prometheus.HistogramVec
	validationFailures *prometheus.CounterVec
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
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.validationFailures} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	m.validationFailures.WithLabelValues("request")
	m.validationFailures.WithLabelValues("response")
	return m, nil
}

// observe logs one line per request and records its metrics. It never logs headers, so no
// key reaches the log.
func observe(log *slog.Logger, m *metrics, inFlight *atomic.Int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			inFlight.Add(1)
			defer inFlight.Add(-1)
			start := time.Now()
			if err := next(c); err != nil {
				c.Error(err)
			}
			elapsed := time.Since(start)
			req, res := c.Request(), c.Response()
			op, _ := c.Get(ctxKeyOperation).(string)
			if op == "" {
				op = c.Path() // the route template outside the API, never the raw path
				if op == "" {
					op = "unmatched"
				}
			}
			status := strconv.Itoa(res.Status)
			m.requests.WithLabelValues(op, status).Inc()
			m.duration.WithLabelValues(op, status).Observe(elapsed.Seconds())

			attrs := []slog.Attr{
				slog.Any("request_id", c.Get(ctxKeyRequestID)),
				slog.String("method", clip(req.Method, maxLoggedMethod)),
				slog.String("path", clip(req.URL.Path, maxLoggedPath)),
				slog.String("operation", op),
				slog.Int("status", res.Status),
				slog.Duration("latency", elapsed),
				slog.Int64("bytes", res.Size),
			}
			if p, ok := PrincipalFrom(req.Context()); ok {
				attrs = append(attrs, slog.String("workspace", p.WorkspaceID.String()),
					slog.String("key_id", p.KeyID.String()))
			}
			level := slog.LevelInfo
			if ierr, ok := c.Get(ctxKeyInternalError).(error); ok {
				attrs = append(attrs, slog.String("error", clip(ierr.Error(), maxLoggedError)))
				level = slog.LevelError
			}
			log.LogAttrs(req.Context(), level, "request", attrs...)
			return nil
		}
	}
}

// What a client controls is logged only up to these many bytes, so that a hostile request
// cannot make one log line as large as itself.
const (
	maxLoggedMethod = 32
	maxLoggedPath   = 512
	maxLoggedError  = 2048
)

// clip returns s cut to at most n bytes, saying how much was left out.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "...(" + strconv.Itoa(len(s)-n) + " more bytes)"
}

func jsonBytes(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
