package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// keyRow returns the fields of the row of the key called name in `key list`: ID, NAME,
// SCOPES, CREATED, REVOKED and LAST USED (the names the tests give have no spaces).
func keyRow(t *testing.T, db, ws, name string) []string {
	t.Helper()
	for line := range strings.SplitSeq(mustRun(t, db, "", "key", "list", "--workspace", ws), "\n") {
		if f := strings.Fields(line); len(f) == 6 && f[1] == name {
			return f
		}
	}
	t.Fatalf("key list has no key called %s", name)
	return nil
}

func TestKeyRevoke(t *testing.T) {
	const noSuchKey = "no such key: give the key's id (from key list), or - and the key on standard input"
	db := "sqlite:" + filepath.Join(t.TempDir(), "revoke.db")
	ws := strings.TrimSpace(mustRun(t, db, "", "workspace", "create", "Acme"))
	tests := []struct {
		name string
		// arg and stdin give the key; ID, UPPER-ID and KEY stand for the new key's.
		arg, stdin string
		wantErr    string // empty when the key is revoked
	}{
		{name: "id", arg: "ID"},
		{name: "id-in-upper-case", arg: "UPPER-ID"},
		{name: "key", arg: "KEY", wantErr: errKeyOnCommandLine.Error()},
		{name: "id-on-stdin", arg: "-", stdin: "ID\n"},
		{name: "key-on-stdin", arg: "-", stdin: " \t KEY  \r\nsecond line\n"},
		{name: "key-on-stdin-without-newline", arg: "-", stdin: "KEY"},
		{name: "unknown-id", arg: uuid.NewString(), wantErr: noSuchKey},
		{name: "garbage", arg: "nope", wantErr: noSuchKey},
		{name: "key-shaped-garbage", arg: "fini_nope", wantErr: errKeyOnCommandLine.Error()},
		{name: "garbage-on-stdin", arg: "-", stdin: "fini_nope\n", wantErr: noSuchKey},
		{name: "empty-stdin", arg: "-", stdin: "\n", wantErr: "no key on standard input: give the key on its first line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := strings.TrimSpace(mustRun(t, db, "", "key", "create", "--workspace", ws, "--scopes", "read", "--name", tt.name))
			id := keyRow(t, db, ws, tt.name)[0]
			r := strings.NewReplacer("UPPER-ID", strings.ToUpper(id), "ID", id, "KEY", key)
			out, errOut, err := finiServer(t, db, r.Replace(tt.stdin), "key", "revoke", r.Replace(tt.arg))
			revoked := keyRow(t, db, ws, tt.name)[4]
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error = %v, want %q", err, tt.wantErr)
				}
				if revoked != "-" {
					t.Errorf("the new key was revoked at %s", revoked)
				}
				return
			}
			if err != nil {
				t.Fatalf("revoke: %v", err)
			}
			if out != "" || errOut != "key "+id+" revoked\n" {
				t.Errorf("stdout %q, stderr %q; want stderr %q", out, errOut, "key "+id+" revoked\n")
			}
			if revoked == "-" {
				t.Error("key list shows the key as not revoked")
			}
		})
	}
}
