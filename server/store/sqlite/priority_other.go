//go:build !linux

package sqlite

// lowerPriority does nothing where a thread's priority is not its own: the checkpoint
// process then runs at the priority it was started with.
func lowerPriority(int) error { return nil }
