package server_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/fini-oss/conversations/server/servertest"
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
