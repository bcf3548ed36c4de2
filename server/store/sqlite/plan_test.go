package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
)

// TestIDLookupsUseTheKeyWhateverTheStatistics: a bulk delete's check names the workspace and
// the ids, and SQLite searches them by the primary key even when its statistics were taken
// on an empty table (a database opened, then filled by an import). With the id alone as the
// key, the planner chose the workspace's list index and read the whole workspace per bulk.
func TestIDLookupsUseTheKeyWhateverTheStatistics(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "plan.db")
	db, err := sqlite.Open(ctx, path) // analyses the empty tables
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ws := uuid.New()
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "plan", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	cs := make([]store.Conversation, 3000)
	for i := range cs {
		cs[i] = store.Conversation{ID: uuid.New(), WorkspaceID: ws, Source: "api", CreatedAt: int64(i), LastMessageAt: int64(i), Body: []byte(`{}`)}
	}
	if err := db.ImportConversations(ctx, store.All(cs)); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	// With and without the condition that hides an import's staged rows, which every
	// statement on live conversations carries.
	var queries []string
	for _, visible := range []string{"", db.Staging.Visible} {
		queries = append(queries,
			`SELECT id FROM conversations WHERE workspace_id = ? AND deleted_at IS NULL AND id IN (?, ?, ?)`+visible,
			`UPDATE conversations SET deleted_at = 1 WHERE workspace_id = ? AND deleted_at IS NULL AND id IN (?, ?, ?)`+visible,
			`SELECT body FROM conversations WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL`+visible)
	}
	for _, q := range queries {
		rows, err := raw.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, ws.String(), "a", "b", "c")
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		if got := strings.Join(plan, "; "); !strings.Contains(got, "sqlite_autoindex_conversations") || !strings.Contains(got, "id=?") {
			t.Errorf("%.60s...: plan %q, want a search of the primary key by workspace_id and id", q, got)
		}
	}
}
