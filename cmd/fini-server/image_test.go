package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testImageRepo is the repository TestImage builds into, apart from make image's, and removes.
const testImageRepo = "localhost/fini-conversations-imagetest"

// image is a built image as TestImage reads it: its configuration and its extracted files.
type image struct {
	config imageConfig
	// root is the extracted file system; headers are its tar headers by path (no leading /).
	root    string
	headers map[string]*tar.Header
}

// imageConfig is the part of a Docker-format image configuration TestImage checks.
type imageConfig struct {
	Created      time.Time `json:"created"`
	Architecture string    `json:"architecture"`
	OS           string    `json:"os"`
	Config       struct {
		User         string
		ExposedPorts map[string]struct{}
		Env          []string
		Entrypoint   []string
		Cmd          []string
		Volumes      map[string]struct{}
		WorkingDir   string
		Labels       map[string]string
		Healthcheck  *struct {
			Test                           []string
			Interval, Timeout, StartPeriod time.Duration
			Retries                        int
		}
	} `json:"config"`
}

// TestImage builds the container image as make image does (scripts/image.sh), under a
// repository of its own, and checks it without starting a container, which this machine
// cannot (a container runtime's setrlimit is refused): its configuration and labels, its
// files, and its fini-server and fini run from the extracted file system against SQLite on
// 127.0.0.1. The build is the slow part, done once for every check.
func TestImage(t *testing.T) {
	if os.Getenv("FINI_IMAGE_TEST") == "" {
		t.Skip("builds a container image (about a minute): run make image-test")
	}
	tool, err := exec.LookPath("podman")
	if err != nil {
		if tool, err = exec.LookPath("buildah"); err != nil {
			t.Skip("neither podman nor buildah is installed: apt-get install podman (.ci/run does)")
		}
	}
	version := os.Getenv("VERSION")
	if version == "" {
		version = "v0.0.0-imagetest"
	}
	img := buildImage(t, tool, version)

	t.Run("config", func(t *testing.T) { checkImageConfig(t, img.config, version) })
	t.Run("files", func(t *testing.T) { checkImageFiles(t, img) })
	t.Run("runs", func(t *testing.T) { checkImageRuns(t, img, version) })
}

// buildImage runs scripts/image.sh, exports the image as a Docker archive and extracts it.
func buildImage(t *testing.T, tool, version string) image {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("../../scripts/image.sh")
	build.Env = append(os.Environ(), "IMAGE="+testImageRepo, "VERSION="+version, "CONTEXT="+filepath.Join(dir, "context"))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("scripts/image.sh: %v\n%s", err, out)
	} else {
		t.Logf("%s", bytes.TrimSpace(out))
	}
	ref := testImageRepo + ":" + version
	t.Cleanup(func() {
		if out, err := exec.Command(tool, "rmi", ref, testImageRepo+":latest").CombinedOutput(); err != nil {
			t.Errorf("remove the test image: %v\n%s", err, out)
		}
	})
	archive := filepath.Join(dir, "image.tar")
	export := exec.Command(tool, "save", "--quiet", "--format", "docker-archive", "--output", archive, ref)
	if filepath.Base(tool) == "buildah" {
		export = exec.Command(tool, "push", "--quiet", ref, "docker-archive:"+archive+":"+ref)
	}
	if out, err := export.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", export, err, out)
	}
	img, err := readDockerArchive(archive, filepath.Join(dir, "rootfs"))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// readDockerArchive reads the configuration of the one image in a docker-archive and
// extracts its layers, in order, into root.
func readDockerArchive(archive, root string) (image, error) {
	img := image{root: root, headers: map[string]*tar.Header{}}
	f, err := os.Open(archive)
	if err != nil {
		return img, err
	}
	defer f.Close()
	// The archive's members, kept: the manifest names the config and the layers.
	members := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return img, fmt.Errorf("read %s: %w", archive, err)
		}
		if h.Typeflag == tar.TypeReg {
			if members[h.Name], err = io.ReadAll(tr); err != nil {
				return img, fmt.Errorf("read %s: %w", h.Name, err)
			}
		}
	}
	var manifest []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(members["manifest.json"], &manifest); err != nil {
		return img, fmt.Errorf("manifest.json: %w", err)
	}
	if len(manifest) != 1 {
		return img, fmt.Errorf("manifest.json: %d images, want one", len(manifest))
	}
	if err := json.Unmarshal(members[manifest[0].Config], &img.config); err != nil {
		return img, fmt.Errorf("config %s: %w", manifest[0].Config, err)
	}
	for _, layer := range manifest[0].Layers {
		if err := extractLayer(members[layer], root, img.headers); err != nil {
			return img, fmt.Errorf("layer %s: %w", layer, err)
		}
	}
	return img, nil
}

// extractLayer writes the directories and regular files of a layer (a tar, gzipped or not)
// under root, and records every header by its path. An image FROM scratch has no whiteouts,
// links or devices: any of them is an error.
func extractLayer(layer []byte, root string, headers map[string]*tar.Header) error {
	var r io.Reader = bytes.NewReader(layer)
	if bytes.HasPrefix(layer, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return err
		}
		r = zr
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(path.Clean(strings.TrimPrefix(h.Name, "./")), "/")
		if name == "." {
			continue
		}
		if strings.HasPrefix(name, "../") || strings.Contains(path.Base(name), ".wh.") {
			return fmt.Errorf("unexpected member %q", h.Name)
		}
		headers[name] = h
		dst := filepath.Join(root, filepath.FromSlash(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			data, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			if err := os.WriteFile(dst, data, h.FileInfo().Mode().Perm()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected member %q of type %q", h.Name, h.Typeflag)
		}
	}
}

func checkImageConfig(t *testing.T, c imageConfig, version string) {
	cfg := c.Config
	epoch, err := strconv.ParseInt(git(t, "log", "-1", "--format=%ct", "HEAD"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Unix(epoch, 0).UTC()
	for what, ok := range map[string]bool{
		"runs as user 65532, not root":      cfg.User == "65532:65532",
		"entrypoint is fini-server":         slices.Equal(cfg.Entrypoint, []string{"/usr/local/bin/fini-server"}),
		"command is serve":                  slices.Equal(cfg.Cmd, []string{"serve"}),
		"exposes 8080/tcp alone":            len(cfg.ExposedPorts) == 1 && hasKey(cfg.ExposedPorts, "8080/tcp"),
		"/data is the one volume":           len(cfg.Volumes) == 1 && hasKey(cfg.Volumes, "/data"),
		"works in /data":                    cfg.WorkingDir == "/data",
		"the database is SQLite in /data":   slices.Contains(cfg.Env, "FINI_DB=sqlite:/data/fini.db"),
		"listens on 0.0.0.0:8080":           slices.Contains(cfg.Env, "FINI_ADDR=0.0.0.0:8080"),
		"created at the commit's time":      c.Created.Equal(created),
		"built for this machine, for Linux": c.Architecture == runtime.GOARCH && c.OS == "linux",
	} {
		if !ok {
			t.Errorf("the image does not hold that it %s: %+v", what, c)
		}
	}
	for _, kv := range cfg.Env {
		if strings.HasPrefix(kv, "FINI_") && kv != "FINI_DB=sqlite:/data/fini.db" && kv != "FINI_ADDR=0.0.0.0:8080" {
			t.Errorf("unexpected variable %s", kv)
		}
	}
	if hc := cfg.Healthcheck; hc == nil || !slices.Equal(hc.Test, []string{"CMD", "/usr/local/bin/fini-server", "healthcheck"}) ||
		hc.Interval <= 0 || hc.Retries <= 0 || hc.Timeout <= 3*time.Second { // healthcheck's own --timeout is 3s: it answers first
		t.Errorf("healthcheck = %+v, want fini-server healthcheck with a timeout over 3s (the image must be in Docker format)", hc)
	}
	want := map[string]string{
		"org.opencontainers.image.title":       "fini-server",
		"org.opencontainers.image.version":     version,
		"org.opencontainers.image.revision":    git(t, "rev-parse", "HEAD"),
		"org.opencontainers.image.created":     created.Format(time.RFC3339),
		"org.opencontainers.image.source":      "https://github.com/fini-oss/conversations",
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.description": cfg.Labels["org.opencontainers.image.description"],
	}
	if !maps.Equal(cfg.Labels, want) || want["org.opencontainers.image.description"] == "" {
		t.Errorf("labels = %v\nwant %v and a description", cfg.Labels, want)
	}
}

func checkImageFiles(t *testing.T, img image) {
	type file struct {
		mode     os.FileMode
		uid, gid int
	}
	root := file{0o755 | os.ModeDir, 0, 0}
	want := map[string]file{
		"etc": root, "etc/ssl": root, "etc/ssl/certs": root, "usr": root, "usr/local": root, "usr/local/bin": root,
		"usr/share": root, "usr/share/doc": root, "usr/share/doc/fini": root,
		"usr/share/doc/fini/LICENSE": {0o644, 0, 0}, "usr/share/doc/fini/THIRD_PARTY_NOTICES": {0o644, 0, 0},
		"etc/passwd": {0o644, 0, 0}, "etc/group": {0o644, 0, 0}, "etc/ssl/certs/ca-certificates.crt": {0o644, 0, 0},
		"usr/local/bin/fini-server": {0o755, 0, 0}, "usr/local/bin/fini": {0o755, 0, 0},
		"tmp":  {0o777 | os.ModeDir | os.ModeSticky, 0, 0},
		"data": {0o700 | os.ModeDir, 65532, 65532},
	}
	for name, h := range img.headers {
		w, ok := want[name]
		if !ok {
			t.Errorf("unexpected /%s in the image", name)
			continue
		}
		if got := (file{h.FileInfo().Mode(), h.Uid, h.Gid}); got != w {
			t.Errorf("/%s: mode %v owner %d:%d, want %v %d:%d", name, got.mode, got.uid, got.gid, w.mode, w.uid, w.gid)
		}
	}
	for name := range want {
		if img.headers[name] == nil {
			t.Errorf("/%s is missing", name)
		}
	}
	passwd, _ := os.ReadFile(filepath.Join(img.root, "etc/passwd"))
	group, _ := os.ReadFile(filepath.Join(img.root, "etc/group"))
	if !regexp.MustCompile(`(?m)^fini:x:65532:65532:`).Match(passwd) || !regexp.MustCompile(`(?m)^fini:x:65532:`).Match(group) {
		t.Errorf("/etc/passwd, /etc/group name no user 65532:\n%s%s", passwd, group)
	}
	notices, _ := os.ReadFile(filepath.Join(img.root, "usr/share/doc/fini/THIRD_PARTY_NOTICES"))
	for _, module := range []string{"github.com/labstack/echo/v4", "modernc.org/sqlite", "github.com/getkin/kin-openapi"} {
		if !bytes.Contains(notices, []byte(module)) {
			t.Errorf("THIRD_PARTY_NOTICES does not name %s, linked into fini-server", module)
		}
	}
	ca, _ := os.ReadFile(filepath.Join(img.root, "etc/ssl/certs/ca-certificates.crt"))
	if !x509.NewCertPool().AppendCertsFromPEM(ca) {
		t.Error("the CA bundle holds no certificate")
	}
	for _, bin := range []string{"fini-server", "fini"} {
		checkStatic(t, filepath.Join(img.root, "usr/local/bin", bin))
	}
}

// checkStatic fails unless the Go binary at file is static, with no cgo and no build paths.
func checkStatic(t *testing.T, file string) {
	t.Helper()
	f, err := elf.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, _ := f.ImportedLibraries()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			libs = append(libs, "an interpreter")
		}
	}
	if len(libs) > 0 {
		t.Errorf("%s is dynamically linked: %v", file, libs)
	}
	info, err := buildinfo.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-trimpath"] != "true" {
		t.Errorf("%s built with CGO_ENABLED=%q -trimpath=%q, want 0 and true", file, settings["CGO_ENABLED"], settings["-trimpath"])
	}
}

// checkImageRuns runs the image's entrypoint and command, from the extracted files with the
// image's environment, over a temporary SQLite database on 127.0.0.1: a real request to the
// API, the image's fini against it, and the image's HEALTHCHECK command while it serves and
// after it stops.
func checkImageRuns(t *testing.T, img image, version string) {
	cfg := img.config.Config
	if len(cfg.Entrypoint) != 1 || cfg.Healthcheck == nil || len(cfg.Healthcheck.Test) < 2 || cfg.Healthcheck.Test[0] != "CMD" {
		t.Fatalf("no entrypoint or HEALTHCHECK command to run: %+v", cfg)
	}
	inImage := func(p string) string { return filepath.Join(img.root, filepath.FromSlash(p)) }
	// The binaries are stamped with the image's version, as make release stamps its own.
	for _, bin := range []string{cfg.Entrypoint[0], "/usr/local/bin/fini"} {
		out, err := exec.Command(inImage(bin), "--version").CombinedOutput()
		if want := filepath.Base(bin) + " " + version + "\n"; err != nil || !strings.HasPrefix(string(out), want) {
			t.Errorf("%s --version: %v\n%s\nwant it to start %q", bin, err, out, want)
		}
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "fini.db")
	// The image's environment, with the database and the address of this test; nothing of
	// the test's own environment.
	env := func(addr string) []string {
		var e []string
		for _, kv := range cfg.Env {
			switch {
			case strings.HasPrefix(kv, "FINI_DB="):
				e = append(e, "FINI_DB=sqlite:"+db)
			case strings.HasPrefix(kv, "FINI_ADDR="):
				e = append(e, "FINI_ADDR="+addr)
			default:
				e = append(e, kv)
			}
		}
		return e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	migrate := exec.CommandContext(ctx, inImage(cfg.Entrypoint[0]), "migrate")
	migrate.Env = env("127.0.0.1:0")
	if out, err := migrate.CombinedOutput(); err != nil || !strings.Contains(string(out), "migrations applied") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}

	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	serve := exec.CommandContext(ctx, inImage(cfg.Entrypoint[0]), append(slices.Clone(cfg.Cmd), "--demo")...)
	serve.Env = env("127.0.0.1:0")
	serve.Stdout = stdout
	stderr, err := serve.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	addr, logged := "", make(chan struct{})
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(lines.Bytes(), &line) == nil && line.Msg == "serving" {
			addr = line.Addr
			break
		}
	}
	go func() { // the rest of the log, until the server exits
		defer close(logged)
		_, _ = io.Copy(io.Discard, stderr)
	}()
	if addr == "" {
		t.Fatalf("serve never said it serves: %v", serve.Wait())
	}
	// --demo printed the key before the server said it serves.
	demo, _ := os.ReadFile(stdout.Name())
	key := regexp.MustCompile(`FINI_API_KEY=(fini_\S+)`).FindSubmatch(demo)
	if key == nil {
		t.Fatalf("serve --demo printed no key:\n%s", demo)
	}

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/hc-interactions/public?limit=5", nil)
	req.Header.Set("Authorization", "Bearer "+string(key[1]))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Interactions []json.RawMessage }
	err = json.NewDecoder(res.Body).Decode(&page)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || err != nil || len(page.Interactions) != 5 {
		t.Errorf("GET a page of 5: %d, %d conversations, %v", res.StatusCode, len(page.Interactions), err)
	}

	fini := exec.CommandContext(ctx, inImage("/usr/local/bin/fini"), "conversations", "list", "--limit", "3", "--json")
	fini.Env = []string{"FINI_BASE_URL=http://" + addr, "FINI_API_KEY=" + string(key[1])}
	if out, err := fini.Output(); err != nil || bytes.Count(out, []byte("\n")) != 3 {
		t.Errorf("fini conversations list: %v\n%s", err, out)
	}

	// The HEALTHCHECK's command, as the runtime would run it in the container.
	healthcheck := func() (int, string, string) {
		test := cfg.Healthcheck.Test
		cmd := exec.CommandContext(ctx, inImage(test[1]), test[2:]...)
		cmd.Env = env(addr)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := healthcheck(); code != 0 || out != "healthy: GET http://"+addr+"/healthz: 200 OK\n" || errOut != "" {
		t.Errorf("healthcheck while serving: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-logged
	if err := serve.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v, want exit 0", err)
	}
	if code, out, errOut := healthcheck(); code != 1 || out != "" || !strings.HasPrefix(errOut, "fini-server: unhealthy: ") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("healthcheck once stopped: exit %d, stdout %q, stderr %q; want 1 and one line", code, out, errOut)
	}
}

// git runs git with args in this repository and returns its output, trimmed.
func git(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

func hasKey(m map[string]struct{}, k string) bool {
	_, ok := m[k]
	return ok
}
