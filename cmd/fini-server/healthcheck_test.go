package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// healthcheck runs `fini-server healthcheck` as main does, with args.
func healthcheck(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return execute("", append([]string{"healthcheck"}, args...)...)
}

func TestHealthcheckOfARunningServer(t *testing.T) {
	s := startServe(t)
	_, port, _ := net.SplitHostPort(s.addr)
	tests := []struct {
		name string
		env  string // FINI_ADDR
		args []string
		want string // stdout
	}{
		{"--addr", "", []string{"--addr", s.addr}, "healthy: GET http://" + s.addr + "/healthz: 200 OK\n"},
		{"--ready", "", []string{"--addr", s.addr, "--ready"}, "healthy: GET http://" + s.addr + "/readyz: 200 OK\n"},
		{"FINI_ADDR", s.addr, nil, "healthy: GET http://" + s.addr + "/healthz: 200 OK\n"},
		{"the flag beats FINI_ADDR", "127.0.0.1:1", []string{"--addr", s.addr}, "healthy: GET http://" + s.addr + "/healthz: 200 OK\n"},
		// The address a container's server listens on is asked on loopback.
		{"0.0.0.0 is asked on 127.0.0.1", "0.0.0.0:" + port, nil, "healthy: GET http://" + s.addr + "/healthz: 200 OK\n"},
		{"no host is asked on 127.0.0.1", ":" + port, nil, "healthy: GET http://" + s.addr + "/healthz: 200 OK\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FINI_ADDR", tt.env)
			code, out, errOut := healthcheck(t, tt.args...)
			if code != 0 || out != tt.want || errOut != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0, %q", code, out, errOut, tt.want)
			}
		})
	}
}

func TestHealthcheckAdminAddrAndTLS(t *testing.T) {
	certFile, keyFile, _ := selfSignedCert(t)
	s := startServe(t, "--admin-addr", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile)
	otherCert, _, _ := selfSignedCert(t)

	// With the environment serve was given, the admin listener is asked, over plain HTTP.
	t.Setenv("FINI_ADDR", s.addr)
	t.Setenv("FINI_ADMIN_ADDR", s.adminAddr)
	t.Setenv("FINI_TLS_CERT", certFile)
	if code, out, errOut := healthcheck(t, "--ready"); code != 0 || out != "healthy: GET http://"+s.adminAddr+"/readyz: 200 OK\n" {
		t.Errorf("admin: exit %d, %q %q", code, out, errOut)
	}
	// Without an admin listener, the API listener is asked over HTTPS; /healthz is not
	// served there in this set-up, so the answer is 404, and unhealthy, but the TLS
	// handshake with the pinned certificate succeeded.
	t.Setenv("FINI_ADMIN_ADDR", "")
	code, out, errOut := healthcheck(t)
	if want := "fini-server: unhealthy: GET https://" + s.addr + "/healthz: 404 Not Found\n"; code != 1 || out != "" || errOut != want {
		t.Errorf("API over TLS: exit %d, %q %q; want 1, %q", code, out, errOut, want)
	}
	// Another certificate than the server's is refused.
	code, _, errOut = healthcheck(t, "--tls-cert", otherCert)
	if code != 1 || !strings.Contains(errOut, "the server's certificate is not the one in --tls-cert") {
		t.Errorf("wrong certificate: exit %d, %q", code, errOut)
	}
}

func TestHealthcheckOverTLS(t *testing.T) {
	certFile, keyFile, _ := selfSignedCert(t)
	s := startServe(t, "--tls-cert", certFile, "--tls-key", keyFile)
	if code, out, errOut := healthcheck(t, "--addr", s.addr, "--tls-cert", certFile); code != 0 ||
		out != "healthy: GET https://"+s.addr+"/healthz: 200 OK\n" {
		t.Errorf("exit %d, %q %q", code, out, errOut)
	}
	// Plain HTTP to a TLS listener is answered 400 by the server: unhealthy.
	if code, _, errOut := healthcheck(t, "--addr", s.addr); code != 1 || !strings.HasSuffix(errOut, "400 Bad Request\n") {
		t.Errorf("plain HTTP to TLS: exit %d, %q", code, errOut)
	}
}

func TestHealthcheckUnhealthy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("the health check sent an Authorization header")
		}
		if r.URL.Path == "/readyz" {
			http.Error(w, `{"status":"database unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	closed := closedAddr(t)

	tests := []struct {
		name string
		args []string
		want string // stderr; a regular expression
	}{
		{"503", []string{"--addr", addr, "--ready"}, `^fini-server: unhealthy: GET http://` + addr + `/readyz: 503 Service Unavailable\n$`},
		{"redirect", []string{"--addr", addr}, `^fini-server: unhealthy: GET http://` + addr + `/healthz: 302 Found\n$`},
		{"nothing listens", []string{"--addr", closed}, `^fini-server: unhealthy: Get "http://` + closed + `/healthz": dial tcp ` + closed + `: connect: connection refused\n$`},
		{"bad address", []string{"--addr", "8080"}, `^fini-server: --addr "8080": want HOST:PORT, e.g. 127.0.0.1:8080\n$`},
		{"bad timeout", []string{"--timeout", "0s"}, `^fini-server: --timeout: want a positive duration, e.g. 3s\n$`},
		{"no certificate", []string{"--tls-cert", "/nonexistent.pem"}, `^fini-server: --tls-cert: open /nonexistent.pem: no such file or directory\n$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := healthcheck(t, tt.args...)
			if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !regexp.MustCompile(tt.want).MatchString(errOut) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and one line matching %s", code, out, errOut, tt.want)
			}
		})
	}
}

// TestHealthcheckTimesOut: a server that does not answer within --timeout is unhealthy; the
// handler returns when the test ends.
func TestHealthcheckTimesOut(t *testing.T) {
	unblock := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-unblock }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(unblock) })
	code, out, errOut := healthcheck(t, "--addr", srv.Listener.Addr().String(), "--timeout", "50ms")
	if code != 1 || out != "" || !strings.Contains(errOut, "Client.Timeout exceeded") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestHealthcheckPrintsNoSecret(t *testing.T) {
	s := startServe(t)
	t.Setenv("FINI_DB", unreachableDSN)
	t.Setenv("FINI_API_KEY", s.key)
	for _, args := range [][]string{{"--addr", s.addr}, {"--addr", closedAddr(t)}} {
		_, out, errOut := healthcheck(t, args...)
		if strings.Contains(out+errOut, sentinelPassword) || strings.Contains(out+errOut, s.key) || strings.Contains(out+errOut, "fini_") {
			t.Errorf("%v printed a secret: %q %q", args, out, errOut)
		}
	}
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestLoopbackIfUnspecified(t *testing.T) {
	for host, want := range map[string]string{
		"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "127.0.0.1": "127.0.0.1",
		"10.1.2.3": "10.1.2.3", "::1": "::1", "localhost": "localhost", "fini.internal": "fini.internal",
	} {
		if got := loopbackIfUnspecified(host); got != want {
			t.Errorf("%q: %q, want %q", host, got, want)
		}
	}
}
