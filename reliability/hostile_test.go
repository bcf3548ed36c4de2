package reliability_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHostileInput: each hostile request gets a bounded 4xx in the envelope (or, for
// well-formed but odd values, an ordinary answer), never a 5xx, a hang or memory growth.
func TestHostileInput(t *testing.T) {
	f := newFixture(t, "sqlite", 30)
	p := start(t, f.db, "")
	id := f.A.ConversationIDs[0].String()
	type hostile struct {
		name   string
		req    func() *http.Request
		status int // 0: any 2xx or 4xx
	}
	req := func(method, target, body string, header ...string) func() *http.Request {
		return func() *http.Request {
			r, err := http.NewRequest(method, p.url+target, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Authorization", "Bearer "+f.A.Key)
			if body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			for i := 0; i+1 < len(header); i += 2 {
				r.Header.Set(header[i], header[i+1])
			}
			return r
		}
	}
	sqlish := []string{`' OR '1'='1`, `"; DROP TABLE conversations; --`, `\`, `%`, `_`, `' UNION SELECT body FROM conversations--`}
	cases := []hostile{
		{"huge header", req("GET", "/v2/hc-interactions/public", "", "X-Junk", strings.Repeat("a", 200<<10)), 431},
		{"10 MB body", req("DELETE", "/v2/hc-interactions/public", `{"ids":["`+strings.Repeat("a", 10<<20)+`"]}`), 413},
		// A GET takes no body: it is never read, so it cannot cost memory or an undocumented 413.
		{"10 MB body on a GET", req("GET", "/v2/hc-interactions/public", strings.Repeat("a", 10<<20)), 200},
		{"deeply nested JSON", req("DELETE", "/v2/hc-interactions/public", `{"ids":`+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)+`}`), 400},
		{"nested JSON under the limit", req("DELETE", "/v2/hc-interactions/public", `{"ids":[`+strings.Repeat(`{"a":`, 3000)+`1`+strings.Repeat("}", 3000)+`]}`), 400},
		{"invalid UTF-8 in body", req("DELETE", "/v2/hc-interactions/public", "{\"ids\":[\"\xff\xfe\"]}"), 400},
		{"invalid UTF-8 in path", req("GET", "/v2/hc-interactions/%ff%fe/public", ""), 400},
		{"invalid UTF-8 in query", req("GET", "/v2/hc-interactions/public?source=%ff%fe", ""), 0},
		{"NUL in path", req("GET", "/v2/hc-interactions/%00/public", ""), 400},
		{"NUL in query", req("GET", "/v2/hc-interactions/public?source=a%00b&channel=%00", ""), 0},
		{"NUL in body", req("DELETE", "/v2/hc-interactions/public", "{\"ids\":[\"\u0000\"]}"), 400},
		{"parameter pollution", req("GET", "/v2/hc-interactions/public?limit=1&limit=100", ""), 400},
		{"cursor twice", req("GET", "/v2/hc-interactions/public?cursor="+id+"&cursor="+id, ""), 400},
		{"5000 repeated sources", req("GET", "/v2/hc-interactions/public?"+strings.Repeat("source=widget&", 5000), ""), 400},
		{"5000 comma sources", req("GET", "/v2/hc-interactions/public?source="+strings.Repeat("widget,", 5000)+"x", ""), 400},
		{"bulk with an object", req("DELETE", "/v2/hc-interactions/public", `{"ids":[{"$ne":null}]}`), 400},
		{"bulk as array", req("DELETE", "/v2/hc-interactions/public", `[1,2,3]`), 400},
		{"huge number", req("GET", "/v2/hc-interactions/public?limit=99999999999999999999999", ""), 400},
		{"negative window", req("GET", "/v2/hc-interactions/public?since=-9223372036854775808", ""), 400},
		{"long request id", req("GET", "/v2/hc-interactions/public", "", "X-Request-Id", strings.Repeat("é", 5000)), 200},
	}
	for _, s := range sqlish {
		q := url.Values{"source": {s}, "channel": {s}}
		cases = append(cases,
			hostile{"SQL in source and channel: " + s, req("GET", "/v2/hc-interactions/public?"+q.Encode(), ""), 200},
			hostile{"SQL in cursor: " + s, req("GET", "/v2/hc-interactions/public?"+url.Values{"cursor": {s}}.Encode(), ""), 400},
			hostile{"SQL in botId: " + s, req("GET", "/v2/hc-interactions/public?"+url.Values{"botId": {s}}.Encode(), ""), 400},
			hostile{"SQL in id: " + s, req("GET", "/v2/hc-interactions/"+url.PathEscape(s)+"/public", ""), 0},
			hostile{"SQL in bulk: " + s, req("DELETE", "/v2/hc-interactions/public", fmt.Sprintf(`{"ids":[%q]}`, s)), 400},
		)
	}
	rounds := scaled(3, 30)
	var before int
	for round := range rounds {
		if round == 1 {
			before = p.rssKiB(t, "VmRSS")
		}
		for _, c := range cases {
			start := time.Now()
			r := do(c.req())
			if r.err != nil {
				t.Fatalf("%s: %v", c.name, r.err)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("%s took %v", c.name, time.Since(start))
			}
			if r.status >= 500 || (c.status != 0 && r.status != c.status) {
				t.Fatalf("%s: %d, want %d: %.200s", c.name, r.status, c.status, r.body)
			}
			if r.status >= 400 {
				var env struct {
					StatusCode int    `json:"statusCode"`
					Message    string `json:"message"`
					Error      string `json:"error"`
				}
				if err := json.Unmarshal(r.body, &env); err != nil || env.StatusCode != r.status || env.Message == "" || len(r.body) > 4096 {
					t.Fatalf("%s: %d answer is not a bounded envelope: %.300s", c.name, r.status, r.body)
				}
			}
		}
	}
	if after := p.rssKiB(t, "VmRSS"); after-before > 40<<10 {
		t.Errorf("resident memory grew from %d to %d KiB over %d rounds of hostile input", before, after, rounds-1)
	}
	// Nothing was deleted by any of it.
	var page struct{ Interactions []json.RawMessage }
	r := call("GET", listURL(p.url)+"?limit=100", f.A.Key, "")
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Interactions) != 30 {
		t.Errorf("after the hostile input A lists %d conversations, want 30", len(page.Interactions))
	}
	t.Logf("%d hostile requests x %d rounds: no 5xx, every 4xx in the envelope", len(cases), rounds)
}

// TestSlowClients: a client trickling its request a byte at a time is cut off by the
// server's read timeouts, and meanwhile others are served normally.
func TestSlowClients(t *testing.T) {
	f := newFixture(t, "sqlite", 5)
	p := start(t, f.db, "")
	const slow = 8
	done := make(chan time.Duration, slow)
	for range slow {
		go func() {
			start := time.Now()
			conn, err := net.Dial("tcp", p.addr)
			if err != nil {
				done <- 0
				return
			}
			defer conn.Close()
			head := "GET /v2/hc-interactions/public HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + f.A.Key + "\r\n"
			// At most 12 s of trickling; the server must hang up well before.
			for i := 0; i < len(head) && time.Since(start) < 12*time.Second; i++ {
				if _, err := conn.Write([]byte{head[i]}); err != nil {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			_, _ = bufio.NewReader(conn).ReadString('\n')
			done <- time.Since(start)
		}()
	}
	// Normal traffic is unaffected meanwhile.
	for range 20 {
		if r := call("GET", listURL(p.url), f.A.Key, ""); r.status != http.StatusOK {
			t.Fatalf("while slow clients trickle: %d %v", r.status, r.err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range slow {
		if d := <-done; d > 10*time.Second {
			t.Errorf("a trickling client was held for %v; the read-header timeout is 5s", d)
		}
	}
}
