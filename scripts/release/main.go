// Command release builds fini, fini-server and fini-load for each target platform and packs
// them with LICENSE, CHANGELOG.md, README.md and THIRD_PARTY_NOTICES (the licences of Go and
// of every module the binaries link) into one archive per platform (.tar.gz, or .zip for
// Windows), with a CycloneDX SBOM of each binary (cyclonedx-gomod, pinned in
// tools.go) and SHA256SUMS. `make release` runs it.
//
// Two runs on one commit with one Go toolchain give the same bytes: binaries are built
// with CGO off, -trimpath, -buildvcs=false and an empty build id, stamped with -ldflags -X
// (version, commit, modified) rather than with anything of the machine; archives fix their
// order, times (the commit's, or SOURCE_DATE_EPOCH), owners and modes; gzip writes no name
// or time; SBOMs carry no serial number and the same timestamp as the archives.
//
// Usage: go run ./scripts/release -out dist [-version v1.3.0] [-targets linux/amd64,...]
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
)

// modulePath is this module; the stamps' variables live in two of its packages.
const modulePath = "github.com/fini-oss/conversations"

// project names the archives: fini-conversations_VERSION_OS_ARCH.
const project = "fini-conversations"

// commands are the binaries each archive holds, built from ./cmd/NAME.
var commands = []string{"fini", "fini-load", "fini-server"}

// docs are the files of the repository each archive holds beside the binaries.
var docs = []string{"CHANGELOG.md", "LICENSE", "README.md", "docs/operating.md", "docs/contract.md"}

// defaultTargets are the platforms a release is built for.
const defaultTargets = "linux/amd64,linux/arm64,darwin/amd64,darwin/arm64,windows/amd64,windows/arm64"

// cyclonedx is the pinned SBOM generator (tools.go pins its version in go.mod).
const cyclonedx = "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod"

func main() {
	out := flag.String("out", "dist", "directory to write the archives, SBOMs and SHA256SUMS into")
	version := flag.String("version", "", "version to stamp; default the tag vX.Y.Z at HEAD, or a Go pseudo-version of HEAD")
	targets := flag.String("targets", defaultTargets, "comma-separated GOOS/GOARCH list")
	printLDFlags := flag.Bool("print-ldflags", false, "print the -ldflags that stamp this tree's version, and build nothing")
	writeNotices := flag.String("write-notices", "", "write the notices of the binaries named as arguments (built for -platform) to this file, and build nothing")
	platform := flag.String("platform", "linux/amd64", "with -write-notices: the GOOS/GOARCH the binaries were built for")
	flag.Parse()
	if *writeNotices != "" {
		if err := notices(context.Background(), ".", *platform, flag.Args(), *writeNotices); err != nil {
			fmt.Fprintln(os.Stderr, "release:", err)
			os.Exit(1)
		}
		return
	}
	if *printLDFlags {
		st, err := readStamp(context.Background(), ".", *version)
		if err != nil {
			fmt.Fprintln(os.Stderr, "release:", err)
			os.Exit(1)
		}
		fmt.Println(st.ldflags())
		return
	}
	if err := run(context.Background(), ".", *out, *version, strings.Split(*targets, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

// stamp is what a release records of the source it was built from.
type stamp struct {
	version  string
	commit   string
	modified bool
	time     time.Time // the commit's, or SOURCE_DATE_EPOCH: every archive entry's time
}

// ldflags strip the symbol table and build id and stamp the version into internal/version
// (for --version) and client (for the User-Agent).
func (s stamp) ldflags() string {
	flags := []string{"-s", "-w", "-buildid="}
	for _, pkg := range []string{modulePath + "/internal/version", modulePath + "/client"} {
		flags = append(flags, "-X", pkg+".version="+s.version)
	}
	flags = append(flags,
		"-X", modulePath+"/internal/version.commit="+s.commit,
		"-X", modulePath+"/internal/version.modified="+strconv.FormatBool(s.modified))
	return strings.Join(flags, " ")
}

func run(ctx context.Context, src, out, version string, targets []string) error {
	st, err := readStamp(ctx, src, version)
	if err != nil {
		return err
	}
	if st.modified {
		fmt.Fprintf(os.Stderr, "release: the work tree has changes not committed: stamping %s as modified\n", st.version)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "fini-release-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	sbomTool := filepath.Join(work, "cyclonedx-gomod")
	// Built for this machine (go run would build it for the target in GOOS), with
	// -trimpath so that the SBOMs' hash of the tool is the same on every machine.
	if err := goCmd(ctx, src, nil, "build", "-trimpath", "-o", sbomTool, cyclonedx); err != nil {
		return fmt.Errorf("build cyclonedx-gomod: %w", err)
	}
	var artifacts []string
	for _, target := range targets {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(target), "/")
		if !ok || goos == "" || goarch == "" {
			return fmt.Errorf("target %q: want GOOS/GOARCH", target)
		}
		names, err := release(ctx, src, out, work, sbomTool, st, goos, goarch)
		if err != nil {
			return fmt.Errorf("%s/%s: %w", goos, goarch, err)
		}
		artifacts = append(artifacts, names...)
	}
	if err := writeSums(out, artifacts); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "release: %s (commit %s) in %s: %d files and SHA256SUMS\n", st.version, st.commit, out, len(artifacts))
	return nil
}

// release builds one platform's binaries, its archive and the binaries' SBOMs into out,
// and returns the names of what it wrote there.
func release(ctx context.Context, src, out, work, sbomTool string, st stamp, goos, goarch string) ([]string, error) {
	base := fmt.Sprintf("%s_%s_%s_%s", project, st.version, goos, goarch)
	bin := filepath.Join(work, base)
	env := []string{"CGO_ENABLED=0", "GOOS=" + goos, "GOARCH=" + goarch,
		// Set, not inherited: a developer's GOFLAGS or microarchitecture level would change
		// the bytes (and an empty GOFLAGS would not override the go env file's).
		"GOFLAGS=-mod=readonly", "GOAMD64=v1", "GOARM64=v8.0"}
	var members []member
	var written []string
	for _, name := range commands {
		exe := name
		if goos == "windows" {
			exe += ".exe"
		}
		binary := filepath.Join(bin, exe)
		if err := goCmd(ctx, src, env, "build", "-trimpath", "-buildvcs=false", "-ldflags", st.ldflags(), "-o", binary, "./cmd/"+name); err != nil {
			return nil, fmt.Errorf("build %s: %w", name, err)
		}
		members = append(members, member{name: exe, src: binary, exec: true})
		sbom := base + "_" + name + ".cdx.json"
		if err := writeSBOM(ctx, src, sbomTool, env, binary, st, filepath.Join(out, sbom)); err != nil {
			return nil, fmt.Errorf("SBOM of %s: %w", name, err)
		}
		written = append(written, sbom)
	}
	var binaries []string
	for _, m := range members {
		binaries = append(binaries, m.src)
	}
	noticesFile := filepath.Join(bin, noticesName)
	if err := notices(ctx, src, goos+"/"+goarch, binaries, noticesFile); err != nil {
		return nil, fmt.Errorf("%s: %w", noticesName, err)
	}
	members = append(members, member{name: noticesName, src: noticesFile})
	for _, doc := range docs {
		members = append(members, member{name: doc, src: filepath.Join(src, doc)})
	}
	archive, write := base+".tar.gz", writeTarGz
	if goos == "windows" {
		archive, write = base+".zip", writeZip
	}
	f, err := os.Create(filepath.Join(out, archive))
	if err != nil {
		return nil, err
	}
	if err := write(f, base, members, st.time); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", archive, err)
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return append(written, archive), nil
}

// writeSBOM describes binary from the build information it records: the modules linked
// into it, their licences and the standard library. The tool reads GOOS and GOARCH for the
// package URLs' qualifiers. It writes no serial number or timestamp; the timestamp is then
// set to the release's time (see setTimestamp).
func writeSBOM(ctx context.Context, src, tool string, env []string, binary string, st stamp, dst string) error {
	cmd := exec.CommandContext(ctx, tool, "bin", "-json", "-licenses", "-std", "-noserial", "-notimestamp",
		"-version", st.version, "-output", dst, binary)
	cmd.Dir = src
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, lastLines(stderr.String(), 5))
	}
	return setTimestamp(dst, st.time)
}

// writeSums writes out/SHA256SUMS for the names, in name order, as sha256sum -c reads it.
func writeSums(out string, names []string) error {
	var b strings.Builder
	for _, name := range slices.Sorted(slices.Values(names)) {
		sum, err := fileSHA256(filepath.Join(out, name))
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s  %s\n", sum, name)
	}
	return os.WriteFile(filepath.Join(out, "SHA256SUMS"), []byte(b.String()), 0o644)
}

func fileSHA256(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readStamp reads the commit, its time and the tree's state from git in src; version is
// used when given, and otherwise derived from HEAD (see deriveVersion).
func readStamp(ctx context.Context, src, version string) (stamp, error) {
	commit, err := git(ctx, src, "rev-parse", "HEAD")
	if err != nil {
		return stamp{}, err
	}
	commitTime, err := unixTime(git(ctx, src, "log", "-1", "--format=%ct", "HEAD"))
	if err != nil {
		return stamp{}, fmt.Errorf("commit time: %w", err)
	}
	status, err := git(ctx, src, "status", "--porcelain")
	if err != nil {
		return stamp{}, err
	}
	st := stamp{version: version, commit: commit, modified: status != "", time: commitTime}
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		if st.time, err = unixTime(epoch, nil); err != nil {
			return stamp{}, fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
		}
	}
	if version != "" {
		if !semver.IsValid(version) || !strings.HasPrefix(version, semver.Canonical(version)) {
			return stamp{}, fmt.Errorf("-version %q: want a semantic version such as v1.3.0", version)
		}
		return st, nil
	}
	atHead, err := git(ctx, src, "tag", "--points-at", "HEAD", "--list", "v[0-9]*")
	if err != nil {
		return stamp{}, err
	}
	merged, err := git(ctx, src, "tag", "--merged", "HEAD", "--list", "v[0-9]*")
	if err != nil {
		return stamp{}, err
	}
	st.version = deriveVersion(strings.Fields(atHead), strings.Fields(merged), commit, commitTime, st.modified)
	return st, nil
}

// unixTime parses seconds since 1970 as git's %ct and SOURCE_DATE_EPOCH give them.
func unixTime(secs string, err error) (time.Time, error) {
	if err != nil {
		return time.Time{}, err
	}
	n, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not seconds since 1970", secs)
	}
	return time.Unix(n, 0).UTC(), nil
}

// deriveVersion is the version of a commit: its own highest release tag vX.Y.Z if it has
// one, else the pseudo-version Go would give it after the highest tag it descends from
// (v0.0.0-TIME-HASH with none); "+dirty" follows when the tree was modified, as in the
// versions Go itself stamps.
func deriveVersion(atHead, merged []string, commit string, commitTime time.Time, modified bool) string {
	v := highestRelease(atHead)
	if v == "" {
		older := highestRelease(merged)
		major := ""
		if older != "" {
			major = semver.Major(older)
		}
		v = module.PseudoVersion(major, older, commitTime, commit[:min(12, len(commit))])
	}
	if modified {
		v += "+dirty"
	}
	return v
}

// highestRelease is the highest of the tags that is a full semantic version vX.Y.Z[-pre]
// without build metadata, or "" when none is.
func highestRelease(tags []string) string {
	best := ""
	for _, t := range tags {
		if semver.Canonical(t) == t && (best == "" || semver.Compare(t, best) > 0) { // no shorthand (v1), no build metadata
			best = t
		}
	}
	return best
}

// git runs git in dir and returns its trimmed output.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// goCmd runs the go command in dir with env added to this process's environment, its
// output going to this process's standard error.
func goCmd(ctx context.Context, dir string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", args[0], err)
	}
	return nil
}

// lastLines returns the last n lines of s, for an error message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// setTimestamp sets the SBOM's metadata.timestamp to t, the release's time, so that the
// SBOM says when what it describes was made and is the same in every run.
func setTimestamp(name string, t time.Time) error {
	raw, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(doc["metadata"], &meta); err != nil || meta == nil {
		return fmt.Errorf("%s: no metadata object", name)
	}
	if meta["timestamp"], err = json.Marshal(t.UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	if doc["metadata"], err = json.Marshal(meta); err != nil {
		return err
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(name, append(out, '\n'), 0o644)
}
