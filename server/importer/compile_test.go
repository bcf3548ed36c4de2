package importer

import (
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestCompileRefusesWhatItDoesNotCheck: a schema keyword the fast path does not check
// exactly as kin-openapi does makes the compilation fail, so that a change to the spec can
// slow imports down but never let a line through that the general path would refuse.
func TestCompileRefusesWhatItDoesNotCheck(t *testing.T) {
	str := func(s *openapi3.Schema) *openapi3.Schema { s.Type = &openapi3.Types{"string"}; return s }
	three := uint64(3)
	tests := []struct {
		name   string
		schema *openapi3.Schema
		want   string // in the error; "" for a schema that compiles
	}{
		{"a plain string", str(&openapi3.Schema{Description: "d", Title: "t", Example: "x"}), ""},
		{"a uuid", str(&openapi3.Schema{Format: "uuid"}), ""},
		{"minLength", str(&openapi3.Schema{MinLength: 1}), "keyword"},
		{"maxLength", str(&openapi3.Schema{MaxLength: &three}), "keyword"},
		{"pattern", str(&openapi3.Schema{Pattern: "^a"}), "keyword"},
		{"a default", str(&openapi3.Schema{Default: "a"}), "keyword"},
		{"readOnly", str(&openapi3.Schema{ReadOnly: true}), "keyword"},
		{"oneOf", &openapi3.Schema{OneOf: openapi3.SchemaRefs{openapi3.NewSchemaRef("", openapi3.NewStringSchema())}}, "keyword"},
		{"a date", str(&openapi3.Schema{Format: "date"}), "string format"},
		{"int32", &openapi3.Schema{Type: &openapi3.Types{"integer"}, Format: "int32"}, "integer format"},
		{"minimum", &openapi3.Schema{Type: &openapi3.Types{"integer"}, Min: new(float64)}, "keyword"},
		{"two types", &openapi3.Schema{Type: &openapi3.Types{"string", "null"}}, "type"},
		{"a numeric enum", &openapi3.Schema{Type: &openapi3.Types{"integer"}, Enum: []any{1.0}}, "enum"},
		{"additionalProperties with a schema", &openapi3.Schema{Type: &openapi3.Types{"object"},
			AdditionalProperties: openapi3.AdditionalProperties{Schema: openapi3.NewSchemaRef("", openapi3.NewStringSchema())}}, "additionalProperties"},
		{"a nested keyword", &openapi3.Schema{Type: &openapi3.Types{"array"},
			Items: openapi3.NewSchemaRef("", str(&openapi3.Schema{MinLength: 2}))}, "items: schema uses a keyword"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compile(tt.schema, 0)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("compile = %v, want an error with %q", err, tt.want)
			}
		})
	}
}
