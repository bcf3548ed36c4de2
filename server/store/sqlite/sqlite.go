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
	"io/fs"
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

// busyTimeout is how long a statement waits for another connection's lock before failing:
// a writer holding the lock briefly causes waiting, not errors.
const busyTimeout = 5 * time.Second

// Open opens (creating if needed) the SQLite database at path and applies the migrations.
func Open(ctx context.Context, path string) (*sqlstore.DB, error) {
	dsn := func(extra string) string {
		v := url.Values{}
		v.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
		v.Add("_pragma", "journal_mode(WAL)")
		v.Add("_pragma", "foreign_keys(1)")
		v.Add("_pragma", "synchronous(NORMAL)")
		return "file:" + path + "?" + v.Encode() + extra
	}
	write, err := sql.Open("sqlite", dsn("&_txlock=immediate"))
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
	read, err := sql.Open("sqlite", dsn("&_pragma=query_only(1)"))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	return &sqlstore.DB{Read: read, Write: write, Dialect: Dialect, Now: time.Now}, nil
}

// Migrate applies the embedded migrations to the database at path.
func Migrate(ctx context.Context, path string) error {
	db, err := Open(ctx, path)
	if err != nil {
		return err
	}
	return db.Close()
}

func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		return fmt.Errorf("sqlite migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite migrations: %w", err)
	}
	return nil
}

// Dialect is SQLite's: `?` placeholders, no row locks (the transaction holds the only write
// lock), and result codes rather than messages to classify errors.
var Dialect = sqlstore.Dialect{
	Rebind:    func(q string) string { return q },
	ForUpdate: "",
	Classify:  classify,
	Retryable: func(err error) bool {
		code, ok := resultCode(err)
		return ok && (code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED)
	},
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
	case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL:
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}
