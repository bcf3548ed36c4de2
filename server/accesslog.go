package server

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/trace"
)

// Keys of values kept on the echo.Context for the request's log line.
const (
	ctxKeyRequestID     = "fini.request_id"
	ctxKeyOperation     = "fini.operation"
	ctxKeyInternalError = "fini.internal_error"
)

// accessLog writes one line per request and records its metrics. It never logs headers, so
// no key reaches the log.
type accessLog struct {
	log      *slog.Logger
	metrics  *metrics
	inFlight *atomic.Int64
}

// around runs next, renders its error in the envelope, then logs and counts the request.
func (l *accessLog) around(c echo.Context, next func() error) error {
	log, m := l.log, l.metrics
	l.inFlight.Add(1)
	defer l.inFlight.Add(-1)
	start := time.Now()
	if err := next(); err != nil {
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
	status := res.Status
	ierr, failed := c.Get(ctxKeyInternalError).(error)
	if failed && errors.Is(req.Context().Err(), context.Canceled) {
		// The client went away and the store's call was cut short: no answer reached anyone,
		// and the server did not fail. Counted and logged apart (nginx's 499), so that an
		// impatient client cannot raise the 5xx rate that alerts watch.
		status, failed = statusClientClosed, false
	}
	m.observe(op, status, elapsed)

	id, _ := c.Get(ctxKeyRequestID).(string)
	attrs := []slog.Attr{
		slog.String("request_id", id),
		slog.String("method", loggable(req.Method, maxLoggedMethod)),
		slog.String("path", loggable(req.URL.Path, maxLoggedPath)),
		slog.String("operation", op),
		slog.Int("status", status),
		slog.Duration("latency", elapsed),
		slog.Int64("bytes", res.Size),
	}
	if p, ok := PrincipalFrom(req.Context()); ok {
		// As UUIDs, which a handler may write without formatting them first.
		attrs = append(attrs, slog.Any("workspace", p.WorkspaceID), slog.Any("key_id", p.KeyID))
	}
	// The request's trace (tracing.go), so that a log line leads to its spans.
	if sc := trace.SpanContextFromContext(req.Context()); sc.HasTraceID() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
	}
	level := slog.LevelInfo
	if failed {
		attrs = append(attrs, slog.String("error", loggable(ierr.Error(), maxLoggedError)))
		level = slog.LevelError
	}
	log.LogAttrs(req.Context(), level, "request", attrs...)
	return nil
}

// statusClientClosed is what the log and the metrics say of a request whose client went
// away before its answer: nginx's 499 (Client Closed Request).
const statusClientClosed = 499

// What a client controls is logged only up to these many bytes, so that a hostile request
// cannot make one log line as large as itself.
const (
	maxLoggedMethod = 32
	maxLoggedPath   = 512
	maxLoggedError  = 2048
)

// keyShape is an API key, wherever a client put it (a key pasted into a path is still a key).
var keyShape = regexp.MustCompile(`fini_[A-Za-z0-9_-]+`)

// loggable is what the log may keep of s: at most n bytes of it, keys masked.
func loggable(s string, n int) string {
	s = clip(s, n)
	if strings.Contains(s, "fini_") {
		s = keyShape.ReplaceAllString(s, "fini_xxxxx")
	}
	return s
}

// clip returns s cut to at most n bytes, saying how much was left out.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "...(" + strconv.Itoa(len(s)-n) + " more bytes)"
}
