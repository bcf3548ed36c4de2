package client

import (
	"runtime/debug"
	"testing"
)

func TestModuleVersion(t *testing.T) {
	dep := func(path, version string, replace *debug.Module) *debug.Module {
		return &debug.Module{Path: path, Version: version, Replace: replace}
	}
	other := debug.Module{Path: "example.com/tool", Version: "v2.1.0"}
	tests := []struct {
		name    string
		bi      *debug.BuildInfo
		stamped string
		want    string
	}{
		{name: "no build information", want: "(devel)"},
		{name: "stamped at release", bi: &debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}}, stamped: "v1.3.0", want: "v1.3.0"},
		{name: "this module's own program", bi: &debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "v1.3.0"}}, want: "v1.3.0"},
		{name: "this module from a source tree", bi: &debug.BuildInfo{Main: debug.Module{Path: modulePath, Version: "(devel)"}}, want: "(devel)"},
		{name: "a dependency of another program", bi: &debug.BuildInfo{Main: other, Deps: []*debug.Module{
			dep("github.com/google/uuid", "v1.6.0", nil), dep(modulePath, "v1.3.0", nil)}}, want: "v1.3.0"},
		{name: "a dependency replaced by another version", bi: &debug.BuildInfo{Main: other, Deps: []*debug.Module{
			dep(modulePath, "v1.3.0", dep("example.com/fork", "v1.3.1", nil))}}, want: "v1.3.1"},
		{name: "a dependency replaced by a directory", bi: &debug.BuildInfo{Main: other, Deps: []*debug.Module{
			dep(modulePath, "v1.3.0", dep("../conversations", "", nil))}}, want: "(devel)"},
		{name: "not in the build (reflection, a stripped binary)", bi: &debug.BuildInfo{Main: other}, want: "(devel)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := moduleVersion(tt.bi, tt.stamped); got != tt.want {
				t.Errorf("moduleVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

// modulePath must be go.mod's module path, which the test binary records as its main module.
func TestModulePathIsTheModules(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("the test binary records no build information")
	}
	if bi.Main.Path != modulePath {
		t.Errorf("modulePath = %q, the module is %q", modulePath, bi.Main.Path)
	}
}
