package contract

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
)

func TestCutArray(t *testing.T) {
	tests := []struct {
		body, rest string
		items      []string
		ok         bool
	}{
		{`{"books":[],"more":false}`, `{"books":[],"more":false}`, nil, true},
		{`{"books":[{"a":"]}"},{"b":[{}]}],"x":1}`, `{"books":[],"x":1}`, []string{`{"a":"]}"}`, `{"b":[{}]}`}, true},
		{`{"books":[{"a":"\"}"}],"x":1}`, `{"books":[],"x":1}`, []string{`{"a":"\"}"}`}, true},
		{`{"x":1, "books" : [ {"a":1} , {} ] }`, `{"x":1, "books" : [] }`, []string{`{"a":1}`, `{}`}, true},
		{`{"b\u006foks":[{}]}`, `{"b\u006foks":[]}`, []string{`{}`}, true},
		{`{"books":[{} {}]}`, "", nil, false},    // no comma
		{`{"books":[1,2]}`, "", nil, false},      // not objects
		{`{"books":[{"a":1}`, "", nil, false},    // never closes
		{`{"books":[{"a":1]}]}`, "", nil, false}, // closes with the wrong byte
		{`{"x":{"books":[{}]}}`, "", nil, false}, // not at the top level
		{`["books",[{}]]`, "", nil, false},
		{`{"books":{}}`, "", nil, false},
	}
	for _, tt := range tests {
		rest, items, ok := cutArray([]byte(tt.body), "books")
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
// with a declared header that breaks the spec (or lacks a required one) is still refused,
// and so is the same body under another status or content type.
func TestMemoHitStillChecksDeclaredHeaders(t *testing.T) {
	spec, err := os.ReadFile("testdata/library.yaml")
	if err != nil {
		t.Fatal(err)
	}
	allow := func(*Operation) (AuthorizeFunc, error) {
		return func(context.Context, echo.Context) error { return nil }, nil
	}
	e, err := Load(spec, Options{Hooks: Hooks{RenderError: func(echo.Context, error) {}, Authorizer: allow}})
	if err != nil {
		t.Fatal(err)
	}
	op := e.Operation("addBook")
	const path = "/shelves/0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8/books"
	in := &openapi3filter.RequestValidationInput{
		Request:    httptest.NewRequest(http.MethodPost, path, nil),
		PathParams: map[string]string{"shelfId": "0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8"},
		Route:      op.route,
	}
	body := []byte(`{"isbn":"9780000000001","title":"Dune","tags":[],"addedAt":1}` + "\n")
	header := func(edit func(http.Header)) http.Header {
		h := http.Header{"Content-Type": {"application/json"}, "Location": {path + "/9780000000001"}}
		setFixedHeaders(h, op.fixed[http.StatusCreated])
		edit(h)
		return h
	}
	ctx := context.Background()
	if err := e.validateResponse(ctx, op, in, http.StatusCreated, header(func(http.Header) {}), body); err != nil {
		t.Fatalf("a conforming 201 was refused: %v", err)
	}
	bad := map[string]func(http.Header){
		"Location breaking its pattern": func(h http.Header) { h.Set("Location", "/elsewhere") },
		"Location missing":              func(h http.Header) { h.Del("Location") },
		"Cache-Control missing":         func(h http.Header) { h.Del("Cache-Control") },
		"Cache-Control public":          func(h http.Header) { h.Set("Cache-Control", "public") },
	}
	for name, edit := range bad {
		if err := e.validateResponse(ctx, op, in, http.StatusCreated, header(edit), body); err == nil {
			t.Errorf("%s: accepted on a memo hit", name)
		}
	}
	if err := e.validateResponse(ctx, op, in, http.StatusTeapot, header(func(http.Header) {}), body); err == nil {
		t.Error("an undocumented status with a memoised body was accepted")
	}
	if err := e.validateResponse(ctx, op, in, http.StatusCreated,
		header(func(h http.Header) { h.Set("Content-Type", "text/plain") }), body); err == nil {
		t.Error("a memoised body with another content type was accepted")
	}
}
