package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fini-oss/conversations/server/demo"
	"github.com/fini-oss/conversations/server/store/postgres/pgtest"
)

// erasure is one run of the erasure scenario: conversations, each with a token of its own in
// its subjectPreview (and, for one of them, a message long enough to need overflow pages),
// some of which are deleted through the API and then purged, while others stay live.
type erasure struct {
	db, ws, key   string
	deleted, kept []string // conversation ids
	tokens        map[string]string
	server        running
}

// newErasure creates the workspace, a key named erasure-ci and the conversations, then
// starts the server with a purge after 2 s every 100 ms.
func newErasure(t *testing.T, db string) *erasure {
	t.Helper()
	e := &erasure{db: db, tokens: map[string]string{}}
	e.ws = strings.TrimSpace(mustRun(t, db, "", "workspace", "create", "Erasure"))
	e.key = strings.TrimSpace(mustRun(t, db, "", "key", "create", "--workspace", e.ws, "--scopes", "read,write", "--name", "erasure-ci"))
	rnd := rand.New(rand.NewPCG(7, 8))
	var lines bytes.Buffer
	for i := range 8 {
		c := demo.Conversation(time.Now(), rnd)
		token := "erasure-token-" + randomHex(t)
		subject := "Please forget me " + token
		c.SubjectPreview = &subject
		if i == 0 {
			long := strings.Repeat("A long message that spills over one page. "+token+" ", 400) // ~20 KB
			c.Events[0].Message = &long
		}
		line, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		lines.Write(append(line, '\n'))
		id := c.ID.String()
		e.tokens[id] = token
		if i < 6 {
			e.deleted = append(e.deleted, id)
		} else {
			e.kept = append(e.kept, id)
		}
	}
	mustRun(t, db, lines.String(), "import", "--workspace", e.ws, "-")
	e.server, _ = startServeOn(t, db, "--purge-after", "2s", "--purge-interval", "100ms")
	return e
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := crand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// delete sends a DELETE with the erasure key and a request id, and wants a 200.
func (e *erasure) delete(t *testing.T, path, requestID, body string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(http.MethodDelete, "http://"+e.server.addr+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("X-Request-Id", requestID)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("DELETE %s: %d %s", path, res.StatusCode, b)
	}
}

// run deletes through the API (one delete, one bulk), calls deleted, finds each deletion with
// fini-server audit, waits for the purge's log line, and checks that the records remain and
// that restore says the conversations are gone for good. It returns when the purge had
// finished, by the server's clock.
func (e *erasure) run(t *testing.T, deleted func()) time.Time {
	t.Helper()
	e.delete(t, "/v2/hc-interactions/"+e.deleted[0]+"/public", "erasure-single", "")
	ids, _ := json.Marshal(map[string][]string{"ids": e.deleted[1:]})
	e.delete(t, "/v2/hc-interactions/public", "erasure-bulk", string(ids))
	deleted()

	table := mustRun(t, e.db, "", "audit", "--workspace", e.ws)
	for i, id := range e.deleted {
		op, req := "bulkDeleteConversations", "erasure-bulk"
		if i == 0 {
			op, req = "deleteConversation", "erasure-single"
		}
		if !lineWith(table, id, op, "erasure-ci", req) {
			t.Errorf("audit shows no line with %s %s erasure-ci %s:\n%s", id, op, req, table)
		}
	}

	purged := 0
	done := e.server.log.wait(t, "of the purge of 6 conversations", func(line map[string]any) bool {
		if line["msg"] == "retention run failed" {
			t.Fatalf("retention run failed: %v", line)
		}
		if n, ok := line["purged"].(float64); ok && line["msg"] == "retention run" {
			purged += int(n)
		}
		return purged >= len(e.deleted)
	})
	if purged != len(e.deleted) {
		t.Errorf("purged %d, want %d", purged, len(e.deleted))
	}

	records := map[string][]auditLine{}
	out := mustRun(t, e.db, "", "audit", "--workspace", e.ws, "--json")
	for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
		var l auditLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("audit --json line %q: %v", line, err)
		}
		records[l.ConversationID.String()] = append(records[l.ConversationID.String()], l)
	}
	for _, id := range e.deleted {
		rs := records[id]
		if len(rs) != 2 || rs[0].KeyName == nil || *rs[0].KeyName != "erasure-ci" || rs[0].RequestID == nil ||
			rs[1].Operation != "purge" || rs[1].KeyID != nil {
			t.Errorf("records of %s = %+v, want its deletion by erasure-ci, then its purge", id, rs)
		}
	}
	for _, id := range e.kept {
		if len(records[id]) != 0 {
			t.Errorf("a conversation never deleted has records: %+v", records[id])
		}
	}

	_, _, err := finiServer(t, e.db, "", "restore", "--workspace", e.ws, e.deleted[0])
	if err == nil || !strings.Contains(err.Error(), "was purged at") || !strings.Contains(err.Error(), "gone for good") {
		t.Errorf("restore of a purged conversation: %v, want it to say it was purged and is gone for good", err)
	}
	metrics := mustGet(t, "http://"+e.server.addr+"/metrics")
	if !strings.Contains(metrics, "\nfini_purged_conversations_total 6\n") {
		t.Errorf("/metrics does not count 6 purged conversations:\n%s", metrics)
	}
	at, err := time.Parse(time.RFC3339Nano, done["time"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// lineWith reports whether a line of text has every one of the fields among its own.
func lineWith(text string, fields ...string) bool {
	for line := range strings.SplitSeq(text, "\n") {
		have := strings.Fields(line)
		if !slices.ContainsFunc(fields, func(f string) bool { return !slices.Contains(have, f) }) {
			return true
		}
	}
	return false
}

func mustGet(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestErasureSQLite: after the purge, no byte of a purged conversation's text is left in the
// database file or its write-ahead log, while the live conversations' text is found there
// (the search works) and the deletion records remain.
func TestErasureSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "erasure.db")
	e := newErasure(t, "sqlite:"+path)
	e.run(t, func() {
		// The soft deletes rewrote each row, body and all, into the WAL (and the purge is a
		// second away): this is what the purge must also erase.
		wal := readFile(t, path+"-wal")
		for _, id := range e.deleted {
			if !bytes.Contains(wal, []byte(e.tokens[id])) {
				t.Errorf("soft-deleted conversation %s: its text is not in the WAL", id)
			}
		}
	})
	files := append(readFile(t, path), readFile(t, path+"-wal")...)
	for _, id := range e.deleted {
		if bytes.Contains(files, []byte(e.tokens[id])) {
			t.Errorf("purged conversation %s: its text is still in the database or its WAL", id)
		}
	}
	for _, id := range e.kept {
		if !bytes.Contains(files, []byte(e.tokens[id])) {
			t.Errorf("live conversation %s: its text is not found in the files, so the search proves nothing", id)
		}
	}
}

// readFile returns the file's bytes, none when it does not exist.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return b
}

// TestErasurePostgres: after the purge no row holds a purged conversation's text, the purge
// left no transaction open, and VACUUM then removes every dead tuple of the table.
func TestErasurePostgres(t *testing.T) {
	app := "fini-erasure-" + randomHex(t)
	dsn := pgtest.DSN(t) + "&application_name=" + app
	e := newErasure(t, dsn)
	purgedAt := e.run(t, func() {})
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, id := range e.deleted {
		if n := count(`SELECT count(*) FROM conversations WHERE body LIKE '%' || $1 || '%'`, e.tokens[id]); n != 0 {
			t.Errorf("purged conversation %s: %d rows still hold its text", id, n)
		}
	}
	for _, id := range e.kept {
		if n := count(`SELECT count(*) FROM conversations WHERE body LIKE '%' || $1 || '%'`, e.tokens[id]); n != 1 {
			t.Errorf("live conversation %s: %d rows hold its text, want 1 (the search proves nothing)", id, n)
		}
	}
	// None of the server's connections (named app) is still in a transaction begun before
	// the purge ended (the loop goes on running, every 100 ms, in transactions of its own):
	// nothing the purge did pins the dead rows.
	if n := count(`SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND xact_start <= $2`, app, purgedAt); n != 0 {
		t.Errorf("%d of the server's connections are still in a transaction begun before the purge ended", n)
	}
	// VACUUM removes the purged rows' tuples. A transaction of another test on this shared
	// database can hold back the horizon for a moment, of which no signal reaches us: VACUUM
	// is run again until it has nothing left, for at most 5 s.
	dead := -1
	for attempt := 0; attempt < 100 && dead != 0; attempt++ {
		if attempt > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := db.ExecContext(ctx, `VACUUM conversations`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
			t.Fatal(err)
		}
		dead = count(`SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'conversations' AND schemaname = current_schema()`)
	}
	if dead != 0 {
		t.Errorf("after VACUUM conversations, %d dead tuples remain", dead)
	}
}
