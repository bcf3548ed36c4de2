// Package fulldisk gives a test a small file system of its own, which it can fill up and
// free again: a tmpfs mounted under a temporary directory (Linux, as root), for what a full
// disk does to a store. It depends on nothing of ours.
package fulldisk

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Disk is a mounted file system of a test.
type Disk struct {
	// Dir is where it is mounted.
	Dir string
	t   testing.TB
}

// New mounts a file system of size bytes under a new temporary directory, unmounted when the
// test ends, or skips the test, saying why, where it cannot (not Linux, not root).
func New(t testing.TB, size int64) *Disk {
	t.Helper()
	dir := t.TempDir()
	if err := mount(dir, size); err != nil {
		t.Skipf("no file system of our own to fill: %v", err)
	}
	t.Cleanup(func() {
		if err := unmount(dir); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return &Disk{Dir: dir, t: t}
}

// Fill writes zeros to a filler file until the file system has no room left.
func (d *Disk) Fill() {
	d.t.Helper()
	f, err := os.OpenFile(filepath.Join(d.Dir, "filler"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	for {
		if _, err := f.Write(page); errors.Is(err, syscall.ENOSPC) {
			return
		} else if err != nil {
			d.t.Fatal(err)
		}
	}
}

// Free removes the filler file, giving back the room it took.
func (d *Disk) Free() {
	d.t.Helper()
	if err := os.Remove(filepath.Join(d.Dir, "filler")); err != nil {
		d.t.Fatal(err)
	}
}
