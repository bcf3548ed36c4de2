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
// multi-row INSERTs in one transaction.
func (db *DB) ImportConversations(ctx context.Context, cs iter.Seq2[store.Conversation, error]) error {
	var (
		n   int
		err error
	)
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
	switch {
	case db.Dialect.Copy != nil:
		err = db.copyRows(ctx, rows)
	case db.Staging != nil:
		err = db.importStaged(ctx, rows)
	default:
		// One attempt: rows can be read only once, so a transaction that failed half way
		// cannot run again (inTx would).
		err = db.tryTx(ctx, func(ctx context.Context, tx *sql.Tx) error { return db.insertBatches(ctx, tx, rows) })
	}
	if err != nil {
		return fmt.Errorf("import conversations (after %d): %w", n, err)
	}
	if db.Dialect.AfterImport != "" {
		if _, err := db.exec(ctx, db.Dialect.AfterImport); err != nil {
			return fmt.Errorf("after importing %d conversations: %s: %w", n, db.Dialect.AfterImport, err)
		}
	}
	return nil
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
