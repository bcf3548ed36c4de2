package reliability_test

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestReplicas: two fini-server processes on one PostgreSQL take concurrent bulk deletes
// over overlapping id sets. Every bulk is all or nothing, every id is deleted by exactly one
// bulk, and no deadlock or serialization failure reaches a client (the store retries them).
func TestReplicas(t *testing.T) {
	f := newFixture(t, "postgres", 2000)
	replicas := []*proc{start(t, f.db, ""), start(t, f.db, "")}
	type outcome struct {
		ids    []uuid.UUID
		status int
		named  []uuid.UUID
	}
	var (
		mu       sync.Mutex
		outcomes []outcome
		wg       sync.WaitGroup
	)
	deadline := time.Now().Add(scaled(3*time.Second, 30*time.Second))
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 7))
			for n := 0; time.Now().Before(deadline) && n < 10_000; n++ {
				// 10 of a window of 20 that drifts through the ids: concurrent bulks overlap
				// often, and mostly on ids still live.
				base := (n*10 + rnd.IntN(40)) % (len(f.A.ConversationIDs) - 20)
				ids := pick(rnd, f.A.ConversationIDs[base:base+20], 10)
				body, _ := json.Marshal(map[string]any{"ids": ids})
				r := call("DELETE", listURL(replicas[n%2].url), f.writeKey, string(body))
				o := outcome{ids: ids, status: r.status}
				if r.status == http.StatusNotAcceptable {
					var env struct{ IDs []uuid.UUID }
					_ = json.Unmarshal(r.body, &env)
					o.named = env.IDs
				}
				if r.err != nil {
					o.status = -1
				}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	deletedBy := map[uuid.UUID]int{}
	ok, refused := 0, 0
	for _, o := range outcomes {
		switch o.status {
		case http.StatusOK:
			ok++
			for _, id := range o.ids {
				deletedBy[id]++
			}
		case http.StatusNotAcceptable:
			refused++
			if len(o.named) == 0 {
				t.Errorf("a 406 named no ids")
			}
		default:
			t.Fatalf("a bulk delete answered %d: a conflict reached the client", o.status)
		}
	}
	for id, n := range deletedBy {
		if n != 1 {
			t.Errorf("%s deleted by %d successful bulks", id, n)
		}
	}
	// What is deleted is exactly the union of the successful bulks: a refused bulk deleted nothing.
	for _, id := range f.A.ConversationIDs {
		r := call("GET", convURL(replicas[0].url, id), f.A.Key, "")
		if gone := r.status == http.StatusNotFound; gone != (deletedBy[id] == 1) {
			t.Errorf("%s: deleted=%v, but successful bulks deleting it: %d", id, gone, deletedBy[id])
		}
	}
	if ok == 0 || refused == 0 {
		t.Errorf("the race was not exercised: %d succeeded, %d refused", ok, refused)
	}
	t.Logf("%d bulk deletes over 2 replicas: %d all-deleted, %d refused whole, %d ids deleted once each", len(outcomes), ok, refused, len(deletedBy))
}
