package openapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fini-oss/conversations/openapi"
)

func TestStrictJSON(t *testing.T) {
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
			err := openapi.StrictJSON([]byte(tt.in))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.err {
				t.Errorf("StrictJSON(%.60s) = %q, want %q", tt.in, got, tt.err)
			}
		})
	}
}
