package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// stmts caches prepared statements by pool and query text. Our queries are a small, fixed
// family (the variable parts are placeholder counts bounded by the spec), so the cache stays
// small; preparing once saves the parse and plan of every call.
type stmts struct {
	m sync.Map // stmtKey -> *sql.Stmt
}

type stmtKey struct {
	db    *sql.DB
	query string
}

func (s *stmts) get(ctx context.Context, db *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{db, query}
	if st, ok := s.m.Load(k); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if prev, loaded := s.m.LoadOrStore(k, st); loaded {
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

// exec runs a prepared write on the write pool.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	leave, err := db.enterWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer leave()
	st, err := db.stmts.get(ctx, db.Write, db.q(query))
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// queryRow runs a prepared single-row read on the read pool.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) (*sql.Row, error) {
	st, err := db.stmts.get(ctx, db.Read, db.q(query))
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
}

// query runs a prepared read on the read pool.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.stmts.get(ctx, db.Read, db.q(query))
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}
