package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/postgres/pgtest"
)

// TestLookupByIDAfterImportUsesThePrimaryKey: right after an import of 30,000 conversations
// of a demo conversation's size, before autovacuum has gathered statistics, a get or delete by
// (workspace_id, id) searches the primary key. Without statistics the planner read it from the
// live-list index, whose third column is the id: a scan of the whole workspace a request
// (1.5 ms here), which made get and delete over loopback 2.5 times slower than before the key
// named the workspace.
func TestLookupByIDAfterImportUsesThePrimaryKey(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t)
	ws := uuid.New()
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "plan", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	cs := make([]store.Conversation, 30_000)
	body := []byte(`{"text":"` + strings.Repeat("How do I reset my password? ", 45) + `"}`) // a demo conversation's size
	for i := range cs {
		cs[i] = store.Conversation{ID: uuid.New(), WorkspaceID: ws, Source: "api",
			CreatedAt: int64(i), LastMessageAt: int64(i), Body: body}
	}
	if err := db.ImportConversations(ctx, store.All(cs)); err != nil {
		t.Fatal(err)
	}
	lookups := map[string]string{
		"get":    `SELECT body FROM conversations WHERE id = '%s' AND workspace_id = '%s' AND deleted_at IS NULL`,
		"delete": `UPDATE conversations SET deleted_at = 1 WHERE workspace_id = '%[2]s' AND id = '%[1]s' AND deleted_at IS NULL`,
	}
	for name, q := range lookups {
		var plan string
		if err := db.Read.QueryRowContext(ctx, `EXPLAIN (FORMAT JSON) `+fmt.Sprintf(q, cs[777].ID, ws)).Scan(&plan); err != nil {
			t.Fatal(err)
		}
		if got := indexOf(t, plan); got != "conversations_pkey" {
			t.Errorf("%s by id after an import reads index %q, want conversations_pkey; plan %s", name, got, plan)
		}
	}
}

// indexOf is the index that the scan of conversations in an EXPLAIN (FORMAT JSON) plan reads.
func indexOf(t *testing.T, plan string) string {
	t.Helper()
	var doc []struct{ Plan map[string]any }
	if err := json.Unmarshal([]byte(plan), &doc); err != nil {
		t.Fatal(err)
	}
	var find func(node map[string]any) string
	find = func(node map[string]any) string {
		if kind, _ := node["Node Type"].(string); node["Relation Name"] == "conversations" && strings.HasSuffix(kind, "Scan") {
			name, _ := node["Index Name"].(string)
			return name
		}
		children, _ := node["Plans"].([]any)
		for _, c := range children {
			if m, ok := c.(map[string]any); ok {
				if name := find(m); name != "" {
					return name
				}
			}
		}
		return ""
	}
	return find(doc[0].Plan)
}
