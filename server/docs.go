package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/gen/docs"
)

// docsCSP is the Content-Security-Policy of /docs. The page carries everything it needs, so
// it may load nothing from anywhere, this server included: it runs only its own inline scripts,
// named by their hashes (a script injected into it would not run); it applies inline styles
// (Redoc's styled-components writes <style> elements and style attributes as it renders, which
// no hash can name); it shows images and a font inlined as data: URLs; and it may not
// connect, submit a form, change its base URL, or be framed by another site.
var docsCSP = strings.Join([]string{
	"default-src 'none'",
	"script-src " + docs.ScriptSources,
	"style-src 'unsafe-inline'",
	"img-src data:",
	"font-src data:",
	"base-uri 'none'",
	"form-action 'none'",
	"frame-ancestors 'none'",
}, "; ")

// serveDocs answers GET /docs with the API reference page that `make generate` builds from
// the spec (gen/docs). Like /openapi.yaml it is not an operation of the spec, so it passes
// neither authentication nor validation; the frame still adds Cache-Control and nosniff.
func serveDocs(c echo.Context) error {
	c.Response().Header().Set("Content-Security-Policy", docsCSP)
	return c.HTMLBlob(http.StatusOK, docs.HTML)
}
