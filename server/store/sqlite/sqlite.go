// Package sqlite is the embedded default engine of the store: pure Go SQLite
// (modernc.org/sqlite, no cgo) in WAL mode, with one writer connection beside a pool of
// readers, a busy timeout and foreign keys on. It depends on store and sqlstore.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens (creating if needed) the SQLite database at path and applies the migrations.
// The database and its -wal and -shm files are readable by their owner only (0600), whatever
// the umask; an existing database's group and other permissions are taken away.
//
// Every call waits for the database at most the timeout of opts (sqlstore.DefaultTimeout
// unless sqlstore.WithTimeout says otherwise): a statement waits that long for another
// process's lock (SQLite's busy timeout: a writer holding the lock briefly causes waiting,
// not errors), and a write that long for its turn at this process's writer. A request's
// delete that has begun is not interrupted, since it may share its transaction with others
// (sqlstore's group commit): its statements run on a file whose write lock it holds.
func Open(ctx context.Context, path string, opts ...sqlstore.Option) (*sqlstore.DB, error) {
	o, err := sqlstore.Configure(opts)
	if err != nil {
		return nil, err
	}
	if err := makePrivate(path); err != nil {
		return nil, err
	}
	busyTimeout := o.Timeout
	dsn := func(extra string) string {
		v := url.Values{}
		v.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", max(1, busyTimeout.Milliseconds())))
		v.Add("_pragma", "journal_mode(WAL)")
		v.Add("_pragma", "foreign_keys(1)")
		v.Add("_pragma", "synchronous(NORMAL)")
		return "file:" + path + "?" + v.Encode() + extra
	}
	// Checkpoints run in the background (see checkpointer), never inside a request's commit.
	// secure_delete overwrites what a write frees (a deleted row, the old copy of an updated
	// one, a freed page) with zeros, so that a purged conversation leaves no bytes behind in
	// the pages it occupied.
	write, err := sql.Open("sqlite", dsn("&_txlock=immediate&_pragma=wal_autocheckpoint(0)&_pragma=secure_delete(1)"))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// One writer: SQLite allows one at a time anyway, and waiting in Go's pool is cheaper and
	// fairer than spinning on SQLITE_BUSY.
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, err
	}
	// Without statistics SQLite guesses that "workspace_id = ?" on a partial index beats 50
	// primary-key lookups, and a bulk delete scans the workspace. A bounded ANALYZE (a few
	// hundred rows an index) is quick at any size; the checkpointer refreshes it now and then.
	// Statistics only help the planner (every key names its workspace, so no plan depends on
	// them for correctness): a database another process holds locked is opened without them.
	if _, err := write.ExecContext(ctx, `PRAGMA analysis_limit=400; ANALYZE`); err != nil && !isBusy(err) {
		write.Close()
		return nil, fmt.Errorf("sqlite analyze: %w", err)
	}
	read, err := sql.Open("sqlite", dsn("&_pragma=query_only(1)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	db := &sqlstore.DB{Read: read, Write: write, Dialect: Dialect, Now: time.Now, Timeout: o.Timeout, WriteGate: make(chan struct{}, 1)}
	cp, err := startCheckpointer(dsn(""), path, db.WriteGate, busyTimeout)
	if err != nil {
		db.Close()
		return nil, err
	}
	db.OnClose, db.AfterPurge = cp.stop, cp.afterPurge
	// One writer: the deletes waiting for it share its transactions (sqlstore's group commit).
	db.StartGroupCommit()
	return db, nil
}

// checkpointEvery is how often the background checkpointer copies the WAL into the database.
const checkpointEvery = 500 * time.Millisecond

// optimizeEvery is how many checkpoint ticks pass between refreshes of the planner's
// statistics (about ten minutes).
const optimizeEvery = 1200

// checkpointer checkpoints the WAL on its own connection every checkpointEvery. SQLite's
// automatic checkpoint would run inside whichever commit crossed the threshold, and with
// synchronous=NORMAL a checkpoint syncs the files: a request would wait for the disk. PASSIVE
// never waits for readers or writers. Being the one place checkpoints run, it also runs the
// checkpoints that a purge asks for (afterPurge), which no PASSIVE one can then get in the
// way of.
type checkpointer struct {
	conn *sql.DB
	// gate is the store's write gate, which a purge's checkpoint enters (afterPurgeNow).
	gate chan struct{}
	// busyTimeout is how long its checkpoints wait for the readers of older snapshots.
	busyTimeout time.Duration
	truncates   chan truncation
	done        chan struct{}
	stopped     chan struct{}
}

// truncation is a request for a RESTART or TRUNCATE checkpoint.
type truncation struct {
	ctx   context.Context
	last  bool
	reply chan error
}

func startCheckpointer(dsn, path string, gate chan struct{}, busyTimeout time.Duration) (*checkpointer, error) {
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, gate: gate, busyTimeout: busyTimeout, truncates: make(chan truncation), done: make(chan struct{}),
		stopped: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.stopped)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-c.done:
			return
		case req := <-c.truncates:
			req.reply <- c.afterPurgeNow(req.ctx, req.last)
		case <-t.C:
			// A failed checkpoint is retried on the next tick; the WAL keeps the data.
			_, _ = c.conn.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			if n%optimizeEvery == 0 {
				_, _ = c.conn.Exec(`PRAGMA analysis_limit=400; PRAGMA optimize`)
			}
		}
	}
}

// afterPurge keeps the WAL small during a purge and erases it after: after a batch (last
// false) it copies the WAL into the database and restarts it from its start, so that it does
// not grow for as long as a large purge runs beside other writes (a WAL restarts only at a
// quiet moment); after the purge (last true) it also truncates it to zero bytes, so that no
// old frame (an earlier image of a page: a soft-deleted row, or a purged one before its
// secure deletion) is left in the -wal file. Truncating only then matters: the file system
// takes hundreds of milliseconds to truncate a file now and then, and writers wait for it.
func (c *checkpointer) afterPurge(ctx context.Context, last bool) error {
	req := truncation{ctx: ctx, last: last, reply: make(chan error, 1)}
	select {
	case c.truncates <- req:
	case <-c.done:
		return errors.New("sqlite: closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.reply
}

// afterPurgeNow runs a RESTART (or, last, a TRUNCATE) checkpoint inside the store's write
// gate. The checkpoint needs the write lock: polling for it (the busy handler) against this
// process's writer, which takes it again and again under load, can starve for seconds, while
// in the gate it is simply the next writer in line. Writers wait while it runs, so first a
// PASSIVE checkpoint, outside the gate, copies and syncs what the WAL holds (megabytes after a
// purge batch); the one in the gate is left the frames written since. Readers of older
// snapshots are still waited for (the busy timeout); busy means one of them outlasted it.
func (c *checkpointer) afterPurgeNow(ctx context.Context, last bool) error {
	if _, err := c.conn.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		return fmt.Errorf("sqlite: checkpoint the WAL: %w", err)
	}
	select {
	case c.gate <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.gate }()
	mode := "RESTART"
	if last {
		mode = "TRUNCATE"
	}
	var busy, logFrames, checkpointed int
	if err := c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
		return fmt.Errorf("sqlite: %s checkpoint: %w", mode, err)
	}
	if busy != 0 {
		return fmt.Errorf("sqlite: %s checkpoint: busy after %v (%d of %d frames checkpointed)", mode, c.busyTimeout, checkpointed, logFrames)
	}
	return nil
}

// stop stops the checkpointer and checkpoints once more.
func (c *checkpointer) stop() error {
	close(c.done)
	<-c.stopped
	_, err := c.conn.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return errors.Join(err, c.conn.Close())
}

func migrate(ctx context.Context, db *sql.DB) error {
	return sqlstore.Migrate(ctx, db, goose.DialectSQLite3, migrations, "migrations")
}

// Dialect is SQLite's: `?` placeholders, no row locks (the transaction holds the only write
// lock), and result codes rather than messages to classify errors.
var Dialect = sqlstore.Dialect{
	Rebind:    func(q string) string { return q },
	ForUpdate: "",
	ForShare:  "",
	Classify:  classify,
	// Nothing is worth running again at once: a BUSY comes after the busy timeout already
	// waited for the lock, and another wait would only outlast the client's (a 503 with
	// Retry-After says the same in time).
	Retryable: func(error) bool { return false },
	// A bulk load touches every index all over: 64 MiB of cache keep their pages in memory.
	// Requests' commits keep SQLite's default (2 MB), because each commit walks the page
	// cache's hash table, which grows with the pages cached (a 64 MiB cache made a delete
	// 27% slower).
	ImportPragmas: [2]string{`PRAGMA cache_size = -65536`, `PRAGMA cache_size = -2000`},
}

// isBusy reports whether err is SQLite's "database is locked" (BUSY or LOCKED).
func isBusy(err error) bool {
	code, ok := resultCode(err)
	return ok && (code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED)
}

func resultCode(err error) (int, bool) {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return 0, false
	}
	return e.Code() & 0xff, true
}

func classify(err error) error {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	switch e.Code() & 0xff {
	// BUSY and LOCKED: another process (an import, a backup) held the database for longer
	// than the busy timeout. Like a database that cannot be reached, it is worth a retry.
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}
