package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fini-oss/conversations/server/servertest"
)

// TestDrive runs each operation briefly against the real stack: the figures add up and every
// answer is the one the op expects.
func TestDrive(t *testing.T) {
	env := servertest.New(t, 120)
	ids := make([]string, len(env.Seeded.ConversationIDs))
	for i, id := range env.Seeded.ConversationIDs {
		ids[i] = id.String()
	}
	// As bench-load.sh does: deletes and bulks over separate ids.
	sets := map[string][]string{"get": ids[:60], "list": ids[:60], "delete": ids[:60], "bulk": ids[60:]}
	for _, op := range []string{"get", "list", "delete", "bulk"} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		r, err := drive(ctx, env.URL, env.Seeded.Key, op, sets[op], 4, 400)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, n := range r.Statuses {
			total += n
		}
		if r.Requests == 0 || total != r.Requests || r.Errors != 0 || r.P99ms < r.P50ms {
			t.Errorf("%s: %+v", op, r)
		}
	}
}

func TestBulkBodiesAreDistinctRealIDs(t *testing.T) {
	ids := make([]string, 120)
	for i := range ids {
		ids[i] = strings.Repeat("0", 35) + string(rune('a'+i%26))
	}
	req, want := build(context.Background(), "http://127.0.0.1:1", "k", "bulk", ids, 1)
	if want != 200 || req.Method != http.MethodDelete {
		t.Errorf("first bulk: %s, want %d", req.Method, want)
	}
	if _, want := build(context.Background(), "http://127.0.0.1:1", "k", "bulk", ids, 3); want != 406 {
		t.Errorf("third bulk of 50 over 120 ids should expect a refusal, got %d", want)
	}
}
