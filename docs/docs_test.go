// Package docs_test keeps the documentation from drifting: every command block of README.md,
// CONTRIBUTING.md, BENCHMARKS.md, RELIABILITY.md and docs/*.md says, on the line before it,
// how it is proven, and the blocks marked to run are run, against binaries built from this
// tree on 127.0.0.1. A block of Go code says which file it is taken from, and must be there.
//
// The marks, an HTML comment on the line before the block's fence:
//
//	<!-- run -->                  the block runs in bash (set -euo pipefail), in a copy of the
//	                              repository, after the blocks of the same file marked so;
//	                              fini, fini-server and fini-load are on the PATH (GOBIN), and
//	                              a demo server answers at 127.0.0.1:8080 with FINI_API_KEY
//	<!-- run: serves -->          the block is one command that serves (fini-server serve,
//	                              make run): it is started, must answer /healthz, and must
//	                              stop cleanly on SIGTERM; what it prints to export and curl
//	                              is then run too
//	<!-- checked by: NAME... -->  make targets or tests that run these commands; each must exist
//	<!-- not run: REASON -->      what cannot run here (a container engine, a cluster)
//	<!-- from: PATH -->           (Go blocks) each line of the block is in PATH, in order
//
// In the blocks that run, the documented addresses 127.0.0.1:8080 (the API) and
// 127.0.0.1:9090 (the admin listener) stand for the test's own.
package docs_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// block is one fenced block of a document.
type block struct {
	file string
	line int    // of the opening fence
	lang string // the fence's info string
	mark string // the comment on the line before, "" when there is none
	body string
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// documents are the Markdown files whose blocks are checked.
func documents(t *testing.T) []string {
	t.Helper()
	files := []string{"../README.md", "../CONTRIBUTING.md", "../BENCHMARKS.md", "../RELIABILITY.md"}
	more, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append(files, more...)
}

var markRE = regexp.MustCompile(`^<!--\s*(.*?)\s*-->$`)

// blocks returns the fenced blocks of file.
func blocks(t *testing.T, file string) []block {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []block
	var cur *block
	prev := ""
	for n, line := range strings.Split(string(data), "\n") {
		if cur != nil {
			if strings.TrimSpace(line) == "```" {
				out = append(out, *cur)
				cur = nil
			} else {
				cur.body += line + "\n"
			}
			continue
		}
		if lang, ok := strings.CutPrefix(strings.TrimSpace(line), "```"); ok {
			cur = &block{file: filepath.Clean(file), line: n + 1, lang: lang}
			if m := markRE.FindStringSubmatch(strings.TrimSpace(prev)); m != nil {
				cur.mark = m[1]
			}
		}
		if strings.TrimSpace(line) != "" {
			prev = line
		}
	}
	if cur != nil {
		t.Fatalf("%s: a block never closes", cur)
	}
	return out
}

// commandLangs are the info strings of blocks of commands.
var commandLangs = []string{"sh", "bash", "console", "shell", "sql"}

// TestEveryCommandIsAccountedFor: each block of commands says how it is proven, what it
// names exists, and each block of Go is in the file it names.
func TestEveryCommandIsAccountedFor(t *testing.T) {
	for _, file := range documents(t) {
		for _, b := range blocks(t, file) {
			switch {
			case b.lang == "go":
				checkFrom(t, b)
			case slices.Contains(commandLangs, b.lang):
				checkMark(t, b)
			}
		}
	}
}

func checkMark(t *testing.T, b block) {
	t.Helper()
	switch {
	case b.mark == "run", b.mark == "run: serves":
		if b.lang == "sql" {
			t.Errorf("%s: SQL does not run here: mark it not run, or checked by a test", b)
		}
	case strings.HasPrefix(b.mark, "not run: "):
	case strings.HasPrefix(b.mark, "checked by: "):
		for _, name := range strings.Fields(strings.TrimPrefix(b.mark, "checked by: ")) {
			if !exists(t, name) {
				t.Errorf("%s is checked by %s, which is neither a make target nor a test of this module", b, name)
			}
		}
	default:
		t.Errorf("%s: a block of commands without a mark: say on the line before it <!-- run -->, "+
			"<!-- run: serves -->, <!-- checked by: TARGET-or-TEST -->, or <!-- not run: why -->", b)
	}
}

// exists reports whether name is a make target (make-NAME) or a Go test function (TestX).
func exists(t *testing.T, name string) bool {
	t.Helper()
	if target, ok := strings.CutPrefix(name, "make-"); ok {
		out, err := exec.Command("make", "-C", "..", "-n", target).CombinedOutput()
		return err == nil && !bytes.Contains(out, []byte("No rule to make target"))
	}
	if !strings.HasPrefix(name, "Test") {
		return false
	}
	out, _ := exec.Command("grep", "-rlE", "--include=*_test.go", `^func `+regexp.QuoteMeta(name)+`\(`, "..").Output()
	return len(out) > 0
}

// checkFrom checks that each line of a Go block is in the file its mark names, in order.
func checkFrom(t *testing.T, b block) {
	t.Helper()
	path, ok := strings.CutPrefix(b.mark, "from: ")
	if !ok {
		t.Errorf("%s: a Go block without <!-- from: FILE -->", b)
		return
	}
	data, err := os.ReadFile(filepath.Join("..", path))
	if err != nil {
		t.Errorf("%s: %v", b, err)
		return
	}
	source := string(data)
	at := 0
	for _, line := range strings.Split(strings.TrimSpace(b.body), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		i := strings.Index(source[at:], line)
		if i < 0 {
			t.Errorf("%s: %q is not in %s (after the lines before it)", b, line, path)
			return
		}
		at += i + len(line)
	}
}

// sandbox is where the blocks that run, run: a copy of the repository, binaries built from
// it, and an address that stands for the documented 127.0.0.1:8080.
type sandbox struct {
	repo, bin, addr, admin string
	env                    []string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	s := &sandbox{repo: copyRepository(t), bin: t.TempDir(), addr: freeAddr(t), admin: freeAddr(t)}
	build := exec.Command("go", "build", "-o", s.bin+"/", "./cmd/fini", "./cmd/fini-server", "./cmd/fini-load")
	build.Dir = s.repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the binaries: %v\n%s", err, out)
	}
	s.env = []string{"PATH=" + s.bin + ":" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8", "GOBIN=" + s.bin,
		"GOCACHE=" + goEnv(t, "GOCACHE"), "GOMODCACHE=" + goEnv(t, "GOMODCACHE"), "GOFLAGS=" + os.Getenv("GOFLAGS"),
		"GOPROXY=" + goEnv(t, "GOPROXY"), "FINI_ADDR=" + s.addr, "ADDR=" + s.addr}
	if pg := os.Getenv("FINI_TEST_POSTGRES"); pg != "" {
		s.env = append(s.env, "FINI_TEST_POSTGRES="+pg)
	}
	return s
}

// copyRepository copies the files of the repository that git tracks or would track (build
// output and node_modules aside) into a temporary directory: what a clone holds, with this
// tree's changes.
func copyRepository(t *testing.T) string {
	t.Helper()
	list := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	list.Dir = ".."
	out, err := list.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	dst := t.TempDir()
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join("..", name))
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		if err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), data, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// freeAddr is a 127.0.0.1 address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// local is body with the documented address replaced by the sandbox's.
func (s *sandbox) local(body string) string {
	return strings.NewReplacer("127.0.0.1:8080", s.addr, "0.0.0.0:8080", s.addr, "127.0.0.1:9090", s.admin).Replace(body)
}

// demo starts a demo server at the sandbox's address for the blocks of one file, until the
// test ends, and returns the key a client needs.
func (s *sandbox) demo(t *testing.T) []string {
	t.Helper()
	out := s.serve(t, fmt.Sprintf("fini-server serve --demo --db sqlite:%s/demo.db --addr %s", t.TempDir(), s.addr), s.addr, t.TempDir())
	key := regexp.MustCompile(`export FINI_API_KEY=(\S+)`)
	printed := waitFor(t, out, key)
	return []string{"FINI_API_KEY=" + key.FindStringSubmatch(printed)[1]}
}

// serve starts command, waits until /healthz answers at addr, and stops it with SIGTERM when
// the test ends, after which a server must exit with status 0. It returns what the command
// prints, which goes on filling as it runs.
func (s *sandbox) serve(t *testing.T, command, addr, dir string) *syncBuffer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	cmd := exec.CommandContext(ctx, "bash", "-c", "exec "+command)
	cmd.Dir, cmd.Env = dir, s.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // make run's children stop with it
	out := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- cmd.Wait() }()
	t.Cleanup(func() {
		defer cancel()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case err := <-stopped:
			// make reports its own termination as a failure; a server itself exits 0.
			if err != nil && !strings.HasPrefix(command, "make ") {
				t.Errorf("%s did not stop cleanly on SIGTERM: %v\n%s", command, err, out.String())
			}
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Errorf("%s did not stop within 30 s of SIGTERM", command)
		}
	})
	client := &http.Client{Timeout: time.Second}
	for {
		select {
		case err := <-stopped:
			t.Fatalf("%s stopped before it served: %v\n%s", command, err, out.String())
		case <-ctx.Done():
			t.Fatalf("%s did not serve /healthz at %s within the time allowed\n%s", command, addr, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if res, err := client.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return out
			}
		}
	}
}

// TestDocumentedCommandsRun runs every block marked to run, each file's in one shell, in
// order, so that a variable a block sets serves the next.
func TestDocumentedCommandsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs the documented commands")
	}
	s := newSandbox(t)
	for _, file := range documents(t) {
		var script strings.Builder
		var serves []block
		for _, b := range blocks(t, file) {
			switch b.mark {
			case "run":
				fmt.Fprintf(&script, "echo '>>> %s' >&2\n%s\n", b, s.local(b.body))
			case "run: serves":
				serves = append(serves, b)
			}
		}
		for _, b := range serves {
			t.Run(b.String(), func(t *testing.T) { s.runServer(t, b) })
		}
		if script.Len() == 0 {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script.String())
			cmd.Dir, cmd.Env = s.repo, append(slices.Clone(s.env), s.demo(t)...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Errorf("%v; the last block that ran is the last '>>>' line:\n%s", err, out)
			}
		})
	}
}

// runServer starts a block that serves, then runs the commands it printed for a client (an
// export of the key and a curl), which must succeed.
func (s *sandbox) runServer(t *testing.T, b block) {
	command := strings.TrimSpace(s.local(b.body))
	if strings.Contains(command, "\n") {
		t.Fatalf("%s: a block marked to serve holds one command", b)
	}
	health := s.addr // where /healthz answers: the admin listener, when the command has one
	if strings.Contains(command, s.admin) {
		health = s.admin
	}
	buf := s.serve(t, command, health, s.repo)
	out := buf.String()
	demo := command == "make run" || strings.Contains(command, "--demo")
	if demo {
		out = waitFor(t, buf, curlRE)
	}
	var printed []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "export FINI_API_KEY=") {
			printed = append(printed, line)
		}
	}
	if curl := curlRE.FindString(out); curl != "" {
		printed = append(printed, "test \"$("+curl+")\" = '{\"success\":true}'")
	}
	// A demo server promises a key and a delete to paste: both must be there, and work.
	if demo && len(printed) != 2 {
		t.Fatalf("%s: the demo server did not print its key and its curl:\n%s", b, out)
	}
	if len(printed) == 0 {
		return
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", strings.Join(printed, "\n"))
	cmd.Dir, cmd.Env = t.TempDir(), s.env
	if res, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s: what the server printed does not work: %v\n%s\n%s", b, err, strings.Join(printed, "\n"), res)
	}
}

// curlRE is the delete that a demo server prints for a client to paste.
var curlRE = regexp.MustCompile(`(?s)curl --request DELETE \\\s*\n.*?--header "Authorization: Bearer \$FINI_API_KEY"`)

// waitFor waits, a bounded time, until what a server prints matches re, and returns it.
func waitFor(t *testing.T, out *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		wrote := out.wrote() // before the read: a write after it closes the channel
		if printed := out.String(); re.MatchString(printed) {
			return printed
		}
		select {
		case <-wrote:
		case <-timeout:
			t.Fatalf("the server did not print %s within 30 s:\n%s", re, out.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a process's writes and the test's reads, which
// tells of each write.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	notify chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notify != nil {
		close(b.notify)
		b.notify = nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// wrote is closed at the next write.
func (b *syncBuffer) wrote() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.notify == nil {
		b.notify = make(chan struct{})
	}
	return b.notify
}
