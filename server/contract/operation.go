package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
)

// AuthorizeFunc checks one request against its operation's declared security, in the
// context of the step (Hooks.Step). It returns nil to let the request on, or an error that
// RenderError renders (a 401 or 403 of the application, say). It may replace c's request,
// to put what it learnt (the caller) on its context.
type AuthorizeFunc func(ctx context.Context, c echo.Context) error

// Operation is one operation of the spec, prepared once at New so that a request never
// searches the document.
type Operation struct {
	id     string // operationId
	method string
	path   string // as the spec writes it, /items/{id}
	route  *routers.Route
	// params are the path item's and the operation's parameters (the latter overriding)
	// that kin-openapi validates; pathChecks are the path parameters compiled to a check.
	params     []*openapi3.Parameter
	pathChecks []pathCheck
	// kinPathParams is true when some of params are in the path: only then does kin-openapi
	// need the request's path parameters.
	kinPathParams bool
	// query are the names of the query parameters the spec declares, in its order; any
	// other is refused. single are those that take one value: repeating one is refused.
	query  []string
	single []string
	body   *openapi3.RequestBody
	// maxBody is the request body limit in bytes: x-max-body-bytes, or the default.
	maxBody  int64
	security openapi3.SecurityRequirements
	// authorize checks the declared security; nil when the operation declares none.
	authorize AuthorizeFunc
	// statuses are the documented statuses; pages are the arrays of each JSON response
	// whose items validate one by one (pages.go); fixed and declared the response headers
	// of each status (headers.go).
	statuses []int
	pages    map[int][]itemArray
	fixed    map[int][]fixedHeader
	declared map[int][]string
}

// ID is the operation's operationId.
func (o *Operation) ID() string { return o.id }

// Method is the operation's HTTP method, in upper case.
func (o *Operation) Method() string { return o.method }

// Path is the operation's path as the spec writes it, parameters in braces.
func (o *Operation) Path() string { return o.path }

// Spec is the operation in the spec, for what the application reads of it (its own `x-`
// extensions, say). It must not be modified.
func (o *Operation) Spec() *openapi3.Operation { return o.route.Operation }

// Security is the security the operation requires: its own, or the spec's default. Each
// requirement is an alternative; all the schemes of one must be satisfied.
func (o *Operation) Security() openapi3.SecurityRequirements { return o.security }

// SecurityScheme returns the scheme that a security requirement names, from the spec's
// components; nil when there is none.
func (o *Operation) SecurityScheme(name string) *openapi3.SecurityScheme {
	if c := o.route.Spec.Components; c != nil {
		if ref := c.SecuritySchemes[name]; ref != nil {
			return ref.Value
		}
	}
	return nil
}

// Statuses are the statuses the operation documents, in ascending order ("default" aside).
func (o *Operation) Statuses() []int { return o.statuses }

// BodyLimit is the most bytes of request body the operation reads.
func (o *Operation) BodyLimit() int64 { return o.maxBody }

// prepareOperation prepares op; formats are Options.Formats, maxBody Options.MaxBodyBytes.
func prepareOperation(doc *openapi3.T, path string, item *openapi3.PathItem, method string, op *openapi3.Operation,
	formats map[string]func(string) error, maxBody int64) (*Operation, error) {
	if op.OperationID == "" {
		return nil, fmt.Errorf("no operationId")
	}
	o := &Operation{
		id:     op.OperationID,
		method: method,
		path:   path,
		route:  &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op},
	}
	var all []*openapi3.Parameter
	for _, p := range item.Parameters {
		if op.Parameters.GetByInAndName(p.Value.In, p.Value.Name) == nil {
			all = append(all, p.Value)
		}
	}
	for _, p := range op.Parameters {
		all = append(all, p.Value)
	}
	for _, p := range all {
		if p.In == openapi3.ParameterInQuery {
			o.query = append(o.query, p.Name)
			if p.Schema == nil || !p.Schema.Value.Type.Is(openapi3.TypeArray) {
				o.single = append(o.single, p.Name)
			}
		}
		if check, ok := compilePathParam(p, formats); ok {
			o.pathChecks = append(o.pathChecks, check)
			continue
		}
		o.params = append(o.params, p)
		o.kinPathParams = o.kinPathParams || p.In == openapi3.ParameterInPath
	}
	if op.RequestBody != nil {
		o.body = op.RequestBody.Value
		if method == http.MethodGet {
			return nil, fmt.Errorf("GET with a request body")
		}
	}
	o.maxBody = maxBody
	if raw, ok := op.Extensions["x-max-body-bytes"]; ok {
		if b, err := json.Marshal(raw); err != nil || json.Unmarshal(b, &o.maxBody) != nil || o.maxBody < 1 {
			return nil, fmt.Errorf("x-max-body-bytes %v: want a whole number of bytes, at least 1", raw)
		}
	}
	o.security = doc.Security
	if op.Security != nil {
		o.security = *op.Security
	}
	for code := range op.Responses.Map() {
		if status, err := strconv.Atoi(code); err == nil {
			o.statuses = append(o.statuses, status)
		}
	}
	slices.Sort(o.statuses)
	o.pages = itemArrays(op)
	o.fixed = fixedHeadersByStatus(op)
	o.declared = declaredHeadersByStatus(op)
	return o, nil
}

// secured reports whether a request must satisfy some security requirement: an empty
// requirement ({}) among the alternatives makes security optional, and none is checked.
func (o *Operation) secured() bool {
	if len(o.security) == 0 {
		return false
	}
	return !slices.ContainsFunc(o.security, func(r openapi3.SecurityRequirement) bool { return len(r) == 0 })
}

// echoPath is the operation's path as Echo routes it: /items/:id.
func (o *Operation) echoPath() string {
	var b strings.Builder
	rest := o.path
	for {
		open := strings.IndexByte(rest, '{')
		end := strings.IndexByte(rest, '}')
		if open < 0 || end < open {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:open])
		b.WriteString(":" + rest[open+1:end])
		rest = rest[end+1:]
	}
}

// pathCheck is a path parameter whose schema is exactly {type: string, format: F} with F a
// format of Options.Formats: checking it is calling F's check, the very function kin-openapi
// would call after decoding.
type pathCheck struct {
	name  string
	check func(string) error
}

func compilePathParam(p *openapi3.Parameter, formats map[string]func(string) error) (pathCheck, bool) {
	if p.In != openapi3.ParameterInPath || p.Schema == nil || p.Schema.Value == nil || p.Content != nil {
		return pathCheck{}, false
	}
	s := p.Schema.Value
	check, known := formats[s.Format]
	if !known || !s.Type.Is(openapi3.TypeString) {
		return pathCheck{}, false
	}
	// Any other keyword (pattern, enum, lengths, nullable...) leaves the parameter to kin.
	got, err := json.Marshal(s)
	want, _ := json.Marshal(map[string]string{"type": "string", "format": s.Format})
	if err != nil || !bytes.Equal(got, want) {
		return pathCheck{}, false
	}
	return pathCheck{name: p.Name, check: check}, true
}

// refusals says which requests the engine refuses with which status, for New's error when
// an operation does not document one.
const refusals = "to a request that breaks the spec (400; every operation, for its query string), " +
	"a body too large or of another media type or coding (413, 415), headers over Options.MaxHeaderBytes (431)"

// undocumented returns the statuses the engine may answer for the operation that it does not
// document: such an answer would fail response validation and become a 500.
func (o *Operation) undocumented(maxHeaderBytes int) []int {
	need := []int{http.StatusBadRequest}
	if o.body != nil {
		need = append(need, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType)
	}
	if maxHeaderBytes > 0 {
		need = append(need, http.StatusRequestHeaderFieldsTooLarge)
	}
	var missing []int
	for _, status := range need {
		if !slices.Contains(o.statuses, status) {
			missing = append(missing, status)
		}
	}
	return missing
}
