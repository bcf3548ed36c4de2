package reliability_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // the "sqlite" driver, for the integrity check
)

// TestCrashes: fini-server is killed with SIGKILL while bulk deletes are in flight, at least
// 20 times. After each restart every bulk is all or nothing, the conversations with a
// deletion record (fini-server audit) are exactly the deleted ones, each recorded once, and
// the database passes its integrity check.
func TestCrashes(t *testing.T) {
	f := newFixture(t, "sqlite", 4000)
	path := strings.TrimPrefix(f.db, "sqlite:")
	pool := f.A.ConversationIDs
	next := 0
	var mu sync.Mutex
	take := func() []uuid.UUID {
		mu.Lock()
		defer mu.Unlock()
		if next+10 > len(pool) {
			return nil
		}
		b := pool[next : next+10]
		next += 10
		return b
	}
	addr := freeAddr(t)
	cycles := scaled(20, 60)
	var sent [][]uuid.UUID
	for cycle := range cycles {
		p := start(t, f.db, addr)
		if cycle > 0 {
			checkBulks(t, p, f.A.Key, sent, cycle)
			checkRecords(t, f, path, cycle)
			checkIntegrity(t, path)
		}
		sent = sent[:0]
		var wg sync.WaitGroup
		var smu sync.Mutex
		stop := make(chan struct{})
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					batch := take()
					if batch == nil {
						return
					}
					smu.Lock()
					sent = append(sent, batch)
					smu.Unlock()
					body, _ := json.Marshal(map[string]any{"ids": batch})
					call("DELETE", listURL(p.url), f.writeKey, string(body))
				}
			}()
		}
		time.Sleep(time.Duration(50+cycle*7%100) * time.Millisecond)
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_, _ = p.cmd.Process.Wait()
		close(stop)
		wg.Wait()
	}
	p := start(t, f.db, addr)
	checkBulks(t, p, f.A.Key, sent, cycles)
	recorded := checkRecords(t, f, path, cycles)
	checkIntegrity(t, path)
	t.Logf("%d kill -9 cycles, %d bulks of 10 sent; every bulk all or nothing, %d deletions each recorded once and nothing else, integrity ok",
		cycles, next/10, recorded)
}

// checkRecords fails unless the conversations of workspace A that fini-server audit lists as
// deleted are exactly those the database holds as deleted, each listed once; it returns how
// many there are.
func checkRecords(t *testing.T, f *fixture, path string, cycle int) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id FROM conversations WHERE workspace_id = ? AND deleted_at IS NOT NULL`, f.A.WorkspaceID.String())
	if err != nil {
		t.Fatal(err)
	}
	deleted := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		deleted[id] = true
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(serverBin, "--db", f.db, "audit", "--workspace", f.A.WorkspaceID.String(), "--json").Output()
	if err != nil {
		t.Fatalf("after crash %d: fini-server audit: %v", cycle, err)
	}
	recorded := map[string]int{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		var r struct {
			ConversationID string `json:"conversationId"`
			Operation      string `json:"operation"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("after crash %d: audit line %q: %v", cycle, line, err)
		}
		if r.Operation != "bulkDeleteConversations" {
			t.Fatalf("after crash %d: unexpected record %s", cycle, line)
		}
		recorded[r.ConversationID]++
	}
	for id, n := range recorded {
		if n != 1 || !deleted[id] {
			t.Fatalf("after crash %d: %s has %d deletion records and is deleted: %v", cycle, id, n, deleted[id])
		}
	}
	for id := range deleted {
		if recorded[id] == 0 {
			t.Fatalf("after crash %d: %s is deleted but has no deletion record", cycle, id)
		}
	}
	return len(deleted)
}

// checkBulks fails when a bulk was partly applied.
func checkBulks(t *testing.T, p *proc, key string, bulks [][]uuid.UUID, cycle int) {
	t.Helper()
	for _, b := range bulks {
		gone := 0
		for _, id := range b {
			if r := call("GET", convURL(p.url, id), key, ""); r.status == http.StatusNotFound {
				gone++
			} else if r.status != http.StatusOK {
				t.Fatalf("after crash %d: get %s answered %d", cycle, id, r.status)
			}
		}
		if gone != 0 && gone != len(b) {
			t.Fatalf("after crash %d: a bulk of %d was partly applied: %d deleted", cycle, len(b), gone)
		}
	}
}

func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRowContext(context.Background(), `PRAGMA integrity_check`).Scan(&result); err != nil || result != "ok" {
		t.Fatalf("integrity check: %q, %v", result, err)
	}
}
