package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fini-oss/conversations/server/ratelimit"
	"github.com/fini-oss/conversations/server/servertest"
	"github.com/fini-oss/conversations/server/store"
)

const tooManyRequests = `{"statusCode":429,"message":"Too many requests","error":"Too Many Requests"}`

// clock is a server clock that moves only when a test moves it.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// lookupCounter counts the key lookups that reach the store.
type lookupCounter struct {
	store.API
	n *atomic.Int64
}

func (s lookupCounter) APIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error) {
	s.n.Add(1)
	return s.API.APIKeyByHash(ctx, hash)
}

// TestRateLimitPerKey: with 1/m and a burst of 1, each operation answers a key's first
// request and refuses its second with the exact 429, its Retry-After and the rate-limit
// headers, without a store lookup; another key is not affected; a minute later the key is
// served again.
func TestRateLimitPerKey(t *testing.T) {
	clk := newClock()
	var lookups atomic.Int64
	e := newTestServerWith(t, servertest.Options{Now: clk.now, RateLimit: ratelimit.RateLimit{Requests: 1, Per: time.Minute},
		WrapStore: func(s store.API) store.API { return lookupCounter{s, &lookups} }})
	const policy = `"default";q=1;w=60`
	for _, op := range e.se.Samples(t) {
		t.Run(op.OperationID, func(t *testing.T) {
			key := e.newKey(op.Scopes...)
			first := e.do(op.Method, op.Path, key, op.Body)
			first.expect(t, op.Status, "")
			expectRateLimit(t, first, policy, `"default";r=0;t=60`)

			before := lookups.Load()
			refused := e.do(op.Method, op.Path, key, op.Body)
			refused.expect(t, 429, tooManyRequests)
			expectRateLimit(t, refused, policy, `"default";r=0;t=60`)
			if got := refused.header.Get("Retry-After"); got != "60" {
				t.Errorf("Retry-After %q, want 60", got)
			}
			if n := lookups.Load() - before; n != 0 {
				t.Errorf("the refused request looked its key up %d times", n)
			}
		})
	}

	// Another key has its own bucket.
	other := e.do("GET", listPath, e.readKey, "")
	other.expect(t, 200, "")
	expectRateLimit(t, other, policy, `"default";r=0;t=60`)

	// No key, or a malformed one, is never counted: a 401 with the whole burst left.
	for range 3 {
		for _, key := range []string{"", "fini_short"} {
			r := e.do("GET", listPath, key, "")
			r.expect(t, 401, unauthorized)
			expectRateLimit(t, r, policy, `"default";r=1;t=0`)
		}
	}

	// Half a minute refills half a token: still refused, and told to wait the other half.
	key := e.newKey("read")
	e.do("GET", listPath, key, "").expect(t, 200, "")
	clk.advance(30 * time.Second)
	r := e.do("GET", listPath, key, "")
	r.expect(t, 429, tooManyRequests)
	if got := r.header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After %q after half the interval, want 30", got)
	}
	expectRateLimit(t, r, policy, `"default";r=0;t=30`)
	clk.advance(30 * time.Second)
	r = e.do("GET", listPath, key, "")
	r.expect(t, 200, "")
	expectRateLimit(t, r, policy, `"default";r=0;t=60`)

	m := e.do("GET", "/metrics", "", "").body
	for op, n := range map[string]int{"deleteConversation": 1, "bulkDeleteConversations": 1, "getConversation": 1, "listConversations": 2} {
		if want := fmt.Sprintf("fini_rate_limited_requests_total{operation=%q} %d\n", op, n); !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// newKey issues another key of workspace A.
func (e *env) newKey(scopes ...string) string {
	e.t.Helper()
	return e.se.Key(e.t, scopes...)
}

func expectRateLimit(t *testing.T, r response, policy, limit string) {
	t.Helper()
	if got := r.header.Values("RateLimit-Policy"); len(got) != 1 || got[0] != policy {
		t.Errorf("%d: RateLimit-Policy %q, want %q", r.status, got, policy)
	}
	if got := r.header.Values("RateLimit"); len(got) != 1 || got[0] != limit {
		t.Errorf("%d: RateLimit %q, want %q", r.status, got, limit)
	}
}

// TestRateLimitHeadersOnlyWhenLimiting: a server that does not limit sends no rate-limit
// header, and one that does counts down a burst.
func TestRateLimitHeadersOnlyWhenLimiting(t *testing.T) {
	e := newTestServer(t)
	for _, r := range e.allOperations() {
		if r.header.Get("RateLimit") != "" || r.header.Get("RateLimit-Policy") != "" || r.header.Get("Retry-After") != "" {
			t.Errorf("%d without limiting: %v", r.status, r.header)
		}
	}

	clk := newClock()
	limited := newTestServerWith(t, servertest.Options{Now: clk.now, RateLimit: ratelimit.RateLimit{Requests: 100, Per: time.Second, Burst: 3}})
	want := []string{`"default";r=2;t=1`, `"default";r=1;t=1`, `"default";r=0;t=1`}
	for i, w := range want {
		r := limited.do("GET", listPath, limited.A.Key, "")
		r.expect(t, 200, "")
		expectRateLimit(t, r, `"default";q=100;w=1`, w)
		if i == 0 && r.header.Get("Retry-After") != "" {
			t.Errorf("a 200 with Retry-After")
		}
	}
	r := limited.do("GET", listPath, limited.A.Key, "")
	r.expect(t, 429, tooManyRequests)
	if got := r.header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q for a hundredth of a second, want 1 (whole seconds, at least 1)", got)
	}
}
