package fulldisk

import (
	"fmt"

	"golang.org/x/sys/unix"
)

func mount(dir string, size int64) error {
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		return fmt.Errorf("mount a tmpfs: %w", err)
	}
	return nil
}

func unmount(dir string) error {
	if err := unix.Unmount(dir, 0); err != nil {
		// Something still holds a file open (a test that failed half way): detach it, and
		// the kernel frees it once the file is closed.
		return unix.Unmount(dir, unix.MNT_DETACH)
	}
	return nil
}
