package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"sync/atomic"
	"time"
)

// Staging is how an engine whose one writer excludes every other (SQLite) imports without
// holding the write lock for the whole import: the rows go into conversations in chunks,
// each a short transaction of its own, under a claim (the import_staging row) that hides them
// from every statement on live conversations (Visible), until one more short transaction
// deletes the claim and so publishes them all at once. Other writers take their turns
// between the chunks. Imports take turns as well, one at a time across processes, so the
// claimed rows are exactly those from the claim's first_rowid on. A failed import removes its
// rows, then its claim; so does the next import, or the next open, for an import whose
// process died.
type Staging struct {
	// Visible is ANDed to the WHERE clause of every statement on live conversations (it
	// begins with " AND "): it hides the rows of a claimed import.
	Visible string
	// Begin waits for the database's one import slot, across processes, and opens the
	// connection the import writes on; end closes it and gives the slot back. A process that
	// dies gives its slot back: a claim that the slot's next holder finds was abandoned.
	Begin func(ctx context.Context) (conn *sql.DB, end func() error, err error)
	// BeginTx begins a write transaction on the import's connection, waiting for another
	// process's writer if one holds the write lock, and checking often enough to take the
	// turns such a writer leaves (see shareFor, groupcommit.go).
	BeginTx func(ctx context.Context, conn *sql.DB) (*sql.Tx, error)
	// Pause is how long an import leaves the write lock free after a transaction that held
	// it for held, for another process's writers: SQLite's busy handler lets a waiting writer
	// try again only every so often, the less often the longer it waited. Zero when no other
	// process has the database open.
	Pause func(held time.Duration) time.Duration
	// AfterChunk runs after each chunk's commit, on the import's connection and outside any
	// transaction: the engine bounds its log there. Nil does nothing.
	AfterChunk func(ctx context.Context, conn *sql.DB) error
}

// Chunks of a staged import: each aims to hold the write lock for about stageTime, which
// other writers may wait; the first is firstChunk rows, and the next ones as many as took
// stageTime before, within [minChunk, maxChunk]. A failed or abandoned import is removed
// dropChunk rows a transaction.
const (
	stageTime  = 100 * time.Millisecond
	firstChunk = 2000
	minChunk   = 50
	maxChunk   = 20_000
	dropChunk  = 2000
)

// importStaged imports rows by Staging: chunks that no statement on live conversations sees,
// then one short transaction that publishes them. The rows of the next chunk are read from
// rows while a chunk is written, and before its transaction begins, so that a slow input
// never holds the write lock.
func (db *DB) importStaged(ctx context.Context, rows iter.Seq2[[]any, error]) (err error) {
	conn, end, err := db.Staging.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, end()) }()
	if err := db.dropStaged(ctx, conn); err != nil {
		return fmt.Errorf("remove an abandoned import: %w", err)
	}
	var size atomic.Int64
	size.Store(firstChunk)
	chunks := readChunks(ctx, rows, &size)
	defer func() {
		for range chunks { // ends the reader, which stop tells to stop
		}
	}()
	claimed := false
	for c := range chunks {
		if c.err != nil {
			c.stop()
			return db.unstage(ctx, conn, claimed, c.err)
		}
		took, err := db.inStagingTx(ctx, conn, func(tx *sql.Tx) error {
			if !claimed {
				// The first chunk's rowids are the next after the largest: what the claim hides.
				if _, err := tx.ExecContext(ctx, `INSERT INTO import_staging (id, first_rowid, started_at)
					SELECT 1, IFNULL(MAX(rowid), 0) + 1, ? FROM conversations`, db.now()); err != nil {
					return db.classify(fmt.Errorf("claim the import: %w", err))
				}
			}
			return db.insertChunk(ctx, tx, c.rows)
		})
		if err != nil {
			c.stop()
			return db.unstage(ctx, conn, claimed, err)
		}
		claimed = true
		if db.Staging.AfterChunk != nil {
			if err := db.Staging.AfterChunk(ctx, conn); err != nil {
				c.stop()
				return db.unstage(ctx, conn, claimed, err)
			}
		}
		took = max(took, time.Millisecond)
		size.Store(min(max(int64(float64(len(c.rows))*float64(stageTime)/float64(took)), minChunk), maxChunk))
	}
	if !claimed {
		return nil
	}
	if _, err := db.inStagingTx(ctx, conn, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM import_staging`)
		return db.classify(err)
	}); err != nil {
		return db.unstage(ctx, conn, claimed, fmt.Errorf("publish: %w", err))
	}
	return nil
}

// chunk is rows of an import, as many as the chunk size when they were read; or, with err,
// why the rows stopped; stop tells the reader to stop.
type chunk struct {
	rows [][]any
	err  error
	stop func()
}

// readChunks reads rows into chunks of *size rows, on a goroutine of its own, which ends
// with rows, at their first error, or once a chunk's stop was called; the channel closes
// then.
func readChunks(ctx context.Context, rows iter.Seq2[[]any, error], size *atomic.Int64) <-chan chunk {
	ctx, stop := context.WithCancel(ctx)
	chunks := make(chan chunk, 1)
	go func() {
		defer stop()
		defer close(chunks)
		send := func(c chunk) bool {
			c.stop = stop
			select {
			case chunks <- c:
				return true
			case <-ctx.Done():
				return false
			}
		}
		buf := make([][]any, 0, size.Load())
		for r, err := range rows {
			if err == nil && ctx.Err() != nil {
				err = ctx.Err()
			}
			if err != nil {
				send(chunk{err: err})
				return
			}
			if buf = append(buf, r); int64(len(buf)) >= size.Load() {
				if !send(chunk{rows: buf}) {
					return
				}
				buf = make([][]any, 0, size.Load())
			}
		}
		if len(buf) > 0 {
			send(chunk{rows: buf})
		}
	}()
	return chunks
}

// importClaimed reports whether an import has staged rows (its claim exists), as tx sees it;
// false where imports are not staged, or when the query fails.
func (db *DB) importClaimed(ctx context.Context, tx *sql.Tx) bool {
	if db.Staging == nil {
		return false
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM import_staging`).Scan(&n)
	return err == nil && n > 0
}

// unstage removes the rows of a failed import, if it claimed any, and returns why it failed.
// The removal runs whatever ctx says (an interrupted import is removed too); if it fails as
// well, the rows stay hidden, and the next import or open removes them.
func (db *DB) unstage(ctx context.Context, conn *sql.DB, claimed bool, why error) error {
	if !claimed {
		return why
	}
	if err := db.dropStaged(context.WithoutCancel(ctx), conn); err != nil {
		return errors.Join(why, fmt.Errorf("remove the rows imported so far: %w", err))
	}
	return why
}

// DropAbandonedImport removes the rows and the claim of an import whose process died: it
// waits for the import slot if another import holds it (whose claim is then its own, gone
// once it ends). Engines that stage imports run it at open.
func (db *DB) DropAbandonedImport(ctx context.Context) error {
	if db.Staging == nil {
		return nil
	}
	var one int
	row, err := db.queryRow(ctx, `SELECT 1 FROM import_staging`)
	if err == nil {
		err = row.Scan(&one)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return db.classify(fmt.Errorf("look for an abandoned import: %w", err))
	}
	conn, end, err := db.Staging.Begin(ctx)
	if err != nil {
		return err
	}
	return errors.Join(db.dropStaged(ctx, conn), end())
}

// dropStaged removes the claimed rows, dropChunk rows a transaction, then the claim; it does
// nothing where there is no claim. The caller holds the import slot.
func (db *DB) dropStaged(ctx context.Context, conn *sql.DB) error {
	var first int64
	err := conn.QueryRowContext(ctx, `SELECT first_rowid FROM import_staging`).Scan(&first)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return db.classify(fmt.Errorf("read the import's claim: %w", err))
	}
	for done := false; !done; {
		if _, err := db.inStagingTx(ctx, conn, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `DELETE FROM conversations WHERE rowid IN
				(SELECT rowid FROM conversations WHERE rowid >= ? LIMIT ?)`, first, dropChunk)
			if err != nil {
				return db.classify(fmt.Errorf("remove imported rows: %w", err))
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("remove imported rows: %w", err)
			}
			if done = n < dropChunk; done {
				_, err = tx.ExecContext(ctx, `DELETE FROM import_staging`)
			}
			return db.classify(err)
		}); err != nil {
			return err
		}
	}
	return nil
}

// inStagingTx runs fn in a transaction on the import's connection, in this process's turn
// among writers (the write gate), and pauses after it for other processes' writers. held is
// how long the transaction held the write lock.
func (db *DB) inStagingTx(ctx context.Context, conn *sql.DB, fn func(tx *sql.Tx) error) (held time.Duration, err error) {
	leave, err := db.enterWrite(ctx)
	if err != nil {
		return 0, err
	}
	err = func() error {
		defer leave()
		tx, err := db.Staging.BeginTx(ctx, conn)
		if err != nil {
			return db.classify(fmt.Errorf("begin: %w", err))
		}
		start := time.Now()
		defer func() { held = time.Since(start) }()
		if err := fn(tx); err != nil {
			_ = tx.Rollback() // the error that made us roll back is the one worth reporting
			return err
		}
		return db.classify(tx.Commit())
	}()
	if err != nil {
		return held, err
	}
	if d := db.Staging.Pause(held); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return held, ctx.Err()
		}
	}
	return held, nil
}

// insertChunk inserts rows in tx, importBatch at a time with one statement prepared for the
// chunk, and the rest with one more.
func (db *DB) insertChunk(ctx context.Context, tx *sql.Tx, rows [][]any) error {
	args := make([]any, 0, importBatch*len(importColumns))
	var full *sql.Stmt
	for i, r := range rows {
		args = append(args, r...)
		if len(args) < cap(args) && i < len(rows)-1 {
			continue
		}
		var err error
		if len(args) == cap(args) {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, db.q(insertValues(importBatch))); err != nil {
					return db.classify(fmt.Errorf("prepare: %w", err))
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, db.q(insertValues(len(args)/len(importColumns))), args...)
		}
		if err != nil {
			return db.classify(fmt.Errorf("insert conversations: %w", err))
		}
		args = args[:0]
	}
	return nil
}
