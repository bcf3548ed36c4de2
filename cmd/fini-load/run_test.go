package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/fini-oss/conversations/server/servertest"
)

// TestDrive runs each operation briefly against the real stack: the figures add up and every
// answer is the one the op expects.
func TestDrive(t *testing.T) {
	env := servertest.New(t, servertest.Options{Conversations: 120})
	ids := make([]string, len(env.Seeded.ConversationIDs))
	for i, id := range env.Seeded.ConversationIDs {
		ids[i] = id.String()
	}
	// As bench-load.sh does: deletes and bulks over separate ids.
	sets := map[string][]string{"get": ids[:60], "list": ids[:60], "delete": ids[:60], "bulk": ids[60:]}
	for _, op := range []string{"get", "list", "delete", "bulk"} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		r, err := drive(ctx, env.URL, env.Seeded.Key, op, sets[op], 4, 400)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, n := range r.Statuses {
			total += n
		}
		if r.Requests == 0 || total != r.Requests || r.Errors != 0 || r.P99ms < r.P50ms || r.MaxMs < r.P99ms {
			t.Errorf("%s: %+v", op, r)
		}
	}
}

// TestRequestsSentBeforeTheEndAreCounted: a request under way when the run ends is waited for
// and counted, with its latency: the slowest request, which the end of a run often meets (a
// write waiting for an import), is the one that must not be dropped.
func TestRequestsSentBeforeTheEndAreCounted(t *testing.T) {
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		<-release
	}))
	defer srv.Close()
	ids := make([]string, 60)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *result, 1)
	go func() {
		r, err := drive(ctx, srv.URL, "k", "get", ids, 1, 10)
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	<-arrived
	cancel() // the run ends while its request waits
	close(release)
	if r := <-done; r == nil || r.Requests != 1 || r.Statuses["200"] != 1 || r.Errors != 0 {
		t.Errorf("result %+v, want the one request counted, answered 200", r)
	}
}

func TestBulkTakesTheNextFiftyIDs(t *testing.T) {
	ids := make([]string, 120)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	req, ok := build(context.Background(), "http://127.0.0.1:1", "k", "bulk", ids, 2) // the second
	body, _ := io.ReadAll(req.Body)
	if req.Method != http.MethodDelete || !ok(http.StatusOK) || !ok(http.StatusNotAcceptable) || ok(http.StatusInternalServerError) {
		t.Errorf("bulk: %s, accepts 200 %v, 406 %v, 500 %v", req.Method, ok(200), ok(406), ok(500))
	}
	if !strings.Contains(string(body), ids[50]) || !strings.Contains(string(body), ids[99]) || strings.Contains(string(body), ids[100]) {
		t.Errorf("the second bulk should carry ids 50 to 99: %s", body)
	}
}

// TestHelpNeverShowsTheKey: --help names $FINI_API_KEY but never prints its value.
func TestHelpNeverShowsTheKey(t *testing.T) {
	const sentinel = "fini_SENTINELkeyvalue"
	t.Setenv("FINI_API_KEY", sentinel)
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"gen", "--help"}, {"scale", "--help"}} {
		var out bytes.Buffer
		root := newRootCmd()
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if strings.Contains(out.String(), sentinel) {
			t.Errorf("%v prints the key:\n%s", args, out.String())
		}
	}
}

// TestNoFlagTakesTheKey: run takes its key from $FINI_API_KEY only, since ps shows every
// process's arguments to every user of the machine; without it, run says where the key goes.
func TestNoFlagTakesTheKey(t *testing.T) {
	t.Setenv("FINI_API_KEY", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--key", "fini_SENTINELkeyvalue", "--ids", "ids"}, "unknown flag: --key"},
		{[]string{"run", "--ids", "ids"}, "set FINI_API_KEY to a read+write API key"},
	} {
		var out bytes.Buffer
		root := newRootCmd()
		root.SetOut(&out)
		root.SetErr(&out)
		root.SetArgs(tc.args)
		err := root.Execute()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error saying %q", tc.args, err, tc.want)
		}
		if strings.Contains(out.String(), "fini_SENTINEL") || (err != nil && strings.Contains(err.Error(), "fini_SENTINEL")) {
			t.Errorf("%v shows the key", tc.args)
		}
	}
}
