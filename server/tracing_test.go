package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/fini-oss/conversations/server/ratelimit"
	"github.com/fini-oss/conversations/server/servertest"
	"github.com/fini-oss/conversations/server/store"
)

// traced is a server whose spans go to an in-memory exporter, and whose log is kept.
type traced struct {
	*env
	spans *tracetest.InMemoryExporter
	ended chan struct{} // a server span ended: its trace is complete
	logs  *syncBuffer
}

// serverSpanEnds signals the end of each request span, which ends after its children.
type serverSpanEnds struct{ ended chan struct{} }

func (p serverSpanEnds) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (p serverSpanEnds) OnEnd(s sdktrace.ReadOnlySpan) {
	if s.SpanKind() == trace.SpanKindServer {
		p.ended <- struct{}{}
	}
}
func (p serverSpanEnds) Shutdown(context.Context) error   { return nil }
func (p serverSpanEnds) ForceFlush(context.Context) error { return nil }

func newTracedServer(t *testing.T, opts servertest.Options) *traced {
	t.Helper()
	tr := &traced{spans: tracetest.NewInMemoryExporter(), ended: make(chan struct{}, 100), logs: &syncBuffer{}}
	// The syncer exports a span as it ends, before the processor after it is told.
	opts.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSyncer(tr.spans),
		sdktrace.WithSpanProcessor(serverSpanEnds{tr.ended}))
	opts.Logger = slog.New(slog.NewJSONHandler(tr.logs, nil))
	tr.env = newTestServerWith(t, opts)
	return tr
}

// trace sends a request and returns the spans of its trace, once its request span ended.
func (tr *traced) trace(method, path, key, body string, header ...string) (response, tracetest.SpanStubs) {
	tr.t.Helper()
	tr.spans.Reset()
	req, err := http.NewRequest(method, tr.url+path, strings.NewReader(body))
	if err != nil {
		tr.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	r := tr.send(req)
	select {
	case <-tr.ended:
	case <-time.After(10 * time.Second):
		tr.t.Fatal("the request span never ended")
	}
	return r, tr.spans.GetSpans()
}

func named(spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	return tracetest.SpanStub{}
}

func attr(s tracetest.SpanStub, key attribute.Key) attribute.Value {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a.Value
		}
	}
	return attribute.Value{}
}

// children are the names of the spans whose parent is s, in the order they started.
func children(spans tracetest.SpanStubs, s tracetest.SpanStub) []string {
	var kids tracetest.SpanStubs
	for _, k := range spans {
		if k.Parent.SpanID() == s.SpanContext.SpanID() {
			kids = append(kids, k)
		}
	}
	slices.SortFunc(kids, func(a, b tracetest.SpanStub) int { return a.StartTime.Compare(b.StartTime) })
	names := make([]string, len(kids))
	for i, k := range kids {
		names[i] = k.Name
	}
	return names
}

// TestTracingSpanTree: a delete is one trace: the request span named by its route template
// (never the id), with the HTTP semantic conventions; under it authentication (with its key
// lookup in the store), request validation, the store's delete and response validation. The
// trace id is in the request's log line. On SQLite and PostgreSQL.
func TestTracingSpanTree(t *testing.T) {
	for _, engine := range []servertest.Engine{servertest.SQLite, servertest.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			tr := newTracedServer(t, servertest.Options{Engine: engine})
			id := tr.A.ConversationIDs[0]
			r, spans := tr.trace("DELETE", convPath(id), tr.A.Key, "")
			r.expect(t, 200, success)

			root := named(spans, "DELETE /v2/hc-interactions/:id/public")
			if root.SpanKind != trace.SpanKindServer || root.Parent.IsValid() {
				t.Fatalf("no root server span named by the route; spans: %v", names(spans))
			}
			for key, want := range map[attribute.Key]attribute.Value{
				"http.request.method":       attribute.StringValue("DELETE"),
				"http.route":                attribute.StringValue("/v2/hc-interactions/:id/public"),
				"http.response.status_code": attribute.IntValue(200),
			} {
				if got := attr(root, key); got != want {
					t.Errorf("request span %s = %v, want %v", key, got.String(), want.String())
				}
			}
			want := []string{"authorize", "validate request", "DeleteConversation", "validate response"}
			if got := children(spans, root); !slices.Equal(got, want) {
				t.Errorf("under the request span: %v, want %v", got, want)
			}
			auth := named(spans, "authorize")
			if got := children(spans, auth); len(got) == 0 || got[0] != "APIKeyByHash" {
				t.Errorf("under authorize: %v, want the key lookup first", got)
			}
			system := map[servertest.Engine]string{servertest.SQLite: "sqlite", servertest.Postgres: "postgresql"}[engine]
			for _, name := range []string{"APIKeyByHash", "DeleteConversation"} {
				s := named(spans, name)
				if s.SpanKind != trace.SpanKindClient || attr(s, "db.system.name").AsString() != system ||
					attr(s, "db.operation.name").AsString() != name {
					t.Errorf("store span %s: kind %v, attributes %v", name, s.SpanKind, s.Attributes)
				}
			}
			for _, s := range spans {
				if s.SpanContext.TraceID() != root.SpanContext.TraceID() {
					t.Errorf("span %s is in another trace", s.Name)
				}
				if strings.Contains(s.Name, id.String()) {
					t.Errorf("span name %q holds the id", s.Name)
				}
			}
			if got := logLine(t, tr.logs, "path", convPath(id))["trace_id"]; got != root.SpanContext.TraceID().String() {
				t.Errorf("log line trace_id %v, want %s", got, root.SpanContext.TraceID())
			}
		})
	}
}

func names(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

// logLine returns the last log line whose field equals value.
func logLine(t *testing.T, logs *syncBuffer, field, value string) map[string]any {
	t.Helper()
	var found map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m[field] == value {
			found = m
		}
	}
	if found == nil {
		t.Fatalf("no log line with %s=%s in %s", field, value, logs.String())
	}
	return found
}

// TestTracingRefusals: a 401 and a 429 are traced too, with their status; the 429 looked no
// key up (the rate limit refuses before the lookup), and a failed store call marks its span
// and its step failed without quoting the driver's error.
func TestTracingRefusals(t *testing.T) {
	tr := newTracedServer(t, servertest.Options{RateLimit: ratelimit.RateLimit{Requests: 1, Per: time.Minute}})
	_, spans := tr.trace("GET", listPath, "", "")
	root := named(spans, "GET /v2/hc-interactions/public")
	if attr(root, "http.response.status_code").AsInt64() != 401 || attr(named(spans, "authorize"), "error.type").AsString() != "401" {
		t.Errorf("401: %v %v", root.Attributes, named(spans, "authorize").Attributes)
	}
	if got := children(spans, root); !slices.Equal(got, []string{"authorize", "validate response"}) {
		t.Errorf("401: under the request span %v", got)
	}

	tr.trace("GET", listPath, tr.A.Key, "")
	_, spans = tr.trace("GET", listPath, tr.A.Key, "")
	root = named(spans, "GET /v2/hc-interactions/public")
	if attr(root, "http.response.status_code").AsInt64() != 429 {
		t.Errorf("429: %v", root.Attributes)
	}
	if got := children(spans, root); !slices.Equal(got, []string{"authorize", "validate response"}) {
		t.Errorf("429: under the request span %v", got)
	}
	if limited := named(spans, "authorize"); attr(limited, "error.type").AsString() != "429" || len(children(spans, limited)) != 0 {
		t.Errorf("429: the authorize span %v looked something up: %v", limited.Attributes, children(spans, limited))
	}

	broken := newTracedServer(t, servertest.Options{WrapStore: func(s store.API) store.API { return failingStore{s, errDisk} }})
	_, spans = broken.trace("GET", convPath(broken.A.ConversationIDs[0]), broken.A.Key, "")
	get := named(spans, "GetConversation")
	if get.Status.Code != codes.Error || strings.Contains(get.Status.Description, "sqlite") || attr(get, "error.type").AsString() != "_OTHER" {
		t.Errorf("failed store call: status %+v, attributes %v", get.Status, get.Attributes)
	}
	root = named(spans, "GET /v2/hc-interactions/:id/public")
	if root.Status.Code != codes.Error || attr(root, "http.response.status_code").AsInt64() != 500 {
		t.Errorf("500: status %+v, attributes %v", root.Status, root.Attributes)
	}
}

// TestTracingKeepsSecretsOut: no span holds the key, the Authorization header or the body,
// even where a client pasted the key (path, user agent), nor more than a bounded prefix of a
// huge path; an unmatched route's span is named by its method alone, and a client's own
// method is "HTTP".
func TestTracingKeepsSecretsOut(t *testing.T) {
	tr := newTracedServer(t, servertest.Options{})
	key := tr.A.Key
	secret := key[len("fini_"):]
	id := tr.A.ConversationIDs[1]
	body := fmt.Sprintf(`{"ids":[%q]}`, id)
	var all tracetest.SpanStubs
	for _, req := range []struct{ method, path, body, wantName string }{
		{"DELETE", listPath, body, "DELETE /v2/hc-interactions/public"},
		{"GET", "/v2/hc-interactions/" + key + "/public", "", "GET /v2/hc-interactions/:id/public"},
		{"GET", "/nowhere/" + key, "", "GET"},
		{"BREW", listPath, "", "HTTP /v2/hc-interactions/public"},
		{"GET", "/" + strings.Repeat("A", 64<<10), "", "GET"},
	} {
		_, spans := tr.trace(req.method, req.path, key, req.body, "User-Agent", "curl "+key, "X-Note", key)
		if root := spans[len(spans)-1]; root.Name != req.wantName {
			t.Errorf("%s %.30s: request span %q, want %q", req.method, req.path, root.Name, req.wantName)
		}
		all = append(all, spans...)
	}
	for _, s := range all {
		text := s.Name + " " + s.Status.Description
		for _, a := range s.Attributes {
			text += " " + string(a.Key) + "=" + a.Value.String()
		}
		for _, e := range s.Events {
			text += " " + e.Name
			for _, a := range e.Attributes {
				text += " " + a.Value.String()
			}
		}
		if strings.Contains(text, secret) || strings.Contains(text, "Bearer") || strings.Contains(text, id.String()) {
			t.Errorf("span %q holds a secret or the body: %.3000s", s.Name, text)
		}
		if len(text) > 4096 {
			t.Errorf("span %q holds %d bytes of what the client sent: %.300s", s.Name, len(text), text)
		}
	}
}

// TestTracingIsPublic: a client's traceparent does not choose the trace: the request starts
// a trace of its own, linked to the client's.
func TestTracingIsPublic(t *testing.T) {
	tr := newTracedServer(t, servertest.Options{})
	const clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	_, spans := tr.trace("GET", listPath, tr.A.Key, "", "traceparent", "00-"+clientTrace+"-00f067aa0ba902b7-01")
	root := named(spans, "GET /v2/hc-interactions/public")
	if root.SpanContext.TraceID().String() == clientTrace || root.Parent.IsValid() {
		t.Errorf("the client's traceparent became the parent: %v", root.Parent)
	}
	if len(root.Links) != 1 || root.Links[0].SpanContext.TraceID().String() != clientTrace {
		t.Errorf("links %v, want the client's trace", root.Links)
	}
}

// TestNoTraceIDWithoutTracing: with tracing off the log line has no trace_id.
func TestNoTraceIDWithoutTracing(t *testing.T) {
	logs := &syncBuffer{}
	e := newTestServerWith(t, servertest.Options{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	e.do("GET", listPath, e.A.Key, "").expect(t, 200, "")
	if line := logLine(t, logs, "path", listPath); line["trace_id"] != nil {
		t.Errorf("trace_id without tracing: %v", line)
	}
}
