package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/server/store"
)

// The seed's exact 401 and 403 messages; the 401 never says which check failed, so it is no
// oracle for which keys exist.
const (
	msgUnauthorized = "Invalid or revoked API key"
	msgForbidden    = "API key does not have the required scope for this operation"
	msgInternal     = "Internal server error"
	msgUnavailable  = "The database is unavailable; retry shortly"
)

// retryAfterSeconds is the Retry-After of a 503: the pool reconnects within a second of the
// database's return.
const retryAfterSeconds = "1"

// apiError is an expected failure with a status and a message for the client.
type apiError struct {
	status  int
	message string
}

// Error is the status and message, for logs.
func (e *apiError) Error() string { return fmt.Sprintf("%d %s", e.status, e.message) }

func newAPIError(status int, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

var (
	errUnauthorized = &apiError{status: http.StatusUnauthorized, message: msgUnauthorized}
	errForbidden    = &apiError{status: http.StatusForbidden, message: msgForbidden}
)

// envelope is the error body of every 4xx and 5xx.
func envelope(status int, message string) api.Error {
	return api.Error{StatusCode: status, Message: message, Error: http.StatusText(status)}
}

// statusAndMessage turns any error into what the client sees; internals never leave.
func statusAndMessage(err error) (int, string) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, ae.message
	}
	if errors.Is(err, store.ErrUnavailable) {
		return http.StatusServiceUnavailable, msgUnavailable
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusNotFound:
			return he.Code, "No such route"
		case http.StatusMethodNotAllowed:
			return he.Code, "Method not allowed on this route"
		}
		if he.Code >= 400 && he.Code < 500 {
			if m, ok := he.Message.(string); ok {
				return he.Code, m
			}
			return he.Code, http.StatusText(he.Code)
		}
	}
	return http.StatusInternalServerError, msgInternal
}

// writeError renders err in the envelope, unless a response was already started.
func writeError(c echo.Context, err error) {
	if c.Response().Committed {
		return
	}
	status, msg := statusAndMessage(err)
	if status >= 500 {
		c.Set(ctxKeyInternalError, err)
	}
	if status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
	}
	if jerr := c.JSON(status, envelope(status, msg)); jerr != nil {
		c.Set(ctxKeyInternalError, errors.Join(err, jerr))
	}
}

// handleHTTPError is Echo's error handler for everything outside the validated operations:
// unknown routes, wrong methods, the global limits, panics (recover.go).
func handleHTTPError(err error, c echo.Context) {
	writeError(c, err)
}

// jsonBytes is v as JSON with a final newline, as Echo writes it.
func jsonBytes(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
