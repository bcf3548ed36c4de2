package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// Every statement of this package runs through exec, query, queryRow, txExec, txQuery or
// txPrepare.
// They bind the dialect's placeholders, pick the pool (reads on Read; writes on Write, behind
// the write gate, or in a transaction that entered it) and prepare each query once where the
// driver does not: modernc's SQLite prepares anew at every call, while pgx keeps a statement
// cache of its own on each connection, so with it nothing is prepared here (never cached
// twice).

// stmts caches prepared statements by pool and query text. Our queries are a small, fixed
// family (the variable parts are placeholder counts bounded by the spec), so it stays small.
type stmts struct {
	m sync.Map // stmtKey -> *sql.Stmt
}

type stmtKey struct {
	db    *sql.DB
	query string
}

// prepared returns query prepared on pool, or nil when the driver caches statements itself.
func (db *DB) prepared(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	if db.Dialect.CachesStatements {
		return nil, nil
	}
	k := stmtKey{pool, query}
	if st, ok := db.stmts.m.Load(k); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if prev, loaded := db.stmts.m.LoadOrStore(k, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (s *stmts) close() {
	s.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		s.m.Delete(k)
		return true
	})
}

// exec runs a write on the write pool, behind the write gate.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	leave, err := db.enterWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer leave()
	query = db.q(query)
	st, err := db.prepared(ctx, db.Write, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.Write.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// query runs a read on the read pool.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = db.q(query)
	st, err := db.prepared(ctx, db.Read, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.Read.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// queryRow runs a single-row read on the read pool.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	query = db.q(query)
	st, err := db.prepared(ctx, db.Read, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.Read.QueryRowContext(ctx, query, args...), nil
	}
	return st.QueryRowContext(ctx, args...), nil
}

// txExec runs a write in tx, a transaction of inTx. Statements in a transaction are not
// prepared on the pool: the transaction holds SQLite's only writer connection, which the
// pool would wait for.
func (db *DB) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	return tx.ExecContext(ctx, db.q(query), args...)
}

// txQuery runs a read in tx, a transaction of inTx.
func (db *DB) txQuery(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	return tx.QueryContext(ctx, db.q(query), args...)
}

// txPrepare prepares a statement that tx runs many times; it is closed with tx.
func (db *DB) txPrepare(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, err := tx.PrepareContext(ctx, db.q(query))
	if err != nil {
		return nil, db.classify(fmt.Errorf("prepare: %w", err))
	}
	return st, nil
}
