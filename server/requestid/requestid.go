// Package requestid gives every request an id: the client's X-Request-Id when it is short
// and plain, else a new random one; it is echoed on the response, written in the request's
// log line and kept in the deletion record. It depends on nothing of ours.
package requestid

import (
	"encoding/binary"
	"math/rand/v2"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// Header carries the request id, accepted from the client or generated.
const Header = "X-Request-Id"

// maxLen bounds an accepted client request id; longer or odd ones are replaced.
const maxLen = 128

// valid accepts a short id of plain characters that does not look like an API key (the id
// is logged and echoed; a key pasted into it must not be).
func valid(id string) bool {
	if id == "" || len(id) > maxLen || strings.Contains(id, "fini_") {
		return false
	}
	for _, r := range id {
		ok := r == '-' || r == '_' || r == '.' || r == ':' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

// Set gives the request its id, on its response's header, where From reads it.
func Set(c echo.Context) {
	id := c.Request().Header.Get(Header)
	if !valid(id) {
		id = newID()
	}
	c.Response().Header()[Header] = []string{id}
}

// From returns the request's id; "" before Set.
func From(c echo.Context) string {
	if v := c.Response().Header()[Header]; len(v) == 1 {
		return v[0]
	}
	return ""
}

// newID is a random (version 4) UUID. Request ids need to be unique, not secret, so they
// come from the runtime's per-thread generator rather than crypto/rand: one allocation (the
// string) and a few nanoseconds.
func newID() string {
	var id uuid.UUID
	binary.LittleEndian.PutUint64(id[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(id[8:], rand.Uint64())
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id.String()
}
