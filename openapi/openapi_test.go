package openapi_test

import (
	"testing"

	"github.com/fini-oss/conversations/openapi"
)

// TestSpecIsValid is the Go half of `make lint-spec`: kin-openapi's own validation.
func TestSpecIsValid(t *testing.T) {
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	if got := doc.Servers[0].URL; got != "https://api-prod.usefini.com" {
		t.Errorf("first server = %q, want Fini's production URL", got)
	}
}

func TestEveryOperationStatesItsScopes(t *testing.T) {
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"deleteConversation": "write", "bulkDeleteConversations": "write",
		"getConversation": "read", "listConversations": "read",
	}
	for id, scope := range want {
		_, _, op, err := openapi.Operation(doc, id)
		if err != nil {
			t.Fatal(err)
		}
		var scopes []string
		if found, err := openapi.Extension(op, "x-required-scopes", &scopes); !found || err != nil {
			t.Fatalf("%s: x-required-scopes found=%v err=%v", id, found, err)
		}
		if len(scopes) != 1 || scopes[0] != scope {
			t.Errorf("%s scopes = %v, want [%s]", id, scopes, scope)
		}
	}
}

func TestBulkDeleteMaxIDs(t *testing.T) {
	n, err := openapi.BulkDeleteMaxIDs()
	if err != nil || n != 50 {
		t.Errorf("BulkDeleteMaxIDs = %d, %v; want 50", n, err)
	}
}
