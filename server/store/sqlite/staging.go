package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// An import is staged (sqlstore.Staging): written in chunks that no statement on live
// conversations sees, then published in one short transaction.

// visible hides the claimed rows: rowids from the claim's first on. The unary + keeps the
// planner from taking the term for a range of rowids to scan instead of the key or index
// that each statement's workspace and id or time range give it.
const visible = ` AND +rowid < (SELECT IFNULL(MIN(first_rowid), 9223372036854775807) FROM import_staging)`

// importParams are the import connection's own settings: it waits for the write lock itself
// (beginTx), and its page cache is as large as a bulk load needs (the writer keeps SQLite's
// default: each of its commits walks the cache's hash table, which grows with the pages
// cached; a 64 MiB cache made a delete 27% slower).
const importParams = "&_txlock=immediate&_pragma=busy_timeout(0)&_pragma=wal_autocheckpoint(0)&_pragma=secure_delete(1)" +
	"&_pragma=cache_size(-65536)"

// Waits of an import: it checks for its turn every lockPoll, gives up after lockWait
// without one (a writer that never lets go), and, while another process has the database
// open, leaves the lock free after each transaction (pause); slotPoll is how often a second
// import checks for its turn.
const (
	lockPoll = time.Millisecond
	lockWait = 30 * time.Second
	slotPoll = 50 * time.Millisecond
)

// importWALLimit is how large an import lets the WAL grow before it restarts it (boundWAL):
// with a chunk on top, well within the 256 MiB the checkpointer holds it to otherwise.
var importWALLimit int64 = 64 << 20

// SQLite's busy handler (sqliteDefaultBusyCallback) lets a writer that waits for the lock
// try again after busyDelays[i] ms, once it waited busyTotals[i] ms; then every 100 ms.
var (
	busyDelays = [...]int{1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100}
	busyTotals = [...]int{0, 1, 3, 8, 18, 33, 53, 78, 103, 128, 178, 228}
)

// retryWithin is how long a writer of another process that began to wait when a
// transaction began, held ago, may sleep before it tries again: its busy handler's delay
// then.
func retryWithin(held time.Duration) time.Duration {
	ms := int(held.Milliseconds())
	for i := len(busyTotals) - 1; i >= 0; i-- {
		if ms >= busyTotals[i] {
			return time.Duration(busyDelays[i]) * time.Millisecond
		}
	}
	return time.Millisecond
}

// staging is the database at path's sqlstore.Staging. The import slot is an exclusive lock
// on a database of its own, path plus "-import", which holds no data: SQLite's locks are
// held per connection, across processes and within one, and a process that dies loses them.
// The import's connection waits busy for another process's lock, the store's timeout.
func staging(path string, busy time.Duration) *sqlstore.Staging {
	return &sqlstore.Staging{
		Visible:    visible,
		Begin:      func(ctx context.Context) (*sql.DB, func() error, error) { return beginImport(ctx, path, busy) },
		BeginTx:    beginTx,
		Pause:      (&presence{path: path}).pause,
		AfterChunk: func(ctx context.Context, conn *sql.DB) error { return boundWAL(ctx, conn, path) },
	}
}

// restartWait is how long an import's RESTART checkpoint waits for other connections'
// writers and readers before it leaves the restart to a later chunk.
const restartWait = time.Second

// boundWAL restarts the WAL from its start once it holds importWALLimit, so that the next
// chunk writes over the old frames rather than grow the file. The checkpointer copies
// nothing while an import is staged, until the WAL holds its forceFrames, and then copies
// it all at once while the import writes on; the import itself has a moment between its
// chunks, when it holds no lock. Once the file has reached the limit (its size is the most
// the WAL ever held), a PASSIVE checkpoint after each chunk copies what it can without the
// write lock and says how much the WAL holds; at the limit, a RESTART holds the write lock
// (other writers wait) only to copy what the PASSIVE one left and wait for the readers. A
// restart that cannot be had within restartWait is tried after the next chunk.
func boundWAL(ctx context.Context, conn *sql.DB, path string) error {
	fi, err := os.Stat(path + "-wal")
	if err != nil || fi.Size() < importWALLimit {
		return nil // no WAL file yet, or a small one: nothing to bound
	}
	c, err := conn.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: bound the WAL: %w", err)
	}
	defer c.Close()
	_, frames, _, err := walCheckpoint(ctx, c, "PASSIVE")
	if err != nil || int64(frames)*frameBytes < importWALLimit {
		return err // the file holds less than its size: a restart made room at its start
	}
	if _, err := c.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, restartWait.Milliseconds())); err != nil {
		return fmt.Errorf("sqlite: bound the WAL: %w", err)
	}
	// The import's connection waits for the write lock itself (beginTx): its busy timeout is 0.
	defer func() { _, _ = c.ExecContext(context.WithoutCancel(ctx), `PRAGMA busy_timeout = 0`) }()
	_, _, _, err = walCheckpoint(ctx, c, "RESTART")
	return err
}

// presence is whether other processes have the database open, as last found: finding out
// reads /proc/locks, which takes milliseconds now and then, so it is found out again at most
// every presenceEvery. A process that opens the database during an import finds its writes
// waiting that long at most before the import leaves it turns.
type presence struct {
	path    string
	mu      sync.Mutex
	checked time.Time
	others  bool
}

const presenceEvery = time.Second

// pause is how long an import leaves the write lock free after a transaction that held it
// for held, if other processes have the database open (else nothing): long enough for a
// writer that waited all along to try again, and a little more.
func (p *presence) pause(held time.Duration) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.checked) >= presenceEvery {
		p.checked, p.others = now, othersHaveItOpen(p.path)
	}
	if p.others {
		return retryWithin(held) + 5*time.Millisecond
	}
	return 0
}

// beginImport takes the import slot of the database at path, waiting for it, and opens the
// import's connection.
func beginImport(ctx context.Context, path string, busy time.Duration) (*sql.DB, func() error, error) {
	lockPath := path + "-import"
	if err := makePrivate(lockPath); err != nil {
		return nil, nil, err
	}
	lock, err := sql.Open("sqlite", "file:"+lockPath+"?_pragma=busy_timeout(0)")
	if err != nil {
		return nil, nil, fmt.Errorf("open sqlite %s: %w", lockPath, err)
	}
	lock.SetMaxOpenConns(1)
	held, err := lock.Conn(ctx)
	for err == nil {
		if _, err = held.ExecContext(ctx, `BEGIN EXCLUSIVE`); !isBusy(err) {
			break
		}
		t := time.NewTimer(slotPoll)
		select {
		case <-t.C:
			err = nil
		case <-ctx.Done():
			t.Stop()
			err = ctx.Err()
		}
	}
	if err != nil {
		return nil, nil, errors.Join(classify(fmt.Errorf("take the import slot: %w", err)), closeLock(held, lock))
	}
	conn, err := sql.Open("sqlite", dsn(path, importParams, busy))
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("open sqlite %s: %w", path, err), closeLock(held, lock))
	}
	conn.SetMaxOpenConns(1)
	conn.SetConnMaxIdleTime(0)
	end := func() error { return errors.Join(conn.Close(), closeLock(held, lock)) }
	return conn, end, nil
}

// closeLock gives the import slot back.
func closeLock(held *sql.Conn, lock *sql.DB) error {
	var err error
	if held != nil {
		err = held.Close() // ends the transaction, and with it the lock
	}
	return errors.Join(err, lock.Close())
}

// beginTx begins a write transaction on the import's connection, checking every lockPoll
// whether another process's writer left the write lock free: often enough to take the
// turns that group commit leaves (sqlstore's shareFor).
func beginTx(ctx context.Context, conn *sql.DB) (*sql.Tx, error) {
	deadline := time.Now().Add(lockWait)
	for {
		tx, err := conn.BeginTx(ctx, nil)
		if !isBusy(err) || time.Now().After(deadline) {
			return tx, err
		}
		t := time.NewTimer(lockPoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
}
