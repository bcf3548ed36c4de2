package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// instrumentationName names the tracer of this package, as OpenTelemetry asks.
const instrumentationName = "github.com/fini-oss/conversations/server"

// tracing is the OpenTelemetry instrumentation of the API: a server span per request
// (otelhttp), named by its route, and a span per pipeline step. A nil *tracing is tracing
// off: nothing is wrapped, and step returns the context it was given.
type tracing struct {
	provider trace.TracerProvider
	tracer   trace.Tracer
}

func newTracing(tp trace.TracerProvider) *tracing {
	if tp == nil {
		return nil
	}
	return &tracing{provider: tp, tracer: tp.Tracer(instrumentationName)}
}

// handler wraps the API in the request span. The API is public: a client's traceparent is
// linked, never made the parent, so no client picks the trace a request joins or its
// sampling. The span starts named by the method alone; nameSpan names it by the route.
func (t *tracing) handler(h http.Handler) http.Handler {
	if t == nil {
		return h
	}
	return otelhttp.NewHandler(h, "fini-server",
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }),
		// Metrics are Prometheus's (metrics.go): otelhttp records none.
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()))
}

// nameSpan names the request span "METHOD route" by the route Echo matched (its template,
// never the raw path with its id) and sets http.route. What otelhttp recorded of the raw
// path and user agent is held to what the log would keep of it: a bounded prefix, a key
// pasted into it masked.
func nameSpan(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		span := trace.SpanFromContext(req.Context())
		if route := c.Path(); route != "" {
			span.SetName(spanMethod(req.Method) + " " + route)
			span.SetAttributes(semconv.HTTPRoute(route))
		}
		if p := req.URL.Path; unloggable(p) {
			span.SetAttributes(semconv.URLPath(loggable(p, maxLoggedPath)))
		}
		if ua := req.UserAgent(); unloggable(ua) {
			span.SetAttributes(semconv.UserAgentOriginal(loggable(ua, maxLoggedPath)))
		}
		return next(c)
	}
}

// unloggable reports whether a client's value must be cut or masked before a span keeps it.
func unloggable(s string) bool {
	return len(s) > maxLoggedPath || strings.Contains(s, "fini_")
}

// spanMethod is the method as a span name may hold it: a client's own method is "HTTP", as
// the HTTP semantic conventions say, so that it cannot make names of its choosing.
func spanMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "HTTP"
}

// noSpan is what step returns when tracing is off.
var noSpan trace.Span = noop.Span{}

// step starts the span of a pipeline step, a child of the request span.
func (t *tracing) step(ctx context.Context, name string) (context.Context, trace.Span) {
	if t == nil {
		return ctx, noSpan
	}
	return t.tracer.Start(ctx, name)
}

// endStep ends a step's span. A step that ends the request says with which status, as
// error.type; a 5xx also marks the span failed, described as the client was told. The
// details (a driver's error, the part of a response that broke the spec, which may quote
// customer data) stay in the log, found by the request's trace_id.
func endStep(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		status, msg := statusAndMessage(err)
		span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		if status >= 500 {
			span.SetStatus(codes.Error, msg)
		}
	}
	span.End()
}
