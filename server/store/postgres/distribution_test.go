package postgres_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/postgres/pgtest"
)

// spanWorkspaces are the statements that span workspaces by design: the maintenance of
// every workspace at once (the purge, its progress gauge, the records' retention, the
// statistics an import refreshes), not a request of one. On a database distributed by workspace they run on every shard.
var spanWorkspaces = []*regexp.Regexp{
	regexp.MustCompile(`^DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at <`),
	regexp.MustCompile(`^SELECT MIN\(deleted_at\) FROM conversations`),
	regexp.MustCompile(`^DELETE FROM audit_records WHERE recorded_at <`),
	regexp.MustCompile(`^ANALYZE conversations$`), // statistics after an import
}

// TestQueriesStayInTheirWorkspace is the simulation of README's "Running on a distributed
// PostgreSQL": many workspaces on one node. It runs every kind of request of the store for one
// workspace among many, records each statement the store sends, and asks PostgreSQL for each
// one's generic plan (the plan for any values): every scan of conversations or audit_records
// must be an index search whose condition names workspace_id. No statement of a request can
// then read or lock another workspace's rows, and each is one a database distributed by
// workspace routes to a single shard.
func TestQueriesStayInTheirWorkspace(t *testing.T) {
	db := pgtest.Open(t)
	var (
		mu      sync.Mutex
		queries = map[string]bool{}
	)
	rebind := db.Dialect.Rebind
	db.Dialect.Rebind = func(q string) string {
		q = rebind(q)
		mu.Lock()
		queries[q] = true
		mu.Unlock()
		return q
	}

	ctx := context.Background()
	var w uuid.UUID
	var ids []uuid.UUID
	for n := range 40 { // workspaces, each with its conversations and records
		ws := uuid.New()
		if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: fmt.Sprint("w", n), CreatedAt: 1}); err != nil {
			t.Fatal(err)
		}
		cs := make([]store.Conversation, 50)
		bot, channel := uuid.New(), "chat"
		for i := range cs {
			cs[i] = store.Conversation{ID: uuid.New(), WorkspaceID: ws, BotID: &bot, Source: "api", Channel: &channel,
				CreatedAt: int64(1000 + i), LastMessageAt: int64(1000 + i), Body: []byte(`{}`)}
		}
		if err := db.ImportConversations(ctx, store.All(cs)); err != nil {
			t.Fatal(err)
		}
		w, ids = ws, nil
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
	}
	key := store.Actor{KeyID: uuid.New(), KeyName: "k", RequestID: "r", Operation: "bulkDeleteConversations"}
	if err := db.CreateAPIKey(ctx, store.APIKey{ID: key.KeyID, WorkspaceID: w, Name: key.KeyName, Scopes: []string{"write"},
		Hash: key.KeyID[:], CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	mustDo := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// Every kind of request of one workspace, and the operator's acts.
	mustDo("get", func() error { _, err := db.GetConversation(ctx, w, ids[0]); return err }())
	bot, channel := uuid.New(), "chat"
	for _, q := range []store.ListQuery{
		{WorkspaceID: w, Since: 0, Until: 1 << 40, Limit: 10},
		{WorkspaceID: w, Since: 0, Until: 1 << 40, Limit: 10, Cursor: &ids[20]},
		{WorkspaceID: w, Since: 0, Until: 1 << 40, Limit: 10, Cursor: &ids[20], Direction: store.Newer},
		{WorkspaceID: w, Since: 0, Until: 1 << 40, Limit: 10, BotID: &bot, Sources: []string{"api", "ui"}, Channels: []string{channel}},
	} {
		mustDo("list", func() error { _, err := db.ListConversations(ctx, q); return err }())
	}
	mustDo("delete", db.DeleteConversation(ctx, w, ids[1], key))
	mustDo("bulk delete", db.BulkDeleteConversations(ctx, w, ids[2:12], key))
	if err := db.BulkDeleteConversations(ctx, w, ids[2:4], key); err == nil {
		t.Fatal("a bulk of deleted ids was not refused")
	}
	mustDo("count", func() error { _, err := db.CountConversations(ctx, w); return err }())
	mustDo("restore", db.RestoreConversation(ctx, w, ids[2], store.Operator(store.OpRestore)))
	for _, q := range []store.AuditQuery{
		{WorkspaceID: w, Until: 1 << 62},
		{WorkspaceID: w, ConversationID: &ids[3], Until: 1 << 62},
		{WorkspaceID: w, KeyID: &key.KeyID, Since: 1, Until: 1 << 62},
	} {
		for _, err := range db.AuditRecords(ctx, q) {
			mustDo("audit", err)
		}
	}
	mustDo("purge", func() error { _, err := db.PurgeDeleted(ctx, time.Now().Add(time.Hour).UnixMilli(), 100); return err }())
	if err := db.RestoreConversation(ctx, w, ids[3], store.Operator(store.OpRestore)); err == nil {
		t.Fatal("a purged conversation was restored")
	}
	mustDo("oldest", func() error { _, _, err := db.OldestDeleted(ctx); return err }())
	mustDo("prune", func() error { _, err := db.PruneAuditRecords(ctx, 1, 100); return err }())

	conn := explainConn(t, db.Write)
	var checked []string
	for q := range queries {
		if !strings.Contains(q, "conversations") && !strings.Contains(q, "audit_records") {
			continue // workspaces and keys: small tables, replicated to every node (README)
		}
		norm := strings.Join(strings.Fields(q), " ")
		if slices.ContainsFunc(spanWorkspaces, func(re *regexp.Regexp) bool { return re.MatchString(norm) }) {
			t.Logf("spans workspaces by design: %.90s", norm)
			continue
		}
		scans, err := scansOf(ctx, conn, q)
		if err != nil {
			t.Fatalf("explain %.120s: %v", norm, err)
		}
		for _, s := range scans {
			if !strings.Contains(s.cond, "workspace_id") {
				t.Errorf("%s of %s without workspace_id (%q) in: %.200s", s.node, s.table, s.cond, norm)
			}
		}
		checked = append(checked, fmt.Sprintf("%-24s %.100s", scanSummary(scans), norm))
	}
	slices.Sort(checked)
	t.Logf("%d statements of one workspace's requests, each an index search by workspace_id:\n%s", len(checked), strings.Join(checked, "\n"))
	if len(checked) < 12 {
		t.Errorf("only %d statements seen: the workload above no longer reaches the store", len(checked))
	}
}

// scan is a plan node that reads a table of a workspace's rows.
type scan struct{ node, table, cond string }

func scanSummary(scans []scan) string {
	var parts []string
	for _, s := range scans {
		parts = append(parts, s.table)
	}
	return strings.Join(parts, ",")
}

// explainConn is one connection on which generic plans are forced, so that a plan holds for
// every value of the statement's parameters, and sequential scans are priced out: the test's
// tables are small, where reading them whole is cheapest, and what it proves is that an index
// search by workspace exists for each statement, as on a large table the planner takes it.
func explainConn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	for _, set := range []string{`SET plan_cache_mode = force_generic_plan`, `SET enable_seqscan = off`} {
		if _, err := conn.ExecContext(context.Background(), set); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

var placeholder = regexp.MustCompile(`\$(\d+)`)

// prepared names the statements scansOf prepares, one name each.
var prepared atomic.Int64

// scansOf prepares q and returns the scans of conversations and audit_records in its generic
// plan, each with the condition that bounds it (an index condition, or the filter of a
// sequential scan, which has none).
func scansOf(ctx context.Context, conn *sql.Conn, q string) ([]scan, error) {
	n := 0
	for _, m := range placeholder.FindAllStringSubmatch(q, -1) {
		i, err := strconv.Atoi(m[1])
		if err != nil {
			return nil, err
		}
		n = max(n, i)
	}
	name := fmt.Sprintf("explained_%d", prepared.Add(1))
	if _, err := conn.ExecContext(ctx, `PREPARE `+name+` AS `+q); err != nil {
		return nil, err
	}
	args := strings.TrimSuffix(strings.Repeat("NULL, ", n), ", ")
	execute := `EXPLAIN (FORMAT JSON) EXECUTE ` + name
	if n > 0 {
		execute += `(` + args + `)`
	}
	var plan string
	if err := conn.QueryRowContext(ctx, execute).Scan(&plan); err != nil {
		return nil, err
	}
	var doc []struct{ Plan map[string]any }
	if err := json.Unmarshal([]byte(plan), &doc); err != nil {
		return nil, err
	}
	var out []scan
	var walk func(node map[string]any)
	walk = func(node map[string]any) {
		table, _ := node["Relation Name"].(string)
		kind, _ := node["Node Type"].(string)
		if (table == "conversations" || table == "audit_records") && strings.Contains(kind, "Scan") {
			cond, _ := node["Index Cond"].(string)
			if kind == "Bitmap Heap Scan" {
				cond = bitmapCond(node)
			}
			out = append(out, scan{node: kind, table: table, cond: cond})
		}
		children, _ := node["Plans"].([]any)
		for _, c := range children {
			if m, ok := c.(map[string]any); ok {
				walk(m)
			}
		}
	}
	walk(doc[0].Plan)
	return out, nil
}

// bitmapCond is the index conditions under a bitmap heap scan, joined.
func bitmapCond(node map[string]any) string {
	var conds []string
	children, _ := node["Plans"].([]any)
	for _, c := range children {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		if cond, ok := m["Index Cond"].(string); ok {
			conds = append(conds, cond)
		}
		conds = append(conds, bitmapCond(m))
	}
	return strings.Join(conds, " ")
}
