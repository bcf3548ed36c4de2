package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// private is the mode of the database and its -wal and -shm files: they hold customers'
// conversations, so only the owner may read them.
const private fs.FileMode = 0o600

// makePrivate creates the database file at path with mode 0600 if it is missing, and takes
// group and other permissions away from it and from an existing -wal or -shm file. SQLite
// creates a new -wal or -shm with the database's mode, but leaves the mode of one it finds
// with data in it (after a crash) as it is.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, private)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return fmt.Errorf("create sqlite %s: %w", path, err)
		}
		// The umask may have taken bits of 0600 away, even the owner's write bit (0277).
		if err := os.Chmod(path, private); err != nil {
			return fmt.Errorf("create sqlite %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create sqlite %s: %w", path, err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		if err := tighten(name); err != nil {
			return err
		}
	}
	return nil
}

// tighten takes group and other permissions away from the file name, if it exists. The
// owner's bits stay as they are: a database made read-only on purpose stays read-only.
func tighten(name string) error {
	fi, err := os.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite file permissions: %w", err)
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		if err := os.Chmod(name, mode&^0o077); err != nil {
			return fmt.Errorf("sqlite file permissions: %w", err)
		}
	}
	return nil
}
