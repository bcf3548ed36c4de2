package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/fini-oss/conversations/server/store"
)

// Group commit: where the engine has a single writer (SQLite), the deletes that arrive while
// a transaction commits wait for the writer anyway. Instead of one transaction each, the
// writer runs all that are waiting in one transaction, each inside a savepoint of its own,
// and commits once. Each delete is still all or nothing (a failing one rolls back to its
// savepoint, alone) and is answered only after the commit that holds it. What the group
// shares is what a commit costs beside the rows: the transaction, and the pages several
// deletes touch (the ends of the deleted and record indexes, the inner pages of every
// B-tree), written to the log once instead of once a delete.

// maxGroup bounds the writes one transaction takes: a request waits for its group at most.
const maxGroup = 16

// Turns with another process's import, which writes in chunks (staging.go). SQLite keeps no
// queue of writers: a process waiting for the write lock polls for it, and would find it free
// only in the microseconds between this committer's commit and its next BEGIN, since the
// committer takes the lock again at once while writes are waiting. So once a BEGIN waited
// for the lock (it took longer than contended) while an import is staged, for sharing after
// it the committer leaves the lock free for shareFor before each transaction. The import,
// which polls every millisecond, takes it then.
const (
	contended = time.Millisecond
	sharing   = time.Second
	shareFor  = 2 * time.Millisecond
)

// groupWrite is one write waiting for a group.
type groupWrite struct {
	ctx  context.Context
	fn   txFunc
	done chan error
}

// errClosed answers a write that comes after Close.
var errClosed = errors.New("the store is closed")

// StartGroupCommit makes this DB's request writes share transactions, until Close.
func (db *DB) StartGroupCommit() {
	db.group = make(chan *groupWrite)
	db.groupStop = make(chan struct{})
	db.groupDone = make(chan struct{})
	go db.commitGroups()
}

// write runs fn, a request's write, in a transaction: in a group when group commit runs,
// else in one of its own (inTx). It returns once the transaction committed or failed.
func (db *DB) write(ctx context.Context, fn txFunc) error {
	if db.group == nil {
		return db.inTx(ctx, fn)
	}
	w := &groupWrite{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.group <- w:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.groupStop:
		return errClosed
	}
	// Once taken, the write may be running: its answer is its transaction's outcome.
	return <-w.done
}

// commitGroups is the writer: it takes the writes waiting, up to maxGroup, and commits them
// together, again and again, until the store closes.
func (db *DB) commitGroups() {
	defer close(db.groupDone)
	for {
		var group []*groupWrite
		select {
		case w := <-db.group:
			group = append(group, w)
		case <-db.groupStop:
			return
		}
	more:
		for len(group) < maxGroup {
			select {
			case w := <-db.group:
				group = append(group, w)
			default:
				break more
			}
		}
		if time.Now().Before(db.sharingUntil) {
			time.Sleep(shareFor)
		}
		db.commitGroup(group)
	}
}

// commitGroup runs group in one transaction and answers each write, again after a transient
// conflict, as inTx does.
func (db *DB) commitGroup(group []*groupWrite) {
	results := make([]error, len(group))
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if err = db.tryGroup(group, results); err == nil || !db.Dialect.Retryable(err) {
			break
		}
		time.Sleep(time.Duration(attempt*attempt) * time.Millisecond)
	}
	for i, w := range group {
		if err != nil && results[i] == nil {
			results[i] = err // the commit failed: so did every write it held
		}
		w.done <- results[i]
	}
}

// tryGroup runs each write of group in a savepoint of one transaction and commits, setting
// each write's own error in results. The writes run without their requests' cancellation
// and deadlines, which would interrupt SQLite's statement and roll back the whole
// transaction, the other writes with it; a write whose request is gone, or whose deadline
// passed, before its turn is not run. The group waits for the write gate (held by an import,
// say) until the last of its writes' deadlines at most.
func (db *DB) tryGroup(group []*groupWrite, results []error) error {
	ctx := context.Background()
	wait, cancel := latestDeadline(group)
	defer cancel()
	leave, err := db.enterWrite(wait)
	if err != nil {
		// Said at once: the writes' own deadlines, which this one is the last of, may not
		// have fired yet.
		return fmt.Errorf("%w: the writer stayed busy past the deadlines: %w", store.ErrUnavailable, err)
	}
	defer leave()
	start := time.Now()
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	if began := time.Since(start); began > contended && db.importClaimed(ctx, tx) {
		db.sharingUntil = time.Now().Add(sharing)
	}
	if len(group) == 1 {
		return db.commitAlone(ctx, tx, group[0], &results[0])
	}
	for i, w := range group {
		if results[i] = w.ctx.Err(); results[i] != nil {
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT write`); err != nil {
			_ = tx.Rollback() // the savepoint's error is the one worth reporting
			return db.classify(fmt.Errorf("savepoint: %w", err))
		}
		results[i] = w.fn(context.WithoutCancel(w.ctx), tx)
		if results[i] != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO write`); err != nil {
				_ = tx.Rollback()
				return db.classify(fmt.Errorf("roll back a write of the group: %w", errors.Join(results[i], err)))
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE write`); err != nil {
			_ = tx.Rollback()
			return db.classify(fmt.Errorf("release savepoint: %w", err))
		}
	}
	if err := tx.Commit(); err != nil {
		return db.classify(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// latestDeadline returns a context that ends at the latest deadline of the group's writes,
// or never when one of them has none.
func latestDeadline(group []*groupWrite) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, w := range group {
		d, ok := w.ctx.Deadline()
		if !ok {
			return context.Background(), func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.Background(), latest)
}

// commitAlone runs w, a group of one, in tx and commits it: the transaction is all or nothing
// already, so the three statements of a savepoint are spared when no other write shares it
// (a lone client's every write).
func (db *DB) commitAlone(ctx context.Context, tx *sql.Tx, w *groupWrite, result *error) error {
	if *result = w.ctx.Err(); *result == nil {
		*result = w.fn(context.WithoutCancel(w.ctx), tx)
	}
	if *result != nil {
		if err := tx.Rollback(); err != nil {
			*result = db.classify(fmt.Errorf("roll back a write: %w", errors.Join(*result, err)))
		}
		return nil
	}
	if err := tx.Commit(); err != nil {
		return db.classify(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// stopGroupCommit ends the writer once the writes already taken are answered; later writes
// get errClosed.
func (db *DB) stopGroupCommit() {
	if db.group != nil {
		close(db.groupStop)
		<-db.groupDone
	}
}
