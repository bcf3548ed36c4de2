package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"

	"github.com/google/uuid"
)

// Sentinels for errors.Is on an *APIError, by status.
var (
	ErrBadRequest    = errors.New("bad request")
	ErrUnauthorized  = errors.New("unauthorized")
	ErrForbidden     = errors.New("forbidden")
	ErrNotFound      = errors.New("not found")
	ErrNotAcceptable = errors.New("not acceptable")
	ErrServer        = errors.New("server error")
	// ErrUnexpectedResponse matches an answer that is not what the API documents: a proxy's
	// HTML page, an empty or malformed body.
	ErrUnexpectedResponse = errors.New("unexpected response")
)

// APIError is any non-2xx answer.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Message and Reason are the envelope's "message" and "error"; empty when the body was
	// not the envelope.
	Message, Reason string
	// IDs are the inaccessible ids of a bulk delete's 406, when known.
	IDs []uuid.UUID
	// RequestID is the X-Request-Id of the answer, for support.
	RequestID string
	// Unexpected is set when the body was not the API's error envelope.
	Unexpected bool
	// ContentType is the answer's media type.
	ContentType string
}

// Error says the status, the API's message and the request id.
func (e *APIError) Error() string {
	s := fmt.Sprintf("fini: %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.Unexpected:
		s += fmt.Sprintf(" (unexpected %s body, not the API's error envelope)", orNone(e.ContentType))
	case e.Message != "":
		s += ": " + e.Message
	}
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return s
}

func orNone(ct string) string {
	if ct == "" {
		return "empty"
	}
	return ct
}

// Is matches the sentinel of the error's status class.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrNotAcceptable:
		return e.StatusCode == http.StatusNotAcceptable
	case ErrServer:
		return e.StatusCode >= 500
	case ErrUnexpectedResponse:
		return e.Unexpected
	}
	return false
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 1 << 20

// idPattern finds ids in a 406 message, for servers (Fini's) whose body lacks "ids".
var idPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// newAPIError reads a non-2xx answer.
func newAPIError(res *http.Response) *APIError {
	e := &APIError{StatusCode: res.StatusCode, RequestID: res.Header.Get("X-Request-Id")}
	e.ContentType, _, _ = mime.ParseMediaType(res.Header.Get("Content-Type"))
	body, err := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
	var env struct {
		StatusCode int         `json:"statusCode"`
		Message    *string     `json:"message"`
		Error      string      `json:"error"`
		IDs        []uuid.UUID `json:"ids"`
	}
	if err != nil || e.ContentType != "application/json" || json.Unmarshal(body, &env) != nil || env.Message == nil {
		e.Unexpected = true
		return e
	}
	e.Message, e.Reason, e.IDs = *env.Message, env.Error, env.IDs
	if e.StatusCode == http.StatusNotAcceptable && e.IDs == nil {
		for _, s := range idPattern.FindAllString(e.Message, -1) {
			if id, err := uuid.Parse(s); err == nil {
				e.IDs = append(e.IDs, id)
			}
		}
	}
	return e
}
