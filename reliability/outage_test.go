package reliability_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSQLiteWriterHoldsLock: another writer holding SQLite's write lock for a while makes
// requests wait (busy timeout), not fail.
func TestSQLiteWriterHoldsLock(t *testing.T) {
	f := newFixture(t, "sqlite", 40)
	p := start(t, f.db, "")
	db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(f.db, "sqlite:")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	const hold = 1500 * time.Millisecond
	released := time.Now().Add(hold)
	go func() {
		time.Sleep(hold)
		_, _ = conn.ExecContext(context.Background(), `COMMIT`)
	}()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := call("DELETE", convURL(p.url, f.A.ConversationIDs[i]), f.writeKey, "")
			if r.status != http.StatusOK {
				t.Errorf("delete while another writer holds the lock: %d %s", r.status, r.body)
			}
		}()
	}
	wg.Wait()
	if time.Now().Before(released) {
		t.Error("deletes finished while the lock was held: the test did not exercise waiting")
	}
}

// TestPostgresOutage: a private PostgreSQL cluster is stopped for several seconds under load.
// Requests fail fast with a 503, Retry-After and the error envelope, /readyz says not ready,
// and within 2 s of the database's return the server answers again, without a restart.
func TestPostgresOutage(t *testing.T) {
	pg := newPrivateCluster(t)
	t.Setenv("FINI_TEST_POSTGRES", pg.dsn) // newFixture makes its schema in the private cluster
	pf := newFixture(t, "postgres", 100)
	p := start(t, pf.db, "")

	type sample struct {
		at         time.Time
		status     int
		latency    time.Duration
		body       string
		retryAfter string
	}
	var (
		mu      sync.Mutex
		samples []sample
		wg      sync.WaitGroup
		stop    = make(chan struct{})
	)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				began := time.Now()
				r := call("GET", convURL(p.url, pf.A.ConversationIDs[(w*13+n)%100]), pf.A.Key, "")
				mu.Lock()
				samples = append(samples, sample{began, r.status, time.Since(began), string(r.body), r.header.Get("Retry-After")})
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	pg.ctl(t, "stop", "-m", "immediate")
	down := time.Now()
	time.Sleep(500 * time.Millisecond)
	if r := call("GET", p.url+"/readyz", "", ""); r.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d, want 503", r.status)
	}
	time.Sleep(scaled(3*time.Second, 10*time.Second))
	pg.ctl(t, "start", "-w")
	back := time.Now()
	time.Sleep(2500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if r := call("GET", p.url+"/readyz", "", ""); r.status != http.StatusOK {
		t.Errorf("/readyz after the outage: %d", r.status)
	}

	var during, failedFast, recoveredAt = 0, 0, time.Time{}
	for _, s := range samples {
		switch {
		case s.at.After(down.Add(200*time.Millisecond)) && s.at.Before(back):
			during++
			var env struct{ StatusCode int }
			if s.status == http.StatusServiceUnavailable && s.retryAfter == "1" && json.Unmarshal([]byte(s.body), &env) == nil &&
				env.StatusCode == s.status && s.latency < 3*time.Second {
				failedFast++
			} else if s.status != http.StatusOK {
				t.Errorf("during the outage: %d after %v: %.200s", s.status, s.latency, s.body)
			}
		case s.at.After(back) && s.status == http.StatusOK && recoveredAt.IsZero():
			recoveredAt = s.at
		}
	}
	if during == 0 || failedFast == 0 {
		t.Fatalf("the outage was not exercised: %d requests during it, %d failed fast", during, failedFast)
	}
	if recoveredAt.IsZero() || recoveredAt.Sub(back) > 2*time.Second {
		t.Errorf("first success %v after the database returned, want within 2s", recoveredAt.Sub(back))
	}
	t.Logf("outage: %d requests while down, %d answered 503 with Retry-After in the envelope, fast; recovered %v after the database returned",
		during, failedFast, recoveredAt.Sub(back).Round(time.Millisecond))
}

// privateCluster is a throw-away PostgreSQL this test may stop and start without disturbing
// the shared one other tests use.
type privateCluster struct {
	dir, bin, dsn string
}

func newPrivateCluster(t *testing.T) *privateCluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 || os.Geteuid() != 0 {
		t.Skip("PostgreSQL outage test skipped: needs root and PostgreSQL's initdb to run a private cluster")
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		t.Skip("PostgreSQL outage test skipped: no runuser")
	}
	c := &privateCluster{dir: filepath.Join(os.TempDir(), fmt.Sprintf("fini-pg-%d", time.Now().UnixNano())), bin: filepath.Dir(bins[0])}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command("runuser", "-u", "postgres", "--", filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "stop", "-m", "immediate").Run()
		os.RemoveAll(c.dir)
	})
	if out, err := exec.Command("chown", "postgres", c.dir).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	if out, err := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(c.bin, "initdb"), "-D", c.dir, "-A", "trust", "-U", "postgres").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v %s", err, out)
	}
	port := strings.Split(freeAddr(t), ":")[1]
	opts := fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1 -c fsync=off", port, c.dir)
	if err := os.WriteFile(filepath.Join(c.dir, "fini-opts"), []byte(opts), 0o644); err != nil {
		t.Fatal(err)
	}
	c.dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable", port)
	c.ctl(t, "start", "-w")
	return c
}

func (c *privateCluster) ctl(t *testing.T, args ...string) {
	t.Helper()
	opts, _ := os.ReadFile(filepath.Join(c.dir, "fini-opts"))
	full := append([]string{"-u", "postgres", "--", filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-l", filepath.Join(c.dir, "log"), "-o", string(opts)}, args...)
	if out, err := exec.Command("runuser", full...).CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl %v: %v %s", args, err, out)
	}
}
