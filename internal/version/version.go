// Package version says which build of this module is running: the module version, the git
// commit, whether the working tree was modified, the version of the API contract (the
// spec's info.version) and the Go toolchain. The binaries print it for --version, and the
// server may report it. It depends on gen/api and the standard library only.
//
// A release stamps the version, commit and modified flag with the linker (make release):
//
//	-X github.com/fini-oss/conversations/internal/version.version=v1.3.0
//	-X github.com/fini-oss/conversations/internal/version.commit=<full commit hash>
//	-X github.com/fini-oss/conversations/internal/version.modified=false
//
// A value not stamped comes from the build information Go records (debug.ReadBuildInfo):
// the main module's version, and the vcs.revision and vcs.modified settings that `go build`
// records in a git checkout unless -buildvcs=false.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/fini-oss/conversations/gen/api"
)

// Set by the linker's -X at release; empty otherwise.
var (
	version  string
	commit   string
	modified string // "true" or "false"
)

// Devel is the Version of a build that records no module version: Go's own word for a
// build of the main module from a source tree.
const Devel = "(devel)"

// Info is what a build says about itself.
type Info struct {
	// Version is the module version: a release's tag such as v1.3.0, the pseudo-version Go
	// derives from a git checkout, or Devel when the build records none.
	Version string `json:"version"`
	// Commit is the full hash of the git commit built; empty when the build records none.
	Commit string `json:"commit,omitempty"`
	// Modified is true when the working tree had changes not committed in Commit. It is
	// known only when Commit is.
	Modified bool `json:"modified"`
	// SpecVersion is the info.version of the openapi.yaml that gen/ was generated from.
	SpecVersion string `json:"specVersion"`
	// GoVersion is the Go toolchain that built the binary, such as go1.26.8.
	GoVersion string `json:"goVersion"`
	// Platform is the GOOS/GOARCH the binary was built for, such as linux/amd64.
	Platform string `json:"platform"`
}

// Get returns this build's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo() // nil when the binary records none: every field falls back
	return resolve(bi, version, commit, modified)
}

// resolve prefers each stamped value to the build information's; bi may be nil.
func resolve(bi *debug.BuildInfo, stampedVersion, stampedCommit, stampedModified string) Info {
	info := Info{
		Version:     Devel,
		SpecVersion: api.SpecVersion,
		GoVersion:   runtime.Version(),
		Platform:    runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi != nil {
		if bi.Main.Version != "" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if stampedVersion != "" {
		info.Version = stampedVersion
	}
	if stampedCommit != "" {
		info.Commit = stampedCommit
		info.Modified = stampedModified == "true"
	}
	return info
}

// Product is name's product token for a User-Agent header (RFC 9110, section 10.1.5):
// name/version, with Devel spelt devel, since parentheses are not allowed in a token.
func (i Info) Product(name string) string {
	return name + "/" + strings.Trim(i.Version, "()")
}

// Text is the --version answer of the program name: the version on the first line, then one
// "key: value" line for each other fact.
func (i Info) Text(name string) string {
	commit, modified := i.Commit, fmt.Sprint(i.Modified)
	if commit == "" {
		commit, modified = "unknown", "unknown"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", name, i.Version)
	fmt.Fprintf(&b, "commit: %s\n", commit)
	fmt.Fprintf(&b, "modified: %s\n", modified)
	fmt.Fprintf(&b, "api: %s\n", i.SpecVersion)
	fmt.Fprintf(&b, "go: %s %s\n", i.GoVersion, i.Platform)
	return b.String()
}
