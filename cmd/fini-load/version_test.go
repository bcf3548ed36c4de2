package main

import (
	"bytes"
	"testing"

	"github.com/fini-oss/conversations/internal/version"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetArgs([]string{"--version"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	if want := version.Get().Text("fini-load"); out.String() != want {
		t.Errorf("--version printed %q, want %q", out.String(), want)
	}
}
