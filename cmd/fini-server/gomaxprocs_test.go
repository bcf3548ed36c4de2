package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// pinnedChildEnv tells TestServingLineGivesGOMAXPROCS that it runs as the child, pinned to
// CPUs by taskset: it serves and prints what its serving line says.
const pinnedChildEnv = "FINI_TEST_PINNED_CHILD"

// TestServingLineGivesGOMAXPROCS runs serve in a child process pinned to one CPU by taskset,
// where the runtime chooses one P unless GOMAXPROCS says otherwise, and reads the Ps it serves
// with from its "serving" line, where an operator checks what operating.md advises for one CPU.
func TestServingLineGivesGOMAXPROCS(t *testing.T) {
	if os.Getenv(pinnedChildEnv) != "" {
		s := startServe(t)
		var line struct {
			Procs *int `json:"gomaxprocs"`
		}
		if err := json.Unmarshal([]byte(s.serving), &line); err != nil {
			t.Fatal(err)
		}
		if line.Procs == nil {
			t.Fatalf("the serving line gives no gomaxprocs: %s", s.serving)
		}
		os.Stdout.WriteString("gomaxprocs=" + strconv.Itoa(*line.Procs) + "\n")
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("taskset pins a process to CPUs on Linux")
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		t.Fatalf("needs taskset (util-linux): %v", err)
	}
	for _, tc := range []struct {
		gomaxprocs string
		want       int
	}{
		{"", 1},
		{"2", 2},
	} {
		t.Run("GOMAXPROCS="+tc.gomaxprocs, func(t *testing.T) {
			cmd := exec.Command(taskset, "-c", "0", os.Args[0], "-test.run", "^TestServingLineGivesGOMAXPROCS$")
			cmd.Env = append(withoutGOMAXPROCS(os.Environ()), pinnedChildEnv+"=1")
			if tc.gomaxprocs != "" {
				cmd.Env = append(cmd.Env, "GOMAXPROCS="+tc.gomaxprocs)
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
			}
			if want := "gomaxprocs=" + strconv.Itoa(tc.want) + "\n"; !strings.Contains(string(out), want) {
				t.Errorf("served on one CPU with GOMAXPROCS=%q: want %q in\n%s", tc.gomaxprocs, want, out)
			}
		})
	}
}

// withoutGOMAXPROCS is env without a GOMAXPROCS setting.
func withoutGOMAXPROCS(env []string) []string {
	var kept []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GOMAXPROCS=") {
			kept = append(kept, kv)
		}
	}
	return kept
}
