package main

import (
	"os"
	"strings"
	"testing"
)

// TestMain lets this test binary act as fini-server when it is given fini-server's arguments
// rather than a test's: serve, which the tests run in-process, starts its SQLite checkpoint
// process from its own executable (checkpointProcess), which is then this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-test.") {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
