package sqlite_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/fini-oss/conversations/server/store/storetest"
)

// TestPurgeCountsOnlyCommittedBatches: a purge that fails in a batch's records reports the
// batches that committed, not the one that rolled back, and the rows stored agree with it.
func TestPurgeCountsOnlyCommittedBatches(t *testing.T) {
	ctx := context.Background()
	db, path, ws, live := openSeeded(t)
	if err := db.BulkDeleteConversations(ctx, ws, live, storetest.BenchActor(t, db, ws)); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// The second batch's records fail, after its DELETE ran in the same transaction.
	if _, err := raw.Exec(`CREATE TRIGGER fail_second_purge BEFORE INSERT ON audit_records
		WHEN NEW.operation = 'purge' AND (SELECT COUNT(*) FROM audit_records WHERE operation = 'purge') >= 2
		BEGIN SELECT RAISE(ABORT, 'injected failure'); END`); err != nil {
		t.Fatal(err)
	}

	n, err := db.PurgeDeleted(ctx, 1<<62, 2)
	if err == nil {
		t.Fatal("the purge succeeded despite the failing records")
	}
	if n != 2 {
		t.Errorf("purge reported %d purged; want 2, the one batch that committed", n)
	}
	var stored int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM conversations WHERE workspace_id = ?`, ws.String()).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if want := len(live) - 2; stored != want {
		t.Errorf("%d conversations stored after the purge; want %d", stored, want)
	}
}
