package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// DefaultMaxBodyBytes limits the request body of an operation whose spec sets no
// x-max-body-bytes (pipeline.go applies it).
const DefaultMaxBodyBytes = 1 << 20

// MaxHeaderBytes bounds the request headers the API reads. The HTTP server accepts more
// (fini-server sets 1 MiB) so that this limit answers in the error envelope.
const MaxHeaderBytes = 64 << 10

// limitHeaders refuses requests whose headers exceed MaxHeaderBytes with a 431 envelope.
func limitHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		n := 0
		for k, vs := range c.Request().Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n > MaxHeaderBytes {
			return newAPIError(http.StatusRequestHeaderFieldsTooLarge, "Request headers are larger than %d bytes", MaxHeaderBytes)
		}
		return next(c)
	}
}

// closeAfterChunked answers a request whose body came chunked and then closes its connection.
// Go's server frames such a request by Transfer-Encoding and drops any Content-Length
// before a handler could see it (RFC 9112), which is unambiguous here; but a proxy in front
// that framed it by Content-Length would take the bytes after the chunks for part of this
// request, while we would read them as the next one. Closing the connection discards them.
func closeAfterChunked(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if len(c.Request().TransferEncoding) > 0 {
			c.Response().Header().Set(echo.HeaderConnection, "close")
		}
		return next(c)
	}
}

// decodePath routes on the decoded path: a percent-escape of a character that needs none
// (%2D for "-", %75 for "u") names the same resource, as RFC 3986 says. A path with an
// escaped "/" keeps its escapes, so that the escape cannot move a segment boundary.
func decodePath(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u := c.Request().URL; u.RawPath != "" && !strings.Contains(strings.ToLower(u.RawPath), "%2f") {
			u.RawPath = ""
		}
		return next(c)
	}
}
