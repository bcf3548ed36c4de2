package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/openapi"
)

// ValidationMode says what happens to a response that does not conform to the spec.
type ValidationMode string

const (
	// Enforce replaces a non-conforming response with a 500 envelope and logs it (the default).
	Enforce ValidationMode = "enforce"
	// Report logs and counts a non-conforming response and sends it unchanged.
	Report ValidationMode = "report"
	// Off skips response validation. Requests are always validated.
	Off ValidationMode = "off"
)

// ParseValidationMode parses "enforce", "report" or "off"; "" means Enforce.
func ParseValidationMode(s string) (ValidationMode, error) {
	switch m := ValidationMode(strings.ToLower(s)); m {
	case "":
		return Enforce, nil
	case Enforce, Report, Off:
		return m, nil
	}
	return "", fmt.Errorf("response validation mode %q: want enforce, report or off", s)
}

// validator checks every request and response of the API's operations against the spec.
type validator struct {
	mode     ValidationMode
	auth     *authenticator
	reqOpts  openapi3filter.Options
	respOpts openapi3filter.Options
	// headerOpts are respOpts without the body, for a body the memo already vouches for.
	headerOpts openapi3filter.Options
	log        *slog.Logger
	metrics    *metrics
	// OnResponse, when set, is told of every response that left after validation.
	onResponse func(operationID string, status int)
	memo       *validatedMemo
	// itemOpts are the schema options kin-openapi uses for response bodies.
	itemOpts []openapi3.SchemaValidationOption
	// skipRequests turns request validation off; only benchmarks set it, for their baseline.
	skipRequests bool
}

func newValidator(mode ValidationMode, auth *authenticator, log *slog.Logger, m *metrics, onResponse func(string, int)) *validator {
	formats := openapi.Formats()
	respOpts := openapi3filter.Options{
		IncludeResponseStatus:   true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{formats},
	}
	headerOpts := respOpts
	headerOpts.ExcludeResponseBody = true
	return &validator{
		mode: mode,
		auth: auth,
		reqOpts: openapi3filter.Options{
			// Security is checked by authenticate, before the body is read, and parameters and
			// body are validated one by one (not with ValidateRequest, whose security check
			// reads the whole body first). Nothing is filled in, so handlers see what the
			// client sent; the generated server binds the value that was validated.
			KeepValidatedValue:      true,
			SkipSettingDefaults:     true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{formats},
		},
		respOpts:   respOpts,
		headerOpts: headerOpts,
		log:        log,
		metrics:    m,
		onResponse: onResponse,
		memo:       newValidatedMemo(),
		itemOpts:   []openapi3.SchemaValidationOption{formats, openapi3.VisitAsResponse()},
	}
}

// middleware wraps one operation's handler. Echo has already routed the request, so the
// operation is bound here at start-up and never looked up again.
func (v *validator) middleware(op *operation) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(ctxKeyOperation, op.id)
			in := &openapi3filter.RequestValidationInput{
				Request:    c.Request(),
				PathParams: pathParams(c),
				Route:      op.route,
				Options:    &v.reqOpts,
			}
			if v.mode == Off {
				// Nothing is validated, so nothing is recorded as validated.
				if err := v.serve(c, op, in, next); err != nil {
					writeError(c, err)
				}
				return nil
			}
			res := c.Response()
			orig := res.Writer
			rec := newRecorder(orig)
			defer rec.free()
			res.Writer = rec
			err := v.serve(c, op, in, next)
			if err != nil {
				writeError(c, err)
			}
			res.Writer = orig
			return v.send(c, op, in, rec)
		}
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

// serve authenticates, validates the request and runs the handler.
func (v *validator) serve(c echo.Context, op *operation, in *openapi3filter.RequestValidationInput, next echo.HandlerFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in %s: %v", op.id, r)
		}
	}()
	req := c.Request()
	ctx := req.Context()
	if op.secured {
		p, err := v.auth.authenticate(ctx, req.Header.Get(echo.HeaderAuthorization))
		if err != nil {
			return err
		}
		if !p.HasScopes(op.scopes) {
			return errForbidden
		}
		ctx = withPrincipal(ctx, p)
		req = req.WithContext(ctx)
		c.SetRequest(req)
		in.Request = req
	}
	if op.maxBody > 0 && req.Body != nil {
		req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, op.maxBody)
	}
	if v.skipRequests {
		return next(c)
	}
	if err := v.validateRequest(ctx, op, in); err != nil {
		v.metrics.validationFailures.WithLabelValues("request").Inc()
		return err
	}
	return next(c)
}

func (v *validator) validateRequest(ctx context.Context, op *operation, in *openapi3filter.RequestValidationInput) error {
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
	if len(op.single) > 0 {
		q := in.GetQueryParams()
		for name := range op.single {
			if len(q[name]) > 1 {
				return newAPIError(http.StatusBadRequest, "Invalid parameter %q in query: given more than once", name)
			}
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

// send validates the captured response and writes it, or its replacement, to the client.
func (v *validator) send(c echo.Context, op *operation, in *openapi3filter.RequestValidationInput, rec *recorder) error {
	res := c.Response()
	status, body := rec.status, rec.buf.Bytes()
	if status == 0 {
		status = http.StatusOK
	}
	if err := v.validateResponse(c.Request().Context(), op, in, status, res.Header(), body); err != nil {
		v.metrics.validationFailures.WithLabelValues("response").Inc()
		v.log.ErrorContext(c.Request().Context(), "response does not conform to openapi.yaml",
			"request_id", c.Get(ctxKeyRequestID), "operation", op.id, "status", status,
			"mode", string(v.mode), "error", err)
		if v.mode == Enforce {
			status = http.StatusInternalServerError
			body, _ = jsonBytes(envelope(status, msgInternal))
			res.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
			setFixedHeaders(res.Header(), op.fixed[status])
			c.Set(ctxKeyInternalError, fmt.Errorf("non-conforming response: %w", err))
		}
	}
	res.Status, res.Size = status, int64(len(body))
	res.Header().Del(echo.HeaderContentLength)
	res.Writer.WriteHeader(status)
	v.responded(op.id, status)
	if _, err := res.Writer.Write(body); err != nil {
		return fmt.Errorf("write response: %w", err)
	}
	return nil
}

func (v *validator) responded(opID string, status int) {
	if v.onResponse != nil {
		v.onResponse(opID, status)
	}
}

func (v *validator) validateResponse(ctx context.Context, op *operation, in *openapi3filter.RequestValidationInput, status int, h http.Header, body []byte) error {
	whole := v.memo.key(op.id, status, h.Get(echo.HeaderContentType), body)
	if v.memo.has(whole) {
		// The memo vouches for the status, content type and body it was keyed by; headers
		// differ from response to response, so they are checked every time.
		return v.validateHeaders(ctx, in, status, h)
	}
	// A page of stored conversations: each distinct conversation is validated once, then the
	// page around them in full.
	if jsonContent(h) && len(op.itemArrays[status]) > 0 {
		rest, split, err := v.validateItems(op, status, body)
		if err != nil {
			return err
		}
		if split {
			if err := v.validateWhole(ctx, op, in, status, h, rest); err != nil {
				return err
			}
			v.memo.add(whole)
			return nil
		}
	}
	if err := v.validateWhole(ctx, op, in, status, h, body); err != nil {
		return err
	}
	v.memo.add(whole)
	return nil
}

func (v *validator) validateWhole(ctx context.Context, _ *operation, in *openapi3filter.RequestValidationInput, status int, h http.Header, body []byte) error {
	return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 h,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &v.respOpts,
	})
}

// validateHeaders checks the status and the declared headers of a response, not its body.
func (v *validator) validateHeaders(ctx context.Context, in *openapi3filter.RequestValidationInput, status int, h http.Header) error {
	return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 h,
		Body:                   http.NoBody,
		Options:                &v.headerOpts,
	})
}

// recorder captures a response so that it can be validated before it leaves.
type recorder struct {
	w      http.ResponseWriter
	status int
	buf    bytes.Buffer
}

var recorders = sync.Pool{New: func() any { return new(recorder) }}

func newRecorder(w http.ResponseWriter) *recorder {
	r := recorders.Get().(*recorder)
	r.w, r.status = w, 0
	r.buf.Reset()
	return r
}

func (r *recorder) free() {
	r.w = nil
	if r.buf.Cap() <= 1<<20 { // keep huge pages out of the pool
		recorders.Put(r)
	}
}

// Header shares the real writer's header map: handlers set headers once, in one place.
func (r *recorder) Header() http.Header { return r.w.Header() }

// WriteHeader implements http.ResponseWriter.
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// Write implements http.ResponseWriter.
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.buf.Write(b)
}

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

// requestError turns a kin-openapi validation failure into a message a person can act on:
// which parameter or field, which rule; never the schema.
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
		return newAPIError(http.StatusBadRequest, "Invalid request body: %s", describeSchemaError(se))
	}
	return newAPIError(http.StatusBadRequest, "Invalid request body")
}

// ruleBroken says what a parameter value must be.
func ruleBroken(err error, schema *openapi3.SchemaRef) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return schemaRule(se)
	}
	if errors.Is(err, openapi3filter.ErrInvalidEmptyValue) {
		return "must not be empty"
	}
	if schema != nil && schema.Value != nil {
		if s := schema.Value; s.Type.Is(openapi3.TypeArray) && s.Items != nil {
			return "each value " + expected(s.Items.Value)
		}
		return expected(schema.Value)
	}
	return "invalid value"
}

// describeSchemaError names the field (dotted path) and the rule it breaks.
func describeSchemaError(se *openapi3.SchemaError) string {
	if se.SchemaField == "uniqueItems" {
		if msg, ok := describeDuplicate(se); ok {
			return msg
		}
	}
	path := se.JSONPointer()
	if se.SchemaField == "required" && len(path) > 0 {
		path = path[:len(path)-1] // the reason already names the missing property
	}
	if len(path) == 0 {
		return schemaRule(se)
	}
	return strings.Join(path, ".") + ": " + schemaRule(se)
}

// duplicateMessage is the 400 for an array whose items j and i hold the same value.
func duplicateMessage(field string, i, j int, value string) string {
	return "Invalid request body: " + describeDuplicateAt(field, i, j, value)
}

func describeDuplicateAt(field string, i, j int, value string) string {
	return fmt.Sprintf("%s.%d repeats %s.%d: %s", field, j, field, i, value)
}

// describeDuplicate names the first item of a uniqueItems array that repeats an earlier one.
// Items of format uuid are compared by value, as the API compares ids.
func describeDuplicate(se *openapi3.SchemaError) (string, bool) {
	items, ok := se.Value.([]any)
	if !ok {
		return "", false
	}
	uuids := se.Schema != nil && se.Schema.Items != nil && se.Schema.Items.Value != nil && se.Schema.Items.Value.Format == "uuid"
	seen := make(map[string]int, len(items))
	for j, item := range items {
		key := fmt.Sprint(item)
		if s, isString := item.(string); isString && uuids {
			if id, err := openapi.ParseUUID(s); err == nil {
				key = id.String()
			}
		} else if b, err := json.Marshal(item); err == nil {
			key = string(b)
		}
		if i, dup := seen[key]; dup {
			return describeDuplicateAt(strings.Join(se.JSONPointer(), "."), i, j, key), true
		}
		seen[key] = j
	}
	return "", false
}

func schemaRule(se *openapi3.SchemaError) string {
	switch se.SchemaField {
	case "format", "type":
		if se.Schema != nil {
			return expected(se.Schema)
		}
	case "additionalProperties":
		return se.Reason
	}
	return se.Reason
}

// expected describes the values a schema accepts, in words.
func expected(s *openapi3.Schema) string {
	switch {
	case s.Format == "uuid":
		return "must be a UUID"
	case s.Type.Is(openapi3.TypeInteger):
		return "must be an integer"
	case s.Type.Is(openapi3.TypeNumber):
		return "must be a number"
	case s.Type.Is(openapi3.TypeBoolean):
		return "must be true or false"
	case s.Type.Is(openapi3.TypeArray):
		return "must be an array"
	case s.Type.Is(openapi3.TypeObject):
		return "must be an object"
	case len(s.Enum) > 0:
		return fmt.Sprintf("must be one of %v", s.Enum)
	case s.Type.Is(openapi3.TypeString):
		return "must be a string"
	}
	return "invalid value"
}
