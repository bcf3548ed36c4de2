package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/client"
)

// TestUserAgent: the client names itself and its module version; a caller's products come
// first (RFC 9110 lists products by significance) and never replace the client's.
func TestUserAgent(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.UserAgent()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"Not Found","message":"no such conversation"}`))
	}))
	defer srv.Close()
	ours := "fini-conversations-go/" + strings.Trim(client.Version(), "()")
	tests := []struct {
		name string
		opts []client.Option
		want string
	}{
		{name: "default", want: ours},
		{name: "a caller's product", opts: []client.Option{client.WithUserAgent("my-tool/2.1")}, want: "my-tool/2.1 " + ours},
		{name: "a caller's products and comment", opts: []client.Option{client.WithUserAgent("my-tool/2.1 (ops) helper/1")}, want: "my-tool/2.1 (ops) helper/1 " + ours},
		{name: "empty", opts: []client.Option{client.WithUserAgent(" ")}, want: ours},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New("fini_test", append(tt.opts, client.WithBaseURL(srv.URL), client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetConversation(context.Background(), uuid.New()); err == nil {
				t.Fatal("want the server's 404")
			}
			if ua := <-got; ua != tt.want {
				t.Errorf("User-Agent = %q, want %q", ua, tt.want)
			}
		})
	}
}

// A header value cannot carry a line break: the option refuses it rather than let the
// request fail at every call.
func TestUserAgentRefusesControlCharacters(t *testing.T) {
	for _, ua := range []string{"tool/1\r\nX-Injected: 1", "tool/1\x00", "tool\x7f/1"} {
		if _, err := client.New("fini_test", client.WithUserAgent(ua)); err == nil || !strings.Contains(err.Error(), "control characters") {
			t.Errorf("WithUserAgent(%q): err = %v, want one about control characters", ua, err)
		}
	}
}
