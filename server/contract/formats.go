package contract

import (
	"errors"
	"net/mail"
	"net/url"
	"time"

	"github.com/google/uuid"
)

// DefaultFormats are the string formats checked when Options.Formats is nil: those of JSON
// Schema that APIs use most. Each error says what the value must be, and never quotes it.
var DefaultFormats = map[string]func(string) error{
	// uuid is the canonical 8-4-4-4-12 hexadecimal form, any version, any letter case.
	"uuid": func(s string) error {
		if _, err := uuid.Parse(s); err != nil || len(s) != 36 {
			return errors.New("must be a UUID")
		}
		return nil
	},
	// date-time is RFC 3339's.
	"date-time": func(s string) error {
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return errors.New("must be an RFC 3339 date-time")
		}
		return nil
	},
	// date is RFC 3339's full-date.
	"date": func(s string) error {
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return errors.New("must be a date, YYYY-MM-DD")
		}
		return nil
	},
	// email is an address as RFC 5322 writes one, without a display name.
	"email": func(s string) error {
		if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
			return errors.New("must be an email address")
		}
		return nil
	},
	// uri is an absolute URI.
	"uri": func(s string) error {
		if u, err := url.Parse(s); err != nil || !u.IsAbs() {
			return errors.New("must be an absolute URI")
		}
		return nil
	},
}
