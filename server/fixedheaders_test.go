package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server"
	"github.com/fini-oss/conversations/server/contract"
	"github.com/fini-oss/conversations/server/store"
)

// TestEveryAnswerIsNotCachedOrSniffed: every answer, errors included and outside the API too,
// carries the headers that the spec fixes on every response.
func TestEveryAnswerIsNotCachedOrSniffed(t *testing.T) {
	e := newTestServer(t)
	down := newTestServerMode(t, contract.Enforce, func(s store.API) store.API { return failingStore{s, errDown} })
	broken := newTestServerMode(t, contract.Enforce, func(s store.API) store.API { return failingStore{s, errDisk} })
	id := e.A.ConversationIDs[0]
	huge, _ := http.NewRequest(http.MethodGet, e.url+listPath, nil)
	huge.Header.Set("X-Junk", strings.Repeat("a", server.MaxHeaderBytes))
	tooLarge, _ := http.NewRequest(http.MethodDelete, e.url+listPath, strings.NewReader(`{"ids":["`+strings.Repeat("a", 70000)+`"]}`))
	tooLarge.Header.Set("Authorization", "Bearer "+e.A.Key)
	tooLarge.Header.Set("Content-Type", "application/json")

	answers := map[string]response{
		"get 200":         e.do("GET", convPath(id), e.A.Key, ""),
		"list 200":        e.do("GET", listPath, e.A.Key, ""),
		"get 404":         e.do("GET", convPath(uuid.New()), e.A.Key, ""),
		"get 400":         e.do("GET", convPath("x"), e.A.Key, ""),
		"list 401":        e.do("GET", listPath, "", ""),
		"list 403":        e.do("GET", listPath, e.writeKey, ""),
		"bulk 406":        e.do("DELETE", listPath, e.A.Key, fmt.Sprintf(`{"ids":[%q]}`, uuid.New())),
		"bulk 413":        e.send(tooLarge),
		"bulk 200":        e.do("DELETE", listPath, e.A.Key, fmt.Sprintf(`{"ids":[%q]}`, e.A.ConversationIDs[1])),
		"delete 200":      e.do("DELETE", convPath(id), e.A.Key, ""),
		"delete 503":      down.do("DELETE", convPath(id), down.A.Key, ""),
		"get 500":         broken.do("GET", convPath(id), broken.A.Key, ""),
		"unknown route":   e.do("GET", "/nope", "", ""),
		"wrong method":    e.do("PUT", listPath, e.A.Key, ""),
		"headers too big": e.send(huge),
		"healthz":         e.do("GET", "/healthz", "", ""),
		"docs":            e.do("GET", "/docs", "", ""),
	}
	for name, r := range answers {
		if got := r.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s (%d): Cache-Control %q, want no-store", name, r.status, got)
		}
		if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s (%d): X-Content-Type-Options %q, want nosniff", name, r.status, got)
		}
	}
}

// TestOperationalEndpointsApart: API serves no operational endpoint and Ops no part of the API,
// so that an operator can keep /metrics, /healthz and /readyz off the public listener.
func TestOperationalEndpointsApart(t *testing.T) {
	e := newTestServer(t)
	api, ops := httptest.NewServer(e.srv.API()), httptest.NewServer(e.srv.Ops())
	t.Cleanup(api.Close)
	t.Cleanup(ops.Close)
	get := func(base, path string) response {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+e.A.Key)
		return e.send(req)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		get(api.URL, path).expect(t, 404, errBody(404, "No such route"))
		if r := get(ops.URL, path); r.status != 200 {
			t.Errorf("ops %s: %d", path, r.status)
		}
	}
	for _, path := range []string{listPath, convPath(e.A.ConversationIDs[0]), "/openapi.yaml", "/docs"} {
		get(ops.URL, path).expect(t, 404, errBody(404, "No such route"))
		get(api.URL, path).expect(t, 200, "")
	}
}
