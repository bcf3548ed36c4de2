package server

import (
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

// requestID accepts a client's X-Request-Id when it is short and plain, else makes one, and
// echoes it on the response.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(HeaderRequestID)
		if !validRequestID(id) {
			id = uuid.NewString()
		}
		c.Set(ctxKeyRequestID, id)
		c.Response().Header().Set(HeaderRequestID, id)
		return next(c)
	}
}
