package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/fini-oss/conversations/server"
	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/contract"
	"github.com/fini-oss/conversations/server/demo"
	"github.com/fini-oss/conversations/server/logline"
	"github.com/fini-oss/conversations/server/ratelimit"
	"github.com/fini-oss/conversations/server/servertest"
	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/storetrace"
)

// benchEnv is one SQLite store with 1,000 conversations and the stacks to compare over it.
type benchEnv struct {
	store  store.Store
	seeded demo.Result
	stacks map[string]http.Handler
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	se := servertest.New(b, servertest.Options{Conversations: 1000, Seed: 21})
	e := &benchEnv{store: se.Store, seeded: se.Seeded, stacks: map[string]http.Handler{
		"enforce":      se.Server,
		"request-only": se.NewServer(b, contract.Off),
		"bare-echo":    bareEcho(se.Store),
	}}
	off, err := server.NewUnvalidated(server.Config{Store: se.Store, Logger: slog.New(logline.New(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	e.stacks["off"] = off
	return e
}

// bareEcho is the floor: an Echo delete handler with hand-written checks over the same store
// and the same key lookup, no spec anywhere.
func bareEcho(s store.API) http.Handler {
	e := echo.New()
	e.DELETE("/v2/hc-interactions/:id/public", func(c echo.Context) error {
		key, ok := apikey.FromAuthorization(c.Request().Header.Get("Authorization"))
		if !ok {
			return c.JSON(http.StatusUnauthorized, map[string]any{"statusCode": 401})
		}
		k, err := s.APIKeyByHash(c.Request().Context(), apikey.Hash(key))
		if err != nil || k.RevokedAt != nil {
			return c.JSON(http.StatusUnauthorized, map[string]any{"statusCode": 401})
		}
		id, err := uuid.Parse(c.Param("id"))
		if err != nil {
			return c.JSON(http.StatusBadRequest, map[string]any{"statusCode": 400})
		}
		actor := store.Actor{KeyID: k.ID, KeyName: k.Name, RequestID: c.Request().Header.Get("X-Request-Id"), Operation: "deleteConversation"}
		if err := s.DeleteConversation(c.Request().Context(), k.WorkspaceID, id, actor); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]bool{"success": true})
	})
	return e
}

// benchWriter is a reusable ResponseWriter, so the harness adds no allocations of its own.
type benchWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (w *benchWriter) Header() http.Header { return w.header }
func (w *benchWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *benchWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.body.Write(b)
}

// run serves one request per iteration, rotating over the given requests.
func run(b *testing.B, h http.Handler, reqs func(i int) *http.Request, want int) {
	b.Helper()
	b.ReportAllocs()
	w := &benchWriter{header: http.Header{}}
	for i := 0; b.Loop(); i++ {
		clear(w.header)
		w.code = 0
		w.body.Reset()
		h.ServeHTTP(w, reqs(i))
		if w.code != want {
			b.Fatalf("status %d, want %d: %s", w.code, want, w.body.String())
		}
	}
}

func (e *benchEnv) request(method, target, body string) *http.Request {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	req.Header.Set("Authorization", "Bearer "+e.seeded.Key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// BenchmarkOperations runs every operation through each stack. Delete rotates over 1,000
// real ids (after the first pass they are already deleted: the same UPDATE, no row changed).
func BenchmarkOperations(b *testing.B) {
	e := newBenchEnv(b)
	ids := e.seeded.ConversationIDs
	deletes := make([]string, len(ids))
	gets := make([]string, len(ids))
	for i, id := range ids {
		deletes[i] = "/v2/hc-interactions/" + id.String() + "/public"
		gets[i] = deletes[i]
	}
	// Get and list read conversations that the delete benchmarks never touch.
	live := ids[500:]
	for _, stack := range []string{"bare-echo", "off", "request-only", "enforce"} {
		h := e.stacks[stack]
		b.Run("op=delete/stack="+stack, func(b *testing.B) {
			run(b, h, func(i int) *http.Request { return e.request(http.MethodDelete, deletes[i%500], "") }, 200)
		})
		if stack == "bare-echo" {
			continue
		}
		b.Run("op=get/stack="+stack, func(b *testing.B) {
			run(b, h, func(i int) *http.Request {
				return e.request(http.MethodGet, "/v2/hc-interactions/"+live[i%len(live)].String()+"/public", "")
			}, 200)
		})
		b.Run("op=list50/stack="+stack, func(b *testing.B) {
			run(b, h, func(i int) *http.Request {
				return e.request(http.MethodGet, "/v2/hc-interactions/public?limit=50&cursor="+live[i%len(live)].String(), "")
			}, 200)
		})
		b.Run("op=bulk50/stack="+stack, func(b *testing.B) {
			// Unknown ids: the whole check runs, and the 406 names all 50, deleting nothing.
			var body strings.Builder
			body.WriteString(`{"ids":[`)
			for i := range 50 {
				if i > 0 {
					body.WriteByte(',')
				}
				fmt.Fprintf(&body, "%q", uuid.New())
			}
			body.WriteString(`]}`)
			run(b, h, func(int) *http.Request {
				return e.request(http.MethodDelete, "/v2/hc-interactions/public", body.String())
			}, 406)
		})
	}
}

// memStore keeps keys and conversations in maps: the anchors' "in-memory store", so that the
// validation overhead of a delete (about a microsecond) is not lost in SQLite's tens.
type memStore struct {
	store.API // the rest is never called by these benchmarks
	keys      map[string]store.APIKey
	mu        sync.Mutex
	deleted   map[uuid.UUID]bool
}

func (m *memStore) APIKeyByHash(_ context.Context, hash []byte) (store.APIKey, error) {
	k, ok := m.keys[string(hash)]
	if !ok {
		return k, store.ErrNotFound
	}
	return k, nil
}

func (m *memStore) TouchAPIKey(context.Context, uuid.UUID, int64) error { return nil }

func (m *memStore) DeleteConversation(_ context.Context, _, id uuid.UUID, _ store.Actor) error {
	m.mu.Lock()
	m.deleted[id] = true
	m.mu.Unlock()
	return nil
}

// BenchmarkDeleteOverhead measures what validation adds to the seed operation, over an
// in-memory store: enforce minus off is the whole cost of request and response validation.
// enforce-limited adds a rate limit that never refuses (the limiter's cost), and
// enforce-traced tracing with the SDK as serve runs it (batched, here to a no-op exporter),
// store calls included; enforce is both off.
func BenchmarkDeleteOverhead(b *testing.B) {
	key, hash, _ := apikey.Generate()
	mem := &memStore{deleted: map[uuid.UUID]bool{}, keys: map[string]store.APIKey{
		string(hash): {ID: uuid.New(), WorkspaceID: uuid.New(), Scopes: []string{"read", "write"}, Hash: hash},
	}}
	quiet := slog.New(logline.New(io.Discard, nil))
	stacks := map[string]http.Handler{"bare-echo": bareEcho(mem)}
	for name, mode := range map[string]contract.Mode{"enforce": contract.Enforce, "request-only": contract.Off} {
		s, err := server.New(server.Config{Store: mem, Logger: quiet, ResponseValidation: mode})
		if err != nil {
			b.Fatal(err)
		}
		stacks[name] = s
	}
	off, err := server.NewUnvalidated(server.Config{Store: mem, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	stacks["off"] = off
	limited, err := server.New(server.Config{Store: mem, Logger: quiet,
		RateLimit: ratelimit.RateLimit{Requests: 1_000_000, Per: time.Second}})
	if err != nil {
		b.Fatal(err)
	}
	stacks["enforce-limited"] = limited
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	traced, err := server.New(server.Config{Store: storetrace.Wrap(mem, tp, storetrace.SQLite), Logger: quiet, TracerProvider: tp})
	if err != nil {
		b.Fatal(err)
	}
	stacks["enforce-traced"] = traced
	reqs := make([]*http.Request, 1000)
	for i := range reqs {
		reqs[i] = httptest.NewRequest(http.MethodDelete, "/v2/hc-interactions/"+uuid.NewString()+"/public", nil)
		reqs[i].Header.Set("Authorization", "Bearer "+key)
	}
	for _, name := range []string{"bare-echo", "off", "request-only", "enforce", "enforce-limited", "enforce-traced"} {
		b.Run("op=delete-inmemory/stack="+name, func(b *testing.B) {
			run(b, stacks[name], func(i int) *http.Request { return reqs[i%len(reqs)] }, 200)
		})
	}
}
