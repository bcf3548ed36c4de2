// Package storetest is the conformance suite every store engine must pass. Engines call Run
// from their own tests with a function that opens a fresh, empty, migrated store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
)

// Run runs the whole suite; open must return a new empty store that reads the time from
// now, and register its cleanup.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) store.Store) {
	tests := map[string]func(*testing.T, store.Store, *clock){
		"DeleteIsIdempotentAndScoped":        testDelete,
		"BulkDeleteAllOrNothing":             testBulkDelete,
		"ConcurrentOverlappingBulks":         testConcurrentBulks,
		"RevokedKeyDeletesNothing":           testRevokedKey,
		"NoDeleteCommitsAfterItsRevocation":  testRevokeRace,
		"GetLiveOnly":                        testGet,
		"ListOrderWindowAndFilters":          testListFilters,
		"ListCursorsBothWays":                testListCursors,
		"ListCursorOfDeletedAndUnknown":      testListCursorDeleted,
		"ImportAllOrNothing":                 testImport,
		"RestoreAndPurge":                    testRestorePurge,
		"PurgeCutOffBatchesAndRecords":       testPurge,
		"RestoreAfterPurgeSaysPurged":        testRestoreAfterPurge,
		"AuditRecordsFiltersAndPages":        testAuditQuery,
		"AuditRetentionPrunesOnlyOldRecords": testAuditRetention,
		"APIKeys":                            testKeys,
		"EmptyStoreHasNoWorkspaces":          testEmpty,
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := &clock{}
			fn(t, open(t, c.now), c)
		})
	}
}

// clock is the store's clock in a test: the real time until set.
type clock struct {
	mu sync.Mutex
	at int64 // epoch milliseconds; 0 for the real time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at == 0 {
		return time.Now()
	}
	return time.UnixMilli(c.at)
}

func (c *clock) set(ms int64) {
	c.mu.Lock()
	c.at = ms
	c.mu.Unlock()
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

// keyActor is an API request's actor, as the server passes it, with a new valid key of ws.
func keyActor(t testing.TB, s store.Store, ws uuid.UUID, name, operation string) store.Actor {
	t.Helper()
	k := mustKey(t, s, ws, name)
	return store.Actor{KeyID: k.ID, KeyName: name, RequestID: "req-" + uuid.NewString()[:8], Operation: operation}
}

// mustKey adds a valid read+write key named name to ws.
func mustKey(t testing.TB, s store.Store, ws uuid.UUID, name string) store.APIKey {
	t.Helper()
	id := uuid.New()
	k := store.APIKey{ID: id, WorkspaceID: ws, Name: name, Scopes: []string{"read", "write"}, Hash: id[:], CreatedAt: base}
	if err := s.CreateAPIKey(context.Background(), k); err != nil {
		t.Fatalf("create key %s: %v", name, err)
	}
	return k
}

// records returns all of a workspace's deletion records, oldest first.
func records(t *testing.T, s store.Store, ws uuid.UUID) []store.AuditRecord {
	t.Helper()
	return query(t, s, store.AuditQuery{WorkspaceID: ws, Since: math.MinInt64, Until: math.MaxInt64})
}

func query(t *testing.T, s store.Store, q store.AuditQuery) []store.AuditRecord {
	t.Helper()
	var rs []store.AuditRecord
	for r, err := range s.AuditRecords(context.Background(), q) {
		if err != nil {
			t.Fatalf("audit records %+v: %v", q, err)
		}
		rs = append(rs, r)
	}
	return rs
}

// recordedIDs returns the conversations of the records whose operation is op.
func recordedIDs(rs []store.AuditRecord, op string) []uuid.UUID {
	var ids []uuid.UUID
	for _, r := range rs {
		if r.Operation == op {
			ids = append(ids, r.ConversationID)
		}
	}
	return ids
}

// sameSet reports whether a and b hold the same ids, each once.
func sameSet(a, b []uuid.UUID) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, compareUUID)
	slices.SortFunc(b, compareUUID)
	return slices.Equal(a, b)
}

func testDelete(t *testing.T, s store.Store, _ *clock) {
	ctx := context.Background()
	a, b := mustWorkspace(t, s), mustWorkspace(t, s)
	ca, cb := conv(a, base, "api"), conv(b, base, "api")
	mustImport(t, s, ca, cb)

	actor := keyActor(t, s, a, "ci", "deleteConversation")
	before := time.Now().UnixMilli()
	for range 2 { // the second delete of the same id is a no-op, not an error
		if err := s.DeleteConversation(ctx, a, ca.ID, actor); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
	if isLive(t, s, a, ca.ID) {
		t.Error("deleted conversation still live")
	}
	if err := s.DeleteConversation(ctx, a, cb.ID, actor); err != nil { // another workspace's id
		t.Fatalf("delete foreign: %v", err)
	}
	if err := s.DeleteConversation(ctx, a, uuid.New(), actor); err != nil {
		t.Fatalf("delete unknown: %v", err)
	}
	if !isLive(t, s, b, cb.ID) {
		t.Error("a delete through workspace A removed workspace B's conversation")
	}
	// One record: the delete that deleted. The repeat, the foreign and the unknown id record
	// nothing, in either workspace.
	rs := records(t, s, a)
	if len(rs) != 1 {
		t.Fatalf("records of A = %+v, want exactly one", rs)
	}
	r := rs[0]
	if r.ConversationID != ca.ID || r.WorkspaceID != a || r.Actor != actor || r.At < before || r.At > time.Now().UnixMilli() {
		t.Errorf("record = %+v, want %s deleted by %+v at about now", r, ca.ID, actor)
	}
	if rs := records(t, s, b); len(rs) != 0 {
		t.Errorf("records of B = %+v, want none", rs)
	}
}

func testBulkDelete(t *testing.T, s store.Store, _ *clock) {
	ctx := context.Background()
	a, b := mustWorkspace(t, s), mustWorkspace(t, s)
	c1, c2, c3, foreign := conv(a, base, "api"), conv(a, base+1, "api"), conv(a, base+2, "api"), conv(b, base, "api")
	mustImport(t, s, c1, c2, c3, foreign)
	if err := s.DeleteConversation(ctx, a, c3.ID, keyActor(t, s, a, "one", "deleteConversation")); err != nil {
		t.Fatal(err)
	}
	unknown := uuid.New()

	actor := keyActor(t, s, a, "bulk", "bulkDeleteConversations")
	err := s.BulkDeleteConversations(ctx, a, []uuid.UUID{unknown, c1.ID, foreign.ID, c2.ID, c3.ID}, actor)
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
	if got := recordedIDs(records(t, s, a), "bulkDeleteConversations"); len(got) != 0 {
		t.Fatalf("a refused bulk delete recorded %v", got)
	}
	if err := s.BulkDeleteConversations(ctx, a, []uuid.UUID{c2.ID, c1.ID}, actor); err != nil {
		t.Fatalf("bulk: %v", err)
	}
	if isLive(t, s, a, c1.ID) || isLive(t, s, a, c2.ID) {
		t.Error("bulk delete left a conversation live")
	}
	rs := records(t, s, a)
	if got := recordedIDs(rs, "bulkDeleteConversations"); !sameSet(got, []uuid.UUID{c1.ID, c2.ID}) {
		t.Errorf("bulk recorded %v, want %s and %s once each", got, c1.ID, c2.ID)
	}
	if got := recordedIDs(rs, "deleteConversation"); !slices.Equal(got, []uuid.UUID{c3.ID}) {
		t.Errorf("single delete recorded %v, want [%s]", got, c3.ID)
	}
	for _, r := range rs {
		if r.Operation == "bulkDeleteConversations" && r.Actor != actor {
			t.Errorf("bulk record by %+v, want %+v", r.Actor, actor)
		}
	}
	if rs := records(t, s, b); len(rs) != 0 {
		t.Errorf("records of B = %+v, want none", rs)
	}
}

// testConcurrentBulks races bulk deletes over overlapping id sets: each must be all or
// nothing, and each id deleted by exactly one of them.
func testConcurrentBulks(t *testing.T, s store.Store, _ *clock) {
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
	racer := keyActor(t, s, ws, "race", "bulkDeleteConversations")
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
				err := s.BulkDeleteConversations(ctx, ws, batch, racer)
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
	// Records exactly for what the successful bulks deleted, each once.
	if got, want := recordedIDs(records(t, s, ws), "bulkDeleteConversations"), slices.Collect(maps.Keys(deleted)); !sameSet(got, want) {
		t.Errorf("recorded %d deletions, want the %d ids deleted, each once", len(got), len(want))
	}
}

// testRevokedKey: a delete or bulk delete by a revoked or unknown key answers
// ErrKeyRevoked, before any other answer, and changes and records nothing; an operator's
// delete names no key and is not checked.
func testRevokedKey(t *testing.T, s store.Store, _ *clock) {
	ctx := context.Background()
	ws := mustWorkspace(t, s)
	c1, c2, c3 := conv(ws, base, "api"), conv(ws, base+1, "api"), conv(ws, base+2, "api")
	mustImport(t, s, c1, c2, c3)
	revoked := keyActor(t, s, ws, "revoked", "deleteConversation")
	if err := s.RevokeAPIKey(ctx, revoked.KeyID, base); err != nil {
		t.Fatal(err)
	}
	gone := store.Actor{KeyID: uuid.New(), KeyName: "gone", RequestID: "req-gone", Operation: "deleteConversation"}
	for _, actor := range []store.Actor{revoked, gone} {
		for name, err := range map[string]error{
			"delete":                       s.DeleteConversation(ctx, ws, c1.ID, actor),
			"delete of an unknown id":      s.DeleteConversation(ctx, ws, uuid.New(), actor),
			"bulk delete":                  s.BulkDeleteConversations(ctx, ws, []uuid.UUID{c1.ID, c2.ID}, actor),
			"bulk delete of an unknown id": s.BulkDeleteConversations(ctx, ws, []uuid.UUID{c1.ID, uuid.New()}, actor),
		} {
			if !errors.Is(err, store.ErrKeyRevoked) {
				t.Errorf("%s by key %s: %v, want ErrKeyRevoked", name, actor.KeyName, err)
			}
		}
	}
	if !isLive(t, s, ws, c1.ID) || !isLive(t, s, ws, c2.ID) {
		t.Error("a revoked key's delete deleted")
	}
	if rs := records(t, s, ws); len(rs) != 0 {
		t.Errorf("a revoked key's deletes recorded %+v", rs)
	}
	if err := s.DeleteConversation(ctx, ws, c1.ID, store.Operator("test")); err != nil {
		t.Errorf("an operator's delete: %v", err)
	}
	valid := keyActor(t, s, ws, "valid", "bulkDeleteConversations")
	if err := s.BulkDeleteConversations(ctx, ws, []uuid.UUID{c2.ID, c3.ID}, valid); err != nil {
		t.Errorf("a valid key's bulk delete: %v", err)
	}
	if isLive(t, s, ws, c1.ID) || isLive(t, s, ws, c2.ID) || isLive(t, s, ws, c3.ID) {
		t.Error("an operator's or a valid key's delete left a conversation live")
	}
}

// testRevokeRace revokes a key while deletes by it (singles and bulks) and by another key run:
// once RevokeAPIKey has returned, no delete by the revoked key commits, and each delete is
// whole: it answered nil and its records exist, or ErrKeyRevoked and its conversations are
// live. The other key's deletes all succeed.
func testRevokeRace(t *testing.T, s store.Store, _ *clock) {
	ctx := context.Background()
	ws := mustWorkspace(t, s)
	// Workers 0 and 1 use the other key. The others have enough to delete that the revocation
	// comes while they still run.
	const workers, per, bulk = 6, 150, 5
	cs := make([]store.Conversation, workers*per)
	for i := range cs {
		cs[i] = conv(ws, base+int64(i), "api")
	}
	mustImport(t, s, cs...)
	victim := keyActor(t, s, ws, "victim", "bulkDeleteConversations")
	other := keyActor(t, s, ws, "other", "bulkDeleteConversations")

	type outcome struct {
		ids []uuid.UUID
		err error
	}
	var (
		mu        sync.Mutex
		outcomes  []outcome
		wg        sync.WaitGroup
		firstDone = make(chan struct{})
		once      sync.Once
	)
	for w := range workers {
		actor := victim
		if w < 2 {
			actor = other
		}
		mine := cs[w*per : (w+1)*per]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < len(mine); {
				n := 1 + (i/2)%bulk // singles and bulks, in turn
				ids := make([]uuid.UUID, 0, n)
				for _, c := range mine[i:min(i+n, len(mine))] {
					ids = append(ids, c.ID)
				}
				i += len(ids)
				var err error
				if len(ids) == 1 {
					err = s.DeleteConversation(ctx, ws, ids[0], actor)
				} else {
					err = s.BulkDeleteConversations(ctx, ws, ids, actor)
				}
				mu.Lock()
				outcomes = append(outcomes, outcome{ids, err})
				mu.Unlock()
				if err == nil && actor == victim {
					once.Do(func() { close(firstDone) })
				}
				if err != nil {
					if actor == victim && errors.Is(err, store.ErrKeyRevoked) {
						return
					}
					t.Errorf("delete by %s: %v", actor.KeyName, err)
					return
				}
			}
		}()
	}
	select {
	case <-firstDone:
	case <-waitAll(&wg):
		t.Fatal("no delete by the key to revoke succeeded")
	}
	if err := s.RevokeAPIKey(ctx, victim.KeyID, base); err != nil {
		t.Fatal(err)
	}
	byVictim := store.AuditQuery{WorkspaceID: ws, Since: math.MinInt64, Until: math.MaxInt64, KeyID: &victim.KeyID}
	atRevocation := len(query(t, s, byVictim))
	wg.Wait()
	if after := len(query(t, s, byVictim)); after != atRevocation {
		t.Errorf("%d deletions by the key were recorded after its revocation returned", after-atRevocation)
	}
	recorded := map[uuid.UUID]bool{}
	for _, r := range records(t, s, ws) {
		recorded[r.ConversationID] = true
	}
	refused := 0
	for _, o := range outcomes {
		for _, id := range o.ids {
			switch {
			case o.err == nil && (isLive(t, s, ws, id) || !recorded[id]):
				t.Errorf("%s: its delete succeeded, but it is live or not recorded", id)
			case o.err != nil && (!isLive(t, s, ws, id) || recorded[id]):
				t.Errorf("%s: its delete failed (%v), but it is deleted or recorded", id, o.err)
			}
		}
		if o.err != nil {
			refused++
		}
	}
	if refused == 0 {
		t.Error("no delete was refused: the revocation came after the last delete, and the test exercised nothing")
	}
}

// waitAll returns a channel closed once wg is done.
func waitAll(wg *sync.WaitGroup) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}

func compareUUID(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) }

func testGet(t *testing.T, s store.Store, _ *clock) {
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

func testListFilters(t *testing.T, s store.Store, _ *clock) {
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

func testListCursors(t *testing.T, s store.Store, _ *clock) {
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

func testListCursorDeleted(t *testing.T, s store.Store, _ *clock) {
	ctx := context.Background()
	ws, other := mustWorkspace(t, s), mustWorkspace(t, s)
	c1, c2, c3 := conv(ws, base+3, "api"), conv(ws, base+2, "api"), conv(ws, base+1, "api")
	foreign := conv(other, base+2, "api")
	mustImport(t, s, c1, c2, c3, foreign)
	if err := s.DeleteConversation(ctx, ws, c2.ID, keyActor(t, s, ws, "ci", "deleteConversation")); err != nil {
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

func testImport(t *testing.T, s store.Store, _ *clock) {
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
	if err := s.DeleteConversation(ctx, other, twin.ID, keyActor(t, s, other, "twin", "deleteConversation")); err != nil {
		t.Fatal(err)
	}
	if !isLive(t, s, ws, existing.ID) || isLive(t, s, other, twin.ID) {
		t.Error("deleting one workspace's conversation touched another's of the same id")
	}
}

func testRestorePurge(t *testing.T, s store.Store, _ *clock) {
	ctx := context.Background()
	ws, other := mustWorkspace(t, s), mustWorkspace(t, s)
	c, gone := conv(ws, base, "api"), conv(ws, base, "api")
	mustImport(t, s, c, gone)
	operator := store.Operator(store.OpRestore)
	if err := s.RestoreConversation(ctx, ws, c.ID, operator); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("restore of a live conversation: %v, want ErrNotFound", err)
	}
	if err := s.BulkDeleteConversations(ctx, ws, []uuid.UUID{c.ID, gone.ID}, keyActor(t, s, ws, "ci", "bulkDeleteConversations")); err != nil {
		t.Fatal(err)
	}
	if err := s.RestoreConversation(ctx, other, c.ID, operator); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("restore from another workspace: %v, want ErrNotFound", err)
	}
	if err := s.RestoreConversation(ctx, ws, c.ID, operator); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if !isLive(t, s, ws, c.ID) {
		t.Error("restored conversation not live")
	}
	if got := recordedIDs(records(t, s, ws), store.OpRestore); !slices.Equal(got, []uuid.UUID{c.ID}) {
		t.Errorf("restore recorded %v, want [%s]", got, c.ID)
	}
	n, err := s.PurgeDeleted(ctx, base, 500) // deleted "now", long after base: nothing that old
	if err != nil || n != 0 {
		t.Errorf("purge before base = %d, %v; want 0", n, err)
	}
	n, err = s.PurgeDeleted(ctx, 1<<62, 500)
	if err != nil || n != 1 {
		t.Fatalf("purge = %d, %v; want 1", n, err)
	}
	if !isLive(t, s, ws, c.ID) {
		t.Error("the purge removed a restored conversation")
	}
}

// testPurge: only rows soft-deleted before the cut-off go, oldest first, in batches, each
// with its record; the rest stay as they were.
func testPurge(t *testing.T, s store.Store, clk *clock) {
	ctx := context.Background()
	ws, other := mustWorkspace(t, s), mustWorkspace(t, s)
	var early []store.Conversation
	for range 5 {
		early = append(early, conv(ws, base, "api"))
	}
	late, live, foreign := conv(ws, base, "api"), conv(ws, base, "api"), conv(other, base, "api")
	mustImport(t, s, append(early, late, live, foreign)...)
	earlyIDs := make([]uuid.UUID, len(early))
	for i, c := range early {
		earlyIDs[i] = c.ID
	}
	t0 := base + 1_000_000
	clk.set(t0)
	if err := s.BulkDeleteConversations(ctx, ws, earlyIDs[:4], keyActor(t, s, ws, "ci", "bulkDeleteConversations")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConversation(ctx, other, foreign.ID, keyActor(t, s, other, "ci", "deleteConversation")); err != nil {
		t.Fatal(err)
	}
	clk.set(t0 + 5)
	if err := s.DeleteConversation(ctx, ws, earlyIDs[4], keyActor(t, s, ws, "ci", "deleteConversation")); err != nil {
		t.Fatal(err)
	}
	clk.set(t0 + 10)
	if err := s.DeleteConversation(ctx, ws, late.ID, keyActor(t, s, ws, "ci", "deleteConversation")); err != nil {
		t.Fatal(err)
	}
	if at, ok, err := s.OldestDeleted(ctx); err != nil || !ok || at != t0 {
		t.Errorf("oldest deleted = %d, %v, %v; want %d", at, ok, err, t0)
	}

	clk.set(t0 + 100)
	// Cut-off t0+10: the five early ones and the other workspace's go, in batches of 2
	// (2, 2, 2); the one deleted at exactly t0+10 and the live one stay.
	n, err := s.PurgeDeleted(ctx, t0+10, 2)
	if err != nil || n != 6 {
		t.Fatalf("purge = %d, %v; want 6", n, err)
	}
	if at, ok, err := s.OldestDeleted(ctx); err != nil || !ok || at != t0+10 {
		t.Errorf("oldest deleted after the purge = %d, %v, %v; want %d", at, ok, err, t0+10)
	}
	if !isLive(t, s, ws, live.ID) {
		t.Error("the purge removed a live conversation")
	}
	if err := s.RestoreConversation(ctx, ws, late.ID, store.Operator(store.OpRestore)); err != nil {
		t.Errorf("the conversation deleted at the cut-off was purged too: restore says %v", err)
	}
	rs := records(t, s, ws)
	if got := recordedIDs(rs, store.OpPurge); !sameSet(got, earlyIDs) {
		t.Errorf("purge recorded %v, want %v", got, earlyIDs)
	}
	for _, r := range rs {
		if r.Operation == store.OpPurge && (r.At != t0+100 || r.KeyID != uuid.Nil || r.KeyName != "" || r.RequestID != "") {
			t.Errorf("purge record %+v, want at %d and no key or request", r, t0+100)
		}
	}
	// The deletions' own records survive the purge.
	if got := append(recordedIDs(rs, "bulkDeleteConversations"), recordedIDs(rs, "deleteConversation")...); len(got) != 6 {
		t.Errorf("deletion records after the purge: %v, want the 6 deletions", got)
	}
	if got := recordedIDs(records(t, s, other), store.OpPurge); !slices.Equal(got, []uuid.UUID{foreign.ID}) {
		t.Errorf("other workspace's purge records = %v, want [%s]", got, foreign.ID)
	}
	if n, err := s.PurgeDeleted(ctx, t0+10, 2); err != nil || n != 0 {
		t.Errorf("second purge = %d, %v; want 0", n, err)
	}
	if _, ok, err := s.OldestDeleted(ctx); err != nil || ok {
		t.Errorf("oldest deleted with none left: ok %v, %v", ok, err)
	}
	if _, err := s.PurgeDeleted(ctx, t0, 0); err == nil {
		t.Error("a purge in batches of 0 rows was accepted")
	}
}

func testRestoreAfterPurge(t *testing.T, s store.Store, clk *clock) {
	ctx := context.Background()
	ws, other := mustWorkspace(t, s), mustWorkspace(t, s)
	c := conv(ws, base, "api")
	mustImport(t, s, c)
	clk.set(base + 1000)
	if err := s.DeleteConversation(ctx, ws, c.ID, keyActor(t, s, ws, "ci", "deleteConversation")); err != nil {
		t.Fatal(err)
	}
	clk.set(base + 2000)
	if n, err := s.PurgeDeleted(ctx, base+2000, 500); err != nil || n != 1 {
		t.Fatalf("purge = %d, %v; want 1", n, err)
	}
	err := s.RestoreConversation(ctx, ws, c.ID, store.Operator(store.OpRestore))
	var purged *store.PurgedError
	if !errors.As(err, &purged) || purged.ID != c.ID || purged.At != base+2000 {
		t.Fatalf("restore after purge: %v, want PurgedError at %d", err, base+2000)
	}
	if errors.Is(err, store.ErrNotFound) {
		t.Error("restore after purge is also ErrNotFound: the caller could not tell it apart")
	}
	// Another workspace learns nothing of it.
	if err := s.RestoreConversation(ctx, other, c.ID, store.Operator(store.OpRestore)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("restore from another workspace after purge: %v, want ErrNotFound", err)
	}
	// Imported again under the same id, it is live: not "purged".
	mustImport(t, s, c)
	if err := s.RestoreConversation(ctx, ws, c.ID, store.Operator(store.OpRestore)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("restore of a re-imported live conversation: %v, want ErrNotFound", err)
	}
}

// testAuditQuery: the walk is in time order across pages, ties (a bulk's records share one
// millisecond) included, and each filter keeps exactly its records.
func testAuditQuery(t *testing.T, s store.Store, clk *clock) {
	ctx := context.Background()
	ws, other := mustWorkspace(t, s), mustWorkspace(t, s)
	const bulks, per = 44, 50 // 2,200 records: more than two pages of the store's reads
	cs := make([]store.Conversation, bulks*per)
	for i := range cs {
		cs[i] = conv(ws, base, "api")
	}
	mustImport(t, s, cs...)
	mustImport(t, s, conv(other, base, "api"))
	keys := []store.Actor{keyActor(t, s, ws, "first", "bulkDeleteConversations"), keyActor(t, s, ws, "second", "bulkDeleteConversations")}
	t0 := base + 5000
	var order []uuid.UUID
	for i := range bulks {
		clk.set(t0 + int64(i/3)) // 150 records a millisecond: pages of 1,000 end inside a tie
		ids := make([]uuid.UUID, per)
		for j := range ids {
			ids[j] = cs[i*per+j].ID
		}
		if err := s.BulkDeleteConversations(ctx, ws, ids, keys[i%2]); err != nil {
			t.Fatal(err)
		}
		order = append(order, ids...)
	}
	all := records(t, s, ws)
	if len(all) != len(cs) {
		t.Fatalf("walked %d records, want %d", len(all), len(cs))
	}
	for i := 1; i < len(all); i++ {
		if all[i].At < all[i-1].At {
			t.Fatalf("record %d at %d after one at %d: not oldest first", i, all[i].At, all[i-1].At)
		}
	}
	if got := recordedIDs(all, "bulkDeleteConversations"); !sameSet(got, order) {
		t.Fatal("the walk did not yield every deleted conversation exactly once")
	}

	q := store.AuditQuery{WorkspaceID: ws, Since: math.MinInt64, Until: math.MaxInt64, KeyID: &keys[1].KeyID}
	byKey := query(t, s, q)
	if len(byKey) != len(cs)/2 {
		t.Errorf("by key: %d records, want %d", len(byKey), len(cs)/2)
	}
	for _, r := range byKey {
		if r.Actor != keys[1] {
			t.Fatalf("by key %s: a record by %+v", keys[1].KeyID, r.Actor)
		}
	}
	q = store.AuditQuery{WorkspaceID: ws, Since: math.MinInt64, Until: math.MaxInt64, ConversationID: &order[77]}
	if got := query(t, s, q); len(got) != 1 || got[0].ConversationID != order[77] {
		t.Errorf("by conversation = %+v, want its one record", got)
	}
	q = store.AuditQuery{WorkspaceID: ws, Since: t0 + 2, Until: t0 + 5}
	if got := query(t, s, q); len(got) != 3*3*per || got[0].At != t0+2 || got[len(got)-1].At != t0+4 {
		t.Errorf("window [t0+2, t0+5): %d records, want %d from t0+2 to t0+4", len(got), 3*3*per)
	}
	q = store.AuditQuery{WorkspaceID: other, Since: math.MinInt64, Until: math.MaxInt64}
	if got := query(t, s, q); len(got) != 0 {
		t.Errorf("the other workspace sees %d records, want none", len(got))
	}
	// Stopping early stops the walk.
	n := 0
	for _, err := range s.AuditRecords(ctx, store.AuditQuery{WorkspaceID: ws, Since: math.MinInt64, Until: math.MaxInt64}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
}

func testAuditRetention(t *testing.T, s store.Store, clk *clock) {
	ctx := context.Background()
	ws := mustWorkspace(t, s)
	old, recent := conv(ws, base, "api"), conv(ws, base, "api")
	mustImport(t, s, old, recent)
	clk.set(base + 1000)
	if err := s.DeleteConversation(ctx, ws, old.ID, keyActor(t, s, ws, "ci", "deleteConversation")); err != nil {
		t.Fatal(err)
	}
	clk.set(base + 2000)
	if err := s.DeleteConversation(ctx, ws, recent.ID, keyActor(t, s, ws, "ci", "deleteConversation")); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PruneAuditRecords(ctx, base+1000, 1); err != nil || n != 0 {
		t.Errorf("prune before the oldest = %d, %v; want 0", n, err)
	}
	if n, err := s.PruneAuditRecords(ctx, base+2000, 1); err != nil || n != 1 {
		t.Errorf("prune = %d, %v; want 1", n, err)
	}
	if got := recordedIDs(records(t, s, ws), "deleteConversation"); !slices.Equal(got, []uuid.UUID{recent.ID}) {
		t.Errorf("records after the prune: %v, want only [%s]", got, recent.ID)
	}
	// Pruning the record takes nothing else: the conversation is still soft-deleted.
	if err := s.RestoreConversation(ctx, ws, old.ID, store.Operator(store.OpRestore)); err != nil {
		t.Errorf("restore after its record was pruned: %v", err)
	}
}

func testKeys(t *testing.T, s store.Store, _ *clock) {
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

func testEmpty(t *testing.T, s store.Store, _ *clock) {
	if used, err := s.HasWorkspaces(context.Background()); err != nil || used {
		t.Errorf("HasWorkspaces on a new store = %v, %v; want false", used, err)
	}
}
