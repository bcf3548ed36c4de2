// Package storetest is the conformance suite every store engine must pass. Engines call Run
// from their own tests with a function that opens a fresh, empty, migrated store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
)

// Run runs the whole suite; open must return a new empty store and register its cleanup.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := map[string]func(*testing.T, store.Store){
		"DeleteIsIdempotentAndScoped":   testDelete,
		"BulkDeleteAllOrNothing":        testBulkDelete,
		"ConcurrentOverlappingBulks":    testConcurrentBulks,
		"GetLiveOnly":                   testGet,
		"ListOrderWindowAndFilters":     testListFilters,
		"ListCursorsBothWays":           testListCursors,
		"ListCursorOfDeletedAndUnknown": testListCursorDeleted,
		"ImportAllOrNothing":            testImport,
		"RestoreAndPurge":               testRestorePurge,
		"APIKeys":                       testKeys,
		"EmptyStoreHasNoWorkspaces":     testEmpty,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}

// base is an arbitrary fixed epoch millisecond all fixtures are placed around.
const base = int64(1_764_000_000_000)

func mustWorkspace(t *testing.T, s store.Store) uuid.UUID {
	t.Helper()
	w := store.Workspace{ID: uuid.New(), Name: "ws-" + uuid.NewString()[:8], CreatedAt: base}
	if err := s.CreateWorkspace(context.Background(), w); err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	return w.ID
}

// conv builds a conversation whose latest message is at `at`.
func conv(ws uuid.UUID, at int64, source string) store.Conversation {
	id := uuid.New()
	ch := "chat"
	return store.Conversation{
		ID: id, WorkspaceID: ws, Source: source, Channel: &ch,
		CreatedAt: at - 1000, LastMessageAt: at,
		Body: []byte(fmt.Sprintf(`{"id":%q,"source":%q}`, id, source)),
	}
}

func mustImport(t *testing.T, s store.Store, cs ...store.Conversation) {
	t.Helper()
	if err := s.ImportConversations(context.Background(), store.All(cs)); err != nil {
		t.Fatalf("import: %v", err)
	}
}

func isLive(t *testing.T, s store.Store, ws, id uuid.UUID) bool {
	t.Helper()
	_, err := s.GetConversation(context.Background(), ws, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get %s: %v", id, err)
	}
	return err == nil
}

func testDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := mustWorkspace(t, s), mustWorkspace(t, s)
	ca, cb := conv(a, base, "api"), conv(b, base, "api")
	mustImport(t, s, ca, cb)

	for range 2 { // the second delete of the same id is a no-op, not an error
		if err := s.DeleteConversation(ctx, a, ca.ID); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
	if isLive(t, s, a, ca.ID) {
		t.Error("deleted conversation still live")
	}
	if err := s.DeleteConversation(ctx, a, cb.ID); err != nil { // another workspace's id
		t.Fatalf("delete foreign: %v", err)
	}
	if err := s.DeleteConversation(ctx, a, uuid.New()); err != nil {
		t.Fatalf("delete unknown: %v", err)
	}
	if !isLive(t, s, b, cb.ID) {
		t.Error("a delete through workspace A removed workspace B's conversation")
	}
}

func testBulkDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := mustWorkspace(t, s), mustWorkspace(t, s)
	c1, c2, c3, foreign := conv(a, base, "api"), conv(a, base+1, "api"), conv(a, base+2, "api"), conv(b, base, "api")
	mustImport(t, s, c1, c2, c3, foreign)
	if err := s.DeleteConversation(ctx, a, c3.ID); err != nil {
		t.Fatal(err)
	}
	unknown := uuid.New()

	err := s.BulkDeleteConversations(ctx, a, []uuid.UUID{unknown, c1.ID, foreign.ID, c2.ID, c3.ID})
	var na *store.NotAccessibleError
	if !errors.As(err, &na) {
		t.Fatalf("bulk with inaccessible ids: got %v, want NotAccessibleError", err)
	}
	if want := []uuid.UUID{unknown, foreign.ID, c3.ID}; !slices.Equal(na.IDs, want) {
		t.Errorf("inaccessible ids = %v, want %v (request order)", na.IDs, want)
	}
	if !isLive(t, s, a, c1.ID) || !isLive(t, s, a, c2.ID) || !isLive(t, s, b, foreign.ID) {
		t.Fatal("a refused bulk delete deleted something")
	}
	if err := s.BulkDeleteConversations(ctx, a, []uuid.UUID{c2.ID, c1.ID}); err != nil {
		t.Fatalf("bulk: %v", err)
	}
	if isLive(t, s, a, c1.ID) || isLive(t, s, a, c2.ID) {
		t.Error("bulk delete left a conversation live")
	}
}

// testConcurrentBulks races bulk deletes over overlapping id sets: each must be all or
// nothing, and each id deleted by exactly one of them.
func testConcurrentBulks(t *testing.T, s store.Store) {
	ctx := context.Background()
	ws := mustWorkspace(t, s)
	const n = 60
	ids := make([]uuid.UUID, n)
	cs := make([]store.Conversation, n)
	for i := range cs {
		cs[i] = conv(ws, base+int64(i), "api")
		ids[i] = cs[i].ID
	}
	mustImport(t, s, cs...)

	const workers = 8
	var (
		mu      sync.Mutex
		deleted = map[uuid.UUID]int{}
		wg      sync.WaitGroup
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 6 {
				start := (w*7 + round*11) % n
				batch := make([]uuid.UUID, 0, 10)
				for i := range 10 {
					batch = append(batch, ids[(start+i*3)%n])
				}
				slices.SortFunc(batch, func(x, y uuid.UUID) int { return -compareUUID(x, y) })
				batch = slices.Compact(batch)
				err := s.BulkDeleteConversations(ctx, ws, batch)
				var na *store.NotAccessibleError
				switch {
				case err == nil:
					mu.Lock()
					for _, id := range batch {
						deleted[id]++
					}
					mu.Unlock()
				case errors.As(err, &na):
				default:
					t.Errorf("bulk: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	for id, times := range deleted {
		if times != 1 {
			t.Errorf("%s deleted by %d bulks, want 1", id, times)
		}
		if isLive(t, s, ws, id) {
			t.Errorf("%s reported deleted but live", id)
		}
	}
	for _, id := range ids {
		if deleted[id] == 0 && !isLive(t, s, ws, id) {
			t.Errorf("%s deleted though every bulk naming it was refused", id)
		}
	}
}

func compareUUID(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) }

func testGet(t *testing.T, s store.Store) {
	ctx := context.Background()
	a, b := mustWorkspace(t, s), mustWorkspace(t, s)
	c := conv(a, base, "widget")
	bot := uuid.New()
	c.BotID = &bot
	mustImport(t, s, c)
	got, err := s.GetConversation(ctx, a, c.ID)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if string(got.Body) != string(c.Body) || got.Source != "widget" || got.BotID == nil || *got.BotID != bot ||
		got.LastMessageAt != base || *got.Channel != "chat" {
		t.Errorf("get = %+v, want %+v", got, c)
	}
	if _, err := s.GetConversation(ctx, b, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get from another workspace: %v, want ErrNotFound", err)
	}
	if _, err := s.GetConversation(ctx, a, uuid.New()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get unknown: %v, want ErrNotFound", err)
	}
}

func pageIDs(p store.Page) []uuid.UUID {
	ids := make([]uuid.UUID, len(p.Conversations))
	for i, c := range p.Conversations {
		ids[i] = c.ID
	}
	return ids
}

func mustList(t *testing.T, s store.Store, q store.ListQuery) store.Page {
	t.Helper()
	p, err := s.ListConversations(context.Background(), q)
	if err != nil {
		t.Fatalf("list %+v: %v", q, err)
	}
	return p
}

func testListFilters(t *testing.T, s store.Store) {
	ws, other := mustWorkspace(t, s), mustWorkspace(t, s)
	bot := uuid.New()
	early := conv(ws, base-1, "api")                              // before the window
	first := conv(ws, base, "widget")                             // at since: inside
	tieA, tieB := conv(ws, base+5, "ui"), conv(ws, base+5, "api") // same time: ordered by id
	tieB.BotID = &bot
	last := conv(ws, base+9, "widget")
	atUntil := conv(ws, base+10, "api") // at until: outside
	mustImport(t, s, early, first, tieA, tieB, last, atUntil, conv(other, base+1, "api"))

	q := store.ListQuery{WorkspaceID: ws, Since: base, Until: base + 10, Limit: 10}
	hi, lo := tieA.ID, tieB.ID
	if compareUUID(hi, lo) < 0 {
		hi, lo = lo, hi
	}
	want := []uuid.UUID{last.ID, hi, lo, first.ID}
	if got := pageIDs(mustList(t, s, q)); !slices.Equal(got, want) {
		t.Errorf("window order = %v, want %v", got, want)
	}

	q.Sources = []string{"widget", "ui"}
	if got := pageIDs(mustList(t, s, q)); !slices.Equal(got, []uuid.UUID{last.ID, tieA.ID, first.ID}) {
		t.Errorf("sources widget,ui = %v", got)
	}
	q.Sources = nil
	q.BotID = &bot
	if got := pageIDs(mustList(t, s, q)); !slices.Equal(got, []uuid.UUID{tieB.ID}) {
		t.Errorf("bot filter = %v, want %v", got, tieB.ID)
	}
	q.BotID = nil
	q.Channels = []string{"email"}
	if got := mustList(t, s, q); len(got.Conversations) != 0 || got.HasMore {
		t.Errorf("channel email = %v, want empty", pageIDs(got))
	}
}

func testListCursors(t *testing.T, s store.Store) {
	ws := mustWorkspace(t, s)
	const n = 23
	var all []uuid.UUID // newest first
	cs := make([]store.Conversation, n)
	for i := range cs {
		cs[i] = conv(ws, base+int64(i/2), "api") // pairs share a time: ties across pages
	}
	mustImport(t, s, cs...)
	slices.SortFunc(cs, func(a, b store.Conversation) int {
		if a.LastMessageAt != b.LastMessageAt {
			return int(b.LastMessageAt - a.LastMessageAt)
		}
		return -compareUUID(a.ID, b.ID)
	})
	for _, c := range cs {
		all = append(all, c.ID)
	}

	q := store.ListQuery{WorkspaceID: ws, Since: base, Until: base + 100, Limit: 5}
	var walked []uuid.UUID
	var pages []store.Page
	p := mustList(t, s, q)
	if p.HasNewer {
		t.Error("first page claims newer conversations")
	}
	for {
		pages = append(pages, p)
		walked = append(walked, pageIDs(p)...)
		if !p.HasOlder {
			break
		}
		cur := p.Conversations[len(p.Conversations)-1].ID
		q.Cursor, q.Direction = &cur, store.Older
		p = mustList(t, s, q)
		if !p.HasNewer {
			t.Error("a later page claims nothing newer")
		}
	}
	if !slices.Equal(walked, all) {
		t.Fatalf("walk older = %v, want %v", walked, all)
	}
	if len(pages) != 5 || pages[len(pages)-1].HasMore {
		t.Errorf("pages = %d (last hasMore %v), want 5 and false", len(pages), pages[len(pages)-1].HasMore)
	}

	// Walk back from the last page towards newer ones: the same pages, in reverse.
	for i := len(pages) - 1; i > 0; i-- {
		cur := pages[i].Conversations[0].ID
		q.Cursor, q.Direction = &cur, store.Newer
		back := mustList(t, s, q)
		if !slices.Equal(pageIDs(back), pageIDs(pages[i-1])) {
			t.Errorf("page %d walking newer = %v, want %v", i-1, pageIDs(back), pageIDs(pages[i-1]))
		}
		if back.HasMore != (i-1 > 0) || !back.HasOlder {
			t.Errorf("page %d walking newer: hasMore %v hasOlder %v", i-1, back.HasMore, back.HasOlder)
		}
	}
}

func testListCursorDeleted(t *testing.T, s store.Store) {
	ctx := context.Background()
	ws, other := mustWorkspace(t, s), mustWorkspace(t, s)
	c1, c2, c3 := conv(ws, base+3, "api"), conv(ws, base+2, "api"), conv(ws, base+1, "api")
	foreign := conv(other, base+2, "api")
	mustImport(t, s, c1, c2, c3, foreign)
	if err := s.DeleteConversation(ctx, ws, c2.ID); err != nil {
		t.Fatal(err)
	}
	q := store.ListQuery{WorkspaceID: ws, Since: base, Until: base + 10, Limit: 5, Cursor: &c2.ID}
	if got := pageIDs(mustList(t, s, q)); !slices.Equal(got, []uuid.UUID{c3.ID}) {
		t.Errorf("after a deleted cursor = %v, want [%s]", got, c3.ID)
	}
	for _, cur := range []uuid.UUID{uuid.New(), foreign.ID} {
		q.Cursor = &cur
		if _, err := s.ListConversations(ctx, q); !errors.Is(err, store.ErrCursorNotFound) {
			t.Errorf("cursor %s: %v, want ErrCursorNotFound", cur, err)
		}
	}
}

func testImport(t *testing.T, s store.Store) {
	ctx := context.Background()
	ws := mustWorkspace(t, s)
	existing := conv(ws, base, "api")
	mustImport(t, s, existing)
	fresh := conv(ws, base+1, "api")
	err := s.ImportConversations(ctx, store.All([]store.Conversation{fresh, existing}))
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("import of an existing id: %v, want ErrConflict", err)
	}
	if isLive(t, s, ws, fresh.ID) {
		t.Error("a failed import left a conversation behind")
	}
	if n, err := s.CountConversations(ctx, ws); err != nil || n != 1 {
		t.Errorf("count = %d, %v; want 1", n, err)
	}
	// An id is unique within its workspace, the key every query names: another workspace may
	// hold the same id, and the two never touch.
	other := mustWorkspace(t, s)
	twin := existing
	twin.WorkspaceID = other
	mustImport(t, s, twin)
	if err := s.DeleteConversation(ctx, other, twin.ID); err != nil {
		t.Fatal(err)
	}
	if !isLive(t, s, ws, existing.ID) || isLive(t, s, other, twin.ID) {
		t.Error("deleting one workspace's conversation touched another's of the same id")
	}
}

func testRestorePurge(t *testing.T, s store.Store) {
	ctx := context.Background()
	ws, other := mustWorkspace(t, s), mustWorkspace(t, s)
	c, gone := conv(ws, base, "api"), conv(ws, base, "api")
	mustImport(t, s, c, gone)
	if err := s.RestoreConversation(ctx, ws, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("restore of a live conversation: %v, want ErrNotFound", err)
	}
	if err := s.BulkDeleteConversations(ctx, ws, []uuid.UUID{c.ID, gone.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.RestoreConversation(ctx, other, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("restore from another workspace: %v, want ErrNotFound", err)
	}
	if err := s.RestoreConversation(ctx, ws, c.ID); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if !isLive(t, s, ws, c.ID) {
		t.Error("restored conversation not live")
	}
	n, err := s.PurgeDeleted(ctx, base) // deleted "now", long after base: nothing that old
	if err != nil || n != 0 {
		t.Errorf("purge before base = %d, %v; want 0", n, err)
	}
	n, err = s.PurgeDeleted(ctx, 1<<62)
	if err != nil || n < 1 {
		t.Fatalf("purge = %d, %v; want at least 1", n, err)
	}
	if err := s.RestoreConversation(ctx, ws, gone.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("restore after purge: %v, want ErrNotFound", err)
	}
}

func testKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	ws := mustWorkspace(t, s)
	if used, err := s.HasWorkspaces(ctx); err != nil || !used {
		t.Errorf("HasWorkspaces after creating one = %v, %v", used, err)
	}
	k := store.APIKey{ID: uuid.New(), WorkspaceID: ws, Name: "ci", Scopes: []string{"read", "write"},
		Hash: []byte("0123456789abcdef0123456789abcdef"), CreatedAt: base}
	if err := s.CreateAPIKey(ctx, k); err != nil {
		t.Fatalf("create key: %v", err)
	}
	bad := k
	bad.ID, bad.WorkspaceID = uuid.New(), uuid.New()
	if err := s.CreateAPIKey(ctx, bad); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("key for unknown workspace: %v, want ErrNotFound", err)
	}
	got, err := s.APIKeyByHash(ctx, k.Hash)
	if err != nil || got.ID != k.ID || !slices.Equal(got.Scopes, k.Scopes) || got.RevokedAt != nil {
		t.Fatalf("by hash = %+v, %v", got, err)
	}
	if _, err := s.APIKeyByHash(ctx, []byte("nope")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown hash: %v", err)
	}
	if err := s.TouchAPIKey(ctx, k.ID, base+5); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, k.ID, base+7); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, k.ID, base+9); err != nil { // again: keeps the first time
		t.Fatal(err)
	}
	keys, err := s.ListAPIKeys(ctx, ws)
	if err != nil || len(keys) != 1 || *keys[0].RevokedAt != base+7 || *keys[0].LastUsedAt != base+5 {
		t.Fatalf("list keys = %+v, %v", keys, err)
	}
	if err := s.RevokeAPIKey(ctx, uuid.New(), base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoke unknown: %v", err)
	}
}

func testEmpty(t *testing.T, s store.Store) {
	if used, err := s.HasWorkspaces(context.Background()); err != nil || used {
		t.Errorf("HasWorkspaces on a new store = %v, %v; want false", used, err)
	}
}
