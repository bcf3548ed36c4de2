package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/fini-oss/conversations/server/servertest"
)

var fuzzMethods = []string{"GET", "DELETE", "POST", "PUT", "HEAD", "OPTIONS", "PATCH"}

// FuzzHTTP drives the whole stack (auth, validation, handlers, SQLite) with arbitrary
// requests. Invariants: no panic; no 5xx (no fault is injected); every answer is a
// documented success or the error envelope of its status (enforce mode already turns a
// non-conforming response into a 500, which fails here); workspace B never changes.
func FuzzHTTP(f *testing.F) {
	ctx := context.Background()
	se := servertest.New(f, servertest.Options{Conversations: 40, Seed: 11})
	db, srv, a, b := se.Store, se.Server, se.Seeded, se.Other
	idA, idB := a.ConversationIDs[0].String(), b.ConversationIDs[0].String()
	f.Add(uint8(1), "/v2/hc-interactions/"+idA+"/public", "", true, "", []byte(nil))
	f.Add(uint8(1), "/v2/hc-interactions/"+idB+"/public", "", true, "", []byte(nil))
	f.Add(uint8(1), "/v2/hc-interactions/public", "", true, "application/json", []byte(`{"ids":["`+idA+`","`+idB+`"]}`))
	f.Add(uint8(1), "/v2/hc-interactions/public", "", true, "application/json", []byte(`{"ids":[{"$gt":""}]}`))
	f.Add(uint8(0), "/v2/hc-interactions/public", "limit=5&source=widget,api&source=ui&cursor="+idB, true, "", []byte(nil))
	f.Add(uint8(0), "/v2/hc-interactions/public", "since=1&until=2&direction=previous&botId='%20OR%201=1--", true, "", []byte(nil))
	f.Add(uint8(0), "/v2/hc-interactions/"+idB+"/public", "", false, "", []byte(nil))
	f.Add(uint8(3), "/v2/hc-interactions/%00/public", "limit=%ff", true, "text/plain", []byte("\x00\xff"))
	f.Add(uint8(2), "/nope", "", false, "application/json", []byte(`[[[[[[[[[[[[]]]]]]]]]]]]`))

	f.Fuzz(func(t *testing.T, method uint8, path, query string, withKey bool, contentType string, body []byte) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req := &http.Request{
			Method: fuzzMethods[int(method)%len(fuzzMethods)],
			URL:    &url.URL{Path: path, RawQuery: query},
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Host: "fuzz", RemoteAddr: "127.0.0.1:1", RequestURI: path,
		}
		req = req.WithContext(ctx)
		if withKey {
			req.Header.Set("Authorization", "Bearer "+a.Key)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)

		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", req.Method, path, query, rec.Code, rec.Body)
		}
		switch path {
		case "/healthz", "/readyz", "/openapi.yaml", "/docs", "/metrics":
			return
		}
		if rec.Code >= 400 {
			var env map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || len(env) < 3 ||
				env["statusCode"] != float64(rec.Code) || env["error"] != http.StatusText(rec.Code) {
				t.Fatalf("%s %s?%s: %d answer is not the envelope: %s", req.Method, path, query, rec.Code, rec.Body)
			}
		} else if rec.Code == http.StatusNoContent {
			// Echo answers OPTIONS on a known route with 204 and Allow: no operation, no body.
			if req.Method != http.MethodOptions || rec.Body.Len() != 0 || rec.Header().Get("Allow") == "" {
				t.Fatalf("%s %s: unexpected 204 %q", req.Method, path, rec.Body)
			}
		} else if req.Method != http.MethodHead && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: %d answer is not JSON: %s", req.Method, path, rec.Code, rec.Body)
		}
		if n, err := db.CountConversations(ctx, b.WorkspaceID); err != nil || n != 10 {
			t.Fatalf("workspace B changed: %d live conversations (%v), want 10, after %s %s?%s %q", n, err, req.Method, path, query, body)
		}
	})
}
