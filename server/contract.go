package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"

	"github.com/fini-oss/conversations/openapi"
)

// operation is everything the server needs about one operation of the spec, prepared once at
// start-up so that a request never searches the document.
type operation struct {
	id    string // operationId, as in the spec
	route *routers.Route
	// params are the path item's and the operation's parameters, the latter overriding,
	// that kin-openapi validates; pathChecks are the path parameters compiled to a check.
	params     []*openapi3.Parameter
	pathChecks []pathCheck
	// query are the names of the query parameters the spec declares, in its order; any
	// other is refused. single marks those that take one value: a repeated one is refused.
	query  []string
	single map[string]bool
	body   *openapi3.RequestBody
	// secured is true when the operation requires a bearer key; scopes are all required.
	secured bool
	scopes  []string
	// maxBody is the request body limit in bytes (x-max-body-bytes), or 0 for the default.
	maxBody int64
	// itemArrays are, by status, the response arrays whose items validate one by one.
	itemArrays map[int][]itemArray
	// fixed are, by status, the response headers whose value the spec fixes; declaredHeaders
	// the canonical names of all the headers each status declares.
	fixed           map[int][]fixedHeader
	declaredHeaders map[int][]string
}

// listRules are the List operation's rules that the spec states and the handler applies.
type listRules struct {
	defaultWindow, maxWindow time.Duration
	defaultLimit             int
	maxFilterValues          int
}

// contract is the spec, prepared.
type contract struct {
	ops  map[string]*operation // by operationId
	list listRules
	// common are the fixed headers of every response, sent outside the operations too.
	common []fixedHeader
}

func loadContract() (*contract, error) {
	doc, err := openapi.Load()
	if err != nil {
		return nil, err
	}
	c := &contract{ops: map[string]*operation{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			o, err := prepareOperation(doc, path, item, method, op)
			if err != nil {
				return nil, fmt.Errorf("openapi.yaml: %s %s: %w", method, path, err)
			}
			c.ops[o.id] = o
		}
	}
	c.common = commonFixedHeaders(c.ops)
	if c.list, err = prepareListRules(c.ops["listConversations"]); err != nil {
		return nil, fmt.Errorf("openapi.yaml: listConversations: %w", err)
	}
	return c, nil
}

func prepareOperation(doc *openapi3.T, path string, item *openapi3.PathItem, method string, op *openapi3.Operation) (*operation, error) {
	if op.OperationID == "" {
		return nil, fmt.Errorf("no operationId")
	}
	o := &operation{
		id:     op.OperationID,
		route:  &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op},
		single: map[string]bool{},
	}
	for _, p := range item.Parameters {
		if op.Parameters.GetByInAndName(p.Value.In, p.Value.Name) == nil {
			o.params = append(o.params, p.Value)
		}
	}
	for _, p := range op.Parameters {
		o.params = append(o.params, p.Value)
	}
	var viaKin []*openapi3.Parameter
	for _, p := range o.params {
		if p.In == openapi3.ParameterInQuery {
			o.query = append(o.query, p.Name)
			if p.Schema == nil || !p.Schema.Value.Type.Is(openapi3.TypeArray) {
				o.single[p.Name] = true
			}
		}
		if check, ok := compilePathParam(p); ok {
			o.pathChecks = append(o.pathChecks, check)
			continue
		}
		viaKin = append(viaKin, p)
	}
	o.params = viaKin
	if op.RequestBody != nil {
		o.body = op.RequestBody.Value
	}

	security := doc.Security
	if op.Security != nil {
		security = *op.Security
	}
	for _, req := range security {
		for name := range req {
			scheme := doc.Components.SecuritySchemes[name]
			if scheme == nil || scheme.Value.Type != "http" || !strings.EqualFold(scheme.Value.Scheme, "bearer") {
				return nil, fmt.Errorf("security scheme %q: only http bearer is supported", name)
			}
			o.secured = true
		}
	}
	if _, err := openapi.Extension(op, "x-required-scopes", &o.scopes); err != nil {
		return nil, err
	}
	if o.secured && len(o.scopes) == 0 {
		return nil, fmt.Errorf("secured but no x-required-scopes")
	}
	if _, err := openapi.Extension(op, "x-max-body-bytes", &o.maxBody); err != nil {
		return nil, err
	}
	o.itemArrays = itemArrays(op)
	o.fixed = fixedHeadersByStatus(op)
	o.declaredHeaders = declaredHeadersByStatus(op)
	if method == http.MethodGet && o.body != nil {
		return nil, fmt.Errorf("GET with a request body")
	}
	return o, nil
}

// bodyLimit is the most bytes of request body the operation reads.
func (o *operation) bodyLimit() int64 {
	if o.maxBody > 0 {
		return o.maxBody
	}
	return DefaultMaxBodyBytes
}

func prepareListRules(op *operation) (listRules, error) {
	var r listRules
	if op == nil {
		return r, fmt.Errorf("missing")
	}
	var days float64
	if err := requiredExtension(op, "x-default-window-days", &days); err != nil {
		return r, err
	}
	r.defaultWindow = time.Duration(days * float64(24*time.Hour))
	if err := requiredExtension(op, "x-max-window-days", &days); err != nil {
		return r, err
	}
	r.maxWindow = time.Duration(days * float64(24*time.Hour))
	params := op.route.Operation.Parameters
	limit := params.GetByInAndName(openapi3.ParameterInQuery, "limit")
	if limit == nil || limit.Schema.Value.Default == nil {
		return r, fmt.Errorf("limit has no default")
	}
	d, ok := limit.Schema.Value.Default.(float64)
	if !ok || d != math.Trunc(d) {
		return r, fmt.Errorf("limit default %v is not an integer", limit.Schema.Value.Default)
	}
	r.defaultLimit = int(d)
	source := params.GetByInAndName(openapi3.ParameterInQuery, "source")
	if source == nil {
		return r, fmt.Errorf("no source parameter")
	}
	n, err := openapi.MaxItems(source.Schema)
	if err != nil {
		return r, fmt.Errorf("source: %w", err)
	}
	r.maxFilterValues = n
	return r, nil
}

func requiredExtension(op *operation, name string, v any) error {
	found, err := openapi.Extension(op.route.Operation, name, v)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%s is missing", name)
	}
	return nil
}

// pathCheck is a path parameter whose schema is exactly {type: string, format: F}: checking
// it is calling F's checker, the very function kin-openapi would call after decoding.
type pathCheck struct {
	name  string
	check func(string) error
}

func compilePathParam(p *openapi3.Parameter) (pathCheck, bool) {
	if p.In != openapi3.ParameterInPath || p.Schema == nil || p.Schema.Value == nil || p.Content != nil {
		return pathCheck{}, false
	}
	s := p.Schema.Value
	check, known := openapi.FormatCheckers[s.Format]
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
