package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/fini-oss/conversations/openapi"
	"github.com/fini-oss/conversations/server/importer"
	"github.com/fini-oss/conversations/server/servertest"
)

// schemaGen builds JSON values from a schema of the spec, so that a field added to the spec is
// covered without touching the test.
type schemaGen struct {
	nullable [][]string // paths of nullable fields, arrays entered at index 0
	arrays   [][]string // paths of arrays
	strings  [][]string // paths of plain strings (no format, no enum)
	numbers  [][]string // paths of `number` fields
	freeForm [][]string // paths of free-form objects
}

// full returns a value with every property set, recording the paths worth varying.
func (g *schemaGen) full(s *openapi3.Schema, path []string) any {
	p := slices.Clone(path)
	if s.Nullable {
		g.nullable = append(g.nullable, p)
	}
	switch {
	case len(s.Enum) > 0:
		return s.Enum[len(s.Enum)-1]
	case s.Type.Is(openapi3.TypeObject) && len(s.Properties) == 0:
		g.freeForm = append(g.freeForm, p)
		return map[string]any{"plan": "pro", "nested": map[string]any{"n": 1}}
	case s.Type.Is(openapi3.TypeObject):
		obj := map[string]any{}
		for name, prop := range s.Properties {
			obj[name] = g.full(prop.Value, append(p, name))
		}
		return obj
	case s.Type.Is(openapi3.TypeArray):
		g.arrays = append(g.arrays, p)
		return []any{g.full(s.Items.Value, append(p, "0"))}
	case s.Type.Is(openapi3.TypeInteger):
		return json.Number("1764000000123")
	case s.Type.Is(openapi3.TypeNumber):
		g.numbers = append(g.numbers, p)
		return json.Number("4.5")
	case s.Type.Is(openapi3.TypeBoolean):
		return true
	case s.Format == "uuid":
		return uuid.NewString()
	case s.Format == "uri":
		return "https://app.usefini.com/conversations/x?y=1#z"
	default:
		g.strings = append(g.strings, p)
		return "Héllo wörld 👋🏽 你好 — \"quoted\" \\ </script>"
	}
}

// clone deep-copies a generated value, giving every uuid a fresh one so cases never collide.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = clone(e)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clone(e)
		}
		return out
	case string:
		if _, err := uuid.Parse(x); err == nil && len(x) == 36 {
			return uuid.NewString()
		}
	}
	return v
}

// set replaces the value at path in doc.
func set(doc any, path []string, v any) {
	for i, key := range path {
		last := i == len(path)-1
		switch x := doc.(type) {
		case map[string]any:
			if last {
				x[key] = v
				return
			}
			doc = x[key]
		case []any:
			n, _ := strconv.Atoi(key)
			if last {
				x[n] = v
				return
			}
			doc = x[n]
		}
	}
}

func get(doc any, path []string) any {
	for _, key := range path {
		switch x := doc.(type) {
		case map[string]any:
			doc = x[key]
		case []any:
			n, _ := strconv.Atoi(key)
			doc = x[n]
		}
	}
	return doc
}

type roundTripCase struct {
	name string
	doc  map[string]any
}

func roundTripCases(t *testing.T) []roundTripCase {
	t.Helper()
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	g := &schemaGen{}
	base := g.full(doc.Components.Schemas["PublicConversation"].Value, nil).(map[string]any)
	var cases []roundTripCase
	add := func(name string, mutate func(d map[string]any)) {
		d := clone(base).(map[string]any)
		mutate(d)
		cases = append(cases, roundTripCase{name, d})
	}
	add("every field set", func(map[string]any) {})
	for _, p := range g.nullable {
		add("null "+strings.Join(p, "."), func(d map[string]any) { set(d, p, nil) })
	}
	for _, p := range g.arrays {
		add("empty "+strings.Join(p, "."), func(d map[string]any) { set(d, p, []any{}) })
		add("long "+strings.Join(p, "."), func(d map[string]any) {
			item := get(d, append(slices.Clone(p), "0"))
			long := make([]any, 120)
			for i := range long {
				long[i] = clone(item)
			}
			set(d, p, long)
		})
	}
	for _, p := range g.numbers {
		for _, n := range []string{"0", "-1", "0.1", "1e-7", "1.7976931348623157e308", "5"} {
			add(strings.Join(p, ".")+"="+n, func(d map[string]any) { set(d, p, json.Number(n)) })
		}
	}
	for _, p := range g.strings {
		for name, s := range map[string]string{"empty": "", "emoji": "🧑‍🚀🏳️‍🌈", "long": strings.Repeat("ab\u00e9", 4000), "controls": "line\nbreak\ttab\u0001\u2028"} {
			add(strings.Join(p, ".")+" "+name, func(d map[string]any) { set(d, p, s) })
		}
	}
	nested := any("bottom")
	for range 60 {
		nested = map[string]any{"d": []any{nested}}
	}
	wide := map[string]any{}
	for i := range 2000 {
		wide[fmt.Sprintf("key-%04d-ключ", i)] = i
	}
	for _, p := range g.freeForm {
		for name, v := range map[string]any{
			"empty": map[string]any{}, "deep": map[string]any{"root": nested}, "wide": wide,
			"numbers": map[string]any{"big": json.Number("123456789012345678901234567890"), "tiny": json.Number("1e-300"),
				"neg": json.Number("-0.5"), "max": json.Number(strconv.FormatInt(math.MaxInt64, 10))},
			"mixed": map[string]any{"😀": []any{nil, true, false, "", map[string]any{}}, "": "empty key"},
		} {
			add(strings.Join(p, ".")+" "+name, func(d map[string]any) { set(d, p, v) })
		}
	}
	if len(g.nullable) < 10 || len(g.freeForm) < 3 {
		t.Fatalf("generator found %d nullable fields and %d free-form objects: the schema walk is broken", len(g.nullable), len(g.freeForm))
	}
	return cases
}

// normalize makes two decodings of the same JSON value comparable: numbers by value.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return string(x)
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		return string(x) // beyond float64: kept as text only in free-form fields
	}
	return v
}

func decodeNumbers(t *testing.T, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %.100s: %v", b, err)
	}
	return normalize(v)
}

func TestRoundTrip(t *testing.T) {
	for _, engine := range []servertest.Engine{servertest.SQLite, servertest.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			se := servertest.New(t, servertest.Options{Engine: engine, Conversations: 1, OtherConversations: 1, OnResponse: record})
			ctx, s, ws := context.Background(), se.Store, se.Seeded.WorkspaceID
			key := se.Key(t, "read")
			cases := roundTripCases(t)
			var lines bytes.Buffer
			for _, c := range cases {
				b, err := json.Marshal(c.doc)
				if err != nil {
					t.Fatal(err)
				}
				lines.Write(b)
				lines.WriteByte('\n')
			}
			im, err := importer.New()
			if err != nil {
				t.Fatal(err)
			}
			if n, err := im.Import(ctx, s, ws, &lines); err != nil || n != len(cases) {
				t.Fatalf("import %d cases: %d, %v", len(cases), n, err)
			}
			e := &env{t: t, url: se.URL}
			for _, c := range cases {
				r := e.do("GET", convPath(c.doc["id"]), key, "")
				if r.status != 200 {
					t.Fatalf("%s: get = %d %s", c.name, r.status, r.body)
				}
				sent, _ := json.Marshal(c.doc)
				if got, want := decodeNumbers(t, []byte(r.body)), decodeNumbers(t, sent); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: get returned a different object\n got %.300s\nwant %.300s", c.name, r.body, sent)
				}
			}
			t.Logf("%d cases round-tripped on %s", len(cases), engine)
		})
	}
}
