// Package versionflag gives fini, fini-server and fini-load one --version: the module
// version, the commit, whether the tree was modified, the API contract's version and the Go
// toolchain, in the words of internal/version.
package versionflag

import (
	"github.com/spf13/cobra"

	"github.com/fini-oss/conversations/internal/version"
)

// Install makes root answer --version (and -v, when no other flag of root has it) by
// printing this build's description on its standard output.
func Install(root *cobra.Command) {
	root.Version = version.Get().Text(root.Name())
	// Text ends in a newline and names the program: cobra's default template would repeat both.
	root.SetVersionTemplate("{{.Version}}")
}
