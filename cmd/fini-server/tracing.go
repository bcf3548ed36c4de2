package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/fini-oss/conversations/server/store/storetrace"
)

// tracingFlushGrace is how long the spans still buffered get to reach the collector at
// shutdown.
const tracingFlushGrace = 5 * time.Second

// maxAttributeBytes bounds each span attribute unless OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT
// says otherwise: a client controls some (client.address from X-Forwarded-For,
// server.address from Host), and a request must not make a span as large as itself.
const maxAttributeBytes = 1024

// startTracing starts the OpenTelemetry SDK, exporting over OTLP/HTTP, when
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set (and
// OTEL_SDK_DISABLED is not true). The exporter and the SDK read the other OTEL_* variables
// themselves: headers, timeout, compression, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
// OTEL_TRACES_SAMPLER. Otherwise it returns nil, and nothing of the SDK runs.
func startTracing(ctx context.Context, log *slog.Logger) (*sdktrace.TracerProvider, error) {
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" ||
		strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return nil, nil
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read last, win over the default name.
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName("fini-server")),
		resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	// A collector that cannot be reached costs spans, never requests: say so in the log.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing", "error", err)
	}))
	limits := sdktrace.NewSpanLimits() // the OTEL_*_LIMIT variables, or unlimited
	if limits.AttributeValueLengthLimit < 0 {
		limits.AttributeValueLengthLimit = maxAttributeBytes
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res),
		sdktrace.WithRawSpanLimits(limits)), nil
}

// stopTracing flushes the spans still buffered and stops the SDK.
func stopTracing(tp *sdktrace.TracerProvider, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), tracingFlushGrace)
	defer cancel()
	if err := tp.Shutdown(ctx); err != nil {
		log.Warn("tracing: flush at shutdown", "error", err)
	}
}

// dbSystem is the engine of --db as the traces name it (db.system.name).
func (a *app) dbSystem() string {
	if strings.HasPrefix(a.db, "sqlite:") {
		return storetrace.SQLite
	}
	return storetrace.PostgreSQL
}
