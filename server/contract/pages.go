package contract

import (
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/fini-oss/conversations/server/contract/jsonscan"
)

// itemArray is a top-level array property of a response object whose items are objects and
// which states no rule about the array as a whole (no length, uniqueness or nullability): a
// page of stored records, whose items can be validated one by one, each distinct one once.
type itemArray struct {
	name  string
	items *openapi3.Schema
}

// itemArrays finds the splittable arrays of each JSON response of op, by status.
func itemArrays(op *openapi3.Operation) map[int][]itemArray {
	out := map[int][]itemArray{}
	for code, ref := range op.Responses.Map() {
		status, err := strconv.Atoi(code)
		if err != nil || ref.Value == nil {
			continue
		}
		mt := ref.Value.Content.Get("application/json")
		if mt == nil || mt.Schema == nil || mt.Schema.Value == nil || !mt.Schema.Value.Type.Is(openapi3.TypeObject) {
			continue
		}
		for name, prop := range mt.Schema.Value.Properties {
			a := prop.Value
			if a == nil || !a.Type.Is(openapi3.TypeArray) || a.Nullable || a.Items == nil || a.Items.Value == nil ||
				!a.Items.Value.Type.Is(openapi3.TypeObject) || a.MinItems != 0 || a.MaxItems != nil || a.UniqueItems {
				continue
			}
			out[status] = append(out[status], itemArray{name: name, items: a.Items.Value})
		}
	}
	return out
}

// cutArray finds the top-level member name of the JSON object in body, which must be an
// array of objects, and returns body with the array replaced by [] and the items' bytes. It
// is strict: anything unexpected returns ok false, and the caller validates the whole body
// the ordinary way. Whatever the bytes, the items and rest together are body: when each
// item is a valid object and rest is valid JSON, body is too, so a malformed body can never
// pass for a valid one.
func cutArray(body []byte, name string) (rest []byte, items [][]byte, ok bool) {
	m, ok := jsonscan.FindMember(body, jsonscan.SkipSpace(body, 0), name)
	if !ok {
		return nil, nil, false
	}
	arr, ok := jsonscan.Open(body, m.Value)
	if !ok || body[m.Value] != '[' {
		return nil, nil, false
	}
	for {
		item, ok := arr.Next()
		if !ok {
			break
		}
		if body[item.Value] != '{' {
			return nil, nil, false
		}
		items = append(items, body[item.Value:item.End])
	}
	end, ok := arr.End()
	if !ok {
		return nil, nil, false
	}
	if len(items) == 0 {
		return body, nil, true
	}
	rest = make([]byte, 0, len(body)-(end-m.Value)+2)
	rest = append(rest, body[:m.Value]...)
	rest = append(rest, '[', ']')
	rest = append(rest, body[end:]...)
	return rest, items, true
}
