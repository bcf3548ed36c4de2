package reliability_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // the "sqlite" driver, for the integrity check
)

// TestCrashes: fini-server is killed with SIGKILL while bulk deletes are in flight, at least
// 20 times. After each restart every bulk is all or nothing, and the database passes its
// integrity check.
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
	checkIntegrity(t, path)
	t.Logf("%d kill -9 cycles, %d bulks of 10 sent; every bulk all or nothing, integrity ok", cycles, next/10)
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
