package version

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/fini-oss/conversations/gen/api"
)

func TestResolve(t *testing.T) {
	vcs := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/fini-oss/conversations", Version: "v0.0.0-20261127095140-dd2b0a8c0ffe+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "dd2b0a8c0ffee0000000000000000000000000aa"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	devel := &debug.BuildInfo{Main: debug.Module{Path: "github.com/fini-oss/conversations", Version: "(devel)"}}
	tests := []struct {
		name                      string
		bi                        *debug.BuildInfo
		version, commit, modified string // the linker's stamps
		want                      Info
	}{
		{name: "no build information", want: Info{Version: Devel}},
		{name: "a source tree without vcs", bi: devel, want: Info{Version: Devel}},
		{name: "build information from git", bi: vcs,
			want: Info{Version: vcs.Main.Version, Commit: "dd2b0a8c0ffee0000000000000000000000000aa", Modified: true}},
		{name: "stamps beat build information", bi: vcs, version: "v1.3.0", commit: "0123456789abcdef0123456789abcdef01234567", modified: "false",
			want: Info{Version: "v1.3.0", Commit: "0123456789abcdef0123456789abcdef01234567"}},
		{name: "a stamped modified tree", bi: devel, version: "v1.3.0", commit: "0123456789abcdef0123456789abcdef01234567", modified: "true",
			want: Info{Version: "v1.3.0", Commit: "0123456789abcdef0123456789abcdef01234567", Modified: true}},
		{name: "a version stamp alone keeps the recorded commit", bi: vcs, version: "v1.3.0",
			want: Info{Version: "v1.3.0", Commit: "dd2b0a8c0ffee0000000000000000000000000aa", Modified: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.SpecVersion = api.SpecVersion
			tt.want.GoVersion = runtime.Version()
			tt.want.Platform = runtime.GOOS + "/" + runtime.GOARCH
			if got := resolve(tt.bi, tt.version, tt.commit, tt.modified); got != tt.want {
				t.Errorf("resolve = %+v\nwant       %+v", got, tt.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	tests := []struct {
		name string
		info Info
		want string
	}{
		{name: "known commit", info: Info{Version: "v1.3.0", Commit: "abc", Modified: true, SpecVersion: "1.3.0", GoVersion: "go1.26.8", Platform: "linux/arm64"},
			want: "fini v1.3.0\ncommit: abc\nmodified: true\napi: 1.3.0\ngo: go1.26.8 linux/arm64\n"},
		{name: "unknown commit", info: Info{Version: Devel, SpecVersion: "1.3.0", GoVersion: "go1.26.8", Platform: "windows/amd64"},
			want: "fini (devel)\ncommit: unknown\nmodified: unknown\napi: 1.3.0\ngo: go1.26.8 windows/amd64\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.info.Text("fini"); got != tt.want {
				t.Errorf("Text = %q, want %q", got, tt.want)
			}
		})
	}
}
