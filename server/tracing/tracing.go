// Package tracing is the OpenTelemetry instrumentation of the API: a server span per request
// (otelhttp), named by its route, and a span per step of the contract engine (its Step hook).
// A nil *Tracing is tracing off: nothing is wrapped, and no step is measured. It depends on
// apierror, apikey and logline.
package tracing

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

	"github.com/fini-oss/conversations/server/apierror"
	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/logline"
)

// instrumentationName names the tracer of this package, as OpenTelemetry asks.
const instrumentationName = "github.com/fini-oss/conversations/server"

// Tracing traces the API with one tracer provider.
type Tracing struct {
	provider trace.TracerProvider
	tracer   trace.Tracer
}

// New returns the tracing of tp; nil, tracing off, when tp is nil.
func New(tp trace.TracerProvider) *Tracing {
	if tp == nil {
		return nil
	}
	return &Tracing{provider: tp, tracer: tp.Tracer(instrumentationName)}
}

// Handler wraps the API in the request span. The API is public: a client's traceparent is
// linked, never made the parent, so no client picks the trace a request joins or its
// sampling. The span starts named by the method alone; nameSpan names it by the route.
func (t *Tracing) Handler(h http.Handler) http.Handler {
	if t == nil {
		return h
	}
	return otelhttp.NewHandler(h, "fini-server",
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }),
		// Metrics are Prometheus's (accesslog): otelhttp records none.
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()))
}

// NameSpan names the request span "METHOD route" by the route Echo matched (its template,
// never the raw path with its id) and sets http.route. What otelhttp recorded of the raw
// path and user agent is held to what the log would keep of it: a bounded prefix, a key
// pasted into it masked. Call it for every request, once routed.
func NameSpan(c echo.Context) {
	req := c.Request()
	span := trace.SpanFromContext(req.Context())
	if !span.IsRecording() {
		return
	}
	if route := c.Path(); route != "" {
		span.SetName(spanMethod(req.Method) + " " + route)
		span.SetAttributes(semconv.HTTPRoute(route))
	}
	if p := req.URL.Path; unloggable(p) {
		span.SetAttributes(semconv.URLPath(loggable(p)))
	}
	if ua := req.UserAgent(); unloggable(ua) {
		span.SetAttributes(semconv.UserAgentOriginal(loggable(ua)))
	}
}

// maxKept is how many bytes of a client's value a span keeps, as the log does.
const maxKept = 512

// unloggable reports whether a client's value must be cut or masked before a span keeps it.
func unloggable(s string) bool {
	return len(s) > maxKept || strings.Contains(s, apikey.Prefix)
}

// loggable is what a span may keep of s: a bounded prefix, keys masked.
func loggable(s string) string {
	return apikey.Mask(logline.Clip(s, maxKept))
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

// Step is the contract engine's Hooks.Step: the span of one step of an operation, a child
// of the request span. The function it returns ends the span: a step that ends the request
// says with which status, as error.type; a 5xx also marks the span failed, described as the
// client was told. The details (a driver's error, the part of a response that broke the
// spec) stay in the log, found by the request's trace_id.
func (t *Tracing) Step(ctx context.Context, name string) (context.Context, func(error)) {
	ctx, span := t.tracer.Start(ctx, name)
	return ctx, func(err error) {
		if err != nil && span.IsRecording() {
			status, msg := apierror.StatusAndMessage(err)
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
			if status >= 500 {
				span.SetStatus(codes.Error, msg)
			}
		}
		span.End()
	}
}
