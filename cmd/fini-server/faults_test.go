package main

import (
	"io"
	"net/http"
	"net/http/httptrace"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store/postgres/pgtest"
)

// TestServeOverAStalledPostgres: serve over a PostgreSQL that stops answering with its
// connections open (toxiproxy's stall, in front of the test database) answers the API with
// 503 and Retry-After within its --db-timeout, and a shutdown (what SIGTERM does) during the
// stall finishes the requests under way and exits within its grace.
func TestServeOverAStalledPostgres(t *testing.T) {
	dsn, proxy := pgtest.Proxied(t)
	const dbTimeout = time.Second
	// A request waits for the database --db-timeout in all; the rest is room for a loaded machine.
	const within = dbTimeout + 3*time.Second
	s, out := startServeOn(t, dsn, "--demo", "--db-timeout", dbTimeout.String())
	t.Cleanup(proxy.Stop) // before serve's stop: a failed test's stalled queries end with it
	key := regexp.MustCompile(`FINI_API_KEY=(fini_\S+)`).FindStringSubmatch(out)
	if key == nil {
		t.Fatalf("--demo printed no key: %s", out)
	}
	base := "http://" + s.addr
	c := &http.Client{Timeout: 4 * within} // far past the bound: a hang shows as a failure, not a stuck test
	if got := get(t, c, base+listRoute, key[1]); got != http.StatusOK {
		t.Fatalf("before the stall: %d", got)
	}

	proxy.Stall(t)
	requests := map[string]*http.Request{
		"list":   newRequest(t, http.MethodGet, base+listRoute, key[1]),
		"delete": newRequest(t, http.MethodDelete, base+"/v2/hc-interactions/"+uuid.NewString()+"/public", key[1]),
	}
	for name, req := range requests {
		start := time.Now()
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s during the stall: %v", name, err)
		}
		res.Body.Close()
		took := time.Since(start)
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "1" {
			t.Errorf("%s during the stall: %d, Retry-After %q; want 503 with Retry-After 1", name, res.StatusCode, res.Header.Get("Retry-After"))
		}
		if took > within {
			t.Errorf("%s during the stall answered after %v, want within %v", name, took, within)
		}
	}

	// Requests under way when the shutdown comes, each on a connection of its own (a shutdown
	// closes the connections it finds idle, which a kept-alive one is until the server reads
	// its next request). net/http serves, before it exits, the requests it has read, and drops
	// a connection whose request it reads only after the shutdown began: so the shutdown
	// comes once /metrics counts them in flight.
	fresh := &http.Client{Timeout: c.Timeout, Transport: &http.Transport{DisableKeepAlives: true}}
	const underWay = 3
	answers := make(chan int, underWay)
	for range underWay {
		written := make(chan struct{})
		req := newRequest(t, http.MethodGet, base+listRoute, key[1])
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { close(written) },
		}))
		go func() {
			res, err := fresh.Do(req)
			if err != nil {
				answers <- 0
				return
			}
			res.Body.Close()
			answers <- res.StatusCode
		}()
		<-written
	}
	if got := get(t, fresh, base+"/healthz", ""); got != http.StatusOK {
		t.Fatalf("/healthz during the stall: %d", got)
	}
	waitInFlight(t, fresh, base, underWay)
	stopped := make(chan struct{})
	start := time.Now()
	go func() {
		s.stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(shutdownGrace + 5*time.Second):
		proxy.Stop() // frees the stalled queries, so that serve can end and the test with it
		<-stopped
		t.Fatalf("serve did not exit within %v of the shutdown while the database stalled", shutdownGrace)
	}
	if took := time.Since(start); took > shutdownGrace {
		t.Errorf("shutdown during the stall took %v, want within %v", took, shutdownGrace)
	}
	for range underWay {
		if status := <-answers; status != http.StatusServiceUnavailable {
			t.Errorf("a request under way at the shutdown: %d, want 503", status)
		}
	}
	if !strings.Contains(s.log.String(), `"msg":"shut down"`) {
		t.Errorf("no shut-down line in the log:\n%s", s.log)
	}
}

// TestReadyzWaitsAsLongAsTheAPI: /readyz gives the database the API's own --db-timeout, so
// a database slow enough to take more than a second a ping, but within the bound the API
// answers by, keeps the server ready while the API answers 200.
func TestReadyzWaitsAsLongAsTheAPI(t *testing.T) {
	dsn, proxy := pgtest.Proxied(t)
	s, out := startServeOn(t, dsn, "--demo", "--db-timeout", "5s")
	t.Cleanup(proxy.Stop)
	key := regexp.MustCompile(`FINI_API_KEY=(fini_\S+)`).FindStringSubmatch(out)
	if key == nil {
		t.Fatalf("--demo printed no key: %s", out)
	}
	base := "http://" + s.addr
	c := &http.Client{Timeout: 20 * time.Second}
	// A ping is two round trips (the driver's ping and SELECT 1): 1.4 s at 700 ms each.
	proxy.Add(t, "latency", "downstream", map[string]int64{"latency": 700})
	if got := get(t, c, base+listRoute, key[1]); got != http.StatusOK {
		t.Errorf("list over the slow database: %d, want 200", got)
	}
	if got := get(t, c, base+"/readyz", ""); got != http.StatusOK {
		t.Errorf("/readyz over the slow database the API answers from: %d, want 200", got)
	}
}

// TestARequestWaitsTheTimeoutInAll: a request's key lookup and its operation share one
// --db-timeout, so that over a database slow enough to answer the lookup but not the whole
// request, the request answers 503 within --db-timeout, not within it once per call.
func TestARequestWaitsTheTimeoutInAll(t *testing.T) {
	dsn, proxy := pgtest.Proxied(t)
	const dbTimeout = 4 * time.Second
	s, out := startServeOn(t, dsn, "--demo", "--db-timeout", dbTimeout.String())
	t.Cleanup(proxy.Stop)
	key := regexp.MustCompile(`FINI_API_KEY=(fini_\S+)`).FindStringSubmatch(out)
	if key == nil {
		t.Fatalf("--demo printed no key: %s", out)
	}
	// At 1 s a round trip, the lookup (a ping, a statement's preparation, the statement)
	// answers within the timeout; a delete, a transaction of several round trips, cannot.
	proxy.Add(t, "latency", "downstream", map[string]int64{"latency": 1000})
	c := &http.Client{Timeout: 5 * dbTimeout}
	start := time.Now()
	res, err := c.Do(newRequest(t, http.MethodDelete, "http://"+s.addr+"/v2/hc-interactions/"+uuid.NewString()+"/public", key[1]))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	took := time.Since(start)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") != "1" {
		t.Errorf("delete over the slow database: %d, Retry-After %q; want 503 with Retry-After 1", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if within := dbTimeout + time.Second; took > within {
		t.Errorf("delete over the slow database answered after %v, want within %v", took, within)
	}
	if strings.Contains(s.log.String(), "authenticate: database unavailable") {
		t.Fatalf("the key lookup alone took the timeout: the test shows nothing\n%s", s.log)
	}
}

// TestServeRefusesADBTimeoutPastTheGrace: serve's --db-timeout (or $FINI_DB_TIMEOUT) must
// leave a shutdown time to finish the requests under way, and any command's must be more
// than 0.
func TestServeRefusesADBTimeoutPastTheGrace(t *testing.T) {
	db := "sqlite:" + t.TempDir() + "/t.db"
	for _, c := range []struct {
		env  string
		args []string
	}{
		{"", []string{"serve", "--db-timeout", "10s"}},
		{"10s", []string{"serve"}},
		{"", []string{"migrate", "--db-timeout", "0s"}},
	} {
		t.Setenv("FINI_DB_TIMEOUT", c.env)
		var out, errOut strings.Builder
		if code := run(append([]string{"--db", db}, c.args...), strings.NewReader(""), &out, &errOut); code == 0 ||
			!strings.Contains(errOut.String(), "--db-timeout") {
			t.Errorf("%v with FINI_DB_TIMEOUT=%q: exit %d, %q; want a refusal that names --db-timeout", c.args, c.env, code, errOut.String())
		}
	}
}

func newRequest(t *testing.T, method, url, key string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	return req
}

// waitInFlight waits until the server at base counts at least n requests in flight beside
// the /metrics request that asks, for at most 10 s.
func waitInFlight(t *testing.T, c *http.Client, base string, n int) {
	t.Helper()
	gauge := regexp.MustCompile(`(?m)^fini_http_requests_in_flight (\d+)$`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := c.Get(base + "/metrics")
		if err != nil {
			t.Fatalf("/metrics: %v", err)
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatalf("/metrics: %v", err)
		}
		m := gauge.FindSubmatch(body)
		if m == nil {
			t.Fatalf("/metrics has no fini_http_requests_in_flight:\n%s", body)
		}
		if got, _ := strconv.Atoi(string(m[1])); got >= n+1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics counts %s requests in flight, want %d beside itself", m[1], n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
