//go:build unix

package sqlite

import (
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// available returns how many bytes an unprivileged process may still write on the file
// system that holds path.
func available(path string) (n uint64, ok bool, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(filepath.Dir(path), &st); err != nil {
		return 0, false, fmt.Errorf("statfs %s: %w", filepath.Dir(path), err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true, nil //nolint:unconvert // the fields' types differ by platform
}
