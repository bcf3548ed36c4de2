package reliability_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/demo"
	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/postgres"
	"github.com/fini-oss/conversations/server/store/postgres/pgtest"
	"github.com/fini-oss/conversations/server/store/sqlite"
)

// serverBin is the fini-server binary built once for the package.
var serverBin string

func TestMain(m *testing.M) {
	// These scenarios start servers, kill them and stop databases; timed on two cores they
	// must not compete with the unit tests, so they run on their own: make reliability.
	if os.Getenv("FINI_RELIABILITY") == "" && !soak() {
		fmt.Println("reliability scenarios skipped: run `make reliability` (short) or `make soak` (long)")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "fini-reliability")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "fini-server")
	build := exec.Command("go", "build", "-o", serverBin, "../cmd/fini-server")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build fini-server:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// soak reports whether the long version runs (make soak).
func soak() bool { return os.Getenv("FINI_SOAK") != "" }

// scaled returns short for CI and long for make soak.
func scaled[T any](short, long T) T {
	if soak() {
		return long
	}
	return short
}

// fixture is a database with two workspaces: A (with keys of every kind) and B.
type fixture struct {
	db       string // --db of fini-server
	A, B     demo.Result
	readKey  string
	writeKey string
	keys     []string // every key issued, for the secrets checks
}

// newFixture seeds a fresh SQLite file, or a fresh PostgreSQL schema for engine "postgres".
func newFixture(t *testing.T, engine string, conversationsA int) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{}
	var s store.Store
	var err error
	switch engine {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "reliability.db")
		f.db = "sqlite:" + path
		s, err = sqlite.Open(ctx, path)
	case "postgres":
		f.db = pgtest.DSN(t)
		s, err = postgres.Open(ctx, f.db)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rnd := rand.New(rand.NewPCG(41, 42))
	if f.A, err = demo.Seed(ctx, s, conversationsA, time.Now(), rnd); err != nil {
		t.Fatal(err)
	}
	if f.B, err = demo.Seed(ctx, s, 20, time.Now(), rnd); err != nil {
		t.Fatal(err)
	}
	f.readKey = mustKey(t, s, f.A.WorkspaceID, "read")
	f.writeKey = mustKey(t, s, f.A.WorkspaceID, "write")
	f.keys = []string{f.A.Key, f.B.Key, f.readKey, f.writeKey}
	return f
}

func mustKey(t *testing.T, s store.Store, ws uuid.UUID, scopes ...string) string {
	t.Helper()
	key, hash, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAPIKey(context.Background(), store.APIKey{ID: uuid.New(), WorkspaceID: ws, Name: strings.Join(scopes, "+"),
		Scopes: scopes, Hash: hash, CreatedAt: time.Now().UnixMilli()}); err != nil {
		t.Fatal(err)
	}
	return key
}

// proc is a running fini-server.
type proc struct {
	cmd  *exec.Cmd
	url  string
	addr string
	log  *logWriter // stderr: the structured request log
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs fini-server serve on addr (a free one when empty) and waits until it answers.
func start(t *testing.T, db, addr string) *proc {
	t.Helper()
	if addr == "" {
		addr = freeAddr(t)
	}
	p := &proc{addr: addr, url: "http://" + addr, log: newLogWriter()}
	p.cmd = exec.Command(serverBin, "--db", db, "serve", "--addr", addr)
	p.cmd.Stderr = p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.kill() })
	if err := waitReady(p.url, 10*time.Second); err != nil {
		t.Fatalf("fini-server did not start: %v\n%s", err, p.logText())
	}
	return p
}

func waitReady(url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		res, err := http.Get(url + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("no answer at %s within %v", url, limit)
}

func (p *proc) kill() {
	if p.cmd.Process != nil && p.cmd.ProcessState == nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		_, _ = p.cmd.Process.Wait()
	}
}

// stop sends SIGTERM and returns the exit code.
func (p *proc) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func (p *proc) logText() string { return p.log.String() }

// rssKiB reads the process's resident set.
func (p *proc) rssKiB(t *testing.T, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	t.Fatalf("no %s in /proc status", field)
	return 0
}

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

var httpClient = &http.Client{Timeout: 15 * time.Second}

func call(method, url, key, body string) answer {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return answer{err: err}
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(req)
}

func do(req *http.Request) answer {
	res, err := httpClient.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	return answer{status: res.StatusCode, header: res.Header, body: b, err: err}
}

func convURL(base string, id any) string {
	return fmt.Sprintf("%s/v2/hc-interactions/%v/public", base, id)
}
func listURL(base string) string { return base + "/v2/hc-interactions/public" }
