package main

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/server/servertest"
)

type fixture struct {
	url, key, readOnly string
	ids                []uuid.UUID
}

func newFixture(t *testing.T, n int) *fixture {
	t.Helper()
	env := servertest.New(t, servertest.Options{Conversations: n})
	return &fixture{url: env.URL, key: env.Seeded.Key, readOnly: env.Key(t, "read"), ids: env.Seeded.ConversationIDs}
}

type result struct {
	code           int
	stdout, stderr string
}

func (f *fixture) fini(t *testing.T, key, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	t.Setenv("FINI_API_KEY", key)
	code := run(append([]string{"--base-url", f.url}, args...), strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func TestListAndGet(t *testing.T) {
	f := newFixture(t, 130)
	r := f.fini(t, f.key, "", "conversations", "list", "--limit", "10")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 11 || !strings.Contains(r.stdout, "LATEST MESSAGE") ||
		!strings.Contains(r.stderr, "--all") {
		t.Fatalf("list: %+v", r)
	}
	r = f.fini(t, f.key, "", "conversations", "list", "--all", "--json", "--limit", "40")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 130 {
		t.Fatalf("list --all --json: code %d, %d lines", r.code, strings.Count(r.stdout, "\n"))
	}
	// What the filters below must select, worked out here from the unfiltered list.
	now := time.Now()
	sinceT := now.Add(-24 * time.Hour)
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var c struct {
			ID, Source string
			Channel    *string
			CreatedAt  int64
			Events     []struct{ CreatedAt int64 }
		}
		if err := json.Unmarshal([]byte(line), &c); err != nil || c.Events == nil {
			t.Fatalf("json line %.80s: %v", line, err)
		}
		latest := c.CreatedAt
		for _, e := range c.Events {
			latest = max(latest, e.CreatedAt)
		}
		if (c.Source == "widget" || c.Source == "api") && c.Channel != nil && *c.Channel == "chat" &&
			latest >= sinceT.UnixMilli() && latest < now.UnixMilli() {
			want = append(want, c.ID)
		}
	}
	if len(want) == 0 {
		t.Fatal("the fixture has no conversation the filters select: the test would prove nothing")
	}
	since := sinceT.Format(time.RFC3339Nano)
	until := strconv.FormatInt(now.UnixMilli(), 10) // epoch milliseconds work too
	if r = f.fini(t, f.key, "", "conv", "list", "--since", since, "--until", until, "--source", "widget,api", "--channel", "chat", "--json", "--all"); r.code != 0 {
		t.Fatalf("filters: %+v", r)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var c struct{ ID string }
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("json line %.80s: %v", line, err)
		}
		got = append(got, c.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("filtered list = %d conversations, want the %d that match, in the same order", len(got), len(want))
	}

	r = f.fini(t, f.key, "", "conversations", "get", f.ids[0].String())
	if r.code != 0 || !strings.Contains(r.stdout, "Conversation "+f.ids[0].String()) || !strings.Contains(r.stdout, "user") {
		t.Fatalf("get: %+v", r)
	}
	r = f.fini(t, f.key, "", "conversations", "get", "--json", f.ids[0].String())
	if r.code != 0 || !strings.Contains(r.stdout, `"id": "`+f.ids[0].String()) {
		t.Fatalf("get --json: %+v", r)
	}
	r = f.fini(t, f.key, "", "conversations", "get", uuid.NewString())
	if r.code != exitNotFound || !strings.Contains(r.stderr, "Conversation not found") || !strings.Contains(r.stderr, "never existed") {
		t.Fatalf("get unknown: %+v", r)
	}
}

func TestDelete(t *testing.T) {
	f := newFixture(t, 5)
	r := f.fini(t, f.key, "", "conversations", "delete", f.ids[0].String(), f.ids[1].String())
	if r.code != 0 || strings.Count(r.stdout, "deleted ") != 2 {
		t.Fatalf("delete: %+v", r)
	}
	r = f.fini(t, f.readOnly, "", "conversations", "delete", f.ids[2].String())
	if r.code != exitAuth || !strings.Contains(r.stderr, "fini conversations delete needs `write`") {
		t.Fatalf("delete with a read-only key: %+v", r)
	}
	r = f.fini(t, "fini_"+strings.Repeat("A", 43), "", "conversations", "list")
	if r.code != exitAuth || !strings.Contains(r.stderr, "Invalid or revoked API key") || !strings.Contains(r.stderr, "FINI_API_KEY") {
		t.Fatalf("unknown key: %+v", r)
	}
}

func TestBulkDeleteFromPipe(t *testing.T) {
	f := newFixture(t, 497)
	var in strings.Builder
	for _, id := range f.ids {
		in.WriteString(id.String() + "\n")
	}
	missing := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}
	in.WriteString(strings.Join(missing, "\n") + "\n")

	r := f.fini(t, f.key, in.String(), "conversations", "bulk-delete", "-")
	if r.code != exitNotAccessible {
		t.Fatalf("bulk-delete: %+v", r)
	}
	if !strings.Contains(r.stderr, "Deleted 497 of 500 conversations.") || !strings.Contains(r.stderr, "3 could not be deleted") {
		t.Errorf("summary: %s", r.stderr)
	}
	if got := strings.Fields(r.stdout); strings.Join(got, ",") != strings.Join(missing, ",") {
		t.Errorf("stdout = %v, want the 3 missing ids in order", got)
	}
	if strings.Contains(r.stderr, "deleting") {
		t.Error("a progress bar was drawn on a pipe")
	}
	r = f.fini(t, f.key, "", "conversations", "list")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("after bulk-delete, list shows %d lines", strings.Count(r.stdout, "\n"))
	}
	// Ids as arguments; all already gone.
	r = f.fini(t, f.key, "", "conversations", "bulk-delete", f.ids[0].String())
	if r.code != exitNotAccessible || strings.TrimSpace(r.stdout) != f.ids[0].String() {
		t.Errorf("bulk-delete of a deleted id: %+v", r)
	}
}

func TestUsage(t *testing.T) {
	f := newFixture(t, 1)
	for _, args := range [][]string{
		{"conversations", "get", "not-a-uuid"},
		{"conversations", "list", "--since", "yesterday"},
		{"conversations", "list", "--nope"},
		{"conversations", "bulk-delete"},
	} {
		if r := f.fini(t, f.key, "", args...); r.code != exitUsage {
			t.Errorf("%v: code %d, want %d; %s", args, r.code, exitUsage, r.stderr)
		}
	}
	if r := f.fini(t, f.key, "x\n", "conversations", "bulk-delete"); r.code != exitUsage || !strings.Contains(r.stderr, "stdin line 1") {
		t.Errorf("bad stdin: %+v", r)
	}
	t.Setenv("FINI_API_KEY", "")
	var out bytes.Buffer
	if code := run([]string{"conversations", "list"}, strings.NewReader(""), &out, &out); code != exitUsage || !strings.Contains(out.String(), "FINI_API_KEY") {
		t.Errorf("no key: %d %s", code, out.String())
	}
	out.Reset()
	if code := run([]string{"--help"}, strings.NewReader(""), &out, &out); code != 0 || !strings.Contains(out.String(), "Exit codes:") {
		t.Errorf("--help lacks exit codes: %s", out.String())
	}
	out.Reset()
	if code := run([]string{"conversations", "bulk-delete", "--help"}, strings.NewReader(""), &out, &out); code != 0 || !strings.Contains(out.String(), "progress bar") {
		t.Errorf("bulk-delete --help: %s", out.String())
	}
}

// TestEveryOperationHasACommand: each operation of the spec is called by exactly one
// command, which says so (the scope hint of a 403 reads it), and no command names an
// operation the spec does not have.
func TestEveryOperationHasACommand(t *testing.T) {
	found := map[string][]string{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if op, ok := c.Annotations[operationAnnotation]; ok {
			found[op] = append(found[op], c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(strings.NewReader(""), io.Discard, io.Discard))
	for op := range api.RequiredScopes {
		if len(found[op]) != 1 {
			t.Errorf("operation %s is called by %v, want one command", op, found[op])
		}
	}
	for op, cmds := range found {
		if _, ok := api.RequiredScopes[op]; !ok {
			t.Errorf("%v call %s, which the spec does not have", cmds, op)
		}
	}
}
