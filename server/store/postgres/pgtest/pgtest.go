// Package pgtest opens throw-away PostgreSQL stores for tests: each in its own schema of the
// database named by FINI_TEST_POSTGRES, dropped when the test ends. Without that variable the
// calling test is skipped, with a message saying how to run it.
package pgtest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/fini-oss/conversations/server/store/postgres"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// EnvDSN names the environment variable holding the test database's DSN.
const EnvDSN = "FINI_TEST_POSTGRES"

// DSN returns a DSN for a fresh schema, dropped at the end of the test, or skips the test.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		t.Skipf("PostgreSQL tests skipped: set %s, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable", EnvDSN)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("open %s: %v", EnvDSN, err)
	}
	schema := "t_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvDSN, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated store in a fresh schema, closed at the end of the test.
func Open(t testing.TB) *sqlstore.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), DSN(t))
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
