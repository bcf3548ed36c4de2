package server

import (
	"bytes"
	"hash/maphash"
	"net/http"
	"strconv"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
)

// validatedMemo remembers which response bodies, and which items of list pages, passed
// validation: the same bytes against the same schema validate the same way, so they need
// not be decoded and walked again. Keys are 128-bit hashes (two independently seeded
// maphashes) of the operation, status, kind (a whole body, with its content type as part, or
// an item of a page, with its array's name) and bytes. Bounded: when full it starts afresh,
// so hostile traffic cannot grow it; a miss only costs a full validation.
type validatedMemo struct {
	seeds [2]maphash.Seed
	mu    sync.RWMutex
	m     map[[2]uint64]struct{}
}

// memoMaxEntries bounds the memo to a few MiB.
const memoMaxEntries = 1 << 16

func newValidatedMemo() *validatedMemo {
	return &validatedMemo{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, m: map[[2]uint64]struct{}{}}
}

// The kinds of memo entries.
const (
	memoBody    byte = 'b' // a whole body, with its content type
	memoItem    byte = 'i' // an item of a page's array, with the array's name
	memoHeaders byte = 'h' // the values of the headers a response declares
)

// start begins h, a maphash with seed, with the operation, status and kind.
func start(h *maphash.Hash, seed maphash.Seed, op string, status int, kind byte) {
	h.SetSeed(seed)
	h.WriteString(op)
	h.WriteByte(0)
	h.WriteByte(byte(status >> 8))
	h.WriteByte(byte(status))
	h.WriteByte(kind)
}

// key is the memo key of bytes (a body or an item) of kind, named by part.
func (m *validatedMemo) key(op string, status int, kind byte, part string, body []byte) [2]uint64 {
	var k [2]uint64
	for i, seed := range m.seeds {
		var h maphash.Hash
		start(&h, seed, op, status, kind)
		h.WriteString(part)
		h.WriteByte(0)
		h.Write(body)
		k[i] = h.Sum64()
	}
	return k
}

// headersKey is the memo key of the values that hdr holds for the declared header names
// (canonical), absent ones included: what kin-openapi's check of the headers reads.
func (m *validatedMemo) headersKey(op string, status int, names []string, hdr http.Header) [2]uint64 {
	var k [2]uint64
	for i, seed := range m.seeds {
		var h maphash.Hash
		start(&h, seed, op, status, memoHeaders)
		for _, name := range names {
			h.WriteString(name)
			for _, v := range hdr[name] {
				h.WriteByte(1)
				h.WriteString(v)
			}
			h.WriteByte(0)
		}
		k[i] = h.Sum64()
	}
	return k
}

func (m *validatedMemo) has(k [2]uint64) bool {
	m.mu.RLock()
	_, ok := m.m[k]
	m.mu.RUnlock()
	return ok
}

func (m *validatedMemo) add(k [2]uint64) {
	m.mu.Lock()
	if len(m.m) >= memoMaxEntries {
		clear(m.m)
	}
	m.m[k] = struct{}{}
	m.mu.Unlock()
}

// itemArray is a top-level array property of a response object whose items are objects and
// which states no rule about the array as a whole: its items can be validated one by one.
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

// cutArray finds the top-level property name of the JSON object in body, which must be an
// array of objects, and returns body with the array replaced by [] and the items' bytes.
// It is strict: anything unexpected returns ok false (and the whole body gets the ordinary,
// full validation), so a malformed body can never pass for a valid one.
func cutArray(body []byte, name string) (rest []byte, items [][]byte, ok bool) {
	key := []byte(`"` + name + `":`)
	start := bytes.Index(body, key)
	// The key must be a top-level key: the object's first key, right after "{".
	if start != 1 || len(body) == 0 || body[0] != '{' {
		return nil, nil, false
	}
	i := start + len(key)
	if i >= len(body) || body[i] != '[' {
		return nil, nil, false
	}
	open := i
	i++
	if i < len(body) && body[i] == ']' {
		return body, nil, true
	}
	for {
		if i >= len(body) || body[i] != '{' {
			return nil, nil, false
		}
		end, ok := skipValue(body, i)
		if !ok {
			return nil, nil, false
		}
		items = append(items, body[i:end])
		i = end
		if i >= len(body) {
			return nil, nil, false
		}
		if body[i] == ']' {
			break
		}
		if body[i] != ',' {
			return nil, nil, false
		}
		i++
	}
	rest = make([]byte, 0, len(body)-(i-open)+2)
	rest = append(rest, body[:open]...)
	rest = append(rest, '[', ']')
	rest = append(rest, body[i+1:]...)
	return rest, items, true
}

// skipValue returns the end of the object or array starting at body[i], tracking strings and
// escapes; ok is false when it never closes.
func skipValue(body []byte, i int) (int, bool) {
	depth := 0
	for ; i < len(body); i++ {
		switch body[i] {
		case '"':
			for i++; i < len(body) && body[i] != '"'; i++ {
				if body[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, true
			}
		}
	}
	return 0, false
}
