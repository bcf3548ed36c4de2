package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/openapi"
)

// requestValidator checks each request of an operation against the spec: its query string,
// path, query parameters and body. Every request is validated; a failure is a 4xx whose
// message names the parameter or field and the rule (errorwording.go).
type requestValidator struct {
	opts    openapi3filter.Options
	metrics *metrics
}

func newRequestValidator(m *metrics) *requestValidator {
	return &requestValidator{
		metrics: m,
		opts: openapi3filter.Options{
			// Security is checked before the body is read (auth.go), and parameters and body
			// are validated one by one (not with ValidateRequest, whose security check reads
			// the whole body first). Nothing is filled in, so handlers see what the client
			// sent; the generated server binds the value that was validated.
			KeepValidatedValue:      true,
			SkipSettingDefaults:     true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi.Formats()},
		},
	}
}

// input is the request as kin-openapi validates it, for request and response validation.
func (v *requestValidator) input(c echo.Context, op *operation) *openapi3filter.RequestValidationInput {
	return &openapi3filter.RequestValidationInput{
		Request:    c.Request(),
		PathParams: pathParams(c),
		Route:      op.route,
		Options:    &v.opts,
	}
}

func pathParams(c echo.Context) map[string]string {
	names := c.ParamNames()
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]string, len(names))
	for i, n := range names {
		m[n] = c.ParamValues()[i]
	}
	return m
}

// validate returns nil, or the client's error for the first rule the request breaks.
func (v *requestValidator) validate(ctx context.Context, op *operation, in *openapi3filter.RequestValidationInput) error {
	if err := v.check(ctx, op, in); err != nil {
		v.metrics.validationFailures.WithLabelValues("request").Inc()
		return err
	}
	return nil
}

func (v *requestValidator) check(ctx context.Context, op *operation, in *openapi3filter.RequestValidationInput) error {
	// The standard library drops what it cannot parse and keeps the rest: a filter lost that
	// way would widen the answer in silence. Parsed once here, kin-openapi reuses it.
	q, err := parseQuery(in.Request.URL.RawQuery)
	if err != nil {
		return queryStringError(err)
	}
	in.QueryParams = q
	if err := unknownParameter(op, q); err != nil {
		return err
	}
	for _, pc := range op.pathChecks {
		if err := pc.check(in.PathParams[pc.name]); err != nil {
			return newAPIError(http.StatusBadRequest, "Invalid parameter %q in path: %s", pc.name, err)
		}
	}
	for name := range op.single {
		if len(q[name]) > 1 {
			return newAPIError(http.StatusBadRequest, "Invalid parameter %q in query: given more than once", name)
		}
	}
	for _, p := range op.params {
		if err := openapi3filter.ValidateParameter(ctx, in, p); err != nil {
			return requestError(err, op.bodyLimit())
		}
	}
	if op.body != nil {
		if err := strictJSONBody(in.Request, op.bodyLimit()); err != nil {
			return err
		}
		if err := openapi3filter.ValidateRequestBody(ctx, in, op.body); err != nil {
			return requestError(err, op.bodyLimit())
		}
	}
	return nil
}

// strictJSONBody refuses a JSON body that Go's decoder would read leniently: trailing data
// after the value, invalid UTF-8, a member named twice (openapi.StrictJSON). A proxy or WAF
// in front that parses strictly must see the request this server acts on. Other media types
// and an empty body are left to kin-openapi's 415 and 400.
func strictJSONBody(req *http.Request, maxBody int64) error {
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationJSON {
		return nil
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return requestError(err, maxBody)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := openapi.StrictJSON(body); errors.Is(err, openapi.ErrInvalidJSON) {
		return newAPIError(http.StatusBadRequest, "Request body is not valid JSON (one JSON value, nothing after it)")
	} else if err != nil {
		return newAPIError(http.StatusBadRequest, "Request body is not valid JSON: %s", err)
	}
	return nil
}

// unknownParameter refuses a query parameter the operation does not declare: a misspelled
// one (LIMIT, lmit) would otherwise be ignored, and the answer silently not what was asked.
func unknownParameter(op *operation, q url.Values) error {
	var unknown []string
	for name := range q {
		if !slices.Contains(op.query, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	takes := "takes no query parameters"
	if len(op.query) > 0 {
		takes = "takes " + strings.Join(op.query, ", ")
	}
	return newAPIError(http.StatusBadRequest, "Invalid query string: unknown parameter %q; %s %s", clip(unknown[0], 64), op.id, takes)
}

// noQuery is the parse of an empty query string, shared: kin-openapi and the handlers only
// read it.
var noQuery = url.Values{}

func parseQuery(raw string) (url.Values, error) {
	if raw == "" {
		return noQuery, nil
	}
	return url.ParseQuery(raw)
}
