package contract

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// Error is a request the engine refuses: the status the spec documents for the case, and a
// message for the client that names the parameter or field and the rule it breaks (with the
// allowed values or the pattern, when the rule has them). It may quote what the client sent.
type Error struct {
	Status  int
	Message string
}

// Error is the status and the message.
func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

func errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// ResponseError is a response that does not conform to the spec. Its Reason names the part
// of the response and the rule it breaks, never the value: a response carries stored data,
// which may be a customer's, and this error goes to logs.
type ResponseError struct {
	// Operation is the operationId; Status is the status the handler answered.
	Operation string
	Status    int
	Reason    string
}

// Error says which response broke which rule.
func (e *ResponseError) Error() string {
	return fmt.Sprintf("%s %d: response does not conform to the spec: %s", e.Operation, e.Status, e.Reason)
}

// queryStringError says why a query string could not be parsed in full.
func queryStringError(err error) *Error {
	var esc url.EscapeError
	switch {
	case errors.As(err, &esc):
		return errorf(http.StatusBadRequest, "Invalid query string: %q is not a valid percent-escape", string(esc))
	case strings.Contains(err.Error(), "semicolon"):
		return errorf(http.StatusBadRequest, `Invalid query string: ";" does not separate parameters; use "&"`)
	case strings.Contains(err.Error(), "exceeded limit"):
		return errorf(http.StatusBadRequest, "Invalid query string: too many parameters")
	}
	return errorf(http.StatusBadRequest, "Invalid query string")
}

// requestError turns a kin-openapi validation failure into a message a person can act on.
func requestError(err error, maxBody int64) *Error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errorf(http.StatusRequestEntityTooLarge, "Request body is larger than %d bytes", maxBody)
	}
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		return errorf(http.StatusBadRequest, "Invalid request")
	}
	switch {
	case re.Parameter != nil:
		return errorf(http.StatusBadRequest, "Invalid parameter %q in %s: %s",
			re.Parameter.Name, re.Parameter.In, ruleBroken(re.Err, re.Parameter.Schema))
	case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		return errorf(http.StatusBadRequest, "Request body is required")
	case strings.HasPrefix(re.Reason, "header Content-Type has unexpected value"):
		return errorf(http.StatusUnsupportedMediaType, "Content-Type must be %s", mediaTypes(re.RequestBody))
	case re.Reason == "failed to decode request body":
		return errorf(http.StatusBadRequest, "Request body is not valid JSON")
	}
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		return errorf(http.StatusBadRequest, "Invalid request body: %s", DescribeSchemaError(se))
	}
	return errorf(http.StatusBadRequest, "Invalid request body")
}

// mediaTypes lists the media types a request body may have, as the spec declares them.
func mediaTypes(body *openapi3.RequestBody) string {
	if body == nil || len(body.Content) == 0 {
		return "one the operation accepts"
	}
	return strings.Join(slices.Sorted(maps.Keys(body.Content)), " or ")
}

// ruleBroken says what a parameter value must be.
func ruleBroken(err error, schema *openapi3.SchemaRef) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return SchemaRule(se)
	}
	if errors.Is(err, openapi3filter.ErrInvalidEmptyValue) {
		return "must not be empty"
	}
	if schema != nil && schema.Value != nil {
		if s := schema.Value; s.Type.Is(openapi3.TypeArray) && s.Items != nil {
			return "each value " + Expected(s.Items.Value)
		}
		return Expected(schema.Value)
	}
	return "invalid value"
}

// clip returns s cut to at most n bytes, saying how much was left out: what a client sent is
// quoted back only so far.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return fmt.Sprintf("%s...(%d more bytes)", s[:n], len(s)-n)
}
