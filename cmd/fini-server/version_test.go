package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fini-oss/conversations/internal/version"
)

func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--version"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if want := version.Get().Text("fini-server"); out.String() != want {
		t.Errorf("--version printed %q, want %q", out.String(), want)
	}
}
