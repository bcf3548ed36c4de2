package contract

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// fixedHeader is a response header whose schema allows exactly one value (`enum: [v]`), such
// as `Cache-Control: no-store`. The engine sets it on every response that declares it, from
// the spec, so that no handler restates the value (oapi-codegen's typed responses leave it
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
// operation carries with the same value: the engine sends them on every other answer too
// (unknown routes, 405, the application's own endpoints), so that no answer lacks them.
// Each of fixed is one operation's fixed headers by status.
func commonFixedHeaders(fixed []map[int][]fixedHeader) []fixedHeader {
	var common []fixedHeader
	first := true
	for _, byStatus := range fixed {
		for _, hs := range byStatus {
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
