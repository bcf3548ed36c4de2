// Package postgres is the production engine of the store: PostgreSQL through pgx, shared by
// any number of stateless server replicas. Bulk deletes lock their rows in id order and retry
// deadlocks and serialization failures inside, so replicas behave like one server. It depends
// on store and sqlstore.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open connects to the PostgreSQL database at dsn (postgres://... or keyword/value pairs) and
// applies the migrations. Its errors never show the DSN's password.
//
// Every call waits for the database at most the timeout of opts (sqlstore.DefaultTimeout
// unless sqlstore.WithTimeout says otherwise), and the server is told the same bound
// (statement_timeout, and idle_in_transaction_session_timeout, which frees the locks of a
// transaction whose client is gone), so that it does not go on with work nobody waits for.
// Migrations and an import's COPY are not bounded on the server's side: they take as long
// as their size takes (the migrations run on connections of their own).
func Open(ctx context.Context, dsn string, opts ...sqlstore.Option) (*sqlstore.DB, error) {
	o, err := sqlstore.Configure(opts)
	if err != nil {
		return nil, err
	}
	if err := checkPasswordCut(dsn); err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, parseError(dsn, err)
	}
	// A connection is one more wait for the database: bounded as the others, not by the OS.
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > o.Timeout {
		cfg.ConnectTimeout = o.Timeout
	}
	if err := migrate(ctx, cfg.Copy(), o.Timeout); err != nil {
		return nil, err
	}
	bound := strconv.FormatInt(max(1, o.Timeout.Milliseconds()), 10)
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["statement_timeout"] = bound
	cfg.RuntimeParams["idle_in_transaction_session_timeout"] = bound
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxLifetime(30 * time.Minute)
	return &sqlstore.DB{Read: db, Write: db, Dialect: Dialect, Now: time.Now, Timeout: o.Timeout}, nil
}

// migrate connects with cfg, within timeout, and applies the migrations on connections of
// their own, which no statement_timeout cuts short.
func migrate(ctx context.Context, cfg *pgx.ConnConfig, timeout time.Duration) error {
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	pingCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	return migrateDB(ctx, db)
}

func migrateDB(ctx context.Context, db *sql.DB) error {
	// Replicas starting together must not race to apply the same migration: goose's session
	// locker serialises them on a PostgreSQL advisory lock.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300)) // probe each second, up to 5 min
	if err != nil {
		return fmt.Errorf("postgres migrations: %w", err)
	}
	return sqlstore.Migrate(ctx, db, goose.DialectPostgres, migrations, "migrations", goose.WithSessionLocker(locker))
}

// purgeLock is the advisory lock that one purge batch at a time holds, across replicas: the
// pair (an arbitrary constant, the schema's name hashed), so that deployments in different
// schemas of one database purge independently. Pairs of int4 never conflict with goose's
// single-bigint migration lock.
const purgeLock = `pg_try_advisory_xact_lock(1718185577, hashtext(current_schema()))`

// Dialect is PostgreSQL's: `$n` placeholders, row locks for bulk deletes, and SQLSTATE codes
// rather than messages to classify errors.
var Dialect = sqlstore.Dialect{
	Rebind:    rebind,
	ForUpdate: " FOR UPDATE",
	ForShare:  " FOR SHARE",
	Classify:  classify,
	// pgx prepares and caches each query on each connection (QueryExecModeCacheStatement).
	CachesStatements: true,
	ChangingCTEs:     true,
	Copy:             copyRows,
	// A transaction-scoped advisory lock: released by the batch's commit or rollback, and by
	// the server when a replica dies mid-batch, so no replica can hold it for ever.
	PurgeLock: `SELECT ` + purgeLock,
	// COPY leaves the table without statistics; ANALYZE samples at most 30,000 rows.
	AfterImport: `ANALYZE conversations`,
	Retryable: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && (e.Code == "40P01" || e.Code == "40001")
	},
}

// rebind numbers the `?` placeholders of q as $1, $2, ... (our queries hold no `?` literals).
func rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func classify(err error) error {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		switch {
		case e.Code == "23505": // unique_violation
			return fmt.Errorf("%w: %w", store.ErrConflict, err)
		case e.Code == "23503": // foreign_key_violation
			return fmt.Errorf("%w: %w", store.ErrNotFound, err)
		case strings.HasPrefix(e.Code, "08"), strings.HasPrefix(e.Code, "57P"): // connection, shutdown
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		case e.Code == "57014", e.Code == "25P03": // statement_timeout, idle_in_transaction_session_timeout
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connectErr) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || pgconn.SafeToRetry(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// copyRows inserts rows with COPY, in one transaction of its own on one connection, pulling
// each row as COPY needs it. When ctx ends, pgx closes the connection at once, which ends
// the COPY and rolls it back on the server.
func copyRows(ctx context.Context, db *sql.DB, table string, columns []string, rows iter.Seq2[[]any, error]) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	defer conn.Close()
	next, stop := iter.Pull2(rows)
	defer stop()
	return conn.Raw(func(driverConn any) error {
		pc := driverConn.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return fmt.Errorf("copy: begin: %w", err)
		}
		defer tx.Rollback(ctx) //nolint:errcheck // after Commit a no-op; before it, the error that led here is the one to report
		// The COPY lasts as long as the import's rows: sqlstore bounds its progress instead.
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		// pgx turns a source's error into the server's "COPY failed" error; the source's own
		// (an import's line error) is the one to report.
		var rowErr error
		source := pgx.CopyFromFunc(func() ([]any, error) {
			row, err, ok := next()
			if !ok {
				return nil, nil
			}
			rowErr = err
			return row, err
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, source); rowErr != nil {
			return rowErr
		} else if err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("copy: commit: %w", err)
		}
		return nil
	})
}
