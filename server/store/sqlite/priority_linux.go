package sqlite

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// lowerPriority gives the calling goroutine an OS thread of its own, for the rest of its
// life, at a nice value by more than the process's, at most 19. Linux keeps a nice value for
// each thread, and a Go program's goroutines share its threads: only a locked one keeps a
// priority to itself.
func lowerPriority(by int) error {
	runtime.LockOSThread()
	tid := unix.Gettid()
	// The system call returns 20 - nice, so as never to return a negative number.
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return fmt.Errorf("getpriority: %w", err)
	}
	nice := min(20-prio+by, 19)
	if err := unix.Setpriority(unix.PRIO_PROCESS, tid, nice); err != nil {
		return fmt.Errorf("setpriority %d: %w", nice, err)
	}
	return nil
}
