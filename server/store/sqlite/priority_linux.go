package sqlite

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// lowerPriority gives the calling goroutine an OS thread of its own, for the rest of its
// life, at the nice value nice. Linux keeps a nice value for each thread, and a Go program's
// goroutines share its threads: only a locked one keeps a priority to itself.
func lowerPriority(nice int) error {
	runtime.LockOSThread()
	if err := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), nice); err != nil {
		return fmt.Errorf("setpriority %d: %w", nice, err)
	}
	return nil
}
