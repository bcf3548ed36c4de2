package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// timeout is the stores' timeout in these tests: short, so that they run quickly.
const timeout = 300 * time.Millisecond

// answerWithin bounds how long a call may take past its timeout before a test calls it hung.
const answerWithin = timeout + 3*time.Second

// openWith opens a store with the given timeout, a workspace and n live conversations.
func openWith(t *testing.T, n int) (*sqlstore.DB, uuid.UUID, []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "deadline.db"), sqlstore.WithTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ws := uuid.New()
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "w", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	cs := conversations(ws, n)
	if err := db.ImportConversations(ctx, store.All(cs)); err != nil {
		t.Fatal(err)
	}
	ids := make([]uuid.UUID, n)
	for i, c := range cs {
		ids[i] = c.ID
	}
	return db, ws, ids
}

func conversations(ws uuid.UUID, n int) []store.Conversation {
	cs := make([]store.Conversation, n)
	for i := range cs {
		cs[i] = store.Conversation{ID: uuid.New(), WorkspaceID: ws, Source: "api", CreatedAt: int64(i), LastMessageAt: int64(i),
			Body: []byte(`{}`)}
	}
	return cs
}

// answer runs fn and returns its error, failing the test if it has not answered within
// answerWithin.
func answer(t *testing.T, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(answerWithin):
		t.Fatalf("no answer within %v", answerWithin)
		return nil
	}
}

// TestWritesGoOnDuringASlowImport: an import whose source is slow does not hold the writer
// while it waits for its rows (it stages them in chunks, staging.go): deletes answer at once,
// reads go on, and once its rows came the import is published whole.
func TestWritesGoOnDuringASlowImport(t *testing.T) {
	db, ws, ids := openWith(t, 3)
	ctx := context.Background()
	reading, released := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(released) })
	t.Cleanup(release) // a failing test lets the import end before the store closes
	more := conversations(ws, 5)
	slow := func(yield func(store.Conversation, error) bool) {
		close(reading) // the import waits for its rows
		<-released
		for _, c := range more {
			if !yield(c, nil) {
				return
			}
		}
	}
	imported := make(chan error, 1)
	go func() { imported <- db.ImportConversations(ctx, slow) }()
	<-reading
	if err := answer(t, func() error { return db.DeleteConversation(ctx, ws, ids[0], store.Operator("test")) }); err != nil {
		t.Errorf("delete during a slow import: %v", err)
	}
	if err := answer(t, func() error { return db.BulkDeleteConversations(ctx, ws, ids[1:], store.Operator("test")) }); err != nil {
		t.Errorf("bulk delete during a slow import: %v", err)
	}
	if _, err := db.GetConversation(ctx, ws, ids[0]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("read of a conversation deleted during the import: %v, want ErrNotFound", err)
	}
	release()
	if err := <-imported; err != nil {
		t.Fatalf("import: %v", err)
	}
	if n, err := db.CountConversations(ctx, ws); err != nil || n != int64(len(more)) {
		t.Errorf("after the import: %d live conversations (%v), want the %d imported", n, err, len(more))
	}
}

// TestSlowImportIsNotCut: an import whose rows come more slowly than the timeout, in all far
// longer than it, succeeds: its deadline bounds the database's turn, not the import's length.
func TestSlowImportIsNotCut(t *testing.T) {
	db, ws, _ := openWith(t, 1)
	cs := conversations(ws, 8)
	tick := time.NewTicker(timeout / 2)
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
	if err := db.ImportConversations(context.Background(), slow); err != nil {
		t.Fatalf("slow import: %v", err)
	}
	if took := time.Since(start); took < 2*timeout {
		t.Fatalf("the import took %v: not longer than the timeout, the test shows nothing", took)
	}
	if n, err := db.CountConversations(context.Background(), ws); err != nil || n != 1+int64(len(cs)) {
		t.Errorf("count = %d, %v; want %d", n, err, 1+len(cs))
	}
}

// TestTimeoutMustBePositive: Open refuses a timeout of 0 or less.
func TestTimeoutMustBePositive(t *testing.T) {
	if _, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "zero.db"), sqlstore.WithTimeout(0)); err == nil {
		t.Error("a timeout of 0 was accepted")
	}
}
