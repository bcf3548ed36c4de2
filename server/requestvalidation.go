package server

import (
	"context"
	"net/http"
	"net/url"

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
	q, err := url.ParseQuery(in.Request.URL.RawQuery)
	if err != nil {
		return queryStringError(err)
	}
	in.QueryParams = q
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
			return requestError(err, op.maxBody)
		}
	}
	if op.body != nil {
		if err := openapi3filter.ValidateRequestBody(ctx, in, op.body); err != nil {
			return requestError(err, op.maxBody)
		}
	}
	return nil
}
