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

// sentinelKey is a well-formed key that must never be printed, whole or in part.
const sentinelKey = "fini_SENTINELsecretSENTINELsecretSENTINELsecret0"

// sentinels are the parts of secrets a test looks for in fini's output.
var sentinels = []string{"SENTINEL", "secretSENT"}

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

// wantNoSecret fails if out shows any sentinel.
func wantNoSecret(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range sentinels {
		if strings.Contains(out, s) {
			t.Errorf("%s shows a secret:\n%s", what, out)
			return
		}
	}
}

func TestHelpNeverShowsTheEnvironment(t *testing.T) {
	t.Setenv("FINI_API_KEY", sentinelKey)
	t.Setenv("FINI_API_KEY_FILE", "/SENTINEL/key")
	t.Setenv("FINI_BASE_URL", "http://SENTINEL.invalid")
	paths := commandPaths(newRootCmd(strings.NewReader(""), io.Discard, io.Discard))
	if len(paths) < 8 {
		t.Fatalf("found only %d commands: %v", len(paths), paths)
	}
	for _, path := range paths {
		var out, errOut bytes.Buffer
		code := run(append(slices.Clone(path), "--help"), strings.NewReader(""), &out, &errOut)
		name := strings.Join(append([]string{"fini"}, path...), " ") + " --help"
		if code != exitOK || errOut.Len() != 0 {
			t.Errorf("%s: exit %d, stderr %q", name, code, errOut.String())
		}
		wantNoSecret(t, name, out.String()+errOut.String())
		if len(path) == 0 {
			for _, want := range []string{"file whose first line is the API key; - for standard input (env FINI_API_KEY_FILE)\n", "API base URL (env FINI_BASE_URL; default Fini's production API)\n"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("%s lacks %q:\n%s", name, want, out.String())
				}
			}
		}
	}
}

func TestEnvironmentIsReadWhenTheCommandRuns(t *testing.T) {
	f := newFixture(t, 3)
	tests := []struct {
		name, envKey, envURL string
		args                 []string
		want                 int
	}{
		{"key and URL from the environment", f.key, f.url, nil, exitOK},
		{"--api-key-file beats the environment", sentinelKey, f.url, []string{"--api-key-file", keyFile(t, f.key)}, exitOK},
		{"--base-url beats the environment", f.key, "ftp://nowhere", []string{"--base-url", f.url}, exitOK},
		{"the environment's key is used", sentinelKey, f.url, nil, exitAuth},
		{"the environment's URL is used", f.key, "ftp://nowhere", nil, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FINI_API_KEY", tt.envKey)
			t.Setenv("FINI_BASE_URL", tt.envURL)
			var out, errOut bytes.Buffer
			code := run(append(tt.args, "conversations", "list"), strings.NewReader(""), &out, &errOut)
			if code != tt.want {
				t.Errorf("exit %d, want %d; stderr %s", code, tt.want, errOut.String())
			}
			wantNoSecret(t, "output", out.String()+errOut.String())
		})
	}
}

func TestFailuresNeverShowTheKey(t *testing.T) {
	f := newFixture(t, 1)
	tests := []struct {
		name, baseURL, stdin string
		args                 []string
		code                 int
		want                 string // stderr, or a part of it when it starts with "..."
	}{
		{name: "key refused", baseURL: f.url, args: []string{"conversations", "list"}, code: exitAuth,
			want: "...Invalid or revoked API key"},
		{name: "base URL not http", baseURL: "ftp://u:SENTINELpw@example.com", args: []string{"conversations", "list"}, code: exitUsage,
			want: "fini: base URL \"ftp://u:xxxxx@example.com\": want http(s)://host[:port]\n"},
		{name: "key for an id", baseURL: f.url, args: []string{"conversations", "get", sentinelKey}, code: exitUsage,
			want: "fini: \"fini_xxxxx\" is not a conversation id (a UUID)\n"},
		{name: "key on stdin for an id", baseURL: f.url, stdin: sentinelKey + "\n", args: []string{"conversations", "bulk-delete", "-"}, code: exitUsage,
			want: "fini: stdin line 1: \"fini_xxxxx\" is not a conversation id (a UUID); nothing was deleted\n"},
		{name: "key as an argument", baseURL: f.url, args: []string{"conversations", "list", sentinelKey}, code: exitUsage,
			want: "fini: unknown command \"fini_xxxxx\" for \"fini conversations list\"\n"},
		{name: "key as a flag's value", baseURL: f.url, args: []string{"conversations", "list", "--limit", sentinelKey}, code: exitUsage,
			want: "fini: invalid argument \"fini_xxxxx\" for \"--limit\" flag: strconv.ParseInt: parsing \"fini_xxxxx\": invalid syntax\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FINI_API_KEY", sentinelKey)
			t.Setenv("FINI_BASE_URL", tt.baseURL)
			var out, errOut bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &out, &errOut)
			if code != tt.code || out.Len() != 0 {
				t.Errorf("exit %d, want %d; stdout %q", code, tt.code, out.String())
			}
			wantNoSecret(t, "stderr", errOut.String())
			if part, ok := strings.CutPrefix(tt.want, "..."); ok {
				if !strings.Contains(errOut.String(), part) {
					t.Errorf("stderr = %q, want it to contain %q", errOut.String(), part)
				}
			} else if errOut.String() != tt.want {
				t.Errorf("stderr = %q, want %q", errOut.String(), tt.want)
			}
		})
	}
}

// keyFile writes key, with a newline, to a file only the owner reads, and returns its path.
func keyFile(t *testing.T, key string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestNoFlagTakesTheKey: a key is never a flag's value, where ps and the shell's history
// would show it. --api-key is refused, without repeating the key, and says what to do; the
// key comes from the environment, a file or standard input.
func TestNoFlagTakesTheKey(t *testing.T) {
	f := newFixture(t, 2)
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		want        string // stderr, or a part of it when it starts with "..."
	}{
		{"--api-key", "", []string{"--api-key", sentinelKey, "conversations", "list"}, exitUsage,
			"fini: there is no --api-key flag: " + noKeyFlag + "\n"},
		{"--api-key=", "", []string{"--api-key=" + sentinelKey, "conversations", "list"}, exitUsage,
			"fini: there is no --api-key flag: " + noKeyFlag + "\n"},
		{"a key file", "", []string{"--api-key-file", keyFile(t, f.key), "conversations", "list"}, exitOK, ""},
		{"the key on standard input", f.key + "\n", []string{"--api-key-file", "-", "conversations", "list"}, exitOK, ""},
		{"no such key file", "", []string{"--api-key-file", "/nonexistent/key", "conversations", "list"}, exitUsage,
			"fini: --api-key-file: open /nonexistent/key: no such file or directory\n"},
		{"an empty key file", "", []string{"--api-key-file", keyFile(t, ""), "conversations", "list"}, exitUsage,
			"...no key on its first line"},
		{"key and ids both on standard input", f.key + "\n" + f.ids[0].String() + "\n", []string{"--api-key-file", "-", "conversations", "bulk-delete", "-"}, exitUsage,
			"fini: standard input holds the API key (--api-key-file -): give the ids as arguments, or the key in a file\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FINI_API_KEY", "")
			t.Setenv("FINI_BASE_URL", f.url)
			var out, errOut bytes.Buffer
			code := run(tt.args, strings.NewReader(tt.stdin), &out, &errOut)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, errOut.String())
			}
			wantNoSecret(t, "output", out.String()+errOut.String())
			if part, ok := strings.CutPrefix(tt.want, "..."); ok {
				if !strings.Contains(errOut.String(), part) {
					t.Errorf("stderr = %q, want it to contain %q", errOut.String(), part)
				}
			} else if tt.want != "" && errOut.String() != tt.want {
				t.Errorf("stderr = %q, want %q", errOut.String(), tt.want)
			}
		})
	}
}
