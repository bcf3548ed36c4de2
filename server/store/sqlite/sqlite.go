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

// dsn is the data source name of a connection to the database at path, with the settings
// every connection shares (a statement waits busy for another connection's lock: a writer
// holding the lock briefly causes waiting, not errors) and the extra parameters.
func dsn(path, extra string, busy time.Duration) string {
	v := url.Values{}
	v.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", max(1, busy.Milliseconds())))
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "foreign_keys(1)")
	v.Add("_pragma", "synchronous(NORMAL)")
	return "file:" + path + "?" + v.Encode() + extra
}

// writerParams are the writer connection's own settings. Checkpoints run in the background
// (checkpoint.go), never inside a request's commit. secure_delete overwrites what a write
// frees (a deleted row, the old copy of an updated one, a freed page) with zeros, so that a
// purged conversation leaves no bytes behind in the pages it occupied.
const writerParams = "&_txlock=immediate&_pragma=wal_autocheckpoint(0)&_pragma=secure_delete(1)"

// Open opens (creating if needed) the SQLite database at path and applies the migrations.
// The database and its -wal and -shm files are readable by their owner only (0600), whatever
// the umask; an existing database's group and other permissions are taken away.
//
// Every call waits for the database at most the timeout of opts (sqlstore.DefaultTimeout
// unless sqlstore.WithTimeout says otherwise): a statement waits that long for another
// process's lock (SQLite's busy timeout), and a write that long for its turn at this
// process's writer. A request's delete that has begun is not interrupted, since it may share
// its transaction with others (sqlstore's group commit): its statements run on a file whose
// write lock it holds.
//
// On a full disk it opens all the same, for reading: the first connection to a database
// that no other one has open rebuilds its shared-memory index (the -shm file), which needs
// room, so Open keeps a reserve file beside the database (reserve.go) and, when the disk has
// no room for that index, removes the reserve and tries again.
func Open(ctx context.Context, path string, opts ...sqlstore.Option) (*sqlstore.DB, error) {
	o, err := sqlstore.Configure(opts)
	if err != nil {
		return nil, err
	}
	if err := makePrivate(path); err != nil {
		return nil, err
	}
	db, err := open(ctx, path, o)
	if errors.Is(err, store.ErrDiskFull) {
		freed, ferr := freeReserve(path)
		if ferr != nil {
			return nil, errors.Join(err, ferr)
		}
		if freed {
			db, err = open(ctx, path, o)
		}
	}
	if err != nil {
		return nil, err
	}
	// Best effort: a disk too full for the reserve leaves none, and the next Open tries again.
	_ = keepReserve(path)
	return db, nil
}

// open opens the database's connections, migrates it and starts its background work; every
// wait for the database is bounded by o.Timeout.
func open(ctx context.Context, path string, o sqlstore.Options) (*sqlstore.DB, error) {
	timeout := o.Timeout
	dsn := func(extra string) string { return dsn(path, extra, timeout) }
	write, err := sql.Open("sqlite", dsn(writerParams))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// One writer: SQLite allows one at a time anyway, and waiting in Go's pool is cheaper and
	// fairer than spinning on SQLITE_BUSY.
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	if err := migrate(ctx, write); err != nil {
		write.Close()
		return nil, classify(err)
	}
	// Without statistics SQLite guesses that "workspace_id = ?" on a partial index beats 50
	// primary-key lookups, and a bulk delete scans the workspace. A bounded ANALYZE (a few
	// hundred rows an index) is quick at any size; the checkpointer refreshes it now and then.
	// Statistics only help the planner (every key names its workspace, so no plan depends on
	// them for correctness): a database another process holds locked, or on a full disk, is
	// opened without them.
	if _, err := write.ExecContext(ctx, `PRAGMA analysis_limit=400; ANALYZE`); err != nil && !isBusy(err) &&
		!errors.Is(classify(err), store.ErrDiskFull) {
		write.Close()
		return nil, classify(fmt.Errorf("sqlite analyze: %w", err))
	}
	read, err := sql.Open("sqlite", dsn("&_pragma=query_only(1)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	db := &sqlstore.DB{Read: read, Write: write, Dialect: Dialect, Now: time.Now, Timeout: timeout, WriteGate: make(chan struct{}, 1),
		Staging: staging(path, timeout)}
	cp, err := startCheckpointer(dsn(""), path, db.WriteGate, o)
	if err != nil {
		db.Close()
		return nil, err
	}
	// An import whose process died left rows that no statement sees: removed in the
	// background, at most until Close, and otherwise by the next import or open.
	bg, cancel := context.WithCancel(context.Background())
	dropped := make(chan struct{})
	go func() {
		defer close(dropped)
		_ = db.DropAbandonedImport(bg)
	}()
	db.OnClose = func() error {
		cancel()
		<-dropped
		return cp.stop()
	}
	db.AfterPurge = cp.afterPurge
	// One writer: the deletes waiting for it share its transactions (sqlstore's group commit).
	db.StartGroupCommit()
	return db, nil
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
	// No room to grow the shared-memory index: the file system is full (or over a quota).
	case sqlite3.SQLITE_IOERR_SHMSIZE:
		return fmt.Errorf("%w: %w", store.ErrDiskFull, err)
	}
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return fmt.Errorf("%w: %w", store.ErrDiskFull, err)
	// BUSY and LOCKED: another process (an import, a backup) held the database for longer
	// than the busy timeout. Like a database that cannot be reached, it is worth a retry.
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}
