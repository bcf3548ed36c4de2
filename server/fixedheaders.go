package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// fixedHeader is a response header whose schema allows exactly one value (`enum: [v]`), such
// as `Cache-Control: no-store`. The server sets it on every response that declares it, from
// the spec, so that no handler restates the value (the generated typed responses leave it
// empty).
type fixedHeader struct {
	name string
	// values is the header's one value, shared by every response that sends it: nothing
	// writes into a response's header values once set, and sharing spares a slice a header.
	values []string
}

// declaredFixedHeaders returns the single-valued headers that resp declares, sorted by name.
func declaredFixedHeaders(resp *openapi3.Response) []fixedHeader {
	var out []fixedHeader
	for name, ref := range resp.Headers {
		if ref == nil || ref.Value == nil || ref.Value.Schema == nil || ref.Value.Schema.Value == nil {
			continue
		}
		s := ref.Value.Schema.Value
		if len(s.Enum) != 1 || !s.Type.Is(openapi3.TypeString) {
			continue
		}
		if v, ok := s.Enum[0].(string); ok {
			out = append(out, fixedHeader{http.CanonicalHeaderKey(name), []string{v}})
		}
	}
	slices.SortFunc(out, func(a, b fixedHeader) int { return strings.Compare(a.name, b.name) })
	return out
}

// fixedHeadersByStatus maps each documented status of op to its fixed headers.
func fixedHeadersByStatus(op *openapi3.Operation) map[int][]fixedHeader {
	out := map[int][]fixedHeader{}
	for code, ref := range op.Responses.Map() {
		status, err := strconv.Atoi(code)
		if err != nil || ref.Value == nil {
			continue
		}
		out[status] = declaredFixedHeaders(ref.Value)
	}
	return out
}

// declaredHeadersByStatus maps each documented status of op to the canonical names of the
// headers it declares, sorted.
func declaredHeadersByStatus(op *openapi3.Operation) map[int][]string {
	out := map[int][]string{}
	for code, ref := range op.Responses.Map() {
		status, err := strconv.Atoi(code)
		if err != nil || ref.Value == nil {
			continue
		}
		var names []string
		for name := range ref.Value.Headers {
			names = append(names, http.CanonicalHeaderKey(name))
		}
		slices.Sort(names)
		out[status] = names
	}
	return out
}

// commonFixedHeaders are the fixed headers that every documented response of every
// operation carries with the same value: the server sends them on everything else too
// (unknown routes, 405, 431, the operational endpoints), so that no answer lacks them.
func commonFixedHeaders(ops map[string]*operation) []fixedHeader {
	var common []fixedHeader
	first := true
	for _, op := range ops {
		for _, hs := range op.fixed {
			if first {
				common, first = slices.Clone(hs), false
				continue
			}
			common = slices.DeleteFunc(common, func(h fixedHeader) bool {
				return !slices.ContainsFunc(hs, func(o fixedHeader) bool { return o.name == h.name && o.values[0] == h.values[0] })
			})
		}
	}
	return common
}

func setFixedHeaders(h http.Header, hs []fixedHeader) {
	for _, f := range hs {
		h[f.name] = f.values
	}
}

// fixedHeadersFor returns the fixed headers of a response of the operation opID (empty
// outside the API) with the given status.
func (c *contract) fixedHeadersFor(opID string, status int) []fixedHeader {
	if op, ok := c.ops[opID]; ok {
		if hs, ok := op.fixed[status]; ok {
			return hs
		}
	}
	return c.common
}

// setFixedHeadersLater sets the spec's fixed headers on the response just before its header
// is written, whichever code path writes it and with whatever status.
func (c *contract) setFixedHeadersLater(ctx echo.Context) {
	res := ctx.Response()
	res.Before(func() {
		op, _ := ctx.Get(ctxKeyOperation).(string)
		setFixedHeaders(res.Header(), c.fixedHeadersFor(op, res.Status))
	})
}
