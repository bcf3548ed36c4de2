package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
	"github.com/fini-oss/conversations/server/store/sqlstore"
	"github.com/fini-oss/conversations/server/store/storetest"
)

// benchClients is how many clients send bulk deletes at once in BenchmarkWritePath.
const benchClients = 8

// BenchmarkWritePath times bulk deletes of 50 from 8 clients through the store (via=store)
// and, as the engine's floor, the same transaction in raw statements on one connection of
// the same driver, with the store writer's settings, over the same schema and data, and no
// background checkpoint (via=floor): what SQLite itself costs, queued 8 deep. Each iteration
// seeds a new database, which is closed (its WAL emptied) and opened again, then runs one
// bulk delete (which prepares the statements, as the floor's are), before the clock starts. Run with -benchtime 1x and -count, and compare with benchstat -col /via.
// make bench-writes runs it on this tree and on the baseline's, beside the loopback figures.
//
// It uses only what every version of the store has (store.Store, sqlite.Open, the writer
// pool), so that make bench can run it on an older tree too.
func BenchmarkWritePath(b *testing.B) {
	b.Run("op=bulk50/via=store", func(b *testing.B) {
		var bulks storetest.Bulks
		for b.Loop() {
			b.StopTimer()
			path, ws, ids, warm, actor := seedBulks(b)
			db := mustOpen(b, path)
			b.Cleanup(func() { db.Close() })
			if err := db.BulkDeleteConversations(context.Background(), ws, warm, actor); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			bulks.Send(b, benchClients, ids, func(ctx context.Context, ids []uuid.UUID) error {
				return db.BulkDeleteConversations(ctx, ws, ids, actor)
			})
		}
		bulks.Report(b)
	})
	b.Run("op=bulk50/via=floor", func(b *testing.B) {
		var bulks storetest.Bulks
		for b.Loop() {
			b.StopTimer()
			path, ws, ids, warm, actor := seedBulks(b)
			f := openFloor(b, path, actor)
			b.Cleanup(func() { f.db.Close() })
			if err := f.bulkDelete(context.Background(), ws, warm); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			bulks.Send(b, benchClients, ids, func(ctx context.Context, ids []uuid.UUID) error {
				return f.bulkDelete(ctx, ws, ids)
			})
		}
		bulks.Report(b)
	})
}

// seedBulks makes a new database with the workspace BenchmarkWritePath deletes from, the key
// it deletes with, and
// closes it.
func seedBulks(b *testing.B) (path string, ws uuid.UUID, ids, warm []uuid.UUID, actor store.Actor) {
	b.Helper()
	path = filepath.Join(b.TempDir(), "bench.db")
	db := mustOpen(b, path)
	ws, ids, warm = storetest.SeedBulks(b, db, benchClients)
	actor = storetest.BenchActor(b, db, ws)
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	return path, ws, ids, warm, actor
}

func mustOpen(b *testing.B, path string) *sqlstore.DB {
	b.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// writerSettings are the connection settings of the store's writer that decide what a
// commit costs, which the floor copies.
var writerSettings = []string{"journal_mode", "synchronous", "secure_delete", "wal_autocheckpoint", "foreign_keys", "cache_size", "busy_timeout"}

// floor runs a bulk delete's transaction in raw statements: the store's own SQL, prepared
// once, on one connection with the settings of the store's writer.
type floor struct {
	db                  *sql.DB
	key, update, record *sql.Stmt
	actor               store.Actor
}

func openFloor(b *testing.B, path string, actor store.Actor) *floor {
	b.Helper()
	ctx := context.Background()
	store := mustOpen(b, path)
	settings := map[string]string{}
	for _, name := range writerSettings {
		var v string
		if err := store.Write.QueryRowContext(ctx, `PRAGMA `+name).Scan(&v); err != nil {
			b.Fatal(err)
		}
		settings[name] = v
	}
	if err := store.Close(); err != nil {
		b.Fatal(err)
	}
	dsn := "file:" + path + "?_txlock=immediate"
	for _, name := range writerSettings {
		dsn += fmt.Sprintf("&_pragma=%s(%s)", name, settings[name])
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	f := &floor{db: db, actor: actor}
	if f.key, err = db.Prepare(`SELECT 1 FROM api_keys WHERE id = ? AND revoked_at IS NULL`); err != nil {
		b.Fatal(err)
	}
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

// bulkDelete checks the key is valid, soft-deletes the 50 ids and records them, in one
// transaction: what the store's bulk delete does.
func (f *floor) bulkDelete(ctx context.Context, ws uuid.UUID, ids []uuid.UUID) error {
	tx, err := f.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // after Commit, a no-op
	a := f.actor
	var valid int
	if err := tx.StmtContext(ctx, f.key).QueryRowContext(ctx, a.KeyID.String()).Scan(&valid); err != nil {
		return fmt.Errorf("floor: the key: %w", err)
	}
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
