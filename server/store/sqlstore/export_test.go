package sqlstore

import (
	"context"
	"database/sql"
)

// RequestWrite runs fn as a request's write, in a group when group commit runs.
func (db *DB) RequestWrite(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	return db.write(ctx, fn)
}

// Queued is how many writes wait for a group.
func (db *DB) Queued() int {
	db.groupMu.Lock()
	defer db.groupMu.Unlock()
	return len(db.queue)
}

// Leading says whether a write leads a group.
func (db *DB) Leading() bool {
	db.groupMu.Lock()
	defer db.groupMu.Unlock()
	return db.leading
}

// ErrWritePanicked is the error of a write that panicked.
var ErrWritePanicked = errWritePanicked
