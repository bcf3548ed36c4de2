package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// rawCount counts every row of conversations, staged or not, on a connection of the test's
// own.
func rawCount(t *testing.T, path string) int {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM conversations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// claimed reports whether an import has staged rows: its claim exists.
func claimed(t *testing.T, path string) bool {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM import_staging`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func newConversation(ws uuid.UUID, i int) store.Conversation {
	return store.Conversation{ID: uuid.New(), WorkspaceID: ws, Source: "api", CreatedAt: int64(i), LastMessageAt: int64(i),
		Body: []byte(`{"n":` + fmt.Sprint(i) + `}`)}
}

// pausedImport is an import whose input stops once the import staged rows (its claim
// exists), until release; then it yields n more, and err if set.
type pausedImport struct {
	staged, release chan struct{}
	ids             []uuid.UUID
}

func (p *pausedImport) rows(t *testing.T, path string, ws uuid.UUID, n int, err error) func(yield func(store.Conversation, error) bool) {
	return func(yield func(store.Conversation, error) bool) {
		for i := 0; ; i++ {
			if i == 50_000 {
				t.Error("no rows staged after 50,000")
				return
			}
			if i%100 == 0 && claimed(t, path) {
				break
			}
			c := newConversation(ws, i)
			p.ids = append(p.ids, c.ID)
			if !yield(c, nil) {
				return
			}
		}
		close(p.staged)
		<-p.release
		for i := range n {
			c := newConversation(ws, i)
			p.ids = append(p.ids, c.ID)
			if !yield(c, nil) {
				return
			}
		}
		if err != nil {
			yield(store.Conversation{}, err)
		}
	}
}

// openSeeded opens a new store with a workspace and 10 conversations.
func openSeeded(t *testing.T) (db *sqlstore.DB, path string, ws uuid.UUID, live []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	path = filepath.Join(t.TempDir(), "import.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ws = uuid.New()
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "import", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	var cs []store.Conversation
	for i := range 10 {
		cs = append(cs, newConversation(ws, -1-i))
		live = append(live, cs[i].ID)
	}
	if err := db.ImportConversations(ctx, store.All(cs)); err != nil {
		t.Fatal(err)
	}
	return db, path, ws, live
}

// TestImportIsInvisibleUntilPublishedAndYieldsTheWriter: while an import is under way, with
// rows staged, API writes go through, and no read or write of the API sees the staged rows;
// once it ends, all are there at once.
func TestImportIsInvisibleUntilPublishedAndYieldsTheWriter(t *testing.T) {
	ctx := context.Background()
	db, path, ws, live := openSeeded(t)
	p := &pausedImport{staged: make(chan struct{}), release: make(chan struct{})}
	imported := make(chan error, 1)
	go func() { imported <- db.ImportConversations(ctx, p.rows(t, path, ws, 100, nil)) }()
	select {
	case <-p.staged:
	case err := <-imported:
		t.Fatalf("import ended before staging: %v", err)
	}
	staged := p.ids[0]

	// Writes of the API go through while the import is under way (it holds no lock now).
	if err := db.DeleteConversation(ctx, ws, live[0], store.Operator("test")); err != nil {
		t.Fatalf("delete during the import: %v", err)
	}
	if err := db.BulkDeleteConversations(ctx, ws, live[1:3], store.Operator("test")); err != nil {
		t.Fatalf("bulk delete during the import: %v", err)
	}
	// The staged rows are in the table, and nothing of the API sees them.
	if n := rawCount(t, path); n <= len(live) {
		t.Fatalf("%d rows in the table: nothing staged, the test proves nothing", n)
	}
	if _, err := db.GetConversation(ctx, ws, staged); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get of a staged conversation: %v, want store.ErrNotFound", err)
	}
	page, err := db.ListConversations(ctx, store.ListQuery{WorkspaceID: ws, Since: math.MinInt64, Until: math.MaxInt64, Limit: 100})
	if err != nil || len(page.Conversations) != len(live)-3 {
		t.Errorf("list during the import: %d conversations, %v; want the %d live ones", len(page.Conversations), err, len(live)-3)
	}
	if _, err := db.ListConversations(ctx, store.ListQuery{WorkspaceID: ws, Since: math.MinInt64, Until: math.MaxInt64, Limit: 10, Cursor: &staged}); !errors.Is(err, store.ErrCursorNotFound) {
		t.Errorf("list after a staged conversation: %v, want store.ErrCursorNotFound", err)
	}
	if n, err := db.CountConversations(ctx, ws); err != nil || n != int64(len(live)-3) {
		t.Errorf("count during the import: %d, %v; want %d", n, err, len(live)-3)
	}
	var notAccessible *store.NotAccessibleError
	if err := db.BulkDeleteConversations(ctx, ws, []uuid.UUID{live[3], staged}, store.Operator("test")); !errors.As(err, &notAccessible) ||
		len(notAccessible.IDs) != 1 || notAccessible.IDs[0] != staged {
		t.Errorf("bulk delete naming a staged conversation: %v, want it not accessible", err)
	}
	if err := db.DeleteConversation(ctx, ws, staged, store.Operator("test")); err != nil {
		t.Fatal(err)
	}
	for r, err := range db.AuditRecords(ctx, store.AuditQuery{WorkspaceID: ws, ConversationID: &staged, Until: math.MaxInt64}) {
		t.Errorf("a delete of a staged conversation was recorded: %+v, %v", r, err)
	}
	// A purge runs too, and leaves the staged rows alone.
	if _, err := db.PurgeDeleted(ctx, math.MaxInt64, 100); err != nil {
		t.Fatalf("purge during the import: %v", err)
	}

	close(p.release)
	if err := <-imported; err != nil {
		t.Fatal(err)
	}
	if n, err := db.CountConversations(ctx, ws); err != nil || n != int64(len(live)-3+len(p.ids)) {
		t.Errorf("count after the import: %d, %v; want %d", n, err, len(live)-3+len(p.ids))
	}
	if _, err := db.GetConversation(ctx, ws, staged); err != nil {
		t.Errorf("get of an imported conversation: %v", err)
	}
	if claimed(t, path) {
		t.Error("the import's claim outlived it")
	}
}

// TestFailedImportLeavesNothing: an import that fails after it staged rows (a bad line, a
// conflict with a stored id) leaves no row and no claim behind, and its error is the
// cause's.
func TestFailedImportLeavesNothing(t *testing.T) {
	ctx := context.Background()
	db, path, ws, live := openSeeded(t)
	before := rawCount(t, path)
	bad := errors.New("line 1234: not a conversation")
	conflict := func(yield func(store.Conversation, error) bool) {
		c := newConversation(ws, 0)
		c.ID = live[0]
		yield(c, nil)
	}
	for name, tt := range map[string]struct {
		then func(yield func(store.Conversation, error) bool)
		want error
	}{
		"bad line": {func(yield func(store.Conversation, error) bool) { yield(store.Conversation{}, bad) }, bad},
		"conflict": {conflict, store.ErrConflict},
	} {
		t.Run(name, func(t *testing.T) {
			p := &pausedImport{staged: make(chan struct{}), release: make(chan struct{})}
			close(p.release)
			rows := func(yield func(store.Conversation, error) bool) {
				more := true
				p.rows(t, path, ws, 100, nil)(func(c store.Conversation, err error) bool {
					more = yield(c, err)
					return more
				})
				if more {
					tt.then(yield)
				}
			}
			if err := db.ImportConversations(ctx, rows); !errors.Is(err, tt.want) {
				t.Fatalf("import = %v, want %v", err, tt.want)
			}
			if n := rawCount(t, path); n != before {
				t.Errorf("%d rows in the table after the failed import, want %d", n, before)
			}
			if claimed(t, path) {
				t.Error("the failed import's claim is left")
			}
		})
	}
}

// TestConcurrentImportsTakeTurns: imports at once take turns, and each is all or nothing:
// of two that name the same id, one is stored whole and the other not at all.
func TestConcurrentImportsTakeTurns(t *testing.T) {
	ctx := context.Background()
	db, _, ws, live := openSeeded(t)
	shared := newConversation(ws, 0)
	batches := make([][]store.Conversation, 4)
	for b := range batches {
		for i := range 3000 {
			batches[b] = append(batches[b], newConversation(ws, i))
		}
	}
	batches[2][2999] = shared
	batches[3][1500] = shared
	errs := make([]error, len(batches))
	var wg sync.WaitGroup
	for b := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[b] = db.ImportConversations(ctx, store.All(batches[b]))
		}()
	}
	wg.Wait()
	want := int64(len(live))
	for b, err := range errs {
		switch {
		case err == nil:
			want += int64(len(batches[b]))
		case b < 2 || !errors.Is(err, store.ErrConflict):
			t.Errorf("import %d: %v", b, err)
		}
	}
	if (errs[2] == nil) == (errs[3] == nil) {
		t.Errorf("imports naming the same id: %v and %v, want exactly one to conflict", errs[2], errs[3])
	}
	if n, err := db.CountConversations(ctx, ws); err != nil || n != want {
		t.Errorf("count: %d, %v; want %d", n, err, want)
	}
}

// The helper process of TestImportInAnotherProcess: it imports into the database at
// $FINI_IMPORT_HELPER; once it gave the import stagedRows rows and the import staged some (its
// claim exists), it says "staged", and gives the rest once its standard input closes.
const stagedRows = 4000

func TestImportHelperProcess(t *testing.T) {
	path := os.Getenv("FINI_IMPORT_HELPER")
	if path == "" {
		t.Skip("the import of TestImportInAnotherProcess, in a process of its own")
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ws := uuid.MustParse(os.Getenv("FINI_IMPORT_WORKSPACE"))
	rows := func(yield func(store.Conversation, error) bool) {
		for i := range 2 * stagedRows {
			if i == stagedRows {
				for deadline := time.Now().Add(time.Minute); !claimed(t, path); runtime.Gosched() {
					if time.Now().After(deadline) {
						t.Error("nothing staged after a minute")
						return
					}
				}
				fmt.Println("staged")
				_, _ = io.Copy(io.Discard, os.Stdin)
			}
			if !yield(newConversation(ws, i), nil) {
				return
			}
		}
	}
	if err := db.ImportConversations(ctx, rows); err != nil {
		t.Fatal(err)
	}
}

// TestImportInAnotherProcess: an import by another process (fini-server import beside a
// serving fini-server) holds the write lock only for its chunks: writes of this process go
// through while it runs, and do not see its rows. When that process dies half way, its rows
// stay hidden, and the next open removes them.
func TestImportInAnotherProcess(t *testing.T) {
	ctx := context.Background()
	db, path, ws, live := openSeeded(t)
	before := rawCount(t, path)
	helper := exec.Command(os.Args[0], "-test.run=^TestImportHelperProcess$")
	helper.Env = append(os.Environ(), "FINI_IMPORT_HELPER="+path, "FINI_IMPORT_WORKSPACE="+ws.String())
	stdin, err := helper.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = helper.Process.Kill()
		_ = helper.Wait()
	})
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "staged\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}

	// The other process's import is under way, and has staged rows (at least one chunk of its
	// first stagedRows). A write of this process is not refused, and sees none of them.
	if err := db.DeleteConversation(ctx, ws, live[0], store.Operator("test")); err != nil {
		t.Fatalf("delete during another process's import: %v", err)
	}
	if n, err := db.CountConversations(ctx, ws); err != nil || n != int64(len(live)-1) {
		t.Errorf("count during another process's import: %d, %v; want %d", n, err, len(live)-1)
	}
	if n := rawCount(t, path); n == before {
		t.Fatal("no rows staged: the test proves nothing")
	}

	// The importer dies half way: its rows stay hidden, and the next open removes them.
	if err := helper.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = helper.Wait()
	if n, err := db.CountConversations(ctx, ws); err != nil || n != int64(len(live)-1) {
		t.Errorf("count after the importer died: %d, %v; want %d", n, err, len(live)-1)
	}
	next, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { next.Close() })
	if err := next.DropAbandonedImport(ctx); err != nil { // what the open started in the background
		t.Fatal(err)
	}
	if n := rawCount(t, path); n != before {
		t.Errorf("%d rows in the table after the next open, want %d", n, before)
	}
	if claimed(t, path) {
		t.Error("the dead import's claim is left")
	}
}
