package main

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// otlpReceiver is an OTLP/HTTP trace receiver: it decodes what POST /v1/traces carries.
func otlpReceiver(t *testing.T) (url string, received chan *collectortrace.ExportTraceServiceRequest) {
	t.Helper()
	received = make(chan *collectortrace.ExportTraceServiceRequest, 100)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			t.Errorf("collector got %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
			http.NotFound(w, r)
			return
		}
		body := io.Reader(r.Body)
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		var req collectortrace.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(b, &req)
		}
		if err != nil {
			t.Errorf("collector: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		received <- &req
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, received
}

// exportedSpan is a span as the collector received it, with its resource's service name.
type exportedSpan struct {
	service string
	span    *tracepb.Span
}

// attr is the span's attribute key, a string or an integer, as a string.
func (s exportedSpan) attr(key string) string {
	for _, kv := range s.span.Attributes {
		if kv.Key != key {
			continue
		}
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			return v.StringValue
		case *commonpb.AnyValue_IntValue:
			return strconv.FormatInt(v.IntValue, 10)
		}
	}
	return ""
}

// TestServeExportsTracesOverOTLP: with OTEL_EXPORTER_OTLP_ENDPOINT set, serve exports over
// OTLP/HTTP the trace of a delete (the request span named by its route, with the store's
// call inside), flushed when it stops as on SIGTERM; its log line carries the trace id. What
// a client sent reaches a span cut to maxAttributeBytes.
func TestServeExportsTracesOverOTLP(t *testing.T) {
	url, received := otlpReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
	t.Setenv("OTEL_SERVICE_NAME", "")
	s := startServe(t)
	path := "/v2/hc-interactions/" + uuid.NewString() + "/public"
	req, err := http.NewRequest(http.MethodDelete, "http://"+s.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.key)
	req.Header.Set("X-Forwarded-For", strings.Repeat("6", 32<<10))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	// Nothing was exported yet (the batch waits); stopping flushes it before serve returns.
	s.stop()

	var spans []exportedSpan
	for len(received) > 0 {
		for _, rs := range (<-received).ResourceSpans {
			service := ""
			for _, kv := range rs.Resource.GetAttributes() {
				if kv.Key == "service.name" {
					service = kv.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					spans = append(spans, exportedSpan{service, sp})
				}
			}
		}
	}
	find := func(name string) exportedSpan {
		for _, sp := range spans {
			if sp.span.Name == name {
				return sp
			}
		}
		t.Fatalf("no span %q among %d exported", name, len(spans))
		return exportedSpan{}
	}
	root := find("DELETE /v2/hc-interactions/:id/public")
	if root.service != "fini-server" || root.span.Kind != tracepb.Span_SPAN_KIND_SERVER || len(root.span.ParentSpanId) != 0 {
		t.Errorf("request span: service %q, kind %v, parent %x", root.service, root.span.Kind, root.span.ParentSpanId)
	}
	for key, want := range map[string]string{"http.request.method": "DELETE", "http.route": "/v2/hc-interactions/:id/public",
		"http.response.status_code": "200", "client.address": strings.Repeat("6", maxAttributeBytes)} {
		if got := root.attr(key); got != want {
			t.Errorf("request span %s = %.80q (%d bytes), want %.80q", key, got, len(got), want)
		}
	}
	del := find("DeleteConversation")
	if string(del.span.ParentSpanId) != string(root.span.SpanId) || string(del.span.TraceId) != string(root.span.TraceId) ||
		del.attr("db.system.name") != "sqlite" || del.span.Kind != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("store span: parent %x (request span %x), attributes %v", del.span.ParentSpanId, root.span.SpanId, del.span.Attributes)
	}

	traceID := hex.EncodeToString(root.span.TraceId)
	var logged bool
	for _, line := range strings.Split(s.log.String(), "\n") {
		var l struct {
			Path    string `json:"path"`
			TraceID string `json:"trace_id"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Path == path {
			logged = true
			if l.TraceID != traceID {
				t.Errorf("log line trace_id %q, want %s: %s", l.TraceID, traceID, line)
			}
		}
	}
	if !logged {
		t.Errorf("no log line for %s: %s", path, s.log.String())
	}
}

// TestTracingStartsOnlyWhenAnEndpointIsSet: without an OTLP endpoint (or with the SDK
// disabled) no tracer provider, and so no exporter, is made.
func TestTracingStartsOnlyWhenAnEndpointIsSet(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	for _, env := range []map[string]string{
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": ""},
		{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"},
	} {
		for k, v := range env {
			t.Setenv(k, v)
		}
		tp, err := startTracing(context.Background(), quiet)
		if tp != nil || err != nil {
			t.Errorf("%v: tracer provider %v, %v", env, tp, err)
		}
	}
	t.Setenv("OTEL_SDK_DISABLED", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:4318/v1/traces")
	tp, err := startTracing(context.Background(), quiet)
	if tp == nil || err != nil {
		t.Fatalf("with a traces endpoint: %v, %v", tp, err)
	}
	stopTracing(tp, quiet)
}
