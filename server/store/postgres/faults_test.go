package postgres_test

import (
	"context"
	"errors"
	"iter"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/postgres"
	"github.com/fini-oss/conversations/server/store/postgres/pgtest"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// faultTimeout is the stores' timeout in the fault tests: short, so that they run quickly.
const faultTimeout = 500 * time.Millisecond

// answerWithin bounds how long a call may take past its timeout before a test calls it hung:
// room for a loaded machine, far below the no-answer-at-all it guards against.
const answerWithin = faultTimeout + 3*time.Second

// faultFixture is a store behind a proxy, with a workspace, a key, live conversations,
// conversations soft-deleted an hour ago, and conversations to import.
type faultFixture struct {
	db            *sqlstore.DB
	proxy         *pgtest.Proxy
	ws            uuid.UUID
	key           store.Actor
	live, deleted []uuid.UUID
	toImport      []store.Conversation
}

func newFaultFixture(t *testing.T) *faultFixture {
	t.Helper()
	ctx := context.Background()
	dsn, proxy := pgtest.Proxied(t)
	db, err := postgres.Open(ctx, dsn, sqlstore.WithTimeout(faultTimeout))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	t.Cleanup(proxy.Stop) // before Close, which waits for the queries under way
	f := &faultFixture{db: db, proxy: proxy, ws: uuid.New()}
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: f.ws, Name: "w", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	k := store.APIKey{ID: uuid.New(), WorkspaceID: f.ws, Name: "k", Scopes: []string{"write"}, Hash: []byte("k"), CreatedAt: 1}
	if err := db.CreateAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	f.key = store.Actor{KeyID: k.ID, KeyName: k.Name, RequestID: "r", Operation: "bulkDeleteConversations"}
	cs := conversations(f.ws, 20)
	if err := db.ImportConversations(ctx, store.All(cs)); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		f.live = append(f.live, c.ID)
	}
	f.live, f.deleted = f.live[:10], f.live[10:]
	db.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	if err := db.BulkDeleteConversations(ctx, f.ws, f.deleted, store.Operator("test")); err != nil {
		t.Fatal(err)
	}
	db.Now = time.Now
	f.toImport = conversations(f.ws, 500)
	return f
}

func conversations(ws uuid.UUID, n int) []store.Conversation {
	cs := make([]store.Conversation, n)
	for i := range cs {
		cs[i] = store.Conversation{ID: uuid.New(), WorkspaceID: ws, Source: "api", CreatedAt: int64(i), LastMessageAt: int64(i),
			Body: []byte(`{}`)}
	}
	return cs
}

// count runs a query of one number on the database directly (not through the proxy).
func (f *faultFixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Read.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// deletedNow counts which of ids are soft-deleted, and how many deletion records name them.
func (f *faultFixture) deletedNow(t *testing.T, ids []uuid.UUID, op string) (deleted, recorded int) {
	t.Helper()
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	return f.count(t, `SELECT count(*) FROM conversations WHERE id = ANY($1::uuid[]) AND deleted_at IS NOT NULL`, s),
		f.count(t, `SELECT count(*) FROM audit_records WHERE conversation_id = ANY($1::uuid[]) AND operation = $2`, s, op)
}

// call runs fn and returns how long it took and its error; a call that has not answered
// within answerWithin fails the test (without the store's deadlines, a stalled database
// held it for ever).
func call(t *testing.T, fn func(ctx context.Context) error) (time.Duration, error) {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- fn(context.Background()) }()
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(answerWithin):
		t.Fatalf("no answer within %v", answerWithin)
		return 0, nil
	}
}

// faultOp is a store call under a fault, and what must hold of the data after it.
type faultOp struct {
	run func(ctx context.Context, f *faultFixture) error
	// whole checks, once the fault is gone, that the call left nothing half-done.
	whole func(t *testing.T, f *faultFixture)
}

var faultOps = map[string]faultOp{
	"get": {run: func(ctx context.Context, f *faultFixture) error {
		_, err := f.db.GetConversation(ctx, f.ws, f.live[0])
		return err
	}},
	"list": {run: func(ctx context.Context, f *faultFixture) error {
		_, err := f.db.ListConversations(ctx, store.ListQuery{WorkspaceID: f.ws, Since: 0, Until: 1 << 40, Limit: 5})
		return err
	}},
	"delete": {
		run: func(ctx context.Context, f *faultFixture) error {
			return f.db.DeleteConversation(ctx, f.ws, f.live[0], f.key)
		},
		whole: func(t *testing.T, f *faultFixture) {
			if deleted, recorded := f.deletedNow(t, f.live[:1], f.key.Operation); deleted != recorded {
				t.Errorf("deleted %d, recorded %d", deleted, recorded)
			}
		},
	},
	"bulk delete": {
		run: func(ctx context.Context, f *faultFixture) error {
			return f.db.BulkDeleteConversations(ctx, f.ws, f.live[1:6], f.key)
		},
		whole: func(t *testing.T, f *faultFixture) {
			deleted, recorded := f.deletedNow(t, f.live[1:6], f.key.Operation)
			if (deleted != 0 && deleted != 5) || recorded != deleted {
				t.Errorf("bulk of 5: %d deleted, %d recorded; want all or nothing", deleted, recorded)
			}
		},
	},
	"import": {
		run: func(ctx context.Context, f *faultFixture) error {
			return f.db.ImportConversations(ctx, store.All(f.toImport))
		},
		whole: func(t *testing.T, f *faultFixture) {
			ids := make([]string, len(f.toImport))
			for i, c := range f.toImport {
				ids[i] = c.ID.String()
			}
			if n := f.count(t, `SELECT count(*) FROM conversations WHERE id = ANY($1::uuid[])`, ids); n != 0 && n != len(ids) {
				t.Errorf("import of %d: %d stored; want all or nothing", len(ids), n)
			}
		},
	},
	"purge": {
		run: func(ctx context.Context, f *faultFixture) error {
			_, err := f.db.PurgeDeleted(ctx, time.Now().Add(-time.Minute).UnixMilli(), 100)
			return err
		},
		whole: func(t *testing.T, f *faultFixture) {
			stored, purged := f.deletedNow(t, f.deleted, store.OpPurge)
			if stored+purged != len(f.deleted) || (purged != 0 && stored != 0) {
				t.Errorf("purge of %d in one batch: %d purged, %d still stored; want all or nothing", len(f.deleted), purged, stored)
			}
		},
	},
}

// faults are the toxics the calls meet: a stall both ways (a paused relay, a partition),
// answers later than the timeout, and connections reset as soon as they send.
var faults = map[string]func(t *testing.T, p *pgtest.Proxy){
	"stall": func(t *testing.T, p *pgtest.Proxy) { p.Stall(t) },
	"latency": func(t *testing.T, p *pgtest.Proxy) {
		p.Add(t, "latency", "downstream", map[string]int64{"latency": 4 * faultTimeout.Milliseconds()})
	},
	"reset": func(t *testing.T, p *pgtest.Proxy) {
		p.Add(t, "reset_peer", "upstream", map[string]int64{"timeout": 0})
	},
}

// TestFaultsAnswerUnavailable: under each fault, reads, deletes, bulk deletes, an import and
// a purge answer store.ErrUnavailable within the store's timeout, leave nothing half-done,
// and the store answers again once the fault is gone.
func TestFaultsAnswerUnavailable(t *testing.T) {
	for fault, inject := range faults {
		for name, op := range faultOps {
			t.Run(fault+"/"+name, func(t *testing.T) {
				f := newFaultFixture(t)
				inject(t, f.proxy)
				took, err := call(t, func(ctx context.Context) error { return op.run(ctx, f) })
				if !errors.Is(err, store.ErrUnavailable) {
					t.Errorf("under %s: %v, want ErrUnavailable", fault, err)
				}
				if took > answerWithin {
					t.Errorf("under %s: answered after %v, want within %v", fault, took, answerWithin)
				}
				f.proxy.Heal()
				if op.whole != nil {
					op.whole(t, f)
				}
				recovers(t, f)
			})
		}
	}
}

// recovers checks that the store answers once the fault is gone: the connections the fault
// broke may each fail one call (a client retries after a 503), none more.
func recovers(t *testing.T, f *faultFixture) {
	t.Helper()
	var err error
	for range 17 { // the pool's 16 connections, and a new one
		if _, err = f.db.GetConversation(context.Background(), f.ws, f.live[9]); err == nil {
			return
		}
		if !errors.Is(err, store.ErrUnavailable) {
			break
		}
	}
	t.Errorf("after the fault: %v", err)
}

// TestCallersCancellationStaysAContextError: when the caller gives up first (its own
// deadline, or the client went away), a stalled call answers the caller's context error, not
// ErrUnavailable, which would say that the database failed.
func TestCallersCancellationStaysAContextError(t *testing.T) {
	f := newFaultFixture(t)
	f.proxy.Stall(t)
	callers := map[error]func() (context.Context, context.CancelFunc){
		context.DeadlineExceeded: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), faultTimeout/5)
		},
		context.Canceled: func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(faultTimeout/5, cancel) // the client goes away
			return ctx, cancel
		},
	}
	for want, caller := range callers {
		_, err := call(t, func(context.Context) error {
			ctx, cancel := caller()
			defer cancel()
			return f.db.DeleteConversation(ctx, f.ws, f.live[0], f.key)
		})
		if !errors.Is(err, want) || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("the caller's %v: got %v, want %v and not ErrUnavailable", want, err, want)
		}
	}
}

// TestLockWaitIsBounded: a statement waiting for a lock that another session holds is cut
// short (by the server's statement_timeout or the store's deadline) with ErrUnavailable.
func TestLockWaitIsBounded(t *testing.T) {
	f := newFaultFixture(t)
	tx, err := f.db.Write.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // the test's own lock, released at the end
	if _, err := tx.Exec(`SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE`, f.live[0].String()); err != nil {
		t.Fatal(err)
	}
	_, err = call(t, func(ctx context.Context) error { return f.db.DeleteConversation(ctx, f.ws, f.live[0], f.key) })
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("delete of a row locked elsewhere: %v, want ErrUnavailable", err)
	}
}

// TestSlowImportIsNotCut: an import whose rows come more slowly than the timeout, in all far
// longer than it, succeeds: its deadline bounds the database's stalls, not the import's length.
func TestSlowImportIsNotCut(t *testing.T) {
	f := newFaultFixture(t)
	f.proxy.Add(t, "latency", "downstream", map[string]int64{"latency": faultTimeout.Milliseconds() / 5})
	cs := conversations(f.ws, 8)
	tick := time.NewTicker(faultTimeout / 2)
	defer tick.Stop()
	slow := func(yield func(store.Conversation, error) bool) {
		for _, c := range cs {
			<-tick.C // a sender slower than the timeout
			if !yield(c, nil) {
				return
			}
		}
	}
	start := time.Now()
	if err := f.db.ImportConversations(context.Background(), iter.Seq2[store.Conversation, error](slow)); err != nil {
		t.Fatalf("slow import: %v", err)
	}
	if took := time.Since(start); took < 2*faultTimeout {
		t.Fatalf("the import took %v: not longer than the timeout, the test shows nothing", took)
	}
	if n := f.count(t, `SELECT count(*) FROM conversations WHERE workspace_id = $1`, f.ws.String()); n != 20+len(cs) {
		t.Errorf("%d conversations stored, want %d", n, 20+len(cs))
	}
}

// TestCallsShareTheirWaitBudget: the calls of one request (its key, then its operation)
// share one store.WaitBudget, so that the request answers within the timeout in all: once
// the first call has spent it waiting, the next fails at once rather than wait a timeout of
// its own.
func TestCallsShareTheirWaitBudget(t *testing.T) {
	f := newFaultFixture(t)
	f.proxy.Stall(t)
	ctx := store.WithWaitBudget(context.Background(), &store.WaitBudget{})
	if _, err := call(t, func(context.Context) error {
		_, err := f.db.APIKeyByHash(ctx, []byte("k"))
		return err
	}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("key lookup during the stall: %v, want ErrUnavailable", err)
	}
	took, err := call(t, func(context.Context) error { return f.db.DeleteConversation(ctx, f.ws, f.live[0], f.key) })
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("delete once the budget is spent: %v, want ErrUnavailable", err)
	}
	if took >= faultTimeout/2 {
		t.Errorf("delete once the budget is spent waited %v, want no wait", took)
	}
	f.proxy.Heal()
	if deleted, recorded := f.deletedNow(t, f.live[:1], f.key.Operation); deleted != 0 || recorded != 0 {
		t.Errorf("delete refused for want of time: %d deleted, %d recorded; want nothing", deleted, recorded)
	}
}

// TestConnectingWaitsAsLongAsTheTimeout: a new connection may take as long as the store's
// timeout, as every other wait may, so that a database slow to answer but within the bound
// is served rather than refused.
func TestConnectingWaitsAsLongAsTheTimeout(t *testing.T) {
	// One round trip, past the 2 s a connection was once cut at: connecting without TLS takes
	// one or two, the get one or two, and the timeout leaves room for all of them.
	const latency, timeout = 2200 * time.Millisecond, 6 * 2200 * time.Millisecond
	dsn, proxy := pgtest.Proxied(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("sslmode", "disable") // TLS's round trips are not what this test is about
	u.RawQuery = q.Encode()
	db, err := postgres.Open(context.Background(), u.String(), sqlstore.WithTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	t.Cleanup(proxy.Stop)
	// Open migrates on connections of its own; the store's pool connects at its first call.
	proxy.Add(t, "latency", "downstream", map[string]int64{"latency": latency.Milliseconds()})
	if _, err := db.GetConversation(context.Background(), uuid.New(), uuid.New()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get over a database %v a round trip, timeout %v: %v, want ErrNotFound", latency, timeout, err)
	}
}
