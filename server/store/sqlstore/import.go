package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"strings"

	"github.com/fini-oss/conversations/server/store"
)

// importColumns are the columns an import writes; deleted_at stays NULL.
var importColumns = []string{"id", "workspace_id", "bot_id", "source", "channel", "created_at", "last_message_at", "body"}

// importBatch is how many conversations one INSERT carries: 100 rows of 8 values stay far
// below SQLite's 32,766 bound parameters, and make a few large statements instead of one a
// row (the cost of a statement, not of the row, dominated).
const importBatch = 100

// ImportConversations implements store.Store, written while cs still yields: COPY where the
// engine has it; staged in chunks where the engine stages (SQLite, staging.go); else
// multi-row INSERTs in one transaction. An import may take as long as its rows take, but the
// database may not stall it: it fails with store.ErrUnavailable, storing nothing, once the
// database has kept the turn for the store's Timeout (a connection, the write gate, a batch
// of rows, the commit), while the time spent reading cs does not count (deadline.go). The
// engine does not bound its COPY statement on its side.
func (db *DB) ImportConversations(ctx context.Context, cs iter.Seq2[store.Conversation, error]) error {
	var n int
	rows := func(yield func([]any, error) bool) {
		for c, cerr := range cs {
			if cerr != nil {
				yield(nil, cerr)
				return
			}
			n++
			if !yield(row(c), nil) {
				return
			}
		}
	}
	if err := db.importRows(ctx, rows); err != nil {
		return fmt.Errorf("import conversations (after %d): %w", n, err)
	}
	if err := db.afterImport(ctx); err != nil {
		return fmt.Errorf("%d conversations imported and committed, but then %s failed (autovacuum will do it later): %w",
			n, db.Dialect.AfterImport, err)
	}
	return nil
}

// importRows writes rows in one transaction, on the clock of its progress.
func (db *DB) importRows(ctx context.Context, rows iter.Seq2[[]any, error]) (err error) {
	ctx, p, end := db.watch(ctx)
	defer end(&err)
	rows = p.rows(rows)
	switch {
	case db.Dialect.Copy != nil:
		return db.copyRows(ctx, rows)
	case db.Staging != nil:
		return db.importStaged(ctx, rows)
	}
	// One attempt: rows can be read only once, so a transaction that failed half way
	// cannot run again (inTx would).
	return db.tryTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return db.insertBatches(ctx, tx, rows) })
}

// afterImport runs the dialect's AfterImport, if any, within the store's deadline.
func (db *DB) afterImport(ctx context.Context) (err error) {
	if db.Dialect.AfterImport == "" {
		return nil
	}
	ctx, end := db.bound(ctx)
	defer end(&err)
	_, err = db.exec(ctx, db.Dialect.AfterImport)
	return db.classify(err)
}

// row is the values of importColumns for c.
func row(c store.Conversation) []any {
	var bot, channel any
	if c.BotID != nil {
		bot = *c.BotID
	}
	if c.Channel != nil {
		channel = *c.Channel
	}
	return []any{c.ID, c.WorkspaceID, bot, c.Source, channel, c.CreatedAt, c.LastMessageAt, string(c.Body)}
}

func (db *DB) copyRows(ctx context.Context, rows iter.Seq2[[]any, error]) error {
	leave, err := db.enterWrite(ctx)
	if err != nil {
		return err
	}
	defer leave()
	return db.classify(db.Dialect.Copy(ctx, db.Write, "conversations", importColumns, rows))
}

// insertBatches inserts rows importBatch at a time with one prepared statement, and the rest
// with one more.
func (db *DB) insertBatches(ctx context.Context, tx *sql.Tx, rows iter.Seq2[[]any, error]) error {
	var full *sql.Stmt
	args := make([]any, 0, importBatch*len(importColumns))
	for r, err := range rows {
		if err != nil {
			return err
		}
		args = append(args, r...)
		if len(args) < cap(args) {
			continue
		}
		if full == nil {
			if full, err = db.txPrepare(ctx, tx, insertValues(importBatch)); err != nil {
				return err
			}
			defer full.Close()
		}
		if _, err := full.ExecContext(ctx, args...); err != nil {
			return db.classify(fmt.Errorf("insert conversations: %w", err))
		}
		args = args[:0]
	}
	if len(args) == 0 {
		return nil
	}
	if _, err := db.txExec(ctx, tx, insertValues(len(args)/len(importColumns)), args...); err != nil {
		return db.classify(fmt.Errorf("insert conversations: %w", err))
	}
	return nil
}

// insertValues is an INSERT of n rows.
func insertValues(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(importColumns)), ", ") + ")"
	return `INSERT INTO conversations (` + strings.Join(importColumns, ", ") + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}
