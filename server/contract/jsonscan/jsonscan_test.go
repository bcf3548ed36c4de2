package jsonscan_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/fini-oss/conversations/server/contract/jsonscan"
)

func TestStrict(t *testing.T) {
	many := func(dup bool) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range 40 {
			fmt.Fprintf(&b, `"k%d":%d,`, i, i)
		}
		if dup {
			b.WriteString(`"k7":0,`)
		}
		b.WriteString(`"end":1}`)
		return b.String()
	}
	tests := []struct {
		name, in, err string
	}{
		{"object", `{"ids":["a","b"],"x":{"y":[1,{"z":null}]}}`, ""},
		{"white space around", " \n{\"a\":1}\t ", ""},
		{"a scalar", `"a"`, ""},
		{"same name in two objects", `[{"a":1},{"a":2}]`, ""},
		{"a string holding braces and quotes", `{"a":"{\"a\":1,\"a\":2}","b":"]"}`, ""},
		{"many names", many(false), ""},
		{"trailing garbage", `{"ids":[]}xyz`, "not valid JSON, or more than one JSON value"},
		{"two values", `{"ids":[]}{"ids":[]}`, "not valid JSON, or more than one JSON value"},
		{"trailing braces", `{"ids":[]}}}}`, "not valid JSON, or more than one JSON value"},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", "not valid UTF-8"},
		{"duplicate name", `{"ids":["a"],"ids":["b"]}`, `member "ids" given twice in one object`},
		{"duplicate name, escaped", `{"ids":1,"\u0069ds":2}`, `member "ids" given twice in one object`},
		{"duplicate deep inside", `{"a":[{"b":{"c":1,"c":2}}]}`, `member "c" given twice in one object`},
		{"duplicate among many", many(true), `member "k7" given twice in one object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := jsonscan.Strict([]byte(tt.in))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.err {
				t.Errorf("Strict(%.60s) = %q, want %q", tt.in, got, tt.err)
			}
		})
	}
}

// members walks the container at the first non-space byte of s and returns its members as
// name=value (or value for an array's items), and whether it was well formed.
func members(s string) ([]string, bool) {
	b := []byte(s)
	c, ok := jsonscan.Open(b, jsonscan.SkipSpace(b, 0))
	if !ok {
		return nil, false
	}
	var out []string
	for {
		m, ok := c.Next()
		if !ok {
			break
		}
		if m.Name != nil {
			out = append(out, string(m.Name)+"="+s[m.Value:m.End])
		} else {
			out = append(out, s[m.Value:m.End])
		}
	}
	end, ok := c.End()
	if ok && strings.TrimSpace(s[end:]) != "" {
		return out, false
	}
	return out, ok
}

func TestContainer(t *testing.T) {
	tests := []struct {
		in   string
		want string // members joined by |
		ok   bool
	}{
		{`{}`, "", true},
		{`[]`, "", true},
		{` { "a" : 1 , "b":[1,{"c":"]}"}] } `, `"a"=1|"b"=[1,{"c":"]}"}]`, true},
		{`[{"a":"\"}"},2,"x",null]`, `{"a":"\"}"}|2|"x"|null`, true},
		{`{"a":1,}`, `"a"=1`, false},
		{`[1,]`, `1`, false},
		{`[1 2]`, `1`, false},
		{`{"a" 1}`, ``, false},
		{`{a:1}`, ``, false},
		{`{"a":1`, `"a"=1`, false},
		{`{"a":"never closes}`, ``, false},
		{`[{"a":[1,2}]`, ``, false},
		{`{"a":}`, ``, false},
		{`[`, ``, false},
	}
	for _, tt := range tests {
		got, ok := members(tt.in)
		if strings.Join(got, "|") != tt.want || ok != tt.ok {
			t.Errorf("%s: members %q ok %v, want %q ok %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFindMember(t *testing.T) {
	tests := []struct {
		in, name, value string
		ok              bool
	}{
		{`{"x":1,"botId":"a"}`, "botId", `"a"`, true},
		{`{"b\u006ftId":null}`, "botId", `null`, true},
		{`{"a":{"botId":1}}`, "botId", ``, false}, // only the top level
		{`{"bot\"Id":1}`, "botId", ``, false},
		{`["botId"]`, "botId", ``, false},
		{`{"x" 1,"botId":2}`, "botId", ``, false}, // malformed before it
	}
	for _, tt := range tests {
		m, ok := jsonscan.FindMember([]byte(tt.in), 0, tt.name)
		if ok != tt.ok || (ok && tt.in[m.Value:m.End] != tt.value) {
			t.Errorf("FindMember(%s, %s) = %+v %v", tt.in, tt.name, m, ok)
		}
	}
}

// FuzzContainer: on any bytes the scanner never panics nor reads out of bounds, and on a
// valid JSON object or array it finds exactly the members encoding/json finds.
func FuzzContainer(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"}"}],"c":null}`, `[1,"x",{}]`, `{"a":1,}`, `{"\u0061":"\\"}`, `[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := members(string(b))
		_ = jsonscan.Strict(b)
		if !json.Valid(b) {
			return
		}
		var obj map[string]json.RawMessage
		var arr []json.RawMessage
		switch {
		case json.Unmarshal(b, &obj) == nil:
			if !ok || (len(got) < len(obj)) {
				t.Fatalf("valid object %q: members %q ok %v", b, got, ok)
			}
		case json.Unmarshal(b, &arr) == nil:
			if !ok || len(got) != len(arr) {
				t.Fatalf("valid array %q: items %q ok %v, want %d", b, got, ok, len(arr))
			}
		}
	})
}
