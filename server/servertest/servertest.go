// Package servertest is the one way tests of this module stand up the server: a store (a
// temporary SQLite file, or a throw-away PostgreSQL schema) seeded with demo data, server.New
// over it with response validation enforced, behind an httptest server. Options cover what
// tests vary: the engine, the validation mode, a store wrapper for fault injection, the
// response hook, the clock, the logger, rate limiting and tracing. It depends on server,
// demo, the store engines and storetrace.
package servertest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"

	"github.com/fini-oss/conversations/server"
	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/contract"
	"github.com/fini-oss/conversations/server/demo"
	"github.com/fini-oss/conversations/server/logline"
	"github.com/fini-oss/conversations/server/ratelimit"
	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/postgres/pgtest"
	"github.com/fini-oss/conversations/server/store/sqlite"
	"github.com/fini-oss/conversations/server/store/storetrace"
)

// Engine names a storage engine.
type Engine string

// The engines. PostgreSQL tests skip, saying why, when FINI_TEST_POSTGRES is not set.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Options configure New. The zero value is a SQLite store whose demo workspace has 30
// conversations, enforce mode and a discarded log.
type Options struct {
	Engine Engine
	// Conversations seeded in the demo workspace (Seeded); default 30. Other gets
	// OtherConversations, default 10.
	Conversations, OtherConversations int
	// Mode is the response validation mode; default Enforce.
	Mode contract.Mode
	// WrapStore, when set, wraps the store the server uses (not Env.Store): fault tests
	// inject failures this way.
	WrapStore func(store.API) store.API
	// OnResponse is server.Config.OnResponse.
	OnResponse func(operationID string, status int)
	// Now is the server's clock and the demo data's "now"; default time.Now.
	Now func() time.Time
	// Logger receives the server's log; default the production handler (logline), discarding.
	Logger *slog.Logger
	// Seed makes the demo data reproducible; default 1.
	Seed uint64
	// RateLimit is server.Config.RateLimit; default off.
	RateLimit ratelimit.RateLimit
	// TracerProvider, when set, traces the server (server.Config.TracerProvider) and its
	// store's calls (storetrace), as fini-server serve does.
	TracerProvider trace.TracerProvider
}

// Env is a running server over a seeded store.
type Env struct {
	// URL is the server's base URL.
	URL string
	// Server is the stack behind URL, for in-process calls.
	Server *server.Server
	// Store is the store behind it, unwrapped, for checks and set-up the API does not offer.
	Store store.Store
	// Seeded is the demo workspace, its read+write key and its conversation ids.
	Seeded demo.Result
	// Other is a second workspace, for tenancy checks.
	Other demo.Result

	opts    Options
	cleanup []func()
	// sampled counts the demo conversations that Samples used.
	mu      sync.Mutex
	sampled int
}

// New starts a server; everything is torn down when the test ends.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	e, err := start(OpenStore(t, opts.Engine), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e
}

// Start starts a server over a SQLite store in a temporary directory, for code that has no
// testing.TB (Example functions); Close tears it down.
func Start(opts Options) (*Env, error) {
	if opts.Engine == Postgres {
		return nil, errors.New("servertest: Start serves SQLite only; use New for PostgreSQL")
	}
	dir, err := os.MkdirTemp("", "servertest")
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "servertest.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	e, err := start(db, opts)
	if err != nil {
		db.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	e.cleanup = append(e.cleanup, func() { db.Close(); os.RemoveAll(dir) })
	return e, nil
}

// Close stops a server that Start started, and removes its store.
func (e *Env) Close() { e.close() }

func (e *Env) close() {
	for i := len(e.cleanup) - 1; i >= 0; i-- {
		e.cleanup[i]()
	}
	e.cleanup = nil
}

func start(s store.Store, opts Options) (*Env, error) {
	if opts.Conversations == 0 {
		opts.Conversations = 30
	}
	if opts.OtherConversations == 0 {
		opts.OtherConversations = 10
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(logline.New(io.Discard, nil))
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	e := &Env{Store: s, opts: opts}
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(opts.Seed, 2))
	var err error
	if e.Seeded, err = demo.Seed(ctx, s, opts.Conversations, opts.Now(), rnd); err != nil {
		return nil, err
	}
	if e.Other, err = demo.Seed(ctx, s, opts.OtherConversations, opts.Now(), rnd); err != nil {
		return nil, err
	}
	if e.Server, err = e.newServer(opts.Mode); err != nil {
		return nil, err
	}
	hs := httptest.NewServer(e.Server)
	e.cleanup = append(e.cleanup, hs.Close)
	e.URL = hs.URL
	return e, nil
}

// NewServer builds another stack over the same store and options, in the given response
// validation mode (benchmarks compare modes over one store).
func (e *Env) NewServer(t testing.TB, mode contract.Mode) *server.Server {
	t.Helper()
	srv, err := e.newServer(mode)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func (e *Env) newServer(mode contract.Mode) (*server.Server, error) {
	var s store.API = e.Store
	if e.opts.WrapStore != nil {
		s = e.opts.WrapStore(s)
	}
	if tp := e.opts.TracerProvider; tp != nil {
		system := storetrace.SQLite
		if e.opts.Engine == Postgres {
			system = storetrace.PostgreSQL
		}
		s = storetrace.Wrap(s, tp, system)
	}
	return server.New(server.Config{Store: s, ResponseValidation: mode, OnResponse: e.opts.OnResponse,
		Now: e.opts.Now, Logger: e.opts.Logger, RateLimit: e.opts.RateLimit, TracerProvider: e.opts.TracerProvider})
}

// OpenStore opens an empty, migrated store of the engine (default SQLite), closed when the
// test ends.
func OpenStore(t testing.TB, engine Engine) store.Store {
	t.Helper()
	if engine == Postgres {
		return pgtest.Open(t)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "servertest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Key issues a key for the demo workspace with the given scopes, named after them.
func (e *Env) Key(t testing.TB, scopes ...string) string {
	t.Helper()
	return e.KeyFor(t, e.Seeded.WorkspaceID, scopes...)
}

// KeyFor issues a key for workspace ws with the given scopes, named after them.
func (e *Env) KeyFor(t testing.TB, ws uuid.UUID, scopes ...string) string {
	t.Helper()
	key, hash, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Store.CreateAPIKey(context.Background(), store.APIKey{ID: uuid.New(), WorkspaceID: ws, Name: strings.Join(scopes, "+"),
		Scopes: scopes, Hash: hash, CreatedAt: time.Now().UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	return key
}
