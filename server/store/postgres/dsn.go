package postgres

import (
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// parseError says why pgx could not parse dsn without showing dsn or anything in it that
// could be its password, and without wrapping pgx's error, whose ConnString field holds the
// DSN as given.
//
// pgx's message quotes the DSN with the passwords it recognises masked. For a URL it finds
// them by the URL's structure, and its reasons name no part of the password, so the reason
// alone is shown. For a keyword/value DSN it masks `password=...` by pattern, which a
// malformed DSN slips past (`password = s3cret` is quoted whole), and its reasons quote
// words of the DSN (`missing "=" after "password:s3cret"`), so nothing of it is shown.
func parseError(dsn string, err error) error {
	var pce *pgconn.ParseConfigError
	if errors.As(err, &pce) && isURL(dsn) {
		reason := *pce
		reason.ConnString = ""
		return fmt.Errorf("parse postgres dsn: %s", strings.TrimPrefix(reason.Error(), "cannot parse ``: "))
	}
	kind := "keyword/value connection string"
	if isURL(dsn) {
		kind = "URL"
	}
	return fmt.Errorf("parse postgres dsn: not a valid %s (the details are not shown: they may quote its password)", kind)
}

// isURL reports whether pgx reads dsn as a URL rather than as keyword/value pairs.
func isURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// checkPasswordCut refuses a URL whose database name holds an @ while its host part holds
// none: the sign of a password with an unencoded /, which ends the host part early (pgx
// reads postgres://u:1234/s3cret@host/db as host u, port 1234, database s3cret@host/db),
// so the rest of the password would be shown in every connection error as the database.
func checkPasswordCut(dsn string) error {
	if !isURL(dsn) {
		return nil
	}
	_, rest, _ := strings.Cut(dsn, "://")
	host, path, found := strings.Cut(rest, "/")
	if !found || strings.Contains(host, "@") {
		return nil
	}
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	if strings.Contains(path, "@") {
		return errors.New("parse postgres dsn: the database name holds an @, so the password probably holds an unencoded /: write / in a password as %2F, and @ in a database name as %40")
	}
	return nil
}
