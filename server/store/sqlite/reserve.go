package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// The reserve is a file of reserveBytes zeros beside the database (its path plus
// "-reserve"): room kept on the file system for the day it is full. The first connection to
// a database that no other one has open truncates and rebuilds its shared-memory index (the
// -shm file, 32 KiB for each 4,096 frames of WAL); on a full disk it cannot, and not even a
// read can run. Open then removes the reserve, which gives that room back, and makes it
// again at a later open, once there is room. Deleting it by hand is harmless.
const reserveBytes = 1 << 20

func reservePath(path string) string { return path + "-reserve" }

// keepReserve makes the reserve if it is missing; on a disk without room for it, it leaves
// none.
func keepReserve(path string) error {
	name := reservePath(path)
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, private)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite reserve: %w", err)
	}
	// Written, not a hole of a sparse file: the blocks must be taken now to be given back.
	_, err = f.Write(make([]byte, reserveBytes))
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return errors.Join(fmt.Errorf("sqlite reserve: %w", err), os.Remove(name))
	}
	return nil
}

// freeReserve removes the reserve, and reports whether there was one.
func freeReserve(path string) (bool, error) {
	err := os.Remove(reservePath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite reserve: %w", err)
	}
	return true, nil
}
