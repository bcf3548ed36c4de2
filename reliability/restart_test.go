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
					refused.Add(1)
					time.Sleep(5 * time.Millisecond)
					goto again
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				} else {
					ok.Add(1)
				}
			}
		}()
	}
	time.Sleep(scaled(time.Second, 10*time.Second))
	// A request certainly in flight at the signal: its body is half sent before and the rest
	// after. A graceful shutdown serves it to the end.
	slow := make(chan string, 1)
	signalled := make(chan struct{})
	go func() {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			slow <- err.Error()
			return
		}
		defer conn.Close()
		body := fmt.Sprintf(`{"ids":[%q]}`, f.A.ConversationIDs[0])
		head := fmt.Sprintf("DELETE /v2/hc-interactions/public HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", f.writeKey, len(body))
		_, _ = conn.Write([]byte(head + body[:10]))
		<-signalled
		time.Sleep(300 * time.Millisecond)
		_, _ = conn.Write([]byte(body[10:]))
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			slow <- err.Error()
			return
		}
		slow <- strings.TrimSpace(line)
	}()
	time.Sleep(200 * time.Millisecond) // the slow request's headers are in
	stopped := make(chan int, 1)
	go func() { stopped <- old.stop(t) }()
	time.Sleep(50 * time.Millisecond)
	close(signalled)
	if got := <-slow; got != "HTTP/1.1 200 OK" {
		t.Errorf("the request in flight at SIGTERM got %q, want HTTP/1.1 200 OK", got)
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
	time.Sleep(scaled(time.Second, 10*time.Second))
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
