// Package apierror is the error envelope of the Conversations API: every 4xx and 5xx the
// server answers is {"statusCode", "message", "error"}, error being the reason phrase. Write
// renders any error in it, for the contract engine (its RenderError hook) and for Echo (its
// HTTPErrorHandler), choosing the status and a message that never shows internals; what the
// client is not shown stays on the request for its log line (Internal). It depends on the
// contract engine and the generated types.
package apierror

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/server/contract"
)

// The messages of the statuses whose cause the client is not told.
const (
	msgInternal    = "Internal server error"
	msgUnavailable = "The database is unavailable; retry shortly"
)

// RetryAfterSeconds is the Retry-After of a 503 that says no other: the database pool
// reconnects within a second of the database's return.
const RetryAfterSeconds = 1

// Error is an outcome the client is told of: a status and a message for a person. Err, when
// set, is its cause, for the log only; RetryAfter, for a 503, the seconds the client should
// wait (RetryAfterSeconds when 0).
type Error struct {
	Status     int
	Message    string
	Err        error
	RetryAfter int
}

// New returns an *Error with the status and a formatted message.
func New(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Error is the status, the message and the cause, for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Unavailable is the 503 (with Retry-After, in seconds) of a request the database could not
// serve now: unreachable, stalled or full. cause is logged, never shown.
func Unavailable(cause error, retryAfter int) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Message: msgUnavailable, Err: cause, RetryAfter: retryAfter}
}

// Envelope is the error body of status with message.
func Envelope(status int, message string) api.Error {
	return api.Error{StatusCode: status, Message: message, Error: http.StatusText(status)}
}

// StatusAndMessage is what the client is told of err: its status and message. Anything that
// is not an outcome meant for the client is a 500 with a generic message.
func StatusAndMessage(err error) (int, string) {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Status, ae.Message
	}
	var ce *contract.Error
	if errors.As(err, &ce) {
		return ce.Status, ce.Message
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

// internalKey keeps, on the echo.Context, the error behind a 5xx, for the request's log line.
const internalKey = "apierror.internal"

// Internal returns the error behind the request's 5xx, if it had one.
func Internal(c echo.Context) (error, bool) {
	err, ok := c.Get(internalKey).(error)
	return err, ok
}

// Write renders err in the envelope, unless a response was already started. A 5xx keeps
// err for the log; a 503 says when to retry.
func Write(c echo.Context, err error) {
	if c.Response().Committed {
		return
	}
	status, msg := StatusAndMessage(err)
	if status >= 500 {
		c.Set(internalKey, err)
	}
	if status == http.StatusServiceUnavailable {
		seconds := RetryAfterSeconds
		if ae := (*Error)(nil); errors.As(err, &ae) && ae.RetryAfter > 0 {
			seconds = ae.RetryAfter
		}
		c.Response().Header().Set("Retry-After", strconv.Itoa(seconds))
	}
	if jerr := c.JSON(status, Envelope(status, msg)); jerr != nil {
		c.Set(internalKey, errors.Join(err, jerr))
	}
}

// HandleHTTPError is Write as Echo's HTTPErrorHandler: for what no operation answers
// (unknown routes, wrong methods, a panic outside an operation).
func HandleHTTPError(err error, c echo.Context) { Write(c, err) }

// JSON is v as JSON with a final newline, as Echo writes it.
func JSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
