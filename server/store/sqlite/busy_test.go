package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
)

// TestBusyIsUnavailable: a write that finds the database locked by another process past
// the busy timeout is store.ErrUnavailable (a 503 with Retry-After), not an internal error.
func TestBusyIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// Two raw connections of another "process": one holds the write lock, the other, with
	// no busy timeout, fails at once with SQLITE_BUSY.
	holder, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Close() })
	ctx := context.Background()
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = conn.ExecContext(ctx, "ROLLBACK") })
	impatient, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { impatient.Close() })
	_, busy := impatient.ExecContext(ctx, "INSERT INTO workspaces (id, name, created_at) VALUES ('x', 'x', 1)")
	if busy == nil {
		t.Fatal("a write beside an exclusive lock succeeded")
	}
	if got := sqlite.Dialect.Classify(busy); !errors.Is(got, store.ErrUnavailable) {
		t.Errorf("classify(%v) = %v, want store.ErrUnavailable", busy, got)
	}
}
