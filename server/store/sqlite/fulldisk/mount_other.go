//go:build !linux

package fulldisk

import "errors"

func mount(string, int64) error {
	return errors.New("mounting a tmpfs takes Linux")
}

func unmount(string) error { return nil }
