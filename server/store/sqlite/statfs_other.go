//go:build !unix

package sqlite

// available is not measured on this platform.
func available(string) (uint64, bool, error) { return 0, false, nil }
