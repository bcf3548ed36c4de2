package server

import (
	"strings"
	"testing"
)

func TestCutArray(t *testing.T) {
	tests := []struct {
		body, rest string
		items      []string
		ok         bool
	}{
		{`{"interactions":[],"hasMore":false}`, `{"interactions":[],"hasMore":false}`, nil, true},
		{`{"interactions":[{"a":"]}"},{"b":[{}]}],"x":1}`, `{"interactions":[],"x":1}`, []string{`{"a":"]}"}`, `{"b":[{}]}`}, true},
		{`{"interactions":[{"a":"\"}"}],"x":1}`, `{"interactions":[],"x":1}`, []string{`{"a":"\"}"}`}, true},
		{`{"interactions":[{} {}]}`, "", nil, false},    // no comma
		{`{"interactions":[1,2]}`, "", nil, false},      // not objects
		{`{"interactions":[{"a":1}`, "", nil, false},    // never closes
		{`{"x":1,"interactions":[{}]}`, "", nil, false}, // not the first key
		{`["interactions":[{}]]`, "", nil, false},
		{`{"interactions":{}}`, "", nil, false},
	}
	for _, tt := range tests {
		rest, items, ok := cutArray([]byte(tt.body), "interactions")
		if ok != tt.ok {
			t.Errorf("%s: ok = %v", tt.body, ok)
			continue
		}
		if !ok {
			continue
		}
		var got []string
		for _, it := range items {
			got = append(got, string(it))
		}
		if string(rest) != tt.rest || strings.Join(got, "|") != strings.Join(tt.items, "|") {
			t.Errorf("%s: rest %s items %v", tt.body, rest, got)
		}
	}
}
