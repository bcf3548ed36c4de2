package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeCheckpointsInAProcessOfLowerPriority: serve over SQLite runs its WAL's
// checkpoints in a process of its own, this executable's sqlite-checkpoints, at a lower CPU
// priority than its own, which ignores the signals sent to serve's process group and ends
// with serve.
func TestServeCheckpointsInAProcessOfLowerPriority(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the processes in /proc")
	}
	s := startServe(t)
	helpers := children(t, checkpointsCmdName)
	if len(helpers) != 1 {
		t.Fatalf("serve has %d children running %s, want 1", len(helpers), checkpointsCmdName)
	}
	pid := helpers[0]
	// The process lowers its priority once it starts: at most 10 s after serve serves.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		nices := threadNices(t, pid)
		if slices.ContainsFunc(nices, func(n int) bool { return n > 0 }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the checkpoint process's threads have the nice values %v, want one above serve's 0", nices)
		}
	}
	// The signals a terminal or systemd sends the whole process group are serve's: the
	// process ignores them (its SigIgn mask has bit n-1 set for signal n).
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	ignored := regexp.MustCompile(`(?m)^SigIgn:\s*([0-9a-f]+)$`).FindSubmatch(status)
	if ignored == nil {
		t.Fatalf("no SigIgn in /proc/%d/status", pid)
	}
	mask, err := strconv.ParseUint(string(ignored[1]), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM} {
		if mask&(1<<(sig-1)) == 0 {
			t.Errorf("the checkpoint process does not ignore %v (SigIgn %s)", sig, ignored[1])
		}
	}
	s.stop()
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); !os.IsNotExist(err) {
		t.Errorf("the checkpoint process %d after serve returned: %v, want it gone", pid, err)
	}
}

// children returns the pids of this process's children whose command line holds arg.
func children(t *testing.T, arg string) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, stat := range stats {
		fields := procStat(stat)
		if fields == nil || fields[4-3] != strconv.Itoa(os.Getpid()) {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(filepath.Dir(stat), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte("\x00"+arg+"\x00")) {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(stat)))
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// threadNices returns the nice values of the threads of the process pid.
func threadNices(t *testing.T, pid int) []int {
	t.Helper()
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(stats) == 0 {
		t.Fatalf("the threads of %d: %v", pid, err)
	}
	var nices []int
	for _, stat := range stats {
		fields := procStat(stat)
		if fields == nil {
			t.Fatalf("no %s", stat)
		}
		nice, err := strconv.Atoi(fields[19-3])
		if err != nil {
			t.Fatal(err)
		}
		nices = append(nices, nice)
	}
	return nices
}

// procStat returns the fields of the stat file of a process or thread (proc(5)) from its
// third, the state, on: the second, the command's name in parentheses, may hold spaces. It
// returns nil if the file is gone.
func procStat(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
}
