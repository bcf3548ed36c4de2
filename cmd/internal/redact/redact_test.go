package redact_test

import (
	"testing"

	"github.com/fini-oss/conversations/cmd/internal/redact"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in string
		secrets  []string
		want     string
	}{
		{"nothing secret", `"x" is not a UUID`, nil, `"x" is not a UUID`},
		{"a key", `"fini_AbC-d_9" is not a conversation id`, nil, `"fini_xxxxx" is not a conversation id`},
		{"two keys", "parsing fini_a: fini_b-c", nil, "parsing fini_xxxxx: fini_xxxxx"},
		{"url password", `base URL "ftp://u:s3:c/r@et@example.com/x"`, nil, `base URL "ftp://u:xxxxx@example.com/x"`},
		{"url without password", "postgres://u@h/db and https://h:8080/p", nil, "postgres://u@h/db and https://h:8080/p"},
		{"password parameters", "a?password=s3cret&sslpassword=x host=h password = 's3 cret' PASSWORD=y", nil,
			"a?password=xxxxx&sslpassword=xxxxx host=h password = xxxxx PASSWORD=xxxxx"},
		{"a caller's key", "unknown command fini_KEY", []string{"fini_KEY"}, "unknown command fini_xxxxx"},
		{"a caller's secret", "token abcdefgh-123 refused", []string{"abcdefgh-123"}, "token xxxxx refused"},
		{"a short caller's secret", "a bad key", []string{"a"}, "a bad key"},
		{"an empty caller's secret", "as is", []string{""}, "as is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact.String(tt.in, tt.secrets...); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
