package main

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fini-oss/conversations/server/store/sqlite/fulldisk"
)

// fullDiskMessage is what a write command says on a full disk.
func fullDiskMessage(path string) string {
	return "the disk that holds " + path + " is full, so nothing was written: free some space, then run the command again"
}

// TestCommandsOnAFullDisk: on a full disk the commands that only read start and answer, the
// purge finds nothing to do, and a command that writes says the disk is full, in words, not
// a driver's error; once room is freed, it succeeds.
func TestCommandsOnAFullDisk(t *testing.T) {
	disk := fulldisk.New(t, 16<<20)
	path := filepath.Join(disk.Dir, "cli.db")
	db := "sqlite:" + path
	ws := strings.TrimSpace(mustRun(t, db, "", "workspace", "create", "Acme"))
	mustRun(t, db, "", "key", "create", "--workspace", ws, "--scopes", "read", "--name", "ops")
	id := keyRow(t, db, ws, "ops")[0]
	lines, _ := conversationLines(t, 20)
	mustRun(t, db, lines, "import", "--workspace", ws, "-")

	disk.Fill()
	if row := keyRow(t, db, ws, "ops"); row[4] != "-" {
		t.Errorf("key list on a full disk: %v", row)
	}
	mustRun(t, db, "", "audit", "--workspace", ws)
	if got := strings.TrimSpace(mustRun(t, db, "", "purge", "--older-than", "1h")); got != "0" {
		t.Errorf("purge on a full disk printed %q, want 0", got)
	}
	more, _ := conversationLines(t, 20)
	for _, args := range [][]string{
		{"key", "revoke", id},
		{"key", "create", "--workspace", ws, "--scopes", "read"},
		{"workspace", "create", "Other"},
		{"import", "--workspace", ws, "-"},
	} {
		disk.Fill() // a failed write may have left room that the next one could use
		out, _, err := finiServer(t, db, more, args...)
		if err == nil || err.Error() != fullDiskMessage(path) {
			t.Errorf("%v on a full disk: %v, want %q", args, err, fullDiskMessage(path))
		}
		if out != "" {
			t.Errorf("%v printed %q", args, out)
		}
	}

	disk.Free()
	mustRun(t, db, "", "key", "revoke", id)
	if row := keyRow(t, db, ws, "ops"); row[4] == "-" {
		t.Error("the key is not revoked once room was freed")
	}
}

// TestServeOnAFullDisk: serve starts on a full disk; reads answer 200 and writes 503 with
// Retry-After, in the API's error envelope; once room is freed, writes answer 200 again,
// with no restart.
func TestServeOnAFullDisk(t *testing.T) {
	disk := fulldisk.New(t, 16<<20)
	db := "sqlite:" + filepath.Join(disk.Dir, "serve.db")
	ws := strings.TrimSpace(mustRun(t, db, "", "workspace", "create", "Acme"))
	key := strings.TrimSpace(mustRun(t, db, "", "key", "create", "--workspace", ws, "--scopes", "read,write"))
	lines, ids := conversationLines(t, 5)
	mustRun(t, db, lines, "import", "--workspace", ws, "-")

	disk.Fill()
	s, _ := startServeOn(t, db)
	disk.Fill()
	do := func(method, route string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+s.addr+route, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, res.Header, string(body)
	}
	one := "/v2/hc-interactions/" + ids[0] + "/public"
	for _, route := range []string{listRoute, one} {
		if status, _, body := do(http.MethodGet, route); status != http.StatusOK {
			t.Errorf("GET %s on a full disk: %d %s", route, status, body)
		}
	}
	status, header, body := do(http.MethodDelete, one)
	var envelope map[string]any
	if err := json.Unmarshal([]byte(body), &envelope); err != nil {
		t.Fatalf("DELETE on a full disk: %v: %s", err, body)
	}
	want := map[string]any{"statusCode": 503.0, "message": "The database is unavailable; retry shortly", "error": "Service Unavailable"}
	if status != http.StatusServiceUnavailable || header.Get("Retry-After") != "30" || !maps.Equal(envelope, want) {
		t.Errorf("DELETE on a full disk: %d, Retry-After %q, %s; want 503, Retry-After 30 and %v", status, header.Get("Retry-After"), body, want)
	}
	if status, _, body := do(http.MethodGet, one); status != http.StatusOK {
		t.Errorf("GET after the refused DELETE: %d %s", status, body)
	}

	disk.Free()
	if status, _, body := do(http.MethodDelete, one); status != http.StatusOK {
		t.Errorf("DELETE once room was freed: %d %s", status, body)
	}
	if status, _, body := do(http.MethodGet, one); status != http.StatusNotFound {
		t.Errorf("GET of the deleted conversation: %d %s", status, body)
	}
}
