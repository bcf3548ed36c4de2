package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
)

// TestImportKeepsTheWALBounded: an import restarts the WAL once its chunks filled it to the
// limit, so the -wal file (whose size is the most the WAL ever held) ends far below the
// import's own size. The checkpointer alone copies nothing while an import is staged.
func TestImportKeepsTheWALBounded(t *testing.T) {
	const limit = 1 << 20
	defer sqlite.SetImportWALLimit(limit)()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wal.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ws := uuid.New()
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "wal", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"message":"` + strings.Repeat("x", 1000) + `"}`)
	const n = 60_000 // about 115 MiB of WAL without restarts
	rows := func(yield func(store.Conversation, error) bool) {
		for i := range n {
			c := store.Conversation{ID: uuid.New(), WorkspaceID: ws, Source: "api", CreatedAt: int64(i), LastMessageAt: int64(i), Body: body}
			if !yield(c, nil) {
				return
			}
		}
	}
	if err := db.ImportConversations(ctx, rows); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// The limit, and one chunk over it: at most sqlstore's 20,000 rows, here about 20 MiB.
	if max := int64(32 << 20); fi.Size() > max {
		t.Errorf("the WAL grew to %d bytes during an import of %d conversations; want at most %d (limit %d)", fi.Size(), n, max, limit)
	}
}
