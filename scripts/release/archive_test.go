package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// files writes the members' sources into a fresh directory, each with the given on-disk
// mode and time, which no archive may show.
func files(t *testing.T, diskMode os.FileMode, diskTime time.Time) []member {
	t.Helper()
	dir := t.TempDir()
	members := []member{
		{name: "fini-server", exec: true},
		{name: "README.md"},
		{name: "fini", exec: true},
		{name: "LICENSE"},
	}
	for i := range members {
		members[i].src = filepath.Join(dir, members[i].name)
		if err := os.WriteFile(members[i].src, []byte("content of "+members[i].name+"\n"), diskMode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(members[i].src, diskMode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(members[i].src, diskTime, diskTime); err != nil {
			t.Fatal(err)
		}
	}
	return members
}

var (
	releaseTime = time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	wantOrder   = []string{"top/", "top/LICENSE", "top/README.md", "top/fini", "top/fini-server"}
	wantMode    = map[string]os.FileMode{"top/LICENSE": 0o644, "top/README.md": 0o644, "top/fini": 0o755, "top/fini-server": 0o755}
)

// Two archives of the same contents are the same bytes whatever the files' modes and times
// on disk, and an archive says only what a release fixes: order, modes, owner, time.
func TestTarGzIsReproducible(t *testing.T) {
	var a, b bytes.Buffer
	if err := writeTarGz(&a, "top", files(t, 0o600, time.Now()), releaseTime); err != nil {
		t.Fatal(err)
	}
	if err := writeTarGz(&b, "top", files(t, 0o777, time.Unix(0, 0)), releaseTime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two archives of the same contents differ")
	}

	gz, err := gzip.NewReader(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if gz.Name != "" || !gz.ModTime.IsZero() || gz.OS != 255 {
		t.Errorf("gzip header: name %q, time %v, OS %d; want none, none, 255", gz.Name, gz.ModTime, gz.OS)
	}
	tr := tar.NewReader(gz)
	var order []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" {
			t.Errorf("%s: owner %d:%d (%q:%q), want 0:0 unnamed", h.Name, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		if !h.ModTime.Equal(releaseTime) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Errorf("%s: times %v %v %v, want only the release's %v", h.Name, h.ModTime, h.AccessTime, h.ChangeTime, releaseTime)
		}
		if want, ok := wantMode[h.Name]; ok {
			if h.FileInfo().Mode().Perm() != want || h.Typeflag != tar.TypeReg {
				t.Errorf("%s: mode %v type %c, want a regular file %v", h.Name, h.FileInfo().Mode(), h.Typeflag, want)
			}
			body, _ := io.ReadAll(tr)
			if want := "content of " + filepath.Base(h.Name) + "\n"; string(body) != want {
				t.Errorf("%s holds %q, want %q", h.Name, body, want)
			}
		}
	}
	if !equal(order, wantOrder) {
		t.Errorf("entries %q, want %q", order, wantOrder)
	}
}

func TestZipIsReproducible(t *testing.T) {
	var a, b bytes.Buffer
	if err := writeZip(&a, "top", files(t, 0o600, time.Now()), releaseTime); err != nil {
		t.Fatal(err)
	}
	if err := writeZip(&b, "top", files(t, 0o777, time.Unix(0, 0)), releaseTime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two archives of the same contents differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, f := range zr.File {
		order = append(order, f.Name)
		if !f.Modified.Equal(releaseTime) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, releaseTime)
		}
		if want, ok := wantMode[f.Name]; ok {
			if f.Mode() != want {
				t.Errorf("%s: mode %v, want %v", f.Name, f.Mode(), want)
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(rc)
			rc.Close()
			if want := "content of " + filepath.Base(f.Name) + "\n"; string(body) != want {
				t.Errorf("%s holds %q, want %q", f.Name, body, want)
			}
		}
	}
	if !equal(order, wantOrder) {
		t.Errorf("entries %q, want %q", order, wantOrder)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
