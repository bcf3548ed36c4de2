package contract

import (
	"hash/maphash"
	"net/http"
	"sync"
)

// memo remembers which response bodies, and which items of pages, passed validation: the
// same bytes against the same schema validate the same way, so they need not be decoded and
// walked again. Keys are 128-bit hashes (two independently seeded maphashes) of the
// operation, status, kind (a whole body, with its content type as part, or an item of a
// page, with its array's name) and bytes. Bounded: when full it starts afresh, so hostile
// traffic cannot grow it; a miss only costs a full validation.
type memo struct {
	seeds [2]maphash.Seed
	mu    sync.RWMutex
	m     map[[2]uint64]struct{}
}

// memoMaxEntries bounds the memo to a few MiB.
const memoMaxEntries = 1 << 16

func newMemo() *memo {
	return &memo{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, m: map[[2]uint64]struct{}{}}
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
func (m *memo) key(op string, status int, kind byte, part string, body []byte) [2]uint64 {
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
func (m *memo) headersKey(op string, status int, names []string, hdr http.Header) [2]uint64 {
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

func (m *memo) has(k [2]uint64) bool {
	m.mu.RLock()
	_, ok := m.m[k]
	m.mu.RUnlock()
	return ok
}

func (m *memo) add(k [2]uint64) {
	m.mu.Lock()
	if len(m.m) >= memoMaxEntries {
		clear(m.m)
	}
	m.m[k] = struct{}{}
	m.mu.Unlock()
}
