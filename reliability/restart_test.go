package reliability_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fini-oss/conversations/client"
)

// TestGracefulRestart: SIGTERM under load. Every request the old process had started
// finishes (it reports how many were in flight at the signal and how many went unfinished),
// it exits 0, and the new process serves within 1 s. Clients retry only what never reached a
// server: connections refused while no process listens, and connections the kernel had
// queued on the old listener when it closed (these end in EOF without a response; all
// operations are idempotent).
func TestGracefulRestart(t *testing.T) {
	f := newFixture(t, "sqlite", 400)
	addr := freeAddr(t)
	old := start(t, f.db, addr)
	c, err := client.New(f.A.Key, client.WithBaseURL(old.url),
		client.WithRetry(client.RetryPolicy{MaxAttempts: 1}),
		client.WithHTTPClient(&http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var (
		ok, failed atomic.Int64
		refused    atomic.Int64
		wg         sync.WaitGroup
		stop       = make(chan struct{})
		firstErr   atomic.Value
		// reached[n] is closed when n requests have succeeded: load phases end on counts.
		reached = newMilestones()
	)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(w), 3))
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := f.A.ConversationIDs[1+rnd.IntN(len(f.A.ConversationIDs)-1)] // [0] is the slow request's
				var err error
			again:
				switch rnd.IntN(3) {
				case 0:
					_, err = c.ListConversations(ctx, client.ListOptions{Limit: 20})
				case 1:
					err = c.DeleteConversation(ctx, id)
				default:
					_, err = c.GetConversation(ctx, id)
					if err != nil && isNotFound(err) {
						err = nil // deleted by another worker
					}
				}
				if err != nil && (errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
					// Never reached a server: between the two processes. Retried at once; the
					// new process's listener ends the loop.
					refused.Add(1)
					goto again
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				} else {
					reached.pass(ok.Add(1))
				}
			}
		}()
	}
	phase := scaled[int64](2000, 20000)
	if !reached.wait(phase, time.Minute) {
		t.Fatalf("load reached only %d requests", ok.Load())
	}
	// A request certainly in flight at the signal: its headers ask to continue, so the server
	// answers "100 Continue" once its handler reads the body; the body follows only after the
	// server has logged that it is shutting down. A graceful shutdown serves it to the end.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"ids":[%q]}`, f.A.ConversationIDs[0])
	head := fmt.Sprintf("DELETE /v2/hc-interactions/public HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", f.writeKey, len(body))
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	slow := bufio.NewReader(conn)
	if line, err := readHead(slow); err != nil || line != "HTTP/1.1 100 Continue" {
		t.Fatalf("the slow request: %q, %v; want 100 Continue", line, err)
	}
	stopped := make(chan int, 1)
	go func() { stopped <- old.stop(t) }()
	if !old.log.waitFor(`"msg":"shutting down`, 10*time.Second) {
		t.Fatalf("the old process never began its shutdown:\n%s", old.logText())
	}
	if _, err := conn.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if got, err := readHead(slow); got != "HTTP/1.1 200 OK" {
		t.Errorf("the request in flight at SIGTERM got %q (%v), want HTTP/1.1 200 OK", got, err)
	}
	if code := <-stopped; code != 0 {
		t.Errorf("the old process exited %d on SIGTERM, want 0", code)
	}
	var report struct {
		AtSignal   int `json:"in_flight_at_signal"`
		Unfinished int `json:"unfinished"`
	}
	for _, line := range strings.Split(old.logText(), "\n") {
		if strings.Contains(line, `"msg":"shut down"`) {
			_ = json.Unmarshal([]byte(line), &report)
		}
	}
	if report.Unfinished != 0 || report.AtSignal == 0 {
		t.Errorf("old process: %d requests in flight at SIGTERM, %d unfinished; want some, and none", report.AtSignal, report.Unfinished)
	}
	began := time.Now()
	next := start(t, f.db, addr)
	ready := time.Since(began)
	if !reached.wait(ok.Load()+phase, time.Minute) {
		t.Fatalf("load on the new process reached only %d requests", ok.Load())
	}
	close(stop)
	wg.Wait()
	next.stop(t)
	if failed.Load() != 0 {
		t.Errorf("%d requests failed across the restart; first: %v", failed.Load(), firstErr.Load())
	}
	if ready > time.Second {
		t.Errorf("the new process served after %v, want within 1s", ready)
	}
	t.Logf("%d requests across a SIGTERM restart: %d in flight at the signal, all finished; %d failed; %d never reached a server and were retried; new process ready in %v",
		ok.Load(), report.AtSignal, failed.Load(), refused.Load(), ready.Round(time.Millisecond))
}

func isNotFound(err error) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound
}

// readHead returns the status line of the next response on r, skipping its header.
func readHead(r *bufio.Reader) (string, error) {
	status, err := r.ReadString('\n')
	if err != nil {
		return status, err
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil || line == "\r\n" {
			return strings.TrimSpace(status), err
		}
	}
}

// milestones lets goroutines wait until a counter passes a value: counters are fed with
// pass, and wait returns once the counter has reached n (or limit passed).
type milestones struct {
	mu      sync.Mutex
	count   int64
	waiters map[int64][]chan struct{}
}

func newMilestones() *milestones { return &milestones{waiters: map[int64][]chan struct{}{}} }

func (m *milestones) pass(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.count = max(m.count, n)
	for at, chans := range m.waiters {
		if at <= m.count {
			for _, c := range chans {
				close(c)
			}
			delete(m.waiters, at)
		}
	}
}

func (m *milestones) wait(n int64, limit time.Duration) bool {
	m.mu.Lock()
	if m.count >= n {
		m.mu.Unlock()
		return true
	}
	c := make(chan struct{})
	m.waiters[n] = append(m.waiters[n], c)
	m.mu.Unlock()
	select {
	case <-c:
		return true
	case <-time.After(limit):
		return false
	}
}
