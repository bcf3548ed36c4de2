package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
)

func TestCutArray(t *testing.T) {
	tests := []struct {
		body, rest string
		items      []string
		ok         bool
	}{
		{`{"interactions":[],"hasMore":false}`, `{"interactions":[],"hasMore":false}`, nil, true},
		{`{"interactions":[{"a":"]}"},{"b":[{}]}],"x":1}`, `{"interactions":[],"x":1}`, []string{`{"a":"]}"}`, `{"b":[{}]}`}, true},
		{`{"interactions":[{"a":"\"}"}],"x":1}`, `{"interactions":[],"x":1}`, []string{`{"a":"\"}"}`}, true},
		{`{"interactions":[{} {}]}`, "", nil, false},    // no comma
		{`{"interactions":[1,2]}`, "", nil, false},      // not objects
		{`{"interactions":[{"a":1}`, "", nil, false},    // never closes
		{`{"x":1,"interactions":[{}]}`, "", nil, false}, // not the first key
		{`["interactions":[{}]]`, "", nil, false},
		{`{"interactions":{}}`, "", nil, false},
	}
	for _, tt := range tests {
		rest, items, ok := cutArray([]byte(tt.body), "interactions")
		if ok != tt.ok {
			t.Errorf("%s: ok = %v", tt.body, ok)
			continue
		}
		if !ok {
			continue
		}
		var got []string
		for _, it := range items {
			got = append(got, string(it))
		}
		if string(rest) != tt.rest || strings.Join(got, "|") != strings.Join(tt.items, "|") {
			t.Errorf("%s: rest %s items %v", tt.body, rest, got)
		}
	}
}

// TestMemoHitStillChecksDeclaredHeaders: once the memo holds a body as valid, the same body
// with a declared header that breaks the spec (or lacks a required one) is still refused.
func TestMemoHitStillChecksDeclaredHeaders(t *testing.T) {
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	v := newResponseValidator(Enforce, slog.New(slog.NewTextHandler(io.Discard, nil)), m, nil)
	op := c.ops["getConversation"]
	id := uuid.NewString()
	in := &openapi3filter.RequestValidationInput{
		Request:    httptest.NewRequest(http.MethodGet, "/v2/hc-interactions/"+id+"/public", nil),
		PathParams: map[string]string{"id": id}, Route: op.route,
	}
	body, err := jsonBytes(envelope(http.StatusServiceUnavailable, msgUnavailable))
	if err != nil {
		t.Fatal(err)
	}
	header := func(edit func(http.Header)) http.Header {
		h := http.Header{"Content-Type": {"application/json"}, "Retry-After": {"1"}}
		setFixedHeaders(h, op.fixed[http.StatusServiceUnavailable])
		edit(h)
		return h
	}
	ctx := context.Background()
	if err := v.validate(ctx, op, in, http.StatusServiceUnavailable, header(func(http.Header) {}), body); err != nil {
		t.Fatalf("a conforming 503 was refused: %v", err)
	}
	bad := map[string]func(http.Header){
		"Retry-After not an integer": func(h http.Header) { h.Set("Retry-After", "soon") },
		"Retry-After negative":       func(h http.Header) { h.Set("Retry-After", "-1") },
		"Cache-Control missing":      func(h http.Header) { h.Del("Cache-Control") },
		"Cache-Control public":       func(h http.Header) { h.Set("Cache-Control", "public") },
		"nosniff missing":            func(h http.Header) { h.Del("X-Content-Type-Options") },
	}
	for name, edit := range bad {
		if err := v.validate(ctx, op, in, http.StatusServiceUnavailable, header(edit), body); err == nil {
			t.Errorf("%s: accepted on a memo hit", name)
		}
	}
	// The same body under another status or content type is not a memo hit either.
	if err := v.validate(ctx, op, in, http.StatusTeapot, header(func(http.Header) {}), body); err == nil {
		t.Error("an undocumented status with a memoised body was accepted")
	}
	if err := v.validate(ctx, op, in, http.StatusServiceUnavailable,
		header(func(h http.Header) { h.Set("Content-Type", "text/plain") }), body); err == nil {
		t.Error("a memoised body with another content type was accepted")
	}
}
