package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store/sqlstore"
	"github.com/fini-oss/conversations/server/store/storetest"
)

// benchClients is how many clients send bulk deletes at once in BenchmarkBulkDelete.
const benchClients = 8

// BenchmarkBulkDelete times bulk deletes of 50 from 8 clients through the store (via=store)
// and, as the engine's floor, the same transactions in raw statements on one connection of
// the same driver, over the same schema and data, with no background checkpoint (via=floor):
// what SQLite itself costs, queued 8 deep. Each iteration seeds a new database, which is
// closed (its WAL emptied) and opened again before the clock starts. Run with -benchtime 1x
// and -count, and compare the two with benchstat -col /via.
func BenchmarkBulkDelete(b *testing.B) {
	b.Run("via=store", func(b *testing.B) {
		var bulks storetest.Bulks
		for b.Loop() {
			b.StopTimer()
			path, ws, ids := seedBulks(b)
			db := mustOpen(b, path)
			b.Cleanup(func() { db.Close() })
			b.StartTimer()
			bulks.Send(b, benchClients, ids, func(ctx context.Context, ids []uuid.UUID) error {
				return db.BulkDeleteConversations(ctx, ws, ids, storetest.BenchActor)
			})
		}
		bulks.Report(b)
	})
	b.Run("via=floor", func(b *testing.B) {
		var bulks storetest.Bulks
		for b.Loop() {
			b.StopTimer()
			path, ws, ids := seedBulks(b)
			f := openFloor(b, path)
			b.Cleanup(func() { f.db.Close() })
			b.StartTimer()
			bulks.Send(b, benchClients, ids, func(ctx context.Context, ids []uuid.UUID) error {
				return f.bulkDelete(ctx, ws, ids)
			})
		}
		bulks.Report(b)
	})
}

// seedBulks makes a new database with the workspace BenchmarkBulkDelete deletes from, and
// closes it.
func seedBulks(b *testing.B) (path string, ws uuid.UUID, ids []uuid.UUID) {
	b.Helper()
	path = filepath.Join(b.TempDir(), "bench.db")
	db := mustOpen(b, path)
	ws, ids = storetest.SeedBulks(b, db, benchClients)
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	return path, ws, ids
}

func mustOpen(b *testing.B, path string) *sqlstore.DB {
	b.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// floor runs a bulk delete's transaction in raw statements: the store's own SQL, prepared
// once, on one writer connection with the store writer's settings.
type floor struct {
	db             *sql.DB
	update, record *sql.Stmt
}

func openFloor(b *testing.B, path string) *floor {
	b.Helper()
	db, err := sql.Open("sqlite", dsn(path, writerParams))
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	f := &floor{db: db}
	in := "(" + strings.TrimSuffix(strings.Repeat("?, ", 50), ", ") + ")"
	if f.update, err = db.Prepare(`UPDATE conversations SET deleted_at = ? WHERE workspace_id = ? AND deleted_at IS NULL AND id IN ` +
		in + ` RETURNING workspace_id, id`); err != nil {
		b.Fatal(err)
	}
	values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?), ", 50), ", ")
	if f.record, err = db.Prepare(`INSERT INTO audit_records (recorded_at, workspace_id, conversation_id, operation, key_id, key_name, request_id) VALUES ` + values); err != nil {
		b.Fatal(err)
	}
	return f
}

// bulkDelete soft-deletes the 50 ids and records them, in one transaction.
func (f *floor) bulkDelete(ctx context.Context, ws uuid.UUID, ids []uuid.UUID) error {
	tx, err := f.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // after Commit, a no-op
	const at = 1
	args := []any{at, ws.String()}
	for _, id := range ids {
		args = append(args, id.String())
	}
	rows, err := tx.StmtContext(ctx, f.update).QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	records := make([]any, 0, 7*len(ids))
	a := storetest.BenchActor
	for rows.Next() {
		var w, id string
		if err := rows.Scan(&w, &id); err != nil {
			return err
		}
		records = append(records, at, w, id, a.Operation, a.KeyID.String(), a.KeyName, a.RequestID)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(records) != 7*len(ids) {
		return fmt.Errorf("floor: %d of %d conversations deleted", len(records)/7, len(ids))
	}
	if _, err := tx.StmtContext(ctx, f.record).ExecContext(ctx, records...); err != nil {
		return err
	}
	return tx.Commit()
}
