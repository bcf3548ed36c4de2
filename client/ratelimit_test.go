package client_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fini-oss/conversations/client"
	"github.com/fini-oss/conversations/server/ratelimit"
	"github.com/fini-oss/conversations/server/servertest"
)

// exchange is one request the client sent and the status it got.
type exchange struct {
	sent   time.Time
	status int
	after  string // Retry-After
}

// recordingDoer sends with http.DefaultClient and records every exchange; on a 429 it moves
// the server's clock on by Retry-After, as the client's wait moves real time on.
type recordingDoer struct {
	mu        sync.Mutex
	exchanges []exchange
	onRefused func(retryAfter string)
}

func (d *recordingDoer) Do(req *http.Request) (*http.Response, error) {
	sent := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.exchanges = append(d.exchanges, exchange{sent: sent, status: res.StatusCode, after: res.Header.Get("Retry-After")})
	d.mu.Unlock()
	if res.StatusCode == http.StatusTooManyRequests {
		d.onRefused(res.Header.Get("Retry-After"))
	}
	return res, nil
}

// TestRetriesWhenRateLimited: against a server limiting keys to 1/s with a burst of 1, the
// second delete is refused once with a 429 and Retry-After: 1, and the client waits that
// second and succeeds, returning no error.
func TestRetriesWhenRateLimited(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC).UnixNano())
	env := servertest.New(t, servertest.Options{
		Now:       func() time.Time { return time.Unix(0, now.Load()) },
		RateLimit: ratelimit.RateLimit{Requests: 1, Per: time.Second, Burst: 1},
	})
	doer := &recordingDoer{onRefused: func(retryAfter string) {
		d, err := time.ParseDuration(retryAfter + "s")
		if err != nil {
			t.Errorf("Retry-After %q: %v", retryAfter, err)
		}
		now.Add(int64(d))
	}}
	c, err := client.New(env.Seeded.Key, client.WithBaseURL(env.URL), client.WithHTTPClient(doer))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range env.Seeded.ConversationIDs[:2] {
		if err := c.DeleteConversation(ctx, id); err != nil {
			t.Fatalf("delete %s: %v", id, err)
		}
	}
	got := doer.exchanges
	statuses := make([]int, len(got))
	for i, x := range got {
		statuses[i] = x.status
	}
	if !slices.Equal(statuses, []int{200, 429, 200}) {
		t.Fatalf("statuses %v, want [200 429 200]", statuses)
	}
	if got[1].after != "1" {
		t.Errorf("Retry-After %q, want 1", got[1].after)
	}
	if waited := got[2].sent.Sub(got[1].sent); waited < time.Second {
		t.Errorf("the retry came %v after the 429, before its Retry-After of 1s", waited)
	}
}
