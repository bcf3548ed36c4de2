package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fini-oss/conversations/server/store/sqlite"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// addWorkspace is a write that adds the workspace name.
func addWorkspace(name string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, 0)`, name, name)
		return err
	}
}

// panics is a write that adds the workspace name, then panics.
func panics(name string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		if err := addWorkspace(name)(ctx, tx); err != nil {
			return err
		}
		panic("a bug in a write")
	}
}

// openGrouped opens a SQLite store, whose writes share transactions.
func openGrouped(t *testing.T) *sqlstore.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "group.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// write is a write and its request's context.
type write struct {
	ctx context.Context
	fn  func(context.Context, *sql.Tx) error
}

// queue holds the store's write gate while each of writes is started, in order, and waits
// until each is queued: the first leads its group alone and waits in the gate; the others
// queue for the next group, which the second leads. It returns the channels of their
// answers and the gate's release, which also runs when the test ends (before the store
// closes, which waits for the leaders).
func queue(t *testing.T, db *sqlstore.DB, writes ...write) (answers []chan error, release func()) {
	t.Helper()
	db.WriteGate <- struct{}{}
	release = sync.OnceFunc(func() { <-db.WriteGate })
	t.Cleanup(release)
	for i, w := range writes {
		answer := make(chan error, 1)
		answers = append(answers, answer)
		go func() { answer <- db.RequestWrite(w.ctx, w.fn) }()
		// The leader leaves the queue as it takes its group; the others stay in it.
		waitFor(t, func() bool { return db.Leading() && db.Queued() == i })
	}
	return answers, release
}

// waitFor waits until cond holds, for at most 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// answer is the answer on a, within 10 s.
func answer(t *testing.T, a chan error) error {
	t.Helper()
	select {
	case err := <-a:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no answer")
		return nil
	}
}

// workspaces are the names of the workspaces the store holds, in order.
func workspaces(t *testing.T, db *sqlstore.DB) []string {
	t.Helper()
	rows, err := db.Read.Query(`SELECT name FROM workspaces ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// TestGroupCommitWritePanics: a write that panics fails alone, with its own error, and its
// insert is rolled back: alone in its group, and in a group led by another request's
// goroutine ("c" leads "c" and "b"), where the panic is neither the leader's nor its
// group's. Writes go on after it.
func TestGroupCommitWritePanics(t *testing.T) {
	db := openGrouped(t)
	ctx := context.Background()
	if err := db.RequestWrite(ctx, panics("alone")); !errors.Is(err, sqlstore.ErrWritePanicked) {
		t.Fatalf("a lone panicking write's error is %v, want ErrWritePanicked", err)
	}
	answers, release := queue(t, db, write{ctx, addWorkspace("a")}, write{ctx, addWorkspace("c")}, write{ctx, panics("b")})
	release()
	if err := answer(t, answers[0]); err != nil {
		t.Fatalf("the write before the group: %v", err)
	}
	if err := answer(t, answers[1]); err != nil {
		t.Fatalf("the group's leader: %v", err)
	}
	if err := answer(t, answers[2]); !errors.Is(err, sqlstore.ErrWritePanicked) {
		t.Fatalf("the panicking write's error is %v, want ErrWritePanicked", err)
	}
	if err := db.RequestWrite(ctx, addWorkspace("d")); err != nil {
		t.Fatalf("a write after the panics: %v", err)
	}
	if got, want := workspaces(t, db), []string{"a", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("workspaces %v, want %v", got, want)
	}
	if db.Leading() || db.Queued() != 0 {
		t.Errorf("after the writes: leading %v, %d queued", db.Leading(), db.Queued())
	}
}

// TestGroupCommitQueuedWriteCancelled: a write whose request ends while it waits for its
// group leaves the queue with the request's error and is never run; the writes queued
// around it commit.
func TestGroupCommitQueuedWriteCancelled(t *testing.T) {
	db := openGrouped(t)
	ctx := context.Background()
	gone, cancel := context.WithCancel(ctx)
	ran := false
	cancelled := func(ctx context.Context, tx *sql.Tx) error {
		ran = true
		return addWorkspace("b")(ctx, tx)
	}
	answers, release := queue(t, db, write{ctx, addWorkspace("a")}, write{gone, cancelled}, write{ctx, addWorkspace("c")})
	cancel()
	if err := answer(t, answers[1]); !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled write's error is %v, want context.Canceled", err)
	}
	if n := db.Queued(); n != 1 {
		t.Fatalf("%d writes queued after the cancelled one left, want 1", n)
	}
	release()
	if err := answer(t, answers[0]); err != nil {
		t.Fatal(err)
	}
	if err := answer(t, answers[2]); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("the cancelled write ran")
	}
	if got, want := workspaces(t, db), []string{"a", "c"}; !slices.Equal(got, want) {
		t.Errorf("workspaces %v, want %v", got, want)
	}
}

// TestGroupCommitManyWritesWithDeadlines: many concurrent writes, each with a deadline of
// its own, some too short to be met, and a Close while they come. Each write reports
// success exactly when it was stored; Close returns; no leader is left behind.
func TestGroupCommitManyWritesWithDeadlines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "group.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	const n = 600
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		if i == n/2 {
			wg.Go(func() { db.Close() })
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(20_000))*time.Microsecond)
			defer cancel()
			errs[i] = db.RequestWrite(ctx, addWorkspace(fmt.Sprintf("w%03d", i)))
		})
	}
	wg.Wait()
	if db.Leading() || db.Queued() != 0 {
		t.Fatalf("after the writes: leading %v, %d queued", db.Leading(), db.Queued())
	}
	if err := db.RequestWrite(context.Background(), addWorkspace("late")); err == nil {
		t.Fatal("a write after Close succeeded")
	}
	// The store is closed: read what it holds through another.
	check, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	stored := make(map[string]bool)
	for _, name := range workspaces(t, check) {
		stored[name] = true
	}
	ok := 0
	for i, err := range errs {
		name := fmt.Sprintf("w%03d", i)
		if (err == nil) != stored[name] {
			t.Errorf("write %s: error %v, stored %v", name, err, stored[name])
		}
		if err == nil {
			ok++
		}
	}
	if ok == 0 {
		t.Errorf("none of %d writes stored", n)
	}
}
