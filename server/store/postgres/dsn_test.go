package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fini-oss/conversations/server/store/postgres"
)

// sentinel is the password in every DSN below; no error may contain it, or any part of it.
const sentinel = "SENTINELpw"

func TestOpenErrorsNeverShowThePassword(t *testing.T) {
	const keywordValue = "parse postgres dsn: not a valid keyword/value connection string (the details are not shown: they may quote its password)"
	tests := []struct {
		name, dsn string
		want      string // the whole message, or its start when it ends with "..."
	}{
		{"url, bad parameter", "postgres://u:" + sentinel + "@127.0.0.1:1/db?sslmode=bogus",
			"parse postgres dsn: failed to configure TLS (sslmode is invalid)"},
		{"url, password parameter", "postgres://u@127.0.0.1:1/db?password=" + sentinel + "&sslmode=bogus",
			"parse postgres dsn: failed to configure TLS (sslmode is invalid)"},
		{"url, bad port", "postgres://u:" + sentinel + "@127.0.0.1:port/db",
			"parse postgres dsn: invalid port"},
		{"url, bad escape in the password", "postgres://u:" + sentinel + "%zz@127.0.0.1:1/db",
			"parse postgres dsn: failed to parse as URL (invalid percent-encoded token in password)"},
		// The password ends the host part at its "/": the rest of it would be the database.
		{"url, unencoded / in the password", "postgres://u:1234/" + sentinel + "@127.0.0.1:1/db",
			"parse postgres dsn: the database name holds an @, so the password probably holds an unencoded /: write / in a password as %2F, and @ in a database name as %40"},
		{"url, @ in a parameter", "postgres://u@127.0.0.1:1/db?application_name=me@host&password=" + sentinel,
			"connect to postgres: failed to connect to `user=u database=db`:..."},
		{"url, unreachable", "postgres://u:" + sentinel + "@127.0.0.1:1/db",
			"connect to postgres: failed to connect to `user=u database=db`:..."},
		// pgx masks `password=...` in the DSN it quotes, but not `password = ...`.
		{"keyword/value, spaces around =", "host=127.0.0.1 password = " + sentinel + " sslmode=bogus", keywordValue},
		// pgx's reason quotes the word that lacks its "=".
		{"keyword/value, colon for =", "host=127.0.0.1 password:" + sentinel + " port=1", keywordValue},
		{"keyword/value, bad parameter", "host=127.0.0.1 password=" + sentinel + " sslmode=bogus", keywordValue},
		{"keyword/value, unreachable", "host=127.0.0.1 port=1 user=u password=" + sentinel + " dbname=db",
			"connect to postgres: failed to connect to `user=u database=db`:..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := postgres.Open(context.Background(), tt.dsn)
			if err == nil {
				db.Close()
				t.Fatal("opened")
			}
			got := err.Error()
			if strings.Contains(got, sentinel[:4]) || strings.Contains(got, sentinel[4:]) {
				t.Errorf("error shows the password: %s", got)
			}
			if prefix, ok := strings.CutSuffix(tt.want, "..."); ok {
				if !strings.HasPrefix(got, prefix) {
					t.Errorf("error = %q, want it to start with %q", got, prefix)
				}
			} else if got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}
