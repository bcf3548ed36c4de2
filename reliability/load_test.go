package reliability_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestLoad: 64 concurrent clients mix all four operations for a bounded time. Each client owns
// a disjoint share of workspace A's conversations and keeps a model of them, so every answer
// is predicted exactly: zero unexpected statuses, zero spec violations (enforce mode turns one
// into a 500), and at the end the database equals the model. Then the secrets checks: no
// issued key in the log, the metrics, any body or the database files.
func TestLoad(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) { testLoad(t, engine) })
	}
}

func testLoad(t *testing.T, engine string) {
	const clients = 64
	f := newFixture(t, engine, 640)
	p := start(t, f.db, "")
	duration := scaled(4*time.Second, 60*time.Second)
	deadline := time.Now().Add(duration)

	var (
		requests, unexpected atomic.Int64
		mu                   sync.Mutex
		bodies               bytes.Buffer // error bodies, for the secrets check
		failures             []string
		deleted              = make([]map[uuid.UUID]bool, clients)
		wg                   sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		unexpected.Add(1)
		mu.Lock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
		mu.Unlock()
	}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(c), 99))
			var own []uuid.UUID
			for i := c; i < len(f.A.ConversationIDs); i += clients {
				own = append(own, f.A.ConversationIDs[i])
			}
			gone := map[uuid.UUID]bool{}
			deleted[c] = gone
			check := func(what string, r answer, want int) {
				requests.Add(1)
				if r.err != nil || r.status != want {
					fail("%s: got %d (%v), want %d: %.200s", what, r.status, r.err, want, r.body)
				}
				if r.status >= 400 {
					mu.Lock()
					bodies.Write(r.body)
					mu.Unlock()
				}
			}
			for n := 0; time.Now().Before(deadline) && n < 100_000; n++ {
				id := own[rnd.IntN(len(own))]
				switch op := rnd.IntN(10); {
				case op < 3:
					want := http.StatusOK
					if gone[id] {
						want = http.StatusNotFound
					}
					check("get", call("GET", convURL(p.url, id), f.readKey, ""), want)
				case op < 5:
					check("list", call("GET", listURL(p.url)+"?limit=20&source=widget,api&channel=chat", f.A.Key, ""), http.StatusOK)
				case op < 6:
					check("delete", call("DELETE", convURL(p.url, id), f.writeKey, ""), http.StatusOK)
					gone[id] = true
				case op < 8:
					batch := pick(rnd, own, 1+rnd.IntN(5))
					var missing []uuid.UUID
					for _, b := range batch {
						if gone[b] {
							missing = append(missing, b)
						}
					}
					body, _ := json.Marshal(map[string]any{"ids": batch})
					r := call("DELETE", listURL(p.url), f.writeKey, string(body))
					if len(missing) == 0 {
						check("bulk", r, http.StatusOK)
						for _, b := range batch {
							gone[b] = true
						}
						break
					}
					check("bulk with deleted ids", r, http.StatusNotAcceptable)
					var env struct{ IDs []uuid.UUID }
					if json.Unmarshal(r.body, &env) == nil && fmt.Sprint(env.IDs) != fmt.Sprint(missing) {
						fail("bulk 406 named %v, want %v", env.IDs, missing)
					}
				case op < 9:
					foreign := f.B.ConversationIDs[rnd.IntN(len(f.B.ConversationIDs))]
					check("foreign get", call("GET", convURL(p.url, foreign), f.A.Key, ""), http.StatusNotFound)
					check("foreign delete", call("DELETE", convURL(p.url, foreign), f.A.Key, ""), http.StatusOK)
				default:
					check("wrong scope", call("DELETE", convURL(p.url, id), f.readKey, ""), http.StatusForbidden)
				}
			}
		}()
	}
	wg.Wait()
	for _, msg := range failures {
		t.Error(msg)
	}

	// The final state equals the model.
	var wantGone int
	for c := range clients {
		for id := range deleted[c] {
			if r := call("GET", convURL(p.url, id), f.A.Key, ""); r.status != http.StatusNotFound {
				t.Errorf("%s was deleted but answers %d", id, r.status)
			}
			wantGone++
		}
	}
	var page struct{ Interactions []json.RawMessage }
	live := 0
	for _, id := range f.A.ConversationIDs {
		if r := call("GET", convURL(p.url, id), f.A.Key, ""); r.status == http.StatusOK {
			live++
		}
	}
	if live != len(f.A.ConversationIDs)-wantGone {
		t.Errorf("%d conversations live, the model says %d", live, len(f.A.ConversationIDs)-wantGone)
	}
	_ = json.Unmarshal(call("GET", listURL(p.url)+"?limit=100", f.B.Key, "").body, &page)
	if len(page.Interactions) != 20 {
		t.Errorf("workspace B lists %d conversations, want its 20 untouched", len(page.Interactions))
	}
	metrics := string(call("GET", p.url+"/metrics", "", "").body)
	if !strings.Contains(metrics, `fini_validation_failures_total{kind="response"} 0`) {
		t.Errorf("responses failed validation under load:\n%s", grep(metrics, "validation_failures"))
	}
	if m := regexp.MustCompile(`fini_http_requests_total\{[^}]*status="5\d\d"\} [1-9]`).FindString(metrics); m != "" {
		t.Errorf("5xx under load: %s", m)
	}
	t.Logf("%s: %d clients, %d requests in %v, %d unexpected, %d conversations deleted as modelled",
		engine, clients, requests.Load(), duration, unexpected.Load(), wantGone)

	// Secrets: no issued key anywhere it could leak.
	places := map[string][]byte{"the request log": []byte(p.logText()), "/metrics": []byte(metrics), "error bodies": bodies.Bytes()}
	if path, ok := strings.CutPrefix(f.db, "sqlite:"); ok {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if b, err := os.ReadFile(path + suffix); err == nil {
				places["the database file "+filepath.Base(path+suffix)] = b
			}
		}
	}
	if len(places["the request log"]) == 0 {
		t.Error("the server logged nothing: the secrets check would prove nothing")
	}
	for _, key := range f.keys {
		for where, b := range places {
			if bytes.Contains(b, []byte(key)) || bytes.Contains(b, []byte(strings.TrimPrefix(key, "fini_"))) {
				t.Errorf("an issued key appears in %s", where)
			}
		}
	}
}

func pick(rnd *rand.Rand, from []uuid.UUID, n int) []uuid.UUID {
	idx := rnd.Perm(len(from))[:min(n, len(from))]
	out := make([]uuid.UUID, len(idx))
	for i, j := range idx {
		out[i] = from[j]
	}
	return out
}

func grep(s, substr string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
