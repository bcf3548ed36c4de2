package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReleaseIsReproducible builds the release of one platform twice from this tree, into
// two directories through two temporary build directories, and wants the same bytes in
// every file: archive, SBOMs and SHA256SUMS. It then checks the archive holds what a release
// promises, that its notices name Go and the linked modules, and that the binary inside says the stamped version and commit. It builds with
// the go command, so it runs only when FINI_TEST_RELEASE is set (make check-release).
func TestReleaseIsReproducible(t *testing.T) {
	if os.Getenv("FINI_TEST_RELEASE") == "" {
		t.Skip("builds the release of linux/amd64 twice; set FINI_TEST_RELEASE=1 (make check-release)")
	}
	src, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	const target = "linux/amd64"
	outs := []string{t.TempDir(), t.TempDir()}
	for _, out := range outs {
		if err := run(context.Background(), src, out, "", []string{target}); err != nil {
			t.Fatal(err)
		}
	}
	first, second := readDir(t, outs[0]), readDir(t, outs[1])
	if len(first) != 5 { // archive, three SBOMs, SHA256SUMS
		t.Errorf("release wrote %d files, want 5: %v", len(first), keys(first))
	}
	for name, a := range first {
		if b, ok := second[name]; !ok {
			t.Errorf("%s: only in the first run", name)
		} else if !bytes.Equal(a, b) {
			t.Errorf("%s: the two runs differ", name)
		}
	}
	if len(second) != len(first) {
		t.Errorf("second run wrote %v, first %v", keys(second), keys(first))
	}

	st, err := readStamp(context.Background(), src, "")
	if err != nil {
		t.Fatal(err)
	}
	base := project + "_" + st.version + "_linux_amd64"
	sums := string(first["SHA256SUMS"])
	for name, body := range first {
		if name == "SHA256SUMS" {
			continue
		}
		if sum, _ := fileSHA256(filepath.Join(outs[0], name)); !strings.Contains(sums, sum+"  "+name+"\n") {
			t.Errorf("SHA256SUMS lacks %s's sum %s:\n%s", name, sum, sums)
		}
		if strings.HasSuffix(name, ".cdx.json") && (bytes.Contains(body, []byte(`"serialNumber"`)) ||
			!bytes.Contains(body, []byte(`"timestamp": "`+st.time.Format("2006-01-02T15:04:05Z")+`"`))) {
			t.Errorf("%s: want no serial number and the release's timestamp", name)
		}
	}
	bin := unpack(t, filepath.Join(outs[0], base+".tar.gz"))
	for _, want := range []string{"CHANGELOG.md", "LICENSE", "README.md", noticesName, "fini", "fini-load", "fini-server"} {
		if _, ok := bin[want]; !ok {
			t.Errorf("the archive lacks %s: has %v", want, keys(bin))
		}
	}
	if len(bin) != 7 {
		t.Errorf("the archive holds %v, want 7 files", keys(bin))
	}
	for _, want := range []string{"\nGo " + runtime.Version() + " (standard library and runtime)\n", "\nmodernc.org/sqlite v", "\ngithub.com/schollz/progressbar/v3 v", "\n--- NOTICE ---\n"} {
		if !bytes.Contains(bin[noticesName], []byte(want)) {
			t.Errorf("%s lacks %q", noticesName, want)
		}
	}
	if runtime.GOOS+"/"+runtime.GOARCH != target {
		return
	}
	exe := filepath.Join(t.TempDir(), "fini-server")
	if err := os.WriteFile(exe, bin["fini-server"], 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exe, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	modified := "false"
	if st.modified {
		modified = "true"
	}
	for _, want := range []string{"fini-server " + st.version + "\n", "commit: " + st.commit + "\n", "modified: " + modified + "\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("fini-server --version says\n%s\nwant a line %q", out, want)
		}
	}
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if files[e.Name()], err = os.ReadFile(filepath.Join(dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return files
}

// unpack returns the regular files of a .tar.gz by their base names.
func unpack(t *testing.T, name string) map[string][]byte {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if files[filepath.Base(h.Name)], err = io.ReadAll(tr); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func keys(m map[string][]byte) []string {
	var k []string
	for name := range m {
		k = append(k, name)
	}
	return k
}
