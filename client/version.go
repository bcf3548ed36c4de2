package client

import (
	"runtime/debug"
	"strings"
)

// modulePath is the module the client belongs to.
const modulePath = "github.com/fini-oss/conversations"

// version is stamped by the linker at release:
// -X github.com/fini-oss/conversations/client.version=v1.3.0. Empty otherwise.
var version string

// Version is the version of this module that the client was built from: the version a
// program's go.mod requires when the client is its dependency (as a replacement's, when
// replaced), the main module's when the program is this module's own (such as the fini CLI),
// or "(devel)" when the build records none.
func Version() string {
	bi, _ := debug.ReadBuildInfo() // nil when the binary records none
	return moduleVersion(bi, version)
}

// moduleVersion finds modulePath's version in bi (which may be nil), unless stamped.
func moduleVersion(bi *debug.BuildInfo, stamped string) string {
	if stamped != "" {
		return stamped
	}
	if bi == nil {
		return "(devel)"
	}
	mod := &bi.Main
	if mod.Path != modulePath {
		mod = nil
		for _, d := range bi.Deps {
			if d.Path == modulePath {
				mod = d
				break
			}
		}
	}
	if mod != nil && mod.Replace != nil {
		mod = mod.Replace
	}
	if mod == nil || mod.Version == "" {
		return "(devel)"
	}
	return mod.Version
}

// product is the client's product token (RFC 9110, section 10.1.5): name/version, with
// Go's "(devel)" spelt devel, since a version is a token and parentheses are not allowed in one.
func product() string {
	return "fini-conversations-go/" + strings.Trim(Version(), "()")
}
