package sqlite

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// othersHaveItOpen reports whether another process has the database at path open. Each one
// that does holds a read lock on its shared-memory index (the -shm file), which
// /proc/locks lists: "1: POSIX ADVISORY READ PID MAJ:MIN:INODE 128 128". It is read rather
// than the -shm file asked with fcntl, because closing a descriptor of that file would drop
// every lock this process's SQLite holds on it. Where it cannot tell, it says yes.
func othersHaveItOpen(path string) bool {
	var st unix.Stat_t
	if err := unix.Stat(path+"-shm", &st); err != nil {
		return true
	}
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		return true
	}
	self, inode := strconv.Itoa(os.Getpid()), ":"+strconv.FormatUint(st.Ino, 10)
	for line := range strings.Lines(string(locks)) {
		f := strings.Fields(line)
		// A waiting lock's line has "->" after the number; the holder's has a line of its own.
		if len(f) >= 6 && f[1] != "->" && f[4] != self && strings.HasSuffix(f[5], inode) {
			return true
		}
	}
	return false
}
