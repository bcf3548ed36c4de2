package server

import (
	"encoding/binary"
	"math/rand/v2"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// HeaderRequestID carries the request id, accepted from the client or generated.
const HeaderRequestID = "X-Request-Id"

// maxRequestIDLen bounds an accepted client request id; longer or odd ones are replaced.
const maxRequestIDLen = 128

// validRequestID accepts a short id of plain characters that does not look like an API key
// (the id is logged and echoed; a key pasted into it must not be).
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen || strings.Contains(id, "fini_") {
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

// setRequestID accepts a client's X-Request-Id when it is short and plain, else makes one,
// and echoes it on the response.
func setRequestID(c echo.Context) {
	id := c.Request().Header.Get(HeaderRequestID)
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Set(ctxKeyRequestID, id)
	c.Response().Header()[HeaderRequestID] = []string{id}
}

// newRequestID is a random (version 4) UUID. Request ids need to be unique, not secret, so
// they come from the runtime's per-thread generator rather than crypto/rand: one allocation
// (the string) and a few nanoseconds.
func newRequestID() string {
	var id uuid.UUID
	binary.LittleEndian.PutUint64(id[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(id[8:], rand.Uint64())
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id.String()
}
