package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// sentinelPassword is the password of every DSN below; it must never be printed.
const sentinelPassword = "SENTINELpw"

// unreachableDSN names a PostgreSQL that refuses connections at once.
const unreachableDSN = "postgres://u:" + sentinelPassword + "@127.0.0.1:1/db"

// commandPaths returns the arguments that name root and each of its subcommands, cobra's own
// help and completion commands included.
func commandPaths(root *cobra.Command) [][]string {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	paths := [][]string{nil}
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		for _, sub := range c.Commands() {
			p := append(slices.Clone(path), sub.Name())
			paths = append(paths, p)
			walk(sub, p)
		}
	}
	walk(root, nil)
	return paths
}

// execute runs fini-server as main does and returns its exit code and output.
func execute(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpNeverShowsTheEnvironment(t *testing.T) {
	t.Setenv("FINI_DB", unreachableDSN)
	t.Setenv("FINI_ADDR", "SENTINEL.invalid:1")
	t.Setenv("FINI_RESPONSE_VALIDATION", "SENTINEL")
	paths := commandPaths(newRootCmd(io.Discard, io.Discard))
	if len(paths) < 16 {
		t.Fatalf("found only %d commands: %v", len(paths), paths)
	}
	wantLines := map[string][]string{
		"":      {`database: sqlite:PATH or postgres://... (env FINI_DB) (default "sqlite:fini.db")` + "\n"},
		"serve": {`listen address of the API (env FINI_ADDR) (default "127.0.0.1:8080")` + "\n", `enforce, report or off (env FINI_RESPONSE_VALIDATION) (default "enforce")` + "\n"},
	}
	for _, path := range paths {
		code, out, errOut := execute("", append(slices.Clone(path), "--help")...)
		name := strings.Join(append([]string{"fini-server"}, path...), " ") + " --help"
		if code != 0 || errOut != "" {
			t.Errorf("%s: exit %d, stderr %q", name, code, errOut)
		}
		if strings.Contains(out+errOut, "SENTINEL") {
			t.Errorf("%s shows a secret:\n%s", name, out)
		}
		for _, want := range wantLines[strings.Join(path, " ")] {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, out)
			}
		}
	}
}

func TestFailuresNeverShowThePassword(t *testing.T) {
	const connect = "fini-server: connect to postgres: failed to connect to `user=u database=db`:"
	const badDB = "fini-server: --db: want sqlite:PATH or postgres://USER@HOST:PORT/DB (the value is not shown: it may hold a password)\n"
	const passwordFlag = "fini-server: --db holds a password, which every user of this machine can read with ps: give the DSN in $FINI_DB instead, or the password in $PGPASSWORD or a ~/.pgpass file\n"
	tests := []struct {
		name, env string // FINI_DB
		args      []string
		want      string // stderr, or its start when it ends with "..."
	}{
		{"migrate, unreachable", unreachableDSN, []string{"migrate"}, connect + "..."},
		{"serve, unreachable", unreachableDSN, []string{"serve"}, connect + "..."},
		{"key list, unreachable", unreachableDSN, []string{"key", "list", "--workspace", "00000000-0000-4000-8000-000000000000"}, connect + "..."},
		{"malformed URL", "postgres://u:" + sentinelPassword + "@127.0.0.1:port/db", []string{"migrate"},
			"fini-server: parse postgres dsn: invalid port\n"},
		{"unknown scheme", "mysql://u:" + sentinelPassword + "@127.0.0.1/db", []string{"migrate"}, badDB},
		{"keyword/value DSN in --db", "", []string{"--db", "host=127.0.0.1 port=1 password=" + sentinelPassword, "migrate"}, badDB},
		{"password in --db", "", []string{"--db", unreachableDSN, "migrate"}, passwordFlag},
		{"password parameter in --db", "", []string{"--db=postgres://u@127.0.0.1:1/db?password=" + sentinelPassword, "key", "list", "--workspace", "00000000-0000-4000-8000-000000000000"}, passwordFlag},
		{"TLS key's password in --db", "", []string{"--db", "postgres://u@127.0.0.1:1/db?sslpassword=" + sentinelPassword, "migrate"}, passwordFlag},
		{"upper-case password parameter in --db", "", []string{"--db", "postgres://u@127.0.0.1:1/db?PASSWORD=" + sentinelPassword, "migrate"}, passwordFlag},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FINI_DB", tt.env)
			code, out, errOut := execute("", tt.args...)
			if code != 1 || out != "" {
				t.Errorf("exit %d, stdout %q", code, out)
			}
			if strings.Contains(errOut, "SENTINEL") {
				t.Errorf("stderr shows the password: %s", errOut)
			}
			if prefix, ok := strings.CutSuffix(tt.want, "..."); ok {
				if !strings.HasPrefix(errOut, prefix) {
					t.Errorf("stderr = %q, want it to start with %q", errOut, prefix)
				}
			} else if errOut != tt.want {
				t.Errorf("stderr = %q, want %q", errOut, tt.want)
			}
		})
	}
}

func TestEnvironmentIsReadWhenTheCommandRuns(t *testing.T) {
	dir := t.TempDir()
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err == nil
	}

	t.Setenv("FINI_DB", "sqlite:"+filepath.Join(dir, "env.db"))
	if code, _, errOut := execute("", "migrate"); code != 0 || !exists("env.db") {
		t.Errorf("migrate with $FINI_DB: exit %d, env.db created: %v; %s", code, exists("env.db"), errOut)
	}
	t.Setenv("FINI_DB", "sqlite:"+filepath.Join(dir, "env2.db"))
	if code, _, errOut := execute("", "--db", "sqlite:"+filepath.Join(dir, "flag.db"), "migrate"); code != 0 || !exists("flag.db") || exists("env2.db") {
		t.Errorf("--db beats $FINI_DB: exit %d, flag.db %v, env2.db %v; %s", code, exists("flag.db"), exists("env2.db"), errOut)
	}

	t.Setenv("FINI_RESPONSE_VALIDATION", "loud")
	if code, _, errOut := execute("", "serve"); code != 1 || errOut != "fini-server: response validation mode \"loud\": want enforce, report or off\n" {
		t.Errorf("serve with a bad $FINI_RESPONSE_VALIDATION: exit %d, %q", code, errOut)
	}
	// The flag beats the variable, and then $FINI_ADDR is the address serve fails to listen on.
	t.Setenv("FINI_ADDR", "127.0.0.1:99999")
	if code, _, errOut := execute("", "serve", "--response-validation", "report"); code != 1 || errOut != "fini-server: listen (api): listen tcp: address 99999: invalid port\n" {
		t.Errorf("serve with --response-validation and a bad $FINI_ADDR: exit %d, %q", code, errOut)
	}
}

func TestFailuresNeverShowAKey(t *testing.T) {
	const key = "fini_SENTINELsecretSENTINELsecretSENTINELsecret0"
	db := "sqlite:" + filepath.Join(t.TempDir(), "keys.db")
	ws := strings.TrimSpace(mustRun(t, db, "", "workspace", "create", "Acme"))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"key for a workspace id", []string{"key", "create", "--workspace", key, "--scopes", "read"},
			"fini-server: --workspace \"fini_xxxxx\" is not a UUID\n"},
		{"key for a conversation id", []string{"restore", "--workspace", ws, key},
			"fini-server: conversation id \"fini_xxxxx\" is not a UUID\n"},
		{"key for a file", []string{"import", "--workspace", ws, key},
			"fini-server: open fini_xxxxx: no such file or directory\n"},
		{"key for a command", []string{key},
			"fini-server: unknown command \"fini_xxxxx\" for \"fini-server\"\n"},
		{"key for a flag's value", []string{"purge", "--older-than", key},
			"fini-server: invalid argument \"fini_xxxxx\" for \"--older-than\" flag: want a duration such as 720h or 90m, or whole days such as 30d\n"},
		{"key for a time", []string{"audit", "--workspace", ws, "--since", key},
			"fini-server: --since \"fini_xxxxx\": want an RFC 3339 time (2026-11-27T10:00:00Z) or epoch milliseconds\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := execute("", append([]string{"--db", db}, tt.args...)...)
			if code != 1 || out != "" || errOut != tt.want {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1, stderr %q", code, out, errOut, tt.want)
			}
		})
	}
}
