package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/fini-oss/conversations/server/store"
)

// PurgeDeleted implements store.Store: batch after batch, each one transaction that takes the
// purge lock, deletes the oldest soft-deleted rows and records them (a crash mid-batch rolls
// the whole batch back); after each, and after the last, the engine's AfterPurge.
func (db *DB) PurgeDeleted(ctx context.Context, deletedBefore int64, batch int) (int64, error) {
	if batch < 1 {
		return 0, fmt.Errorf("purge: batch of %d rows", batch)
	}
	var total int64
	for {
		n, err := db.purgeBatch(ctx, deletedBefore, batch)
		total += int64(n)
		if n > 0 {
			db.eraseOwed.Store(true)
		}
		last := err != nil || n < batch
		// Erasure owed by an earlier purge whose erasure failed is paid now, even if this
		// one removed nothing.
		if err = errors.Join(err, db.erase(ctx, last)); err != nil {
			return total, fmt.Errorf("purge deleted conversations (%d purged): %w", total, err)
		}
		if last {
			return total, nil
		}
	}
}

// erase runs AfterPurge if a purge removed rows since it last fully succeeded.
func (db *DB) erase(ctx context.Context, last bool) error {
	if db.AfterPurge == nil || !db.eraseOwed.Load() {
		return nil
	}
	if err := db.AfterPurge(ctx, last); err != nil {
		return fmt.Errorf("erase purged rows from the files: %w", err)
	}
	if last {
		db.eraseOwed.Store(false)
	}
	return nil
}

// purgeBatch purges at most limit rows in one transaction, within the store's deadline, and
// returns how many it purged: 0 unless the transaction committed.
func (db *DB) purgeBatch(ctx context.Context, deletedBefore int64, limit int) (n int, err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	err = db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n = 0
		if db.Dialect.PurgeLock != "" {
			locked, err := db.txBool(ctx, tx, db.Dialect.PurgeLock)
			if err != nil {
				return fmt.Errorf("take the purge lock: %w", err)
			}
			if !locked {
				return store.ErrPurgeLocked
			}
		}
		now := db.now()
		// The outer condition is repeated so that a row restored while the batch waited for
		// it is not deleted (PostgreSQL re-checks it on the row's newest version).
		purged, err := db.txChanged(ctx, tx, `DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at < ?
			AND (workspace_id, id) IN (SELECT workspace_id, id FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at < ?
				ORDER BY deleted_at LIMIT ?) `+
			returningChanged, deletedBefore, deletedBefore, limit)
		if err != nil {
			return err
		}
		n = len(purged)
		return db.appendRecords(ctx, tx, now, store.Operator(store.OpPurge), purged)
	})
	if err != nil {
		// The transaction rolled back: the rows its DELETE removed are stored again.
		return 0, err
	}
	return n, nil
}

// txBool runs a query of one boolean in tx.
func (db *DB) txBool(ctx context.Context, tx *sql.Tx, query string) (bool, error) {
	rows, err := db.txQuery(ctx, tx, query)
	if err != nil {
		return false, db.classify(err)
	}
	defer rows.Close()
	var b bool
	if !rows.Next() {
		return false, db.classify(fmt.Errorf("no row: %w", rows.Err()))
	}
	if err := rows.Scan(&b); err != nil {
		return false, db.classify(err)
	}
	return b, db.classify(rows.Close())
}

// OldestDeleted implements store.Store.
func (db *DB) OldestDeleted(ctx context.Context) (_ int64, _ bool, err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	var at sql.NullInt64
	row, err := db.queryRow(ctx, `SELECT MIN(deleted_at) FROM conversations WHERE deleted_at IS NOT NULL`)
	if err == nil {
		err = row.Scan(&at)
	}
	if err != nil {
		return 0, false, db.classify(fmt.Errorf("oldest deleted conversation: %w", err))
	}
	return at.Int64, at.Valid, nil
}
