package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // the "sqlite" driver, to write records in bulk

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
)

// heapWatch is an output that counts lines and, every `every` lines, measures the live heap
// (after a collection), keeping the largest.
type heapWatch struct {
	lines, every int
	maxInuse     uint64
}

func (w *heapWatch) Write(p []byte) (int, error) {
	for _, b := range p {
		if b != '\n' {
			continue
		}
		if w.lines++; w.lines%w.every == 0 {
			w.measure()
		}
	}
	return len(p), nil
}

func (w *heapWatch) measure() {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	w.maxInuse = max(w.maxInuse, m.HeapInuse)
}

// TestAuditStreamsInBoundedMemory: 200,000 records (50,000 under the race detector) are
// printed, as a table and as JSON Lines, while the live heap stays within a few MiB of where
// it started: holding them would take about 120 MiB (30 MiB for 50,000).
func TestAuditStreamsInBoundedMemory(t *testing.T) {
	n := 200_000
	if raceDetector {
		n = 50_000
	}
	path := filepath.Join(t.TempDir(), "audit.db")
	db := "sqlite:" + path
	ws := strings.TrimSpace(mustRun(t, db, "", "workspace", "create", "Audit"))
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < ?)
		INSERT INTO audit_records (recorded_at, workspace_id, conversation_id, operation, key_id, key_name, request_id)
		SELECT 1764000000000 + n / 50, ?, printf('00000000-0000-4000-8000-%012d', n), 'bulkDeleteConversations',
			'7f0c3f52-9d6e-4d43-a7a1-3f5c2b8e9d10', 'bulk-key', 'request-' || (n / 50) FROM i`, n, ws); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	for _, format := range [][]string{nil, {"--json"}} {
		t.Run(fmt.Sprint("format=", format), func(t *testing.T) {
			w := &heapWatch{every: 20_000}
			w.measure()
			start := w.maxInuse
			var errOut bytes.Buffer
			cmd := newRootCmd(w, &errOut)
			cmd.SetArgs(append([]string{"--db", db, "audit", "--workspace", ws}, format...))
			if err := cmd.ExecuteContext(context.Background()); err != nil {
				t.Fatalf("audit: %v\n%s", err, errOut.String())
			}
			want := n
			if format == nil {
				want++ // the header
			}
			if w.lines != want {
				t.Errorf("printed %d lines, want %d", w.lines, want)
			}
			const limit = 16 << 20
			if grew := w.maxInuse - min(start, w.maxInuse); grew > limit {
				t.Errorf("the live heap grew by %d MiB while printing, more than %d MiB: the records are held, not streamed", grew>>20, limit>>20)
			}
			t.Logf("live heap: %.1f MiB at the start, at most %.1f MiB while printing %d records", float64(start)/(1<<20), float64(w.maxInuse)/(1<<20), n)
		})
	}
}

// TestAuditFilters: each flag keeps exactly its records, and bad values are refused with the
// flag named.
func TestAuditFilters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "filters.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ws := uuid.New()
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "w", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	for _, id := range ids {
		if err := s.ImportConversations(ctx, store.All([]store.Conversation{{ID: id, WorkspaceID: ws, Source: "api", Body: []byte(`{}`)}})); err != nil {
			t.Fatal(err)
		}
	}
	alice := store.Actor{KeyID: uuid.New(), KeyName: "alice's key", RequestID: "r1", Operation: "deleteConversation"}
	bob := store.Actor{KeyID: uuid.New(), KeyName: "bob", RequestID: "r2", Operation: "deleteConversation"}
	for _, a := range []store.Actor{alice, bob} {
		if err := s.CreateAPIKey(ctx, store.APIKey{ID: a.KeyID, WorkspaceID: ws, Name: a.KeyName, Scopes: []string{"write"},
			Hash: a.KeyID[:], CreatedAt: 1}); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for i, a := range []store.Actor{alice, bob, alice} {
		s.Now = func() time.Time { return t0.Add(time.Duration(i) * time.Hour) }
		if err := s.DeleteConversation(ctx, ws, ids[i], a); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	db := "sqlite:" + path

	audit := func(args ...string) []string {
		t.Helper()
		out := mustRun(t, db, "", append([]string{"audit", "--workspace", ws.String()}, args...)...)
		var got []string
		for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
			var l auditLine
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			got = append(got, l.ConversationID.String())
		}
		return got
	}
	for _, tt := range []struct {
		args []string
		want []uuid.UUID
	}{
		{nil, ids},
		{[]string{"--key", alice.KeyID.String()}, []uuid.UUID{ids[0], ids[2]}},
		{[]string{"--conversation", ids[1].String()}, []uuid.UUID{ids[1]}},
		{[]string{"--since", "2026-11-27T11:00:00Z"}, ids[1:]},
		{[]string{"--until", "2026-11-27T11:00:00Z"}, ids[:1]},
		{[]string{"--since", fmt.Sprint(t0.Add(time.Hour).UnixMilli()), "--until", fmt.Sprint(t0.Add(2 * time.Hour).UnixMilli())}, ids[1:2]},
	} {
		got := audit(append(tt.args, "--json")...)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("audit %v = %v, want %v", tt.args, got, tt.want)
		}
	}

	table := mustRun(t, db, "", "audit", "--workspace", ws.String(), "--key", alice.KeyID.String())
	if want := `2026-11-27T10:00:00.000Z  deleteConversation       ` + ids[0].String() + `  ` + alice.KeyID.String() + `  "alice's key"     r1`; !strings.Contains(table, want+"\n") {
		t.Errorf("table =\n%s\nwant a line\n%s", table, want)
	}

	for _, tt := range []struct{ args []string }{
		{[]string{"--since", "yesterday"}},
		{[]string{"--until", "2026-11-27"}},
		{[]string{"--key", "bob"}},
		{[]string{"--since", "2026-11-27T11:00:00Z", "--until", "2026-11-27T10:00:00Z"}},
	} {
		_, _, err := finiServer(t, db, "", append([]string{"audit", "--workspace", ws.String()}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.args[len(tt.args)-2]) {
			t.Errorf("audit %v: %v, want an error naming %s", tt.args, err, tt.args[len(tt.args)-2])
		}
	}
}
