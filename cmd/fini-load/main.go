// Command fini-load measures the Conversations API: `gen` writes demo conversations as JSON
// Lines for `fini-server import`, `run` drives a running server over loopback with real,
// rotating ids, and `scale` times import, get and list in-process at growing sizes. It talks
// to 127.0.0.1 only, and every run is bounded in time and count.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/fini-oss/conversations/cmd/internal/envflag"
	"github.com/fini-oss/conversations/cmd/internal/versionflag"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "fini-load:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "fini-load",
		Short:         "Load and scale benchmarks for the Conversations API",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// $FINI_API_KEY is read when a command runs, never shown as a flag's default in --help.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return envflag.Resolve(cmd.Flags()) }
	root.AddCommand(genCmd(), runCmd(), scaleCmd())
	versionflag.Install(root)
	return root
}
