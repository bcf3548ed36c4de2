package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/fini-oss/conversations/server/store"
)

// Deadlines: a database that stops answering while its connections stay open (a paused
// relay, a frozen host, a network partition) must not hold a call for ever. Every call that
// waits for the database does so within DB.Timeout: acquiring a connection, waiting for a
// write gate or a group commit, each statement (the engine may also bound statements on the
// server's side). A deadline the store set itself makes the call fail with
// store.ErrUnavailable (worth a retry); the caller's own cancellation or deadline stays a
// context error. Long operations are bounded piecewise: each purge batch, each page of the
// deletion record and each batch of its pruning gets its own deadline, and an import gets a
// deadline that moves with its progress (watch), so that it may take as long as its rows
// take but not stall. The calls whose context carries a store.WaitBudget share DB.Timeout
// between them.

// DefaultTimeout is how long a store call waits for the database unless WithTimeout says
// otherwise.
const DefaultTimeout = 5 * time.Second

// errDeadline is the cause of the deadlines the store sets itself, which tells them from
// the caller's.
var errDeadline = errors.New("the database did not answer in time")

// bound returns ctx with the store's deadline and end, to defer with the call's error: it
// releases the deadline and makes the error what the caller should see (answer). The
// deadline is DB.Timeout (none when it is 0), or what is left of it in the store.WaitBudget
// that ctx carries, which end charges with the call's time.
func (db *DB) bound(ctx context.Context) (context.Context, func(*error)) {
	if db.Timeout <= 0 {
		return ctx, func(*error) {}
	}
	timeout, budget := db.Timeout, store.WaitBudgetFrom(ctx)
	var start time.Time
	if budget != nil {
		timeout, start = budget.Left(db.Timeout), time.Now()
	}
	bounded, cancel := context.WithTimeoutCause(ctx, timeout, errDeadline)
	return bounded, func(err *error) {
		if budget != nil {
			budget.Spend(time.Since(start))
		}
		*err = db.answer(ctx, bounded, *err)
		cancel()
	}
}

// answer is what a call whose context was bounded (derived from the caller's, parent)
// returns for err: the outcomes of the store's contract as they are; for any other error, a
// context error when the caller cancelled (whatever the driver made of it), and
// store.ErrUnavailable when the store's own deadline cut the call short.
func (db *DB) answer(parent, bounded context.Context, err error) error {
	switch {
	case err == nil || isOutcome(err):
		return err
	case parent.Err() != nil:
		if errors.Is(err, parent.Err()) && !errors.Is(err, store.ErrUnavailable) {
			return err
		}
		return fmt.Errorf("%w (%v)", parent.Err(), err) //nolint:errorlint // shown, not wrapped: it may say ErrUnavailable, which this is not
	case errors.Is(context.Cause(bounded), errDeadline):
		return fmt.Errorf("%w: no answer within %v: %w", store.ErrUnavailable, db.Timeout, err)
	}
	return err
}

// isOutcome reports whether err is an answer of the store's contract, about the data, rather
// than a failure to reach it.
func isOutcome(err error) bool {
	var na *store.NotAccessibleError
	var pe *store.PurgedError
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrCursorNotFound) ||
		errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrPurgeLocked) ||
		errors.Is(err, store.ErrKeyRevoked) || errors.As(err, &na) || errors.As(err, &pe)
}

// progress is a deadline that moves with an import's progress. Its clock runs while the
// database has the turn (connecting, beginning, taking rows, committing) and stops while the
// import reads its own source, which may be as slow as its sender; when the database keeps
// the turn for DB.Timeout, the context is cancelled, with errDeadline as its cause.
type progress struct {
	timer   *time.Timer
	timeout time.Duration
}

// watch returns ctx cancelled once the database kept the turn for DB.Timeout (none when it
// is 0), the progress that tracks the turn (rows), and end, as bound's.
func (db *DB) watch(ctx context.Context) (context.Context, *progress, func(*error)) {
	if db.Timeout <= 0 {
		return ctx, nil, func(*error) {}
	}
	watched, cancel := context.WithCancelCause(ctx)
	p := &progress{timer: time.AfterFunc(db.Timeout, func() { cancel(errDeadline) }), timeout: db.Timeout}
	return watched, p, func(err *error) {
		p.timer.Stop()
		*err = db.answer(ctx, watched, *err)
		cancel(nil)
	}
}

// rows yields what rows yields, stopping the clock while rows reads its source and starting
// it again while the consumer (the database's side) has a row, and once rows ends.
func (p *progress) rows(rows iter.Seq2[[]any, error]) iter.Seq2[[]any, error] {
	if p == nil {
		return rows
	}
	return func(yield func([]any, error) bool) {
		p.timer.Stop()
		defer p.timer.Reset(p.timeout)
		for r, err := range rows {
			p.timer.Reset(p.timeout)
			if !yield(r, err) {
				return
			}
			p.timer.Stop()
		}
	}
}
