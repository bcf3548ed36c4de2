package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fini-oss/conversations/client"
	"github.com/fini-oss/conversations/internal/version"
)

func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"--version"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if want := version.Get().Text("fini"); out.String() != want {
		t.Errorf("--version printed %q, want %q", out.String(), want)
	}
}

// The CLI names itself and its version before the client's product token, so a server's
// log tells the CLI from another program built on the client.
func TestUserAgentNamesTheCLIAndTheClient(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.UserAgent():
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"Unauthorized","message":"no"}`))
	}))
	defer srv.Close()
	t.Setenv("FINI_API_KEY", "fini_test")
	var out, errOut bytes.Buffer
	run([]string{"--base-url", srv.URL, "conversations", "get", "0b7e3c1e-8c1a-4f1e-9a51-6f0e2b1a9c11"},
		strings.NewReader(""), &out, &errOut)
	ua := <-got
	want := version.Get().Product("fini-cli") + " fini-conversations-go/" + strings.Trim(client.Version(), "()")
	if ua != want {
		t.Errorf("User-Agent = %q, want %q", ua, want)
	}
}
