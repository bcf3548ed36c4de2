package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// result is one run's figures, printed as JSON.
type result struct {
	Op          string         `json:"op"`
	Concurrency int            `json:"concurrency"`
	Seconds     float64        `json:"seconds"`
	Requests    int            `json:"requests"`
	RPS         float64        `json:"rps"`
	P50ms       float64        `json:"p50_ms"`
	P99ms       float64        `json:"p99_ms"`
	MaxMs       float64        `json:"max_ms"`
	Errors      int            `json:"errors"`
	Statuses    map[string]int `json:"statuses"`
	// ByStatus has the percentiles of each status apart: a bulk's 200s (real deletes) and
	// 406s (refusals) cost differently.
	ByStatus map[string]percentiles `json:"by_status"`
}

type percentiles struct {
	P50ms float64 `json:"p50_ms"`
	P99ms float64 `json:"p99_ms"`
}

func runCmd() *cobra.Command {
	var (
		base, idsFile, op string
		concurrency, max  int
		duration          time.Duration
	)
	cmd := &cobra.Command{
		Use:   "run --url http://127.0.0.1:PORT --ids FILE --op delete|get|list|bulk",
		Short: "Drive a running server for a bounded time; print rps, p50, p99, max and errors as JSON",
		Long: `Drive a running server for --duration, or until SIGINT or SIGTERM ends the run sooner
(scripts/bench-writes.sh ends it when an import ends), and print the figures as JSON. Requests
sent before the end are waited for and counted. The key comes from $FINI_API_KEY, never from a
flag's value, which ps would show.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := url.Parse(base)
			if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1") {
				return errors.New("--url must be a loopback address")
			}
			key := strings.TrimSpace(os.Getenv("FINI_API_KEY"))
			if key == "" {
				return errors.New("set FINI_API_KEY to a read+write API key (no flag takes it: ps shows every process's arguments)")
			}
			ids, err := readLines(idsFile)
			if err != nil {
				return err
			}
			if len(ids) < 50 {
				return errors.New("--ids needs at least 50 ids")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, duration)
			defer cancel()
			r, err := drive(ctx, base, key, op, ids, concurrency, max)
			if err != nil {
				return err
			}
			return json.NewEncoder(os.Stdout).Encode(r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&base, "url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	f.StringVar(&idsFile, "ids", "", "file of conversation ids, one a line")
	f.StringVar(&op, "op", "delete", "delete, get, list or bulk (50 ids)")
	f.IntVar(&concurrency, "concurrency", 32, "concurrent connections")
	f.IntVar(&max, "max-requests", 5_000_000, "stop after this many requests")
	f.DurationVar(&duration, "duration", 10*time.Second, "how long to run (at most 5m)")
	return cmd
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			out = append(out, s)
		}
	}
	return out, sc.Err()
}

func drive(ctx context.Context, base, key, op string, ids []string, concurrency, max int) (*result, error) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) > 5*time.Minute {
		return nil, errors.New("--duration: at most 5m")
	}
	transport := &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency}
	hc := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	defer transport.CloseIdleConnections()

	var next atomic.Int64
	var mu sync.Mutex
	statuses := map[string]int{}
	var latencies []time.Duration
	byStatus := map[string][]time.Duration{}
	errs := 0
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 1<<14)
			localBy := map[string][]time.Duration{}
			localStatus := map[string]int{}
			localErrs := 0
			for ctx.Err() == nil {
				n := next.Add(1)
				if n > int64(max) {
					break
				}
				// A request sent runs to its end (or the client's timeout): the run's end stops
				// the sending, so that a request that waited long is counted, not dropped.
				req, want := build(context.WithoutCancel(ctx), base, key, op, ids, n)
				t := time.Now()
				res, err := hc.Do(req)
				if err != nil {
					localErrs++
					localStatus["error"]++
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				d := time.Since(t)
				local = append(local, d)
				localStatus[fmt.Sprint(res.StatusCode)]++
				localBy[fmt.Sprint(res.StatusCode)] = append(localBy[fmt.Sprint(res.StatusCode)], d)
				if !want(res.StatusCode) {
					localErrs++
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			for k, v := range localStatus {
				statuses[k] += v
			}
			for k, v := range localBy {
				byStatus[k] = append(byStatus[k], v...)
			}
			errs += localErrs
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	pct := func(l []time.Duration, p float64) float64 {
		if len(l) == 0 {
			return 0
		}
		return float64(l[int(p*float64(len(l)-1))].Microseconds()) / 1000
	}
	slices.Sort(latencies)
	by := map[string]percentiles{}
	for k, l := range byStatus {
		slices.Sort(l)
		by[k] = percentiles{P50ms: pct(l, 0.5), P99ms: pct(l, 0.99)}
	}
	return &result{Op: op, Concurrency: concurrency, Seconds: elapsed, Requests: len(latencies),
		RPS: float64(len(latencies)) / elapsed, P50ms: pct(latencies, 0.5), P99ms: pct(latencies, 0.99), MaxMs: pct(latencies, 1),
		Errors: errs, Statuses: statuses, ByStatus: by}, nil
}

// build makes the n-th request of an op and says which statuses are right. Deletes rotate
// over the ids (after one pass they are already deleted: still 200, delete is idempotent).
func build(ctx context.Context, base, key, op string, ids []string, n int64) (*http.Request, func(int) bool) {
	n-- // the first request is number 0
	id := ids[int(n)%len(ids)]
	var (
		method, path string
		body         io.Reader
		want         = func(status int) bool { return status == http.StatusOK }
	)
	switch op {
	case "get":
		method, path = http.MethodGet, "/v2/hc-interactions/"+id+"/public"
	case "list":
		method, path = http.MethodGet, "/v2/hc-interactions/public?limit=50"
	case "bulk":
		// The next 50 real ids: deleted whole (200) on the first pass over the ids, then
		// refused whole (406), both after the full check. Where a later pass overlaps a
		// chunk still in flight either may win, so both answers are right; all or nothing
		// itself is checked by the reliability suite.
		start := (int(n) * 50) % len(ids)
		var b strings.Builder
		b.WriteString(`{"ids":[`)
		for i := range 50 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q", ids[(start+i)%len(ids)])
		}
		b.WriteString(`]}`)
		method, path, body = http.MethodDelete, "/v2/hc-interactions/public", strings.NewReader(b.String())
		want = func(status int) bool { return status == http.StatusOK || status == http.StatusNotAcceptable }
	default:
		method, path = http.MethodDelete, "/v2/hc-interactions/"+id+"/public"
	}
	req, _ := http.NewRequestWithContext(ctx, method, base+path, body)
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, want
}
