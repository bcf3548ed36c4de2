package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// Every statement of this package runs through exec, query, queryRow, txExec, txQuery or
// txPrepare, but SQLite's import pragmas (insertRows says why).
// They bind the dialect's placeholders, pick the pool (reads on Read; writes on Write, behind
// the write gate, or in a transaction that entered it) and prepare each query once where the
// driver does not: modernc's SQLite prepares anew at every call, while pgx keeps a statement
// cache of its own on each connection, so with it nothing is prepared here (never cached
// twice). Transactions reuse the statements prepared on the writer connection (txStmt).

// stmts caches prepared statements by pool and query text. Our queries are a small, fixed
// family (the variable parts are placeholder counts bounded by the spec), so it stays small.
type stmts struct {
	m sync.Map // stmtKey -> *sql.Stmt
	// pending are the queries that transactions ran unprepared, to prepare on the write
	// pool before the next transaction begins.
	pending sync.Map // query -> struct{}
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

// queryWrite runs a statement that changes data and returns rows (a data-changing CTE) on
// the write pool. It takes no write gate: only engines without one run such statements.
func (db *DB) queryWrite(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = db.q(query)
	st, err := db.prepared(ctx, db.Write, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return db.Write.QueryContext(ctx, query, args...)
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

// txExec runs a write in tx, a transaction of inTx.
func (db *DB) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	query = db.q(query)
	if st := db.txStmt(ctx, tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// txQuery runs a read (or a write that returns rows) in tx, a transaction of inTx.
func (db *DB) txQuery(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	query = db.q(query)
	if st := db.txStmt(ctx, tx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, query, args...)
}

// txStmt returns the statement of query prepared on the write pool, bound to tx, or nil.
// A transaction cannot prepare on the pool: it holds SQLite's only writer connection, which
// the pool would wait for. So a query's first run in a transaction is unprepared and marks
// it pending; tryTx prepares it before the next transaction begins, on that same
// connection, and from then on database/sql's Tx.StmtContext finds it prepared there.
func (db *DB) txStmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	if db.Dialect.CachesStatements {
		return nil
	}
	if st, ok := db.stmts.m.Load(stmtKey{db.Write, query}); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt))
	}
	db.stmts.pending.Store(query, struct{}{})
	return nil
}

// preparePending prepares the pending queries on the write pool; tryTx calls it inside the
// write gate, before it begins, while the writer connection is free. A query that fails to
// prepare stays pending and keeps running unprepared, where its own error would show.
func (db *DB) preparePending(ctx context.Context) {
	db.stmts.pending.Range(func(q, _ any) bool {
		if _, err := db.prepared(ctx, db.Write, q.(string)); err == nil {
			db.stmts.pending.Delete(q)
		}
		return true
	})
}

// txPrepare prepares a statement that tx runs many times; it is closed with tx.
func (db *DB) txPrepare(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, err := tx.PrepareContext(ctx, db.q(query))
	if err != nil {
		return nil, db.classify(fmt.Errorf("prepare: %w", err))
	}
	return st, nil
}
