package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// benchStore opens a store with one workspace of n conversations of about 1.5 KB each.
func benchStore(b *testing.B, n int) (*sqlstore.DB, uuid.UUID, []uuid.UUID) {
	b.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ws := uuid.New()
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "bench", CreatedAt: 1}); err != nil {
		b.Fatal(err)
	}
	ids := make([]uuid.UUID, n)
	cs := make([]store.Conversation, 0, 1000)
	body := `{"subjectPreview":"` + strings.Repeat("How do I reset my password? ", 50) + `"}`
	for i := range ids {
		ids[i] = uuid.New()
		cs = append(cs, store.Conversation{ID: ids[i], WorkspaceID: ws, Source: "api", CreatedAt: int64(i), LastMessageAt: int64(i), Body: []byte(body)})
		if len(cs) == cap(cs) || i == n-1 {
			if err := db.ImportConversations(ctx, cs); err != nil {
				b.Fatal(err)
			}
			cs = cs[:0]
		}
	}
	return db, ws, ids
}

// BenchmarkStoreDelete deletes live conversations, one a call (a real delete: the row
// changes and, since the deletion record, a record is appended), and bulks of 50.
func BenchmarkStoreDelete(b *testing.B) {
	ctx := context.Background()
	actor := store.Actor{KeyID: uuid.New(), KeyName: "bench", RequestID: "bench", Operation: "deleteConversation"}
	b.Run("op=delete", func(b *testing.B) {
		db, ws, ids := benchStore(b, 20_000)
		i := 0
		for b.Loop() {
			if i == len(ids) {
				b.Fatal("out of live conversations: use -benchtime of at most 20000x")
			}
			if err := db.DeleteConversation(ctx, ws, ids[i], actor); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("op=bulk50", func(b *testing.B) {
		db, ws, ids := benchStore(b, 20_000)
		i := 0
		for b.Loop() {
			if i+50 > len(ids) {
				b.Fatalf("out of live conversations: use -benchtime of at most %dx", len(ids)/50)
			}
			if err := db.BulkDeleteConversations(ctx, ws, ids[i:i+50], actor); err != nil {
				b.Fatal(err)
			}
			i += 50
		}
	})
}
