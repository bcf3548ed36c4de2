package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/postgres"
	"github.com/fini-oss/conversations/server/store/postgres/pgtest"
	"github.com/fini-oss/conversations/server/store/sqlstore"
	"github.com/fini-oss/conversations/server/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		db := pgtest.Open(t)
		db.Now = now
		return db
	})
}

// deletedStore opens a store in a fresh schema (its connections named app) with n
// conversations soft-deleted an hour ago, and returns it with the DSN.
func deletedStore(t *testing.T, app string, n int) (*sqlstore.DB, string) {
	t.Helper()
	ctx := context.Background()
	dsn := pgtest.DSN(t) + "&application_name=" + app
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ws := uuid.New()
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "w", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	ids := make([]uuid.UUID, n)
	cs := make([]store.Conversation, n)
	for i := range cs {
		ids[i] = uuid.New()
		cs[i] = store.Conversation{ID: ids[i], WorkspaceID: ws, Source: "api", CreatedAt: 1, LastMessageAt: 1, Body: []byte(`{}`)}
	}
	if err := db.ImportConversations(ctx, store.All(cs)); err != nil {
		t.Fatal(err)
	}
	// The last one deleted later than the others: the batch, going oldest first, meets it last.
	db.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	if err := db.BulkDeleteConversations(ctx, ws, ids[:n-1], store.Operator("test")); err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return time.Now().Add(-30 * time.Minute) }
	if err := db.DeleteConversation(ctx, ws, ids[n-1], store.Operator("test")); err != nil {
		t.Fatal(err)
	}
	db.Now = time.Now
	return db, dsn
}

func count(t *testing.T, conn *sql.DB, query string) int {
	t.Helper()
	var n int
	if err := conn.QueryRow(query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPurgeLockIsExclusive: while another process holds the purge lock, a purge does nothing
// and says so; once it is released, the purge runs.
func TestPurgeLockIsExclusive(t *testing.T) {
	ctx := context.Background()
	db, dsn := deletedStore(t, "purge-lock", 3)
	other, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	holder, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(`SELECT pg_advisory_xact_lock(1718185577, hashtext(current_schema()))`); err != nil {
		t.Fatal(err)
	}
	n, err := db.PurgeDeleted(ctx, time.Now().UnixMilli(), 500)
	if !errors.Is(err, store.ErrPurgeLocked) || n != 0 {
		t.Fatalf("purge while another holds the lock = %d, %v; want 0, ErrPurgeLocked", n, err)
	}
	if got := count(t, other, `SELECT count(*) FROM conversations`); got != 3 {
		t.Errorf("%d conversations left, want 3", got)
	}
	if err := holder.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n, err := db.PurgeDeleted(ctx, time.Now().UnixMilli(), 500); err != nil || n != 3 {
		t.Fatalf("purge after the lock was released = %d, %v; want 3", n, err)
	}
}

// TestPurgeBatchDyingMidwayLeavesNothingHalfDone: the backend of a purge batch is terminated
// while the batch has deleted some rows and waits for another; the batch rolls back whole
// (every row and no record), and its lock goes with it.
func TestPurgeBatchDyingMidwayLeavesNothingHalfDone(t *testing.T) {
	ctx := context.Background()
	app := "purge-dies-" + uuid.NewString()[:8]
	db, dsn := deletedStore(t, app, 20)
	other, err := sql.Open("pgx", dsn+"-observer")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	// Hold the row deleted last, so that the batch deletes the others and then waits.
	blocker, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = blocker.Rollback() }()
	if _, err := blocker.Exec(`SELECT id FROM conversations ORDER BY deleted_at DESC LIMIT 1 FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := db.PurgeDeleted(ctx, time.Now().UnixMilli(), 500)
		done <- err
	}()
	// The signal: the purge's backend waiting on the row lock.
	var pid int
	for deadline := time.Now().Add(10 * time.Second); pid == 0; {
		err := other.QueryRow(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, app).Scan(&pid)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the purge never waited on the held row")
		}
	}
	if _, err := other.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil {
		t.Fatal("the purge whose backend died reported success")
	}
	if err := blocker.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := count(t, other, `SELECT count(*) FROM conversations WHERE deleted_at IS NOT NULL`); got != 20 {
		t.Errorf("%d of 20 conversations left after the dead batch: it was half done", got)
	}
	if got := count(t, other, `SELECT count(*) FROM audit_records WHERE operation = 'purge'`); got != 0 {
		t.Errorf("the dead batch left %d purge records", got)
	}
	if n, err := db.PurgeDeleted(ctx, time.Now().UnixMilli(), 500); err != nil || n != 20 {
		t.Fatalf("purge after the dead batch = %d, %v; want 20 (its lock must be gone)", n, err)
	}
}

func BenchmarkBulkDelete(b *testing.B) {
	storetest.BenchmarkBulkDelete(b, pgtest.Open(b), 8)
}
