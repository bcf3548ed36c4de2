package sqlite

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill cmd's process when the thread that started it ends,
// which it would not notice if it were stopped (SIGSTOP) when its parent died. Go ends a
// thread only when a goroutine locked to it ends: a store opened from such a goroutine loses
// its checkpoint process with it, and checkpoints in its own process from then on.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
