package importer

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/fini-oss/conversations/openapi"
)

// The schema compiled for the fast path (fastpath.go): a tree of nodes that say what a value
// may be, built only from keywords the fast path checks exactly as kin-openapi does.

// kind is the JSON type a schema node accepts.
type kind uint8

const (
	kindAny kind = iota // the empty schema: any value but null
	kindString
	kindInteger
	kindNumber
	kindBoolean
	kindObject
	kindArray
)

// field names a value that the fast path reads out for the row's columns.
type field uint8

const (
	fieldNone field = iota
	fieldID
	fieldSource
	fieldChannel
	fieldCreatedAt
	fieldEventCreatedAt
	fieldBotID
)

// node is a schema compiled for the fast path. A nil *node accepts any value, null too, as
// kin-openapi does for an object member or an array item that has no schema.
type node struct {
	kind     kind
	nullable bool
	enum     []string           // the allowed strings, if the schema lists them
	format   func(string) error // the spec's check of a string format, if any
	lower    bool               // a uuid: upper case is valid but stored re-encoded, so not here
	props    []prop
	required uint64 // bit i set: props[i] is required
	open     bool   // members other than props are allowed, unchecked
	items    *node
	field    field
}

// prop is one named member of an object node.
type prop struct {
	name string
	node *node
}

// maxProps bounds an object node's properties, so that a bit mask can say which were seen.
const maxProps = 64

// compile turns the schema into a node, or fails if the schema uses anything the fast path
// does not check exactly as kin-openapi does; then every line takes the general path.
func compile(s *openapi3.Schema, depth int) (*node, error) {
	if depth > 16 {
		return nil, errors.New("schema nested too deep (recursive?)")
	}
	// Every keyword not handled below must be absent: annotations are cleared, and what is
	// left must be the zero schema.
	rest := *s
	rest.Extensions, rest.Origin, rest.Title, rest.Description = nil, nil, "", ""
	rest.Example, rest.Examples, rest.ExternalDocs, rest.Deprecated = nil, nil, nil, false
	rest.Type, rest.Nullable, rest.Format, rest.Enum = nil, false, "", nil
	rest.Properties, rest.Required, rest.AdditionalProperties, rest.Items = nil, nil, openapi3.AdditionalProperties{}, nil
	if !reflect.DeepEqual(rest, openapi3.Schema{}) {
		return nil, errors.New("schema uses a keyword the fast path does not check")
	}
	n := &node{nullable: s.Nullable}
	if s.Type == nil {
		if s.Nullable || s.Format != "" || len(s.Enum) > 0 || s.Properties != nil || s.Required != nil || s.Items != nil ||
			s.AdditionalProperties.Has != nil || s.AdditionalProperties.Schema != nil {
			return nil, errors.New("constraints without a type")
		}
		return n, nil // kindAny
	}
	if len(*s.Type) != 1 {
		return nil, fmt.Errorf("type %v", *s.Type)
	}
	t := (*s.Type)[0]
	k, ok := kinds[t]
	if !ok {
		return nil, fmt.Errorf("type %q", t)
	}
	n.kind = k
	if err := compileFormat(n, s.Format); err != nil {
		return nil, err
	}
	for _, v := range s.Enum {
		str, ok := v.(string)
		if !ok || n.kind != kindString {
			return nil, fmt.Errorf("enum value %v", v)
		}
		n.enum = append(n.enum, str)
	}
	if (s.Properties != nil || s.Required != nil || s.AdditionalProperties.Has != nil || s.AdditionalProperties.Schema != nil) && n.kind != kindObject {
		return nil, errors.New("object keywords on another type")
	}
	if s.Items != nil && n.kind != kindArray {
		return nil, errors.New("items on another type")
	}
	if n.kind == kindObject {
		if err := compileObject(n, s, depth); err != nil {
			return nil, err
		}
	}
	if n.kind == kindArray && s.Items != nil {
		if s.Items.Value == nil {
			return nil, errors.New("unresolved items")
		}
		items, err := compile(s.Items.Value, depth+1)
		if err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		n.items = items
	}
	return n, nil
}

// kinds maps the schema types the fast path checks to their kinds.
var kinds = map[string]kind{
	openapi3.TypeString: kindString, openapi3.TypeInteger: kindInteger, openapi3.TypeNumber: kindNumber,
	openapi3.TypeBoolean: kindBoolean, openapi3.TypeObject: kindObject, openapi3.TypeArray: kindArray,
}

// compileFormat sets the node's check of its format: the spec's own for strings, none for
// the numeric formats whose range the fast path's numbers (15 digits at most) always meet.
// kin-openapi's global format tables are read here, once: a format defined there later would
// be seen by the general path alone (this program defines none).
func compileFormat(n *node, format string) error {
	if format == "" {
		return nil
	}
	switch n.kind {
	case kindString:
		check, ok := openapi.FormatCheckers[format]
		if !ok {
			return fmt.Errorf("string format %q", format)
		}
		n.format, n.lower = check, format == "uuid"
	case kindInteger:
		if format != "int64" {
			return fmt.Errorf("integer format %q", format)
		}
	case kindNumber:
		if _, defined := openapi3.SchemaNumberFormats[format]; defined || (format != "double" && format != "float") {
			return fmt.Errorf("number format %q", format)
		}
	default:
		return fmt.Errorf("format %q on another type", format)
	}
	return nil
}

// compileObject compiles an object's properties, required members and openness.
func compileObject(n *node, s *openapi3.Schema, depth int) error {
	if len(s.Properties) > maxProps {
		return fmt.Errorf("%d properties", len(s.Properties))
	}
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		ref := s.Properties[name]
		if ref == nil || ref.Value == nil {
			return fmt.Errorf("%s: unresolved", name)
		}
		child, err := compile(ref.Value, depth+1)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		n.props = append(n.props, prop{name: name, node: child})
	}
	for _, name := range s.Required {
		i := n.prop(name)
		if i < 0 {
			return fmt.Errorf("required %q is not a property", name)
		}
		n.required |= 1 << i
	}
	switch ap := s.AdditionalProperties; {
	case ap.Schema != nil:
		return errors.New("additionalProperties with a schema")
	case ap.Has == nil || *ap.Has:
		n.open = true
	}
	return nil
}

// prop returns the index of the property named name, or -1.
func (n *node) prop(name string) int { return propIndex(n.props, name) }

// propIndex returns the index of the property named name, or -1; for a name in bytes, it
// does not allocate.
func propIndex[Name string | []byte](props []prop, name Name) int {
	for i := range props {
		if props[i].name == string(name) {
			return i
		}
	}
	return -1
}

// child returns the node of the property at path (names, then "[]" for an array's items).
func (n *node) child(path ...string) *node {
	for _, name := range path {
		if n == nil {
			return nil
		}
		if name == "[]" {
			n = n.items
			continue
		}
		i := n.prop(name)
		if i < 0 {
			return nil
		}
		n = n.props[i].node
	}
	return n
}

// compileLine compiles the schema of a conversation line: the PublicConversation schema
// plus the importer's botId, with the fields the row's columns are read from marked.
func compileLine(conversation *openapi3.Schema) (*node, error) {
	root, err := compile(conversation, 0)
	if err != nil {
		return nil, err
	}
	if root.kind != kindObject || root.prop("botId") >= 0 || len(root.props) == maxProps {
		return nil, errors.New("a conversation is not an object with room for a botId")
	}
	root.props = append(root.props, prop{name: "botId", node: &node{kind: kindString, nullable: true,
		format: openapi.FormatCheckers["uuid"], field: fieldBotID}})
	marks := []struct {
		path  []string
		kind  kind
		field field
	}{
		{[]string{"id"}, kindString, fieldID},
		{[]string{"source"}, kindString, fieldSource},
		{[]string{"channel"}, kindString, fieldChannel},
		{[]string{"createdAt"}, kindInteger, fieldCreatedAt},
		{[]string{"events", "[]", "createdAt"}, kindInteger, fieldEventCreatedAt},
	}
	for _, m := range marks {
		n := root.child(m.path...)
		if n == nil || n.kind != m.kind {
			return nil, fmt.Errorf("a conversation has no %v of the expected type", m.path)
		}
		n.field = m.field
	}
	if root.child("id").nullable || root.child("source").nullable || root.child("createdAt").nullable ||
		root.child("events", "[]", "createdAt").nullable {
		return nil, errors.New("a column that cannot be null is nullable")
	}
	return root, nil
}
