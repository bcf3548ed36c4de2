package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/fini-oss/conversations/openapi"
)

// The wording of the API's 4xx messages: which parameter or field, which rule; never the
// schema. Schema errors are worded by openapi.DescribeSchemaError, which the importer shares.

// queryStringError says why a query string could not be parsed in full.
func queryStringError(err error) error {
	var esc url.EscapeError
	switch {
	case errors.As(err, &esc):
		return newAPIError(http.StatusBadRequest, "Invalid query string: %q is not a valid percent-escape", string(esc))
	case strings.Contains(err.Error(), "semicolon"):
		return newAPIError(http.StatusBadRequest, `Invalid query string: ";" does not separate parameters; use "&"`)
	case strings.Contains(err.Error(), "exceeded limit"):
		return newAPIError(http.StatusBadRequest, "Invalid query string: too many parameters")
	}
	return newAPIError(http.StatusBadRequest, "Invalid query string")
}

// requestError turns a kin-openapi validation failure into a message a person can act on.
func requestError(err error, maxBody int64) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return newAPIError(http.StatusRequestEntityTooLarge, "Request body is larger than %d bytes", maxBody)
	}
	var re *openapi3filter.RequestError
	if !errors.As(err, &re) {
		return newAPIError(http.StatusBadRequest, "Invalid request")
	}
	switch {
	case re.Parameter != nil:
		return newAPIError(http.StatusBadRequest, "Invalid parameter %q in %s: %s",
			re.Parameter.Name, re.Parameter.In, ruleBroken(re.Err, re.Parameter.Schema))
	case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		return newAPIError(http.StatusBadRequest, "Request body is required")
	case strings.HasPrefix(re.Reason, "header Content-Type has unexpected value"):
		return newAPIError(http.StatusUnsupportedMediaType, "Content-Type must be application/json")
	case re.Reason == "failed to decode request body":
		return newAPIError(http.StatusBadRequest, "Request body is not valid JSON")
	}
	var se *openapi3.SchemaError
	if errors.As(re.Err, &se) {
		return newAPIError(http.StatusBadRequest, "Invalid request body: %s", openapi.DescribeSchemaError(se))
	}
	return newAPIError(http.StatusBadRequest, "Invalid request body")
}

// ruleBroken says what a parameter value must be.
func ruleBroken(err error, schema *openapi3.SchemaRef) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return openapi.SchemaRule(se)
	}
	if errors.Is(err, openapi3filter.ErrInvalidEmptyValue) {
		return "must not be empty"
	}
	if schema != nil && schema.Value != nil {
		if s := schema.Value; s.Type.Is(openapi3.TypeArray) && s.Items != nil {
			return "each value " + openapi.Expected(s.Items.Value)
		}
		return openapi.Expected(schema.Value)
	}
	return "invalid value"
}

// duplicateMessage is the 400 for an array field whose items j and i hold the same value.
func duplicateMessage(field string, i, j int, value string) string {
	return "Invalid request body: " + openapi.DescribeDuplicate(field, i, j, value)
}
