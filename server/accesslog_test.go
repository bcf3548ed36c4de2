package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/logline"
	"github.com/fini-oss/conversations/server/servertest"
	"github.com/fini-oss/conversations/server/store"
)

// syncBuffer is a log destination that tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAccessLogIsBounded: a hostile path or method makes a log line of bounded size.
func TestAccessLogIsBounded(t *testing.T) {
	var logs syncBuffer
	se := servertest.New(t, servertest.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})

	long := strings.Repeat("A", 900<<10)
	for _, req := range []*http.Request{
		mustRequest(t, http.MethodGet, se.URL+"/v2/hc-interactions/"+long+"/public"),
		mustRequest(t, http.MethodGet, se.URL+"/"+long),
		mustRequest(t, strings.Repeat("M", 64<<10), se.URL+"/v2/hc-interactions/public"),
	} {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode < 400 || res.StatusCode >= 500 {
			t.Errorf("%.20s %.60s: status %d", req.Method, req.URL, res.StatusCode)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want 3", len(lines))
	}
	for _, line := range lines {
		if len(line) > 2048 {
			t.Errorf("log line of %d bytes: %.200s", len(line), line)
		}
		if !strings.Contains(line, "more bytes)") {
			t.Errorf("log line does not say it was cut: %.200s", line)
		}
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestAccessLogNeverHoldsAKey: a key pasted into the path or the request id is masked in the
// log, and such a request id is replaced, not echoed.
func TestAccessLogNeverHoldsAKey(t *testing.T) {
	var logs syncBuffer
	se := servertest.New(t, servertest.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	key := se.Seeded.Key
	req := mustRequest(t, http.MethodGet, se.URL+"/v2/hc-interactions/"+key+"/public")
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Request-Id", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("X-Request-Id"); strings.Contains(got, "fini_") {
		t.Errorf("a key-shaped request id was echoed: %q", got)
	}
	if line := logs.String(); strings.Contains(line, key[5:]) || !strings.Contains(line, "fini_xxxxx") {
		t.Errorf("the log holds the key, or does not say it masked one: %s", line)
	}
}

// blockingStore holds each delete until its request's context ends, as a store call does
// when the client goes away mid-call.
type blockingStore struct {
	store.API
	entered chan struct{}
}

func (s blockingStore) DeleteConversation(ctx context.Context, _, _ uuid.UUID, _ store.Actor) error {
	s.entered <- struct{}{}
	<-ctx.Done()
	return fmt.Errorf("delete conversation: %w", ctx.Err())
}

// notifyingBuffer is a syncBuffer that says when it was written to.
type notifyingBuffer struct {
	syncBuffer
	wrote chan struct{}
}

func (b *notifyingBuffer) Write(p []byte) (int, error) {
	n, err := b.syncBuffer.Write(p)
	b.wrote <- struct{}{}
	return n, err
}

// TestClientGoneIsNotAServerError: a request whose client hangs up mid-call is logged and
// counted as 499, not as the server's 500.
func TestClientGoneIsNotAServerError(t *testing.T) {
	logs := &notifyingBuffer{wrote: make(chan struct{}, 16)}
	entered := make(chan struct{}, 1)
	se := servertest.New(t, servertest.Options{Logger: slog.New(logline.New(logs, nil)),
		WrapStore: func(s store.API) store.API { return blockingStore{s, entered} }})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, se.URL+"/v2/hc-interactions/"+uuid.NewString()+"/public", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+se.Seeded.Key)
	go func() {
		<-entered // the request is in the store: the client hangs up
		cancel()
	}()
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatal("the request completed")
	}
	<-logs.wrote
	line := logs.String()
	if !strings.Contains(line, `"status":499`) || strings.Contains(line, `"level":"ERROR"`) {
		t.Errorf("log line: %s", line)
	}
	res, err := http.Get(se.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	metrics, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(metrics), `fini_http_requests_total{operation="deleteConversation",status="499"} 1`) ||
		strings.Contains(string(metrics), `operation="deleteConversation",status="500"`) {
		t.Errorf("metrics count the hang-up as a server error:\n%s", metrics)
	}
}
