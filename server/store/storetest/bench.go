package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
)

// BenchDeletes measures real deletes on s, a new empty store, which it fills: one a call
// (op=delete) and bulks of 50 (op=bulk50), each over conversations of about 1.5 KB that are
// live until then. Engines call it from a Benchmark; the iteration count is bounded by the
// 20,000 conversations each op seeds (-benchtime at most 20000x, or 400x for bulks).
func BenchDeletes(b *testing.B, open func(b *testing.B) store.Store) {
	ctx := context.Background()
	actor := store.Actor{KeyID: uuid.New(), KeyName: "bench", RequestID: "bench", Operation: "deleteConversation"}
	b.Run("op=delete", func(b *testing.B) {
		s, ws, ids := benchStore(b, open(b), 20_000)
		i := 0
		for b.Loop() {
			if i == len(ids) {
				b.Fatal("out of live conversations: use -benchtime of at most 20000x")
			}
			if err := s.DeleteConversation(ctx, ws, ids[i], actor); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("op=bulk50", func(b *testing.B) {
		s, ws, ids := benchStore(b, open(b), 20_000)
		i := 0
		for b.Loop() {
			if i+50 > len(ids) {
				b.Fatalf("out of live conversations: use -benchtime of at most %dx", len(ids)/50)
			}
			if err := s.BulkDeleteConversations(ctx, ws, ids[i:i+50], actor); err != nil {
				b.Fatal(err)
			}
			i += 50
		}
	})
}

// benchStore gives s one workspace of n conversations of about 1.5 KB.
func benchStore(b *testing.B, s store.Store, n int) (store.Store, uuid.UUID, []uuid.UUID) {
	b.Helper()
	ctx := context.Background()
	ws := uuid.New()
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "bench", CreatedAt: 1}); err != nil {
		b.Fatal(err)
	}
	ids := make([]uuid.UUID, n)
	cs := make([]store.Conversation, 0, 1000)
	body := `{"subjectPreview":"` + strings.Repeat("How do I reset my password? ", 50) + `"}`
	for i := range ids {
		ids[i] = uuid.New()
		cs = append(cs, store.Conversation{ID: ids[i], WorkspaceID: ws, Source: "api", CreatedAt: int64(i), LastMessageAt: int64(i), Body: []byte(body)})
		if len(cs) == cap(cs) || i == n-1 {
			if err := s.ImportConversations(ctx, cs); err != nil {
				b.Fatal(err)
			}
			cs = cs[:0]
		}
	}
	return s, ws, ids
}
