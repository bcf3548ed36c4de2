package sqlite

import (
	"fmt"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLowerPriorityIsRelative: the checkpoint process runs checkpointNice below the
// priority it was started with, at most at 19: a process may not lower its nice value
// without privileges, so a fixed value would fail under a server started at nice 15.
func TestLowerPriorityIsRelative(t *testing.T) {
	for _, tc := range []struct{ start, want int }{{0, 10}, {5, 15}, {15, 19}, {19, 19}} {
		t.Run(fmt.Sprintf("from %d", tc.start), func(t *testing.T) {
			// The subtest's goroutine ends locked to its thread, which ends with it.
			runtime.LockOSThread()
			tid := unix.Gettid()
			if err := unix.Setpriority(unix.PRIO_PROCESS, tid, tc.start); err != nil {
				t.Fatal(err)
			}
			if err := lowerPriority(checkpointNice); err != nil {
				t.Fatal(err)
			}
			prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
			if err != nil {
				t.Fatal(err)
			}
			if got := 20 - prio; got != tc.want {
				t.Errorf("nice %d after lowerPriority, want %d", got, tc.want)
			}
		})
	}
}
