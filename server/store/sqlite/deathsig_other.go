//go:build !linux

package sqlite

import "os/exec"

// dieWithParent does nothing where the kernel cannot kill a process when its parent dies:
// the checkpoint process then ends when its standard input does, unless it is stopped.
func dieWithParent(*exec.Cmd) {}
