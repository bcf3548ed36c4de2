package server_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fini-oss/conversations/internal/version"
	"github.com/fini-oss/conversations/openapi"
	"github.com/fini-oss/conversations/server"
	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/contract"
	"github.com/fini-oss/conversations/server/demo"
	"github.com/fini-oss/conversations/server/servertest"
	"github.com/fini-oss/conversations/server/store"
)

// coverage records every (operation, status) that left the server after validation.
var coverage = struct {
	sync.Mutex
	seen map[string]int
}{seen: map[string]int{}}

func record(op string, status int) {
	coverage.Lock()
	coverage.seen[fmt.Sprintf("%s %d", op, status)]++
	coverage.Unlock()
}

// TestMain fails the run when a status the spec documents was never produced and validated,
// or one it does not document was produced.
func TestMain(m *testing.M) {
	code := m.Run()
	// Only a run of the whole suite can prove coverage; -run and -fuzz select a part of it.
	partial := flag.Lookup("test.run").Value.String() != "" || flag.Lookup("test.fuzz").Value.String() != ""
	if code == 0 && !partial {
		if err := checkCoverage(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

func checkCoverage() error {
	doc, err := openapi.Load()
	if err != nil {
		return err
	}
	var documented []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for code := range op.Responses.Map() {
				documented = append(documented, op.OperationID+" "+code)
			}
		}
	}
	sort.Strings(documented)
	var missing, extra []string
	var table strings.Builder
	table.WriteString("spec coverage (operation status: responses produced and validated):\n")
	for _, k := range documented {
		fmt.Fprintf(&table, "  %-32s %5d\n", k, coverage.seen[k])
		if coverage.seen[k] == 0 {
			missing = append(missing, k)
		}
	}
	for k := range coverage.seen {
		if !slices.Contains(documented, k) {
			extra = append(extra, k)
		}
	}
	fmt.Print(table.String())
	// go test shows a passing package's output only with -v: the Makefile prints this file.
	if path := os.Getenv("FINI_SPEC_COVERAGE"); path != "" {
		if err := os.WriteFile(path, []byte(table.String()), 0o644); err != nil {
			return err
		}
	}
	if len(missing)+len(extra) > 0 {
		return fmt.Errorf("spec coverage gate: never produced: %v; produced but undocumented: %v", missing, extra)
	}
	return nil
}

// env is one server (servertest) with two workspaces and keys of every kind; every
// response it sends is recorded for the coverage gate.
type env struct {
	t     *testing.T
	url   string
	store store.Store
	// A is the demo workspace (30 conversations); B another tenant (10).
	A, B demo.Result
	// keys of workspace A
	readKey, writeKey, revokedKey string
	// srv is the server behind url, se its fixture.
	srv *server.Server
	se  *servertest.Env
}

func newTestServer(t *testing.T) *env {
	return newTestServerWith(t, servertest.Options{})
}

func newTestServerMode(t *testing.T, mode contract.Mode, wrap func(store.API) store.API) *env {
	return newTestServerWith(t, servertest.Options{Mode: mode, WrapStore: wrap})
}

func newTestServerWith(t *testing.T, opts servertest.Options) *env {
	t.Helper()
	opts.OnResponse = record
	se := servertest.New(t, opts)
	e := &env{t: t, url: se.URL, store: se.Store, A: se.Seeded, B: se.Other, srv: se.Server, se: se}
	e.readKey = se.Key(t, "read")
	e.writeKey = se.Key(t, "write")
	e.revokedKey = se.Key(t, "read", "write")
	ctx := context.Background()
	k, err := se.Store.APIKeyByHash(ctx, apikey.Hash(e.revokedKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := se.Store.RevokeAPIKey(ctx, k.ID, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	return e
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request with the key (none when empty) and a JSON body (none when empty).
func (e *env) do(method, path, key, body string) response {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) response {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

// expect checks the status and, unless want is empty, that the body equals want as JSON.
func (r response) expect(t *testing.T, status int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %.300s", r.status, status, r.body)
	}
	if want == "" {
		return
	}
	var got, exp any
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	gb, _ := json.Marshal(got)
	eb, _ := json.Marshal(exp)
	if string(gb) != string(eb) {
		t.Fatalf("body = %s\nwant   %s", gb, eb)
	}
}

func errBody(status int, message string) string {
	b, _ := json.Marshal(map[string]any{"statusCode": status, "message": message, "error": http.StatusText(status)})
	return string(b)
}

const (
	success       = `{"success":true}`
	unauthorized  = `{"statusCode":401,"message":"Invalid or revoked API key","error":"Unauthorized"}`
	forbidden     = `{"statusCode":403,"message":"API key does not have the required scope for this operation","error":"Forbidden"}`
	internalError = `{"statusCode":500,"message":"Internal server error","error":"Internal Server Error"}`
)

func convPath(id any) string { return fmt.Sprintf("/v2/hc-interactions/%v/public", id) }

const listPath = "/v2/hc-interactions/public"

// allOperations sends the sample request of every operation of the spec (servertest's
// Samples) with A's read+write key.
func (e *env) allOperations() []response {
	e.t.Helper()
	var out []response
	for _, s := range e.se.Samples(e.t) {
		out = append(out, e.do(s.Method, s.Path, e.A.Key, s.Body))
	}
	return out
}

// healthy is the body of /healthz: alive, and the build that serves.
func healthy() string {
	b, _ := json.Marshal(map[string]any{"status": "ok", "version": version.Get()})
	return string(b)
}
