package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
)

// TestRequestsCommitWithTheDefaultCache: the writer's page cache is SQLite's default for
// requests, after an import that succeeded and after one that failed half way. Each commit
// walks the cache's hash table, so the 64 MiB an import wants made every delete 27% slower.
func TestRequestsCommitWithTheDefaultCache(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ws := uuid.New()
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "cache", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	cacheSize := func() int {
		t.Helper()
		var n int
		if err := db.Write.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const want = -2000 // KiB: SQLite's default
	if got := cacheSize(); got != want {
		t.Fatalf("writer cache_size at open = %d, want %d", got, want)
	}
	good := store.Conversation{ID: uuid.New(), WorkspaceID: ws, Source: "api", CreatedAt: 1, LastMessageAt: 1, Body: []byte(`{}`)}
	if err := db.ImportConversations(ctx, store.All([]store.Conversation{good})); err != nil {
		t.Fatal(err)
	}
	if got := cacheSize(); got != want {
		t.Errorf("writer cache_size after an import = %d, want %d", got, want)
	}
	bad := errors.New("line 2: not a conversation")
	rows := func(yield func(store.Conversation, error) bool) {
		c := good
		c.ID = uuid.New()
		if yield(c, nil) {
			yield(store.Conversation{}, bad)
		}
	}
	if err := db.ImportConversations(ctx, rows); !errors.Is(err, bad) {
		t.Fatalf("failed import: %v, want %v", err, bad)
	}
	if got := cacheSize(); got != want {
		t.Errorf("writer cache_size after a failed import = %d, want %d", got, want)
	}
}
