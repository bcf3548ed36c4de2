package versionflag_test

import (
	"bytes"
	"testing"

	"github.com/spf13/cobra"

	"github.com/fini-oss/conversations/cmd/internal/versionflag"
	"github.com/fini-oss/conversations/internal/version"
)

func TestInstall(t *testing.T) {
	for _, arg := range []string{"--version", "-v"} {
		t.Run(arg, func(t *testing.T) {
			ran := false
			root := &cobra.Command{Use: "fini-test", Run: func(*cobra.Command, []string) { ran = true }}
			versionflag.Install(root)
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetArgs([]string{arg})
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if want := version.Get().Text("fini-test"); out.String() != want {
				t.Errorf("%s printed %q, want %q", arg, out.String(), want)
			}
			if ran {
				t.Errorf("%s also ran the command", arg)
			}
		})
	}
}
