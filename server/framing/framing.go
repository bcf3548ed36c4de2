// Package framing holds what the server does about how a request is framed on the wire,
// before any route or operation looks at it: a request whose body came chunked has its
// connection closed after the answer, and a path is routed as its decoded form. It depends
// on Echo alone.
package framing

import (
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// CloseChunked marks a request whose body came chunked to have its connection closed after
// the answer. Go's server frames it by Transfer-Encoding and drops any Content-Length before
// a handler could see it (RFC 9112), which is unambiguous here; but a proxy in front that
// framed it by Content-Length would take the bytes after the chunks for part of this
// request, while this server would read them as the next one. Closing the connection
// discards them.
func CloseChunked(c echo.Context) {
	if len(c.Request().TransferEncoding) > 0 {
		c.Response().Header().Set(echo.HeaderConnection, "close")
	}
}

// DecodePath has u routed on its decoded path: a percent-escape of a character that needs
// none (%2D for "-", %75 for "u") names the same resource, as RFC 3986 says. A path with an
// escaped "/" keeps its escapes, so that an escape cannot move a segment boundary.
func DecodePath(u *url.URL) {
	if u.RawPath != "" && !strings.Contains(strings.ToLower(u.RawPath), "%2f") {
		u.RawPath = ""
	}
}
