package main

import (
	"archive/tar"
	"archive/zip"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// member is one file of an archive: its name inside the archive's top directory, the file
// it is read from, and whether it is executable. Nothing else of the file on disk (time,
// owner, mode) reaches the archive, so that two builds of one commit give the same bytes.
type member struct {
	name string
	src  string
	exec bool
}

// mode is the permission an archive gives a member: what a release's user expects, not
// what the builder's umask left.
func (m member) mode() os.FileMode {
	if m.exec {
		return 0o755
	}
	return 0o644
}

// sortedMembers returns the members in name order, the one order every archive uses.
func sortedMembers(members []member) []member {
	s := slices.Clone(members)
	slices.SortFunc(s, func(a, b member) int { return strings.Compare(a.name, b.name) })
	return s
}

// writeTarGz writes a gzip-compressed tar of top/ and the members, in name order, every
// entry owned by 0:0 with no user or group name and modified at mtime, in the USTAR format
// (no access or change times); the gzip header has no name, no time and no OS.
func writeTarGz(w io.Writer, top string, members []member, mtime time.Time) error {
	gz, err := gzip.NewWriterLevel(w, flate.BestCompression)
	if err != nil {
		return err
	}
	gz.OS = 255 // unknown: the same whatever machine writes it
	tw := tar.NewWriter(gz)
	mtime = mtime.UTC().Truncate(time.Second)
	dir := &tar.Header{Typeflag: tar.TypeDir, Name: top + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatUSTAR}
	if err := tw.WriteHeader(dir); err != nil {
		return fmt.Errorf("tar %s: %w", dir.Name, err)
	}
	for _, m := range sortedMembers(members) {
		if err := addTar(tw, path.Join(top, m.name), m, mtime); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func addTar(tw *tar.Writer, name string, m member, mtime time.Time) error {
	f, err := os.Open(m.src)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: int64(m.mode()), Size: st.Size(), ModTime: mtime, Format: tar.FormatUSTAR}
	if err := tw.WriteHeader(h); err != nil {
		return fmt.Errorf("tar %s: %w", name, err)
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("tar %s: %w", name, err)
	}
	return nil
}

// writeZip writes a zip of top/ and the members, in name order, deflated, each modified at
// mtime (in UTC, in both the MS-DOS fields and the extended timestamp) with Unix modes.
func writeZip(w io.Writer, top string, members []member, mtime time.Time) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestCompression)
	})
	mtime = mtime.UTC().Truncate(time.Second)
	dir := &zip.FileHeader{Name: top + "/", Method: zip.Store, Modified: mtime}
	dir.SetMode(os.ModeDir | 0o755)
	if _, err := zw.CreateHeader(dir); err != nil {
		return fmt.Errorf("zip %s: %w", dir.Name, err)
	}
	for _, m := range sortedMembers(members) {
		if err := addZip(zw, path.Join(top, m.name), m, mtime); err != nil {
			return err
		}
	}
	return zw.Close()
}

func addZip(zw *zip.Writer, name string, m member, mtime time.Time) error {
	f, err := os.Open(m.src)
	if err != nil {
		return err
	}
	defer f.Close()
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mtime}
	h.SetMode(m.mode())
	fw, err := zw.CreateHeader(h)
	if err != nil {
		return fmt.Errorf("zip %s: %w", name, err)
	}
	if _, err := io.Copy(fw, f); err != nil {
		return fmt.Errorf("zip %s: %w", name, err)
	}
	return nil
}
