// Package apikey makes and checks workspace API keys: "fini_" followed by 32 random bytes in
// URL-safe base64. Only a key's SHA-256 hash is ever stored, so a copy of the database yields
// no usable key; the key's entropy makes a fast hash safe here. It depends on nothing of ours.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
)

// Prefix starts every key, as Fini's do.
const Prefix = "fini_"

// secretBytes is the key's randomness: 256 bits.
const secretBytes = 32

var encoding = base64.RawURLEncoding

// Generate returns a new key and its hash.
func Generate() (key string, hash []byte, err error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("generate api key: %w", err)
	}
	key = Prefix + encoding.EncodeToString(b)
	return key, Hash(key), nil
}

// Hash returns the SHA-256 of the whole key, the only form in which keys are stored.
func Hash(key string) []byte {
	h := Sum(key)
	return h[:]
}

// Sum is Hash as an array, which a map can be keyed by.
func Sum(key string) [sha256.Size]byte {
	return sha256.Sum256([]byte(key))
}

// WellFormed reports whether key has the shape of a key this package generates: the prefix
// and the secret's length in the URL-safe base64 alphabet. It says nothing about whether the
// key exists.
func WellFormed(key string) bool {
	secret, ok := strings.CutPrefix(key, Prefix)
	if !ok || len(secret) != encoding.EncodedLen(secretBytes) {
		return false
	}
	for i := 0; i < len(secret); i++ {
		if !urlSafe(secret[i]) {
			return false
		}
	}
	return true
}

// urlSafe reports whether c is of the URL-safe base64 alphabet.
func urlSafe(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// FromAuthorization extracts the key from an Authorization header value
// ("Bearer fini_..."); ok is false when the header is not of that form.
func FromAuthorization(header string) (key string, ok bool) {
	scheme, key, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	key = strings.TrimSpace(key)
	return key, WellFormed(key)
}

// shape is a key, wherever a client put it (a key pasted into a path is still a key).
var shape = regexp.MustCompile(Prefix + `[A-Za-z0-9_-]+`)

// Mask returns s with everything shaped like a key replaced by "fini_xxxxx": what a log or a
// span may keep of a value a client chose.
func Mask(s string) string {
	if !strings.Contains(s, Prefix) {
		return s
	}
	return shape.ReplaceAllString(s, Prefix+"xxxxx")
}
