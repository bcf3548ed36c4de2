package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// running is a fini-server serve started in-process by startServe.
type running struct {
	addr, adminAddr string
	key             string
	// demo is what serve printed on stdout (with --demo, a key and commands to try).
	demo string
	// serving is the line that said the server serves, as JSON.
	serving string
	// log is every line the server logged, for tests to wait on.
	log *logLines
	// stop does what SIGTERM does, and returns once serve has returned and its log is read.
	stop func()
}

// startServe runs `fini-server serve --demo` with args over a new SQLite database until the
// test ends, and returns once the server logs that it is serving (a signal, not a sleep).
func startServe(t *testing.T, args ...string) running {
	t.Helper()
	s, out := startServeOn(t, "sqlite:"+filepath.Join(t.TempDir(), "serve.db"), append([]string{"--demo"}, args...)...)
	key := regexp.MustCompile(`FINI_API_KEY=(fini_\S+)`).FindStringSubmatch(out)
	if key == nil {
		t.Fatalf("--demo printed no key: %s", out)
	}
	s.key, s.demo = key[1], out
	return s
}

// startServeOn runs `fini-server --db db serve` with args until the test ends, and returns
// once the server logs that it is serving, with what it printed on stdout by then.
func startServeOn(t *testing.T, db string, args ...string) (running, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logR, logW := io.Pipe()
	var out strings.Builder
	root := newRootCmd(&out, logW)
	root.SetArgs(append([]string{"--db", db, "serve", "--addr", "127.0.0.1:0"}, args...))
	done := make(chan error, 1)
	go func() {
		err := root.ExecuteContext(ctx)
		logW.Close()
		done <- err
	}()
	log := newLogLines()
	serving, read := make(chan map[string]any, 1), make(chan struct{})
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve ended with %v", err)
			}
			<-read // the log's last lines
		})
	}
	t.Cleanup(stop)
	go func() { // keeps the log flowing until the server ends
		defer close(read)
		lines := bufio.NewScanner(logR)
		for lines.Scan() {
			var line map[string]any
			if json.Unmarshal(lines.Bytes(), &line) != nil {
				continue
			}
			if line["msg"] == "serving" {
				serving <- line
			}
			log.add(line)
		}
		close(serving)
	}()
	line, ok := <-serving
	if !ok {
		err := <-done
		done <- err // for stop, which the cleanup runs
		t.Fatalf("serve stopped before serving: %v", err)
	}
	s := running{log: log, stop: stop}
	servingLine, _ := json.Marshal(line)
	s.serving = string(servingLine)
	s.addr, _ = line["addr"].(string)
	s.adminAddr, _ = line["admin_addr"].(string)
	return s, out.String()
}

// logLines are a server's log lines, kept as they come.
type logLines struct {
	mu    sync.Mutex
	lines []map[string]any
	more  chan struct{} // closed when a line is added
}

func newLogLines() *logLines { return &logLines{more: make(chan struct{})} }

func (l *logLines) add(line map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	close(l.more)
	l.more = make(chan struct{})
}

// String is the log, a JSON line a line.
func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, line := range l.lines {
		j, _ := json.Marshal(line)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// wait returns the first line, from the start of the log, for which match is true, waiting
// for more lines as they come; it fails the test after a minute without one.
func (l *logLines) wait(t *testing.T, what string, match func(line map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(time.Minute)
	for i := 0; ; {
		l.mu.Lock()
		for ; i < len(l.lines); i++ {
			if match(l.lines[i]) {
				l.mu.Unlock()
				return l.lines[i]
			}
		}
		more := l.more
		l.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			t.Fatalf("no log line %s within a minute", what)
		}
	}
}

func get(t *testing.T, c *http.Client, url, key string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	res.Body.Close()
	return res.StatusCode
}

const listRoute = "/v2/hc-interactions/public"

func TestServeOperationalEndpointsWithTheAPIByDefault(t *testing.T) {
	s := startServe(t)
	for path, want := range map[string]int{listRoute: 200, "/healthz": 200, "/readyz": 200, "/metrics": 200} {
		if got := get(t, http.DefaultClient, "http://"+s.addr+path, s.key); got != want {
			t.Errorf("%s: %d, want %d", path, got, want)
		}
	}
}

// TestServeMetricsShowSQLiteDiskUse: /metrics gives the SQLite database's and WAL's sizes
// and the room left on their file system, as gauges.
func TestServeMetricsShowSQLiteDiskUse(t *testing.T) {
	s := startServe(t)
	res, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fini_sqlite_database_bytes", "fini_sqlite_wal_bytes", "fini_sqlite_filesystem_available_bytes"} {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
		if m == nil {
			t.Errorf("/metrics has no %s:\n%s", name, body)
			continue
		}
		if v, err := strconv.ParseFloat(string(m[1]), 64); err != nil || v < 0 || (name == "fini_sqlite_database_bytes" && v == 0) {
			t.Errorf("%s %s", name, m[1])
		}
		if !bytes.Contains(body, []byte("# TYPE "+name+" gauge")) {
			t.Errorf("%s is not a gauge", name)
		}
	}
}

// TestServeDemoPrintsTheDocs: the demo (make run) gives the address of the API reference
// page, and the server answers there.
func TestServeDemoPrintsTheDocs(t *testing.T) {
	s := startServe(t)
	url := "http://" + s.addr + "/docs"
	if want := "The API reference, in a browser:  " + url + "\n"; !strings.Contains(s.demo, want) {
		t.Errorf("--demo printed no %q:\n%s", want, s.demo)
	}
	if got := get(t, http.DefaultClient, url, ""); got != http.StatusOK {
		t.Errorf("%s: %d, want 200", url, got)
	}
}

func TestServeAdminAddrAndTLS(t *testing.T) {
	certFile, keyFile, pool := selfSignedCert(t)
	s := startServe(t, "--admin-addr", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile)
	if s.adminAddr == "" {
		t.Fatal("no admin address logged")
	}
	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	api := "https://" + s.addr
	for path, want := range map[string]int{listRoute: 200, "/openapi.yaml": 200, "/docs": 200, "/healthz": 404, "/readyz": 404, "/metrics": 404} {
		if got := get(t, tlsClient, api+path, s.key); got != want {
			t.Errorf("API listener %s: %d, want %d", path, got, want)
		}
	}
	admin := "http://" + s.adminAddr
	for path, want := range map[string]int{listRoute: 404, "/docs": 404, "/healthz": 200, "/readyz": 200, "/metrics": 200} {
		if got := get(t, http.DefaultClient, admin+path, s.key); got != want {
			t.Errorf("admin listener %s: %d, want %d", path, got, want)
		}
	}
	// Plain HTTP to the TLS listener is refused by the server, never served.
	if got := get(t, http.DefaultClient, "http://"+s.addr+listRoute, s.key); got != http.StatusBadRequest {
		t.Errorf("plain HTTP to the TLS listener: %d, want 400", got)
	}
}

func TestServeTLSFlagsGoTogether(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	for _, args := range [][]string{{"--tls-cert", "c.pem"}, {"--tls-key", "k.pem"}} {
		_, _, err := finiServer(t, db, "", append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
		if err == nil || err.Error() != "--tls-cert and --tls-key go together: give both, or neither" {
			t.Errorf("%v: %v", args, err)
		}
	}
	_, _, err := finiServer(t, db, "", "serve", "--addr", "127.0.0.1:0", "--tls-cert", "missing.pem", "--tls-key", "missing.pem")
	if err == nil || !strings.HasPrefix(err.Error(), "--tls-cert, --tls-key: open missing.pem:") {
		t.Errorf("missing files: %v", err)
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key, and returns a pool that
// trusts it.
func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fini-server test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServeRateLimitFlags(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	for _, tt := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--rate-limit", "100"}, "", `--rate-limit: "100" is not a rate: want off, N/s or N/m with N from 1 to 1000000, e.g. 100/s`},
		{[]string{"--rate-limit", "5/h"}, "", `--rate-limit: "5/h" is not a rate: want off, N/s or N/m with N from 1 to 1000000, e.g. 100/s`},
		{nil, "0/s", `--rate-limit: "0/s" is not a rate: want off, N/s or N/m with N from 1 to 1000000, e.g. 100/s`},
		{[]string{"--rate-limit", "10/s", "--rate-burst", "-1"}, "", "--rate-burst -1: want from 1 to 1000000 (or 0, one second's worth)"},
		{[]string{"--rate-limit", "10/s", "--rate-burst", "1000000000000000000"}, "", "--rate-burst 1000000000000000000: want from 1 to 1000000 (or 0, one second's worth)"},
		{[]string{"--rate-burst", "5"}, "", "--rate-burst needs --rate-limit"},
	} {
		t.Setenv("FINI_RATE_LIMIT", tt.env)
		_, _, err := finiServer(t, db, "", append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...)...)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%v (FINI_RATE_LIMIT=%q): %v, want %q", tt.args, tt.env, err, tt.want)
		}
	}
}

// TestServeRateLimit: serve --rate-limit limits each key, and says so when it starts.
func TestServeRateLimit(t *testing.T) {
	t.Setenv("FINI_RATE_BURST", "2")
	s := startServe(t, "--rate-limit", "1/m")
	url := "http://" + s.addr + listRoute
	for i, want := range []int{200, 200, 429} {
		if got := get(t, http.DefaultClient, url, s.key); got != want {
			t.Errorf("request %d: %d, want %d", i+1, got, want)
		}
	}
	if !strings.Contains(s.serving, `"rate_limit":"1/m burst 2"`) {
		t.Errorf("the serving line does not give the rate limit: %s", s.serving)
	}
}
