package openapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
)

// Load parses and validates Spec once and returns the shared document. Callers must not
// modify it.
var Load = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(Spec)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableSchemaFormatValidation()); err != nil {
		return nil, fmt.Errorf("validate openapi.yaml: %w", err)
	}
	return doc, nil
})

// FormatCheckers are the checks of the string formats the spec uses: `uuid` (canonical
// 8-4-4-4-12 hex, any version) and `uri` (absolute). The error says what the value must be.
var FormatCheckers = map[string]func(string) error{
	"uuid": func(s string) error {
		if len(s) != 36 {
			return errors.New("must be a UUID")
		}
		if _, err := uuid.Parse(s); err != nil {
			return errors.New("must be a UUID")
		}
		return nil
	},
	"uri": func(s string) error {
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() {
			return errors.New("must be an absolute URI")
		}
		return nil
	},
}

// ParseUUID parses s as the spec's `uuid` format accepts it (the canonical 36-character
// form), so that ids typed on a command line or in an import obey the API's rule.
func ParseUUID(s string) (uuid.UUID, error) {
	if err := FormatCheckers["uuid"](s); err != nil {
		return uuid.Nil, err
	}
	return uuid.Parse(s)
}

// Formats is the schema validation option that registers FormatCheckers with kin-openapi.
func Formats() openapi3.SchemaValidationOption {
	validators := make(map[string]openapi3.StringFormatValidator, len(FormatCheckers))
	for name, check := range FormatCheckers {
		validators[name] = openapi3.NewCallbackValidator(check)
	}
	return openapi3.WithStringFormatValidators(validators)
}

// Operation returns the operation with the given operationId, with its path and method.
func Operation(doc *openapi3.T, operationID string) (path, method string, op *openapi3.Operation, err error) {
	for p, item := range doc.Paths.Map() {
		for m, o := range item.Operations() {
			if o.OperationID == operationID {
				return p, m, o, nil
			}
		}
	}
	return "", "", nil, fmt.Errorf("openapi.yaml has no operation %q", operationID)
}

// Extension decodes the operation's `x-` extension name into v; found is false when absent.
func Extension(op *openapi3.Operation, name string, v any) (found bool, err error) {
	raw, ok := op.Extensions[name]
	if !ok {
		return false, nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return true, fmt.Errorf("%s of %s: %w", name, op.OperationID, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return true, fmt.Errorf("%s of %s: %w", name, op.OperationID, err)
	}
	return true, nil
}

// MaxItems returns the maxItems of an array schema.
func MaxItems(s *openapi3.SchemaRef) (int, error) {
	if s == nil || s.Value == nil || s.Value.MaxItems == nil {
		return 0, fmt.Errorf("schema has no maxItems")
	}
	return int(*s.Value.MaxItems), nil
}

// BulkDeleteMaxIDs is the most ids one bulk delete may carry: the spec's maxItems of
// BulkDeleteRequest.ids.
func BulkDeleteMaxIDs() (int, error) {
	doc, err := Load()
	if err != nil {
		return 0, err
	}
	s, ok := doc.Components.Schemas["BulkDeleteRequest"]
	if !ok || s.Value == nil || s.Value.Properties["ids"] == nil {
		return 0, fmt.Errorf("openapi.yaml has no BulkDeleteRequest.ids")
	}
	return MaxItems(s.Value.Properties["ids"])
}

// Scopes returns every scope that some operation requires (x-required-scopes), sorted: the
// scopes a key may be given.
func Scopes() ([]string, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			var scopes []string
			if _, err := Extension(op, "x-required-scopes", &scopes); err != nil {
				return nil, err
			}
			for _, s := range scopes {
				seen[s] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(seen)), nil
}
