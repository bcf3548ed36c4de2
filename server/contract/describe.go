package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
)

// DescribeSchemaError says, for a person, which field (a dotted path such as
// `events.0.role`) breaks which rule of the schema. It never quotes the schema, nor the value
// but for a duplicate item, which it names.
func DescribeSchemaError(se *openapi3.SchemaError) string {
	if se.SchemaField == "uniqueItems" {
		if msg, ok := describeDuplicate(se); ok {
			return msg
		}
	}
	path := se.JSONPointer()
	if se.SchemaField == "required" && len(path) > 0 {
		path = path[:len(path)-1] // the reason already names the missing property
	}
	if len(path) == 0 {
		return SchemaRule(se)
	}
	return strings.Join(path, ".") + ": " + SchemaRule(se)
}

// DescribeSchemaErrors describes the first few schema errors in err (one, or a
// kin-openapi MultiError) and says how many more there are.
func DescribeSchemaErrors(err error) error {
	var errs []error
	var me openapi3.MultiError
	if errors.As(err, &me) {
		errs = me
	} else {
		errs = []error{err}
	}
	var b strings.Builder
	for i, e := range errs {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(errs)-3)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		var se *openapi3.SchemaError
		if errors.As(e, &se) {
			b.WriteString(DescribeSchemaError(se))
			continue
		}
		b.WriteString(e.Error())
	}
	return errors.New(b.String())
}

// DescribeDuplicate says that item j of the array field repeats item i, with its value.
func DescribeDuplicate(field string, i, j int, value string) string {
	return fmt.Sprintf("%s.%d repeats %s.%d: %s", field, j, field, i, value)
}

// describeDuplicate names the first item of a uniqueItems array that repeats an earlier one.
// Items of format uuid are compared by value (any letter case), as ids are.
func describeDuplicate(se *openapi3.SchemaError) (string, bool) {
	items, ok := se.Value.([]any)
	if !ok {
		return "", false
	}
	uuids := se.Schema != nil && se.Schema.Items != nil && se.Schema.Items.Value != nil && se.Schema.Items.Value.Format == "uuid"
	seen := make(map[string]int, len(items))
	for j, item := range items {
		var key string
		if s, isString := item.(string); isString && uuids {
			key = s
			if id, err := uuid.Parse(s); err == nil && len(s) == 36 {
				key = id.String()
			}
		} else if b, err := json.Marshal(item); err == nil {
			key = string(b)
		}
		if i, dup := seen[key]; dup {
			return DescribeDuplicate(strings.Join(se.JSONPointer(), "."), i, j, key), true
		}
		seen[key] = j
	}
	return "", false
}

// SchemaRule says what rule se broke: the format check's own message for a wrong format, the
// kind of value expected for a wrong type, else kin-openapi's own reason (which names the
// rule, an enum's values or a pattern, and never quotes the value).
func SchemaRule(se *openapi3.SchemaError) string {
	if se.SchemaField == "format" && se.Origin != nil {
		if check := errors.Unwrap(se.Origin); check != nil {
			return check.Error()
		}
	}
	if (se.SchemaField == "format" || se.SchemaField == "type") && se.Schema != nil {
		return Expected(se.Schema)
	}
	return se.Reason
}

// valueFree words se as DescribeSchemaError does, but never with anything of the value: a
// duplicate item and an unsupported member are not named, a wrong format or type says only
// what was expected. It words what a response breaks, for logs, where a response's values
// (a customer's data) must not go.
func valueFree(se *openapi3.SchemaError) string {
	var rule string
	switch se.SchemaField {
	case "uniqueItems":
		rule = "holds an item twice"
	case "additionalProperties":
		rule = "has a property the schema does not allow"
	case "properties":
		rule = se.Reason
		if strings.HasSuffix(rule, "is unsupported") { // kin-openapi's reason names the property
			rule = "has a property the schema does not allow"
		}
	case "format", "type":
		rule = "invalid value"
		if se.Schema != nil {
			rule = Expected(se.Schema)
		}
	default:
		rule = se.Reason
	}
	path := se.JSONPointer()
	if se.SchemaField == "required" && len(path) > 0 {
		path = path[:len(path)-1] // the reason names the missing property, of the schema
	}
	if len(path) == 0 {
		return rule
	}
	return strings.Join(path, ".") + ": " + rule
}

// Expected describes the values a schema accepts, in words.
func Expected(s *openapi3.Schema) string {
	switch {
	case s.Format == "uuid":
		return "must be a UUID"
	case s.Format == "uri":
		return "must be an absolute URI"
	case s.Type.Is(openapi3.TypeInteger):
		return "must be an integer"
	case s.Type.Is(openapi3.TypeNumber):
		return "must be a number"
	case s.Type.Is(openapi3.TypeBoolean):
		return "must be true or false"
	case s.Type.Is(openapi3.TypeArray):
		return "must be an array"
	case s.Type.Is(openapi3.TypeObject):
		return "must be an object"
	case len(s.Enum) > 0:
		return fmt.Sprintf("must be one of %v", s.Enum)
	case s.Format != "" && s.Type.Is(openapi3.TypeString):
		return "must be a string of format " + s.Format
	case s.Type.Is(openapi3.TypeString):
		return "must be a string"
	}
	return "invalid value"
}
