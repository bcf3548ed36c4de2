package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/module"
)

// noticesName is the file of each archive that carries the licences and notices of what the
// binaries were built from besides this module: the Go standard library and runtime, and
// every module they link. The licences of most of them (BSD, MIT, Apache-2.0 with a NOTICE)
// ask that a binary distribution reproduce them.
const noticesName = "THIRD_PARTY_NOTICES"

// linkedModules reads the modules the binaries link from the build information each records
// (a replaced module counts as its replacement) and returns them in path order, with the Go
// version that built them.
func linkedModules(binaries []string) (string, []module.Version, error) {
	goVersion := ""
	seen := map[module.Version]bool{}
	for _, b := range binaries {
		bi, err := buildinfo.ReadFile(b)
		if err != nil {
			return "", nil, err
		}
		goVersion = bi.GoVersion
		for _, d := range bi.Deps {
			m := d
			if d.Replace != nil {
				m = d.Replace
			}
			if m.Version == "" {
				return "", nil, fmt.Errorf("%s: %s is replaced by a directory, whose licence is not in the module cache", b, d.Path)
			}
			seen[module.Version{Path: m.Path, Version: m.Version}] = true
		}
	}
	mods := make([]module.Version, 0, len(seen))
	for m := range seen {
		mods = append(mods, m)
	}
	slices.SortFunc(mods, func(a, b module.Version) int {
		return strings.Compare(a.Path+"@"+a.Version, b.Path+"@"+b.Version)
	})
	return goVersion, mods, nil
}

// moduleDirs returns the module cache's directory of each module (go mod download, which
// finds them there after the build).
func moduleDirs(ctx context.Context, src string, mods []module.Version) (map[module.Version]string, error) {
	args := []string{"mod", "download", "-json"}
	for _, m := range mods {
		args = append(args, m.Path+"@"+m.Version)
	}
	out, err := goOutput(ctx, src, args...)
	if err != nil {
		return nil, err
	}
	dirs := map[module.Version]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var m struct{ Path, Version, Dir, Error string }
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go mod download: %w", err)
		}
		if m.Error != "" {
			return nil, fmt.Errorf("go mod download %s@%s: %s", m.Path, m.Version, m.Error)
		}
		dirs[module.Version{Path: m.Path, Version: m.Version}] = m.Dir
	}
	return dirs, nil
}

// licenseFiles returns the names of dir's licence and notice files, in name order: those
// whose name starts with LICENSE, LICENCE, COPYING, NOTICE or PATENTS, in any case
// (LICENSE.txt, LICENSE-SQLITE, NOTICE.txt).
func licenseFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		upper := strings.ToUpper(e.Name())
		for _, prefix := range []string{"LICENSE", "LICENCE", "COPYING", "NOTICE", "PATENTS"} {
			if strings.HasPrefix(upper, prefix) && e.Type().IsRegular() {
				names = append(names, e.Name())
				break
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// writeNotices writes the notices file for platform: Go's licence files from goroot, then
// each module's, in the order given. A module without a licence file is an error: it
// could not be redistributed knowingly.
func writeNotices(w io.Writer, platform, goroot, goVersion string, mods []module.Version, dirs map[module.Version]string) error {
	fmt.Fprintf(w, "Third-party software in fini, fini-load and fini-server for %s\n\n", platform)
	fmt.Fprintf(w, "These programs are built from %s (see LICENSE) with the Go toolchain\n", modulePath)
	fmt.Fprintf(w, "and the modules below, which they contain. The licence and notice files of each follow.\n")
	if err := writeSection(w, "Go "+goVersion+" (standard library and runtime)", goroot); err != nil {
		return err
	}
	for _, m := range mods {
		dir, ok := dirs[m]
		if !ok {
			return fmt.Errorf("%s@%s: not in the module cache", m.Path, m.Version)
		}
		if err := writeSection(w, m.Path+" "+m.Version, dir); err != nil {
			return err
		}
	}
	return nil
}

func writeSection(w io.Writer, title, dir string) error {
	names, err := licenseFiles(dir)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return fmt.Errorf("%s: no licence file in %s", title, dir)
	}
	rule := strings.Repeat("=", 80)
	fmt.Fprintf(w, "\n%s\n%s\n%s\n", rule, title, rule)
	for _, name := range names {
		text, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n--- %s ---\n\n%s", name, text)
		if !bytes.HasSuffix(text, []byte("\n")) {
			fmt.Fprintln(w)
		}
	}
	return nil
}

// notices writes the notices file of the binaries into dst.
func notices(ctx context.Context, src, platform string, binaries []string, dst string) error {
	goVersion, mods, err := linkedModules(binaries)
	if err != nil {
		return err
	}
	dirs, err := moduleDirs(ctx, src, mods)
	if err != nil {
		return err
	}
	goroot, err := goOutput(ctx, src, "env", "GOROOT")
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := writeNotices(&b, platform, strings.TrimSpace(string(goroot)), goVersion, mods, dirs); err != nil {
		return err
	}
	return os.WriteFile(dst, b.Bytes(), 0o644)
}

// goOutput runs the go command in dir and returns its standard output.
func goOutput(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w: %s", args[0], err, lastLines(stderr.String(), 5))
	}
	return out, nil
}
