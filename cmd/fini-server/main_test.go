package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fini-oss/conversations/server/demo"
)

// finiServer executes fini-server in-process with args and returns stdout, stderr and the error.
func finiServer(t *testing.T, db string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd(&out, &errOut)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(append([]string{"--db", db}, args...))
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func mustRun(t *testing.T, db, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := finiServer(t, db, stdin, args...)
	if err != nil {
		t.Fatalf("fini-server %v: %v\n%s", args, err, errOut)
	}
	return out
}

func conversationLines(t *testing.T, n int) (string, []string) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	var ids []string
	for range n {
		c := demo.Conversation(time.Now(), rnd)
		line, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
		ids = append(ids, c.ID.String())
	}
	return b.String(), ids
}

func TestAdminCommands(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "cli.db")
	mustRun(t, db, "", "migrate")
	ws := strings.TrimSpace(mustRun(t, db, "", "workspace", "create", "Acme"))
	if len(ws) != 36 {
		t.Fatalf("workspace create printed %q, want the id alone", ws)
	}

	key := strings.TrimSpace(mustRun(t, db, "", "key", "create", "--workspace", ws, "--scopes", "read,write", "--name", "ci"))
	if !strings.HasPrefix(key, "fini_") || strings.Contains(key, "\n") {
		t.Fatalf("key create printed %q, want the key alone", key)
	}
	if _, _, err := finiServer(t, db, "", "key", "create", "--workspace", ws, "--scopes", "admin"); err == nil ||
		!strings.Contains(err.Error(), `"admin" is not one of read, write`) {
		t.Errorf("unknown scope: %v", err)
	}
	if _, _, err := finiServer(t, db, "", "key", "create", "--workspace", "00000000-0000-4000-8000-000000000000", "--scopes", "read"); err == nil {
		t.Error("key for an unknown workspace was created")
	}
	list := mustRun(t, db, "", "key", "list", "--workspace", ws)
	if !strings.Contains(list, "ci") || !strings.Contains(list, "read,write") || strings.Contains(list, key) {
		t.Errorf("key list = %q", list)
	}

	lines, ids := conversationLines(t, 5)
	if got := strings.TrimSpace(mustRun(t, db, lines, "import", "--workspace", ws, "-")); got != "5" {
		t.Errorf("import printed %q, want 5", got)
	}
	file := filepath.Join(t.TempDir(), "more.jsonl")
	more, _ := conversationLines(t, 2)
	more = strings.Replace(more, "\n", "\n\n", 1) // blank lines are fine
	if err := os.WriteFile(file, []byte(more), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(mustRun(t, db, "", "import", "--workspace", ws, file)); got != "2" {
		t.Errorf("import file printed %q, want 2", got)
	}

	mustRun(t, db, key+"\n", "key", "revoke", "-")
	if list := mustRun(t, db, "", "key", "list", "--workspace", ws); strings.Count(list, "-\n") != 0 && !strings.Contains(list, "T") {
		t.Errorf("revoked key not shown as revoked: %q", list)
	}
	if _, _, err := finiServer(t, db, "", "key", "revoke", "fini_nope"); err == nil {
		t.Error("revoking an unknown key succeeded")
	}

	if _, _, err := finiServer(t, db, "", "restore", "--workspace", ws, ids[0]); err == nil {
		t.Error("restore of a live conversation succeeded")
	}
	if got := strings.TrimSpace(mustRun(t, db, "", "purge", "--older-than", "720h")); got != "0" {
		t.Errorf("purge printed %q, want 0", got)
	}
	if _, _, err := finiServer(t, db, "", "purge"); err == nil {
		t.Error("purge without --older-than succeeded")
	}
}

func TestImportBadFileImportsNothing(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "cli.db")
	ws := strings.TrimSpace(mustRun(t, db, "", "workspace", "create", "Acme"))
	good, _ := conversationLines(t, 3)
	lines := strings.Split(strings.TrimSpace(good), "\n")
	mutate := func(line string, f func(map[string]any)) string {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	var first map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &first)
	tests := []struct {
		name, line, want string
	}{
		{"not json", `{"id":`, "line 3: not valid JSON"},
		{"missing fields", `{"id":"0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8"}`, `line 3: property "`},
		{"bad uuid", mutate(lines[2], func(m map[string]any) { m["id"] = "x" }), "line 3: id: must be a UUID"},
		{"null where not nullable", mutate(lines[2], func(m map[string]any) { m["source"] = nil }), "line 3: source: Value is not nullable"},
		{"unknown field", mutate(lines[2], func(m map[string]any) { m["secret"] = 1 }), `line 3: property "secret" is unsupported`},
		{"bad botId", mutate(lines[2], func(m map[string]any) { m["botId"] = "x" }), "line 3: botId: must be a UUID or null"},
		{"duplicate id", lines[0], fmt.Sprintf("line 3: conversation %s already on line 1", first["id"])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := lines[0] + "\n" + lines[1] + "\n" + tt.line + "\n"
			out, _, err := finiServer(t, db, in, "import", "--workspace", ws, "-")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "nothing imported") {
				t.Fatalf("import error = %v, want it to contain %q", err, tt.want)
			}
			if out != "" {
				t.Errorf("printed %q on failure", out)
			}
		})
	}
	// Nothing from the failed files is there: the good lines now import cleanly.
	if got := strings.TrimSpace(mustRun(t, db, good, "import", "--workspace", ws, "-")); got != "3" {
		t.Errorf("after failed imports, importing the good lines printed %q, want 3", got)
	}
	if _, _, err := finiServer(t, db, good, "import", "--workspace", ws, "-"); !errors.Is(err, errImportConflict) {
		t.Errorf("re-import: %v, want %q", err, errImportConflict)
	}
}

func TestBadDatabaseFlag(t *testing.T) {
	for _, db := range []string{"mysql://x", "sqlite:"} {
		if _, _, err := finiServer(t, db, "", "migrate"); err == nil {
			t.Errorf("--db %s accepted", db)
		}
	}
	_, _, err := finiServer(t, "sqlite:"+filepath.Join(t.TempDir(), "x.db"), "", "serve", "--response-validation", "loud")
	if err == nil || !strings.Contains(err.Error(), "want enforce, report or off") {
		t.Errorf("bad mode: %v", err)
	}
}

// TestOnlyCreatingCommandsMakeADatabase: a mistyped --db path is an error for a command that
// reads or changes an existing database, not an empty database that answers "nothing".
func TestOnlyCreatingCommandsMakeADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "typo.db")
	ws := "00000000-0000-4000-8000-000000000000"
	for _, args := range [][]string{{"audit", "--workspace", ws}, {"key", "list", "--workspace", ws}, {"purge", "--older-than", "1h"}} {
		_, _, err := finiServer(t, "sqlite:"+path, "", args...)
		if err == nil || err.Error() != "--db: no database at "+path+" (only serve, migrate and workspace create make a new one)" {
			t.Errorf("%v: %v", args, err)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%v created %s", args, path)
		}
	}
	mustRun(t, "sqlite:"+path, "", "migrate")
	if _, err := os.Stat(path); err != nil {
		t.Errorf("migrate made no database: %v", err)
	}
}
