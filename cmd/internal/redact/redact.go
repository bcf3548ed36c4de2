// Package redact masks secrets in text shown to people, such as an error that quotes what
// the user typed: API keys, passwords in URLs and in password= parameters, and the values a
// caller knows to be secret. It is a last line of defence at the point where the commands
// print errors; messages should not quote secrets in the first place. It depends on nothing
// of ours.
package redact

import (
	"regexp"
	"strings"
)

// Mask replaces each secret, as pgx and net/url mask passwords.
const Mask = "xxxxx"

// minSecret is the length below which a caller's secret is not masked: so short a value is
// no credential, and masking every occurrence of a word would garble the message.
const minSecret = 8

var patterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	// An API key; the prefix stays, so that the reader sees that a key was given.
	{regexp.MustCompile(`fini_[A-Za-z0-9_-]+`), "fini_" + Mask},
	// The password in a URL's userinfo: scheme://user:password@host. It runs to the URL's
	// last @ (the URL ends at a space or a quote): an @ left unencoded in a password is
	// still part of it.
	{regexp.MustCompile("(\\b[A-Za-z][A-Za-z0-9+.-]*://[^\\s/?#@:]*:)[^\\s\"'`]*@"), "${1}" + Mask + "@"},
	// password=... in a URL's query or in keyword/value pairs; sslpassword too.
	{regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|[^\s&'"]+)`), "${1}" + Mask},
}

// String returns s with every secret it recognises masked, and every occurrence of each of
// secrets at least 8 bytes long.
func String(s string, secrets ...string) string {
	for _, p := range patterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	for _, secret := range secrets {
		if len(secret) >= minSecret {
			s = strings.ReplaceAll(s, secret, Mask)
		}
	}
	return s
}
