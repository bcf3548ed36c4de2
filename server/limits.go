package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
)

// DefaultMaxBodyBytes limits the request body of an operation whose spec sets no
// x-max-body-bytes (pipeline.go applies it).
const DefaultMaxBodyBytes = 1 << 20

// MaxHeaderBytes bounds the request headers the API reads. The HTTP server accepts more
// (fini-server sets 1 MiB) so that this limit answers in the error envelope.
const MaxHeaderBytes = 64 << 10

// checkFraming refuses requests whose headers exceed MaxHeaderBytes with a 431 envelope,
// and marks a request whose body came chunked to have its connection closed after the answer.
//
// The chunked request: Go's server frames it by Transfer-Encoding and drops any
// Content-Length before a handler could see it (RFC 9112), which is unambiguous here; but a
// proxy in front that framed it by Content-Length would take the bytes after the chunks for
// part of this request, while we would read them as the next one. Closing the connection
// discards them.
func checkFraming(c echo.Context) error {
	req := c.Request()
	n := 0
	for k, vs := range req.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	if n > MaxHeaderBytes {
		return newAPIError(http.StatusRequestHeaderFieldsTooLarge, "Request headers are larger than %d bytes", MaxHeaderBytes)
	}
	if len(req.TransferEncoding) > 0 {
		c.Response().Header().Set(echo.HeaderConnection, "close")
	}
	return nil
}

// decodePath routes on the decoded path: a percent-escape of a character that needs none
// (%2D for "-", %75 for "u") names the same resource, as RFC 3986 says. A path with an
// escaped "/" keeps its escapes, so that the escape cannot move a segment boundary.
func decodePath(u *url.URL) {
	if u.RawPath != "" && !strings.Contains(strings.ToLower(u.RawPath), "%2f") {
		u.RawPath = ""
	}
}
