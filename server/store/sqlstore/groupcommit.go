package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"

	"github.com/fini-oss/conversations/server/store"
)

// Group commit: where the engine has a single writer (SQLite), the deletes that arrive while
// a transaction commits wait for the writer anyway. Instead of one transaction each, those
// waiting run in one transaction, each inside a savepoint of its own, committed once. Each
// delete is still all or nothing (a failing one rolls back to its savepoint, alone) and is
// answered only after the commit that holds it. What the group shares is what a commit costs
// beside the rows: the transaction, and the pages several deletes touch (the ends of the
// deleted and record indexes, the inner pages of every B-tree), written to the log once
// instead of once a delete.
//
// No goroutine of its own commits the groups: a write that finds none under way leads one,
// on its request's goroutine, and the writes that queue meanwhile wait for it; once it has
// answered them, the first write still queued leads the next group. A committer goroutine
// would be one more goroutine that every write waits to be scheduled, twice (to take the
// write, and to be answered): on a busy processor its turns come late, and each late one
// holds every write behind it. Invariant: the queue is not empty only while a leader runs.

// maxGroup bounds the writes one transaction takes: a request waits for its group at most.
const maxGroup = 16

// Turns with another process's import, which writes in chunks (staging.go). SQLite keeps no
// queue of writers: a process waiting for the write lock polls for it, and would find it free
// only in the microseconds between one group's commit and the next one's BEGIN, since the next
// leader takes the lock again at once while writes are waiting. So once a BEGIN waited for
// the lock (it took longer than contended) while an import is staged, for sharing after it
// each leader leaves the lock free for shareFor before its transaction. The import,
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
	// lead tells the write that it leads the next group; chosen (under groupMu) says it was
	// told, so that it may no longer leave the queue.
	lead   chan struct{}
	chosen bool
}

// errClosed answers a write that comes after Close.
var errClosed = errors.New("the store is closed")

// errWritePanicked is the error of a write that panicked.
var errWritePanicked = errors.New("the write panicked")

// errLeaderFailed answers the writes of a group whose leader panicked outside the writes.
var errLeaderFailed = errors.New("the group's commit panicked")

// StartGroupCommit makes this DB's request writes share transactions, until Close.
func (db *DB) StartGroupCommit() {
	db.grouping = true
}

// write runs fn, a request's write, in a transaction: in a group when group commit runs,
// else in one of its own (inTx). It returns once the transaction committed or failed. A
// write whose ctx ends while it is queued leaves the queue, unless it was told to lead.
func (db *DB) write(ctx context.Context, fn txFunc) error {
	if !db.grouping {
		return db.inTx(ctx, fn)
	}
	w := &groupWrite{ctx: ctx, fn: fn, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	db.groupMu.Lock()
	if db.groupClosed {
		db.groupMu.Unlock()
		return errClosed
	}
	db.queue = append(db.queue, w)
	if !db.leading {
		db.leading = true
		db.groupMu.Unlock()
		return db.leadGroup(w)
	}
	db.groupMu.Unlock()
	gone := ctx.Done()
	for {
		select {
		case err := <-w.done:
			return err
		case <-w.lead:
			return db.leadGroup(w)
		case <-gone:
			if db.leaveQueue(w) {
				return ctx.Err()
			}
			// Taken into a group, which may be running, or told to lead: the answer is
			// its transaction's outcome.
			gone = nil
		}
	}
}

// leaveQueue takes w out of the queue and reports true, unless it is no longer there (a
// leader took it into its group) or was told to lead.
func (db *DB) leaveQueue(w *groupWrite) bool {
	db.groupMu.Lock()
	defer db.groupMu.Unlock()
	i := slices.Index(db.queue, w)
	if w.chosen || i < 0 {
		return false
	}
	db.queue = slices.Delete(db.queue, i, i+1)
	return true
}

// leadGroup commits the writes at the head of the queue, me first, up to maxGroup, in one
// transaction and answers them; then it passes the lead to the next write waiting, or ends
// group commit's turn. It returns me's answer.
func (db *DB) leadGroup(me *groupWrite) error {
	db.groupMu.Lock()
	n := min(len(db.queue), maxGroup)
	group := slices.Clone(db.queue[:n])
	db.queue = slices.Delete(db.queue, 0, n)
	db.groupMu.Unlock()
	answered := false
	defer func() {
		if !answered {
			// A panic outside the writes themselves (which run catches): the writes are
			// told, and the lead passes on, before the panic goes on up this request.
			for _, w := range group {
				w.done <- errLeaderFailed
			}
		}
		db.passLead()
	}()
	if time.Now().Before(db.sharingUntil) {
		time.Sleep(shareFor)
	}
	db.commitGroup(group)
	answered = true
	return <-me.done
}

// passLead tells the first write queued that it leads the next group, or, when none is,
// ends the leaders' turn (and lets a waiting Close return).
func (db *DB) passLead() {
	db.groupMu.Lock()
	defer db.groupMu.Unlock()
	if len(db.queue) > 0 {
		next := db.queue[0]
		next.chosen = true
		next.lead <- struct{}{}
		return
	}
	db.leading = false
	if db.noLeader != nil {
		close(db.noLeader)
		db.noLeader = nil
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
		results[i] = w.run(tx)
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

// run runs the write in tx, without its request's cancellation (tryGroup). It runs on the
// goroutine of the group's leader, which may be another request's: a panic of the write is
// its own error, rolled back with it (the caller's recovery would otherwise take it for the
// leader's, and the transaction would stay open, holding the writer).
func (w *groupWrite) run(tx *sql.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v\n%s", errWritePanicked, r, debug.Stack())
		}
	}()
	return w.fn(context.WithoutCancel(w.ctx), tx)
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
		*result = w.run(tx)
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

// stopGroupCommit returns once the writes already queued are answered; later writes get
// errClosed.
func (db *DB) stopGroupCommit() {
	db.groupMu.Lock()
	db.groupClosed = true
	var gone chan struct{}
	if db.leading {
		if db.noLeader == nil {
			db.noLeader = make(chan struct{})
		}
		gone = db.noLeader
	}
	db.groupMu.Unlock()
	if gone != nil {
		<-gone
	}
}
