// Package servertest starts the real server stack in-process for the tests of this module:
// server.New on a temporary SQLite file seeded with demo data, behind an httptest server, with
// response validation enforced. It depends on server, demo and the SQLite store.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server"
	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/demo"
	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
)

// Env is a running server over a seeded store.
type Env struct {
	// URL is the server's base URL.
	URL string
	// Store is the store behind it, for checks and set-up the API does not offer.
	Store store.Store
	// Seeded is the demo workspace, its read+write key and its conversation ids.
	Seeded demo.Result
	// Other is a second workspace with 5 conversations, for tenancy checks.
	Other demo.Result
}

// New starts a server whose demo workspace has n conversations; everything is torn down
// when the test ends.
func New(t testing.TB, n int) *Env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "servertest.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rnd := rand.New(rand.NewPCG(uint64(n), 8))
	e := &Env{Store: db}
	if e.Seeded, err = demo.Seed(ctx, db, n, time.Now(), rnd); err != nil {
		t.Fatal(err)
	}
	if e.Other, err = demo.Seed(ctx, db, 5, time.Now(), rnd); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: db, ResponseValidation: server.Enforce,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e.URL = hs.URL
	return e
}

// Key issues a key for the demo workspace with the given scopes.
func (e *Env) Key(t testing.TB, scopes ...string) string {
	t.Helper()
	key, hash, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Store.CreateAPIKey(context.Background(), store.APIKey{ID: uuid.New(), WorkspaceID: e.Seeded.WorkspaceID,
		Scopes: scopes, Hash: hash, CreatedAt: time.Now().UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	return key
}
