package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCheckpointProcessParentHelper is the parent of TestCheckpointProcessDiesWithItsParent,
// in a process of its own: it opens the database at $FINI_CHECKPOINT_PARENT with a checkpoint
// process, says "checkpoint process PID", and waits for its standard input to end.
func TestCheckpointProcessParentHelper(t *testing.T) {
	path := os.Getenv("FINI_CHECKPOINT_PARENT")
	if path == "" {
		t.Skip("the parent of TestCheckpointProcessDiesWithItsParent, in a process of its own")
	}
	opt, h := withHelperProcess(t, path)
	db, err := Open(context.Background(), path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fmt.Printf("checkpoint process %d\n", h.pid(t))
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// TestCheckpointProcessDiesWithItsParent: a checkpoint process stopped (SIGSTOP) when the
// process of its store is killed, which therefore never reads the end of its input, is
// killed with it rather than left behind, holding the database open.
func TestCheckpointProcessDiesWithItsParent(t *testing.T) {
	parent := exec.Command(os.Args[0], "-test.run=^TestCheckpointProcessParentHelper$")
	parent.Env = append(os.Environ(), "FINI_CHECKPOINT_PARENT="+filepath.Join(t.TempDir(), "parent.db"))
	parent.Stderr = os.Stderr
	stdin, err := parent.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	for lines := bufio.NewScanner(stdout); pid == 0 && lines.Scan(); {
		_, _ = fmt.Sscanf(lines.Text(), "checkpoint process %d", &pid)
	}
	if pid == 0 {
		_ = parent.Process.Kill()
		_ = parent.Wait()
		t.Fatal("the parent named no checkpoint process")
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	for deadline := time.Now().Add(10 * time.Second); alive(pid); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the checkpoint process %d is still there 10 s after its parent was killed", pid)
		}
	}
}

// alive reports whether the process pid exists and is not a zombie (ended, not yet reaped:
// its new parent may be a PID 1 that never reaps).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
