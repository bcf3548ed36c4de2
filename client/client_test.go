package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/client"
	"github.com/fini-oss/conversations/server/demo"
	"github.com/fini-oss/conversations/server/servertest"
)

// fixture is the real server stack on a temporary SQLite, response validation enforced, so a
// request the client builds that the spec forbids fails these tests.
type fixture struct {
	*servertest.Env
	ws, other demo.Result
	readOnly  string
}

func newFixture(t *testing.T, conversations int) *fixture {
	t.Helper()
	env := servertest.New(t, servertest.Options{Conversations: conversations})
	return &fixture{Env: env, ws: env.Seeded, other: env.Other, readOnly: env.Key(t, "read")}
}

func (f *fixture) client(t *testing.T, key string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(key, append([]client.Option{client.WithBaseURL(f.URL)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMethods(t *testing.T) {
	f := newFixture(t, 20)
	ctx := context.Background()
	c := f.client(t, f.ws.Key)
	ids := f.ws.ConversationIDs

	conv, err := c.GetConversation(ctx, ids[0])
	if err != nil || conv.ID != ids[0] || len(conv.Events) == 0 {
		t.Fatalf("get: %+v, %v", conv, err)
	}
	page, err := c.ListConversations(ctx, client.ListOptions{Limit: 5})
	if err != nil || len(page.Conversations) != 5 || !page.HasMore || page.NextCursor == nil {
		t.Fatalf("list: %+v, %v", page, err)
	}
	if err := c.DeleteConversation(ctx, ids[0]); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := c.DeleteConversation(ctx, ids[0]); err != nil {
		t.Fatalf("delete again: %v", err)
	}
	if _, err := c.GetConversation(ctx, ids[0]); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("get deleted: %v, want ErrNotFound", err)
	}
	if err := c.BulkDeleteConversations(ctx, ids[1:3]); err != nil {
		t.Fatalf("bulk: %v", err)
	}

	err = c.BulkDeleteConversations(ctx, []uuid.UUID{ids[3], ids[1]})
	var ae *client.APIError
	if !errors.As(err, &ae) || !errors.Is(err, client.ErrNotAcceptable) || !slices.Equal(ae.IDs, []uuid.UUID{ids[1]}) || ae.RequestID == "" {
		t.Fatalf("bulk with a deleted id: %#v", err)
	}

	tests := []struct {
		name     string
		call     func() error
		sentinel error
		status   int
	}{
		{"unknown key", func() error {
			_, err := f.client(t, "fini_"+string(make([]byte, 0))+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").GetConversation(ctx, ids[4])
			return err
		}, client.ErrUnauthorized, 401},
		{"read-only key deletes", func() error { return f.client(t, f.readOnly).DeleteConversation(ctx, ids[4]) }, client.ErrForbidden, 403},
		{"foreign id", func() error { _, err := c.GetConversation(ctx, f.other.ConversationIDs[0]); return err }, client.ErrNotFound, 404},
		{"bad limit", func() error { _, err := c.ListConversations(ctx, client.ListOptions{Limit: 500}); return err }, client.ErrBadRequest, 400},
		{"too many ids", func() error { return c.BulkDeleteConversations(ctx, make([]uuid.UUID, 51)) }, client.ErrBadRequest, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var ae *client.APIError
			if !errors.Is(err, tt.sentinel) || !errors.As(err, &ae) || ae.StatusCode != tt.status || ae.Message == "" || ae.Unexpected {
				t.Fatalf("err = %v, want %v (%d)", err, tt.sentinel, tt.status)
			}
		})
	}
}

func TestIterator(t *testing.T) {
	f := newFixture(t, 320)
	ctx := context.Background()
	c := f.client(t, f.ws.Key)
	var older []uuid.UUID
	for conv, err := range c.Conversations(ctx, client.ListOptions{Limit: 45}) {
		if err != nil {
			t.Fatal(err)
		}
		older = append(older, conv.ID)
	}
	want := slices.Clone(f.ws.ConversationIDs)
	if len(older) != 320 || !sameSet(older, want) {
		t.Fatalf("walked %d conversations, want all 320 once", len(older))
	}
	// From the oldest, towards newer: the rest, in reverse order.
	last := older[len(older)-1]
	var newer []uuid.UUID
	for conv, err := range c.Conversations(ctx, client.ListOptions{Limit: 30, Cursor: &last, Direction: client.Newer}) {
		if err != nil {
			t.Fatal(err)
		}
		newer = append(newer, conv.ID)
	}
	rev := slices.Clone(older[:len(older)-1])
	slices.Reverse(rev)
	if !slices.Equal(newer, rev) {
		t.Fatalf("walking newer gave %d, want %d in reverse order", len(newer), len(rev))
	}
	// Stopping early stops fetching.
	n := 0
	for _, err := range c.Conversations(ctx, client.ListOptions{Limit: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 3 {
			break
		}
	}
}

func sameSet(a, b []uuid.UUID) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	cmp := func(x, y uuid.UUID) int { return slices.Compare(x[:], y[:]) }
	slices.SortFunc(a, cmp)
	slices.SortFunc(b, cmp)
	return slices.Equal(a, b)
}

func TestDeleteConversations(t *testing.T) {
	f := newFixture(t, 200)
	ctx := context.Background()
	c := f.client(t, f.ws.Key)
	ids := slices.Clone(f.ws.ConversationIDs[:170])
	// Already deleted, foreign and unknown ids in the middle, and a duplicate.
	if err := c.DeleteConversation(ctx, ids[60]); err != nil {
		t.Fatal(err)
	}
	unknown := uuid.New()
	ids = slices.Insert(ids, 80, f.other.ConversationIDs[0], unknown)
	ids = append(ids, ids[5], uuid.New())
	var progress []int
	res, err := c.DeleteConversations(ctx, ids, client.BulkOptions{Concurrency: 3, OnProgress: func(done, total int) {
		progress = append(progress, done)
		if total != 173 {
			t.Errorf("total = %d, want 173 distinct ids", total)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deleted) != 169 || len(res.NotAccessible) != 4 || len(res.Failed) != 0 {
		t.Fatalf("deleted %d, not accessible %d (%v), failed %d", len(res.Deleted), len(res.NotAccessible), res.NotAccessible, len(res.Failed))
	}
	// Both lists in the caller's order, whatever order the chunks finished in.
	wantGone := []uuid.UUID{ids[60], f.other.ConversationIDs[0], unknown, ids[len(ids)-1]}
	if !slices.Equal(res.NotAccessible, wantGone) {
		t.Errorf("not accessible = %v, want %v", res.NotAccessible, wantGone)
	}
	var wantDeleted []uuid.UUID
	for _, id := range ids[:len(ids)-2] {
		if !slices.Contains(wantGone, id) {
			wantDeleted = append(wantDeleted, id)
		}
	}
	if !slices.Equal(res.Deleted, wantDeleted) {
		t.Errorf("deleted ids are not in the caller's order")
	}
	if len(progress) != 4 || progress[len(progress)-1] != 173 {
		t.Errorf("progress = %v, want 4 chunks ending at 173", progress)
	}
	for _, id := range res.Deleted {
		if _, err := c.GetConversation(ctx, id); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("%s reported deleted but get says %v", id, err)
		}
	}
	if _, err := f.client(t, f.other.Key).GetConversation(ctx, f.other.ConversationIDs[0]); err != nil {
		t.Errorf("the other workspace's conversation was touched: %v", err)
	}
}

// flaky answers status `fail` times, then delegates to ok.
func flaky(fail int, status int, header http.Header, ok http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int(calls.Add(1)) <= fail {
			for k, v := range header {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, "<html><body>upstream down</body></html>")
			return
		}
		ok(w, r)
	}))
	return srv, &calls
}

func success(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.Method == http.MethodDelete && r.URL.Path == "/v2/hc-interactions/public" && len(body) == 0 {
		http.Error(w, "body lost on retry", http.StatusTeapot)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"success":true}`)
}

func TestRetries(t *testing.T) {
	fast := client.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}
	ctx := context.Background()
	for _, status := range []int{429, 502, 503, 504} {
		srv, calls := flaky(3, status, http.Header{"Retry-After": {"0"}}, success)
		c, _ := client.New("fini_x", client.WithBaseURL(srv.URL), client.WithRetry(fast))
		if err := c.BulkDeleteConversations(ctx, []uuid.UUID{uuid.New()}); err != nil || calls.Load() != 4 {
			t.Errorf("%d three times then ok: err %v after %d calls", status, err, calls.Load())
		}
		srv.Close()
	}

	srv, calls := flaky(1000, 503, nil, success)
	defer srv.Close()
	c, _ := client.New("fini_x", client.WithBaseURL(srv.URL), client.WithRetry(fast))
	err := c.DeleteConversation(ctx, uuid.New())
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusServiceUnavailable || !ae.Unexpected || !errors.Is(err, client.ErrServer) || calls.Load() != 4 {
		t.Errorf("always 503: %v after %d calls, want an unexpected-body 503 after 4", err, calls.Load())
	}

	// Not retried: a 500 or a 4xx.
	srv500, calls500 := flaky(1000, 500, nil, success)
	defer srv500.Close()
	c500, _ := client.New("fini_x", client.WithBaseURL(srv500.URL), client.WithRetry(fast))
	if err := c500.DeleteConversation(ctx, uuid.New()); !errors.Is(err, client.ErrServer) || calls500.Load() != 1 {
		t.Errorf("500: %v after %d calls, want 1", err, calls500.Load())
	}

	// The context ends the waiting.
	slow, _ := flaky(1000, 503, http.Header{"Retry-After": {"30"}}, success)
	defer slow.Close()
	cs, _ := client.New("fini_x", client.WithBaseURL(slow.URL), client.WithRetry(client.RetryPolicy{MaxAttempts: 10, BaseDelay: time.Second, MaxDelay: time.Minute}))
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := cs.DeleteConversation(cctx, uuid.New()); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled: %v after %v", err, time.Since(start))
	}

	// A network error is retried: the first connection is dropped.
	var n atomic.Int32
	drop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		success(w, r)
	}))
	defer drop.Close()
	cd, _ := client.New("fini_x", client.WithBaseURL(drop.URL), client.WithRetry(fast))
	if err := cd.DeleteConversation(ctx, uuid.New()); err != nil || n.Load() != 2 {
		t.Errorf("dropped connection: %v after %d calls", err, n.Load())
	}
}

func TestUnexpectedAnswers(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, contentType, body string
		status                  int
	}{
		{"empty 200", "", "", 200},
		{"html 200", "text/html", "<html></html>", 200},
		{"wrong json 200", "application/json", `{"success":"yes"}`, 200},
		{"truncated json 200", "application/json", `{"succ`, 200},
		{"empty 404", "", "", 404},
		{"json without envelope 400", "application/json", `{"oops":1}`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c, _ := client.New("fini_x", client.WithBaseURL(srv.URL))
			err := c.DeleteConversation(ctx, uuid.New())
			if !errors.Is(err, client.ErrUnexpectedResponse) {
				t.Fatalf("err = %v, want ErrUnexpectedResponse", err)
			}
			if _, err := c.GetConversation(ctx, uuid.New()); !errors.Is(err, client.ErrUnexpectedResponse) && tt.name != "wrong json 200" {
				t.Errorf("get: %v", err)
			}
		})
	}
}

func TestNewValidatesOptions(t *testing.T) {
	if _, err := client.New(""); err == nil {
		t.Error("empty key accepted")
	}
	if _, err := client.New("fini_x", client.WithBaseURL("ftp://x")); err == nil {
		t.Error("ftp base URL accepted")
	}
	// A base URL may hold a password: errors never quote it.
	for base, want := range map[string]string{
		"ftp://u:SENTINELpw@example.com": `fini: base URL "ftp://u:xxxxx@example.com": want http(s)://host[:port]`,
		"http://u:SENTINELpw@h:port/":    "fini: base URL: not a URL; want http(s)://host[:port]",
	} {
		if _, err := client.New("fini_x", client.WithBaseURL(base)); err == nil || err.Error() != want {
			t.Errorf("base URL %s: error %v, want %s", base, err, want)
		}
	}
	if _, err := client.New("fini_x", client.WithRetry(client.RetryPolicy{})); err == nil {
		t.Error("zero attempts accepted")
	}
	c, err := client.New("fini_x")
	if err != nil || c.BaseURL() != "https://api-prod.usefini.com" {
		t.Errorf("default base URL = %q, %v; want Fini's production URL", c.BaseURL(), err)
	}
}

// TestDeleteConversationsReportsFailuresInOrder: failed ids come in the caller's order, and
// the error names the first of them, however the chunks interleave.
func TestDeleteConversationsReportsFailuresInOrder(t *testing.T) {
	// Every bulk fails with a 500 whose message names the chunk's first id.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct{ IDs []uuid.UUID }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.IDs) == 0 {
			t.Errorf("bulk body: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, `{"statusCode":500,"message":"chunk of %s","error":"Internal Server Error"}`, body.IDs[0])
	}))
	t.Cleanup(srv.Close)
	c, err := client.New("fini_x", client.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]uuid.UUID, 230)
	for i := range ids {
		ids[i] = uuid.New()
	}
	for range 5 {
		res, err := c.DeleteConversations(context.Background(), ids, client.BulkOptions{Concurrency: 5})
		if err == nil || !strings.Contains(err.Error(), "chunk of "+ids[0].String()) {
			t.Fatalf("error %v, want the first chunk's", err)
		}
		if len(res.Failed) != len(ids) {
			t.Fatalf("%d failed, want %d", len(res.Failed), len(ids))
		}
		for i, f := range res.Failed {
			if f.ID != ids[i] {
				t.Fatalf("failed[%d] = %s, want %s: not the caller's order", i, f.ID, ids[i])
			}
		}
	}
}
