package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// TestCheckpointProcessHelper is the checkpoint process of the tests below, run as a process
// of its own: it serves the checkpoints of the database at $FINI_CHECKPOINT_HELPER, and
// writes its pid, then each of its answers, to the file $FINI_CHECKPOINT_HELPER_LOG too.
func TestCheckpointProcessHelper(t *testing.T) {
	path := os.Getenv("FINI_CHECKPOINT_HELPER")
	if path == "" {
		t.Skip("the checkpoint process of the tests of sqlstore.WithCheckpointProcess, in a process of its own")
	}
	log, err := os.OpenFile(os.Getenv("FINI_CHECKPOINT_HELPER_LOG"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	fmt.Fprintf(log, "pid %d\n", os.Getpid())
	if err := ServeCheckpoints(context.Background(), path, os.Stdin, io.MultiWriter(os.Stdout, log)); err != nil {
		t.Fatal(err)
	}
}

// helperProcess is a store's checkpoint process run as TestCheckpointProcessHelper.
type helperProcess struct {
	log  string
	cmd  *exec.Cmd
	lost chan error
}

// withHelperProcess returns the option that runs the checkpoint process of the database at
// path as TestCheckpointProcessHelper, and that process.
func withHelperProcess(t *testing.T, path string) (sqlstore.Option, *helperProcess) {
	t.Helper()
	h := &helperProcess{log: filepath.Join(t.TempDir(), "checkpoints.log"), lost: make(chan error, 1)}
	return sqlstore.WithCheckpointProcess(func() *exec.Cmd {
		h.cmd = helperCommand(path, h.log)
		return h.cmd
	}, func(err error) { h.lost <- err }), h
}

// helperCommand is the command of TestCheckpointProcessHelper for the database at path,
// logging to log.
func helperCommand(path, log string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCheckpointProcessHelper$")
	cmd.Env = append(os.Environ(), "FINI_CHECKPOINT_HELPER="+path, "FINI_CHECKPOINT_HELPER_LOG="+log)
	cmd.Stderr = os.Stderr
	return cmd
}

// logged returns the lines the process logged so far.
func (h *helperProcess) logged(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(h.log)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// waitLogged waits, at most 30 s, for a line the process logged that ok accepts, and returns it.
func (h *helperProcess) waitLogged(t *testing.T, what string, ok func(line string) bool) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, line := range h.logged(t) {
			if ok(line) {
				return line
			}
		}
	}
	t.Fatalf("the checkpoint process logged no %s in 30 s: %q", what, h.logged(t))
	return ""
}

// pid is the process's pid, once it logged it.
func (h *helperProcess) pid(t *testing.T) int {
	t.Helper()
	line := h.waitLogged(t, "pid", func(line string) bool { return strings.HasPrefix(line, "pid ") })
	pid, err := strconv.Atoi(strings.TrimPrefix(line, "pid "))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// write commits a workspace, which appends frames to the WAL.
func write(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	if err := db.CreateWorkspace(context.Background(), store.Workspace{ID: uuid.New(), Name: "w", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
}

// waitWALEmpty waits, at most 30 s, for the checkpointer to truncate the WAL once the
// writes stop (idleAfter).
func waitWALEmpty(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); walSize(t, path) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the WAL is still %d bytes 30 s after the last write, want 0", walSize(t, path))
		}
	}
}

// TestPassiveCheckpointsRunInTheCheckpointProcess: with a checkpoint process, what commits
// write to the WAL is copied into the database there, at checkpointNice, and Close ends
// the process.
func TestPassiveCheckpointsRunInTheCheckpointProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "process.db")
	opt, h := withHelperProcess(t, path)
	db, err := Open(context.Background(), path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	pid := h.pid(t)
	for range 20 {
		write(t, db)
	}
	h.waitLogged(t, "checkpoint that copied the WAL", func(line string) bool {
		frames, copied, ok := parseAnswer(line)
		return ok && frames > 0 && copied == frames
	})
	// It answers once its priority is lowered.
	if runtime.GOOS == "linux" {
		if nice := threadNices(t, pid); !strings.Contains(nice, " "+strconv.Itoa(checkpointNice)+" ") {
			t.Errorf("the checkpoint process's threads have the nice values%s, want one at %d", nice, checkpointNice)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if state := h.cmd.ProcessState; state == nil || !state.Success() {
		t.Errorf("the checkpoint process after Close: %v, want it ended with status 0", state)
	}
	select {
	case err := <-h.lost:
		t.Errorf("lost was told %v, want nothing", err)
	default:
	}
}

// threadNices is the nice values of the threads of the process pid, each between spaces.
func threadNices(t *testing.T, pid int) string {
	t.Helper()
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(stats) == 0 {
		t.Fatalf("threads of %d: %v", pid, err)
	}
	nices := " "
	for _, stat := range stats {
		b, err := os.ReadFile(stat)
		if err != nil {
			t.Fatal(err)
		}
		// The fields after the command's name, which ends with the last ')': the state is
		// field 3, the nice value field 19 (proc(5)).
		fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		nices += fields[19-3] + " "
	}
	return nices
}

// TestLostCheckpointProcess: a checkpoint process that cannot start, ends, answers nonsense
// or is killed is reported to lost, and the store's own process checkpoints from then on:
// the WAL still empties once the writes stop.
func TestLostCheckpointProcess(t *testing.T) {
	lostTo := func(command func() *exec.Cmd) func(string) (sqlstore.Option, func(*testing.T)) {
		return func(string) (sqlstore.Option, func(*testing.T)) {
			lost := make(chan error, 1)
			return sqlstore.WithCheckpointProcess(command, func(err error) { lost <- err }),
				func(t *testing.T) { wantLost(t, lost) }
		}
	}
	for _, tc := range []struct {
		name    string
		command func(path string) (sqlstore.Option, func(t *testing.T))
	}{
		{"cannot start", lostTo(func() *exec.Cmd { return exec.Command("/nonexistent/fini-checkpoints") })},
		{"ends at once", lostTo(func() *exec.Cmd { return exec.Command("true") })},
		{"answers nonsense", lostTo(func() *exec.Cmd { return exec.Command("echo", "ok 0 12 twelve") })},
		{"killed", func(path string) (sqlstore.Option, func(*testing.T)) {
			opt, h := withHelperProcess(t, path)
			return opt, func(t *testing.T) {
				p, err := os.FindProcess(h.pid(t))
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Kill(); err != nil {
					t.Fatal(err)
				}
				wantLost(t, h.lost)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "lost.db")
			opt, lose := tc.command(path)
			db, err := Open(context.Background(), path, opt)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			write(t, db)
			lose(t)
			for range 20 {
				write(t, db)
			}
			waitWALEmpty(t, path)
			if err := db.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

// TestCheckpointProcessOutlivesGivenUpRequests: a request whose caller stops waiting (its
// context ends) leaves the process running and in step: the answer it owes is read before
// the next one's, which answers.
func TestCheckpointProcessOutlivesGivenUpRequests(t *testing.T) {
	path := filepath.Join(t.TempDir(), "given-up.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p, err := startCheckpointProcess(helperCommand(path, filepath.Join(t.TempDir(), "checkpoints.log")))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	if _, _, err := p.passive(context.Background()); err != nil {
		t.Fatal(err)
	}
	owing := 0 // requests given up after they were sent
	for i := 0; i < 200 || owing == 0 && i < 2000; i++ {
		write(t, db)
		wait := time.Duration(i%20) * 50 * time.Microsecond
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		_, _, err := p.passive(ctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("request %d, given %v: %v, want an answer or the context's error", i, wait, err)
		}
		if p.owed > 0 {
			owing++
		}
	}
	if owing == 0 {
		t.Fatal("no request was given up after it was sent: the test proves nothing")
	}
	t.Logf("%d requests given up after they were sent", owing)
	write(t, db)
	frames, copied, err := p.passive(context.Background())
	if err != nil || frames == 0 || copied != frames || p.owed != 0 {
		t.Errorf("after the given-up requests: %d of %d frames copied, %v, %d answers owed; want all copied, nil, 0", copied, frames, err, p.owed)
	}
}

// wantLost waits, at most 30 s, for lost to be told of the checkpoint process's loss.
func wantLost(t *testing.T, lost chan error) {
	t.Helper()
	select {
	case err := <-lost:
		if !errors.Is(err, errProcessLost) {
			t.Errorf("lost was told %v, want errProcessLost", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("lost was told nothing in 30 s")
	}
}

// TestServeCheckpoints: the checkpoint process's answers, line by line.
func TestServeCheckpoints(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	db, err := Open(context.Background(), existing)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, tc := range []struct {
		name, path, requests string
		want                 []string
		wantErr              bool
	}{
		{"checkpoints", existing, "checkpoint\ncheckpoint\n", []string{`ok 0 \d+ \d+`, `ok 0 \d+ \d+`}, false},
		{"unknown request", existing, "restart\ncheckpoint\n", []string{`error unknown request "restart"`, `ok 0 \d+ \d+`}, false},
		{"no database", filepath.Join(dir, "missing.db"), "checkpoint\n", []string{`error open .*missing\.db: .*`}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := ServeCheckpoints(context.Background(), tc.path, strings.NewReader(tc.requests), &out)
			if (err != nil) != tc.wantErr {
				t.Errorf("ServeCheckpoints: %v, want an error: %v", err, tc.wantErr)
			}
			var got []string
			for lines := bufio.NewScanner(&out); lines.Scan(); {
				got = append(got, lines.Text())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("answers %q, want %d", got, len(tc.want))
			}
			for i, want := range tc.want {
				if !regexp.MustCompile("^" + want + "$").MatchString(got[i]) {
					t.Errorf("answer %d: %q, want %s", i, got[i], want)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the missing database after ServeCheckpoints: %v, want it still missing", err)
	}
}

// TestParseAnswer: the answers a checkpoint process may give, and nonsense.
func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		line           string
		frames, copied int
		ok             bool
	}{
		{"ok 0 12 10", 12, 10, true},
		{"ok 1 -1 -1", -1, -1, true}, // another checkpoint was under way
		{"ok 0 12 twelve", 0, 0, false},
		{"ok 0 12", 0, 0, false},
		{"ok 0 12 10 9", 0, 0, false},
		{"ok 0  12 10", 0, 0, false},
		{"ok 0 -2 10", 0, 0, false},
		{"fine 0 12 10", 0, 0, false},
	} {
		frames, copied, ok := parseAnswer(tc.line)
		if frames != tc.frames || copied != tc.copied || ok != tc.ok {
			t.Errorf("parseAnswer(%q) = %d, %d, %v, want %d, %d, %v", tc.line, frames, copied, ok, tc.frames, tc.copied, tc.ok)
		}
	}
}
