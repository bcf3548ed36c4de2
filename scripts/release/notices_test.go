package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/module"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWriteNotices(t *testing.T) {
	root := t.TempDir()
	goroot := filepath.Join(root, "go")
	writeFiles(t, goroot, map[string]string{"LICENSE": "Go's licence\n", "PATENTS": "Go's patents\n", "README.md": "not a licence\n"})
	a := module.Version{Path: "example.com/a", Version: "v1.0.0"}
	b := module.Version{Path: "example.com/b", Version: "v0.2.0"}
	writeFiles(t, filepath.Join(root, "a"), map[string]string{"NOTICE.txt": "a's notice", "LICENSE-SQLITE": "a's second licence\n", "license.md": "a's licence\n", "main.go": "package a\n"})
	writeFiles(t, filepath.Join(root, "b"), map[string]string{"COPYING": "b's licence\n"})
	dirs := map[module.Version]string{a: filepath.Join(root, "a"), b: filepath.Join(root, "b")}

	var out bytes.Buffer
	if err := writeNotices(&out, "linux/arm64", goroot, "go1.26.8", []module.Version{a, b}, dirs); err != nil {
		t.Fatal(err)
	}
	rule := strings.Repeat("=", 80)
	want := "Third-party software in fini, fini-load and fini-server for linux/arm64\n\n" +
		"These programs are built from github.com/fini-oss/conversations (see LICENSE) with the Go toolchain\n" +
		"and the modules below, which they contain. The licence and notice files of each follow.\n" +
		"\n" + rule + "\nGo go1.26.8 (standard library and runtime)\n" + rule + "\n" +
		"\n--- LICENSE ---\n\nGo's licence\n" +
		"\n--- PATENTS ---\n\nGo's patents\n" +
		"\n" + rule + "\nexample.com/a v1.0.0\n" + rule + "\n" +
		"\n--- LICENSE-SQLITE ---\n\na's second licence\n" +
		"\n--- NOTICE.txt ---\n\na's notice\n" +
		"\n--- license.md ---\n\na's licence\n" +
		"\n" + rule + "\nexample.com/b v0.2.0\n" + rule + "\n" +
		"\n--- COPYING ---\n\nb's licence\n"
	if out.String() != want {
		t.Errorf("notices:\n%s\nwant\n%s", out.String(), want)
	}

	// A module without a licence file stops the release.
	c := module.Version{Path: "example.com/c", Version: "v1.0.0"}
	writeFiles(t, filepath.Join(root, "c"), map[string]string{"README": "no licence here\n"})
	dirs[c] = filepath.Join(root, "c")
	err := writeNotices(&bytes.Buffer{}, "linux/arm64", goroot, "go1.26.8", []module.Version{a, c}, dirs)
	if err == nil || !strings.Contains(err.Error(), "example.com/c v1.0.0: no licence file") {
		t.Errorf("a module without a licence: err = %v", err)
	}
}

// The test binary is a Go binary like the release's: its build information names the modules
// it links, and each is found in the module cache with its licence.
func TestLinkedModulesOfARealBinary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	goVersion, mods, err := linkedModules([]string{exe, exe})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(goVersion, "go1.") {
		t.Errorf("Go version %q", goVersion)
	}
	var xmod module.Version
	for i, m := range mods {
		if i > 0 && mods[i-1] == m {
			t.Errorf("%v listed twice", m)
		}
		if m.Path == "golang.org/x/mod" {
			xmod = m
		}
	}
	if xmod.Version == "" {
		t.Fatalf("golang.org/x/mod, which this package imports, is not among %v", mods)
	}
	dirs, err := moduleDirs(context.Background(), ".", []module.Version{xmod})
	if err != nil {
		t.Fatal(err)
	}
	names, err := licenseFiles(dirs[xmod])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, " ") != "LICENSE PATENTS" {
		t.Errorf("licence files of %v: %q, want LICENSE PATENTS", xmod, names)
	}
}
