package servertest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/openapi"
)

// Sample is one request of an operation of the spec, for the demo data of an Env: what a key
// holding Scopes gets Status for, on a freshly seeded server.
type Sample struct {
	// OperationID, Method and Path are the operation's, from the spec; Path has its
	// parameters filled in.
	OperationID, Method, Path string
	// Body is the request's JSON body; "" for none.
	Body string
	// Scopes are the scopes the operation requires (its x-required-scopes).
	Scopes []string
	// Status is the answer to the request.
	Status int
}

// sampleOf builds a request of each operation, by operationId, about a live conversation id
// of the demo workspace: its path parameters, its body and the status it gets. An operation
// of the spec without one fails every test that walks all operations (Env.Samples) until it
// has one here.
var sampleOf = map[string]func(id uuid.UUID) (params map[string]string, body string, status int){
	"deleteConversation": func(id uuid.UUID) (map[string]string, string, int) {
		return map[string]string{"id": id.String()}, "", http.StatusOK
	},
	"bulkDeleteConversations": func(id uuid.UUID) (map[string]string, string, int) {
		return nil, fmt.Sprintf(`{"ids":[%q]}`, id), http.StatusOK
	},
	"getConversation": func(id uuid.UUID) (map[string]string, string, int) {
		return map[string]string{"id": id.String()}, "", http.StatusOK
	},
	"listConversations": func(uuid.UUID) (map[string]string, string, int) {
		return nil, "", http.StatusOK
	},
}

// Samples returns a request of every operation of the spec, in operationId order, each about
// a demo conversation that no earlier sample of this Env used. It fails t for an operation
// that has no sample, or when the demo data runs out (seed more with Options.Conversations).
func (e *Env) Samples(t testing.TB) []Sample {
	t.Helper()
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	var out []Sample
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			build, ok := sampleOf[op.OperationID]
			if !ok {
				t.Fatalf("operation %s has no sample request: add one to servertest's sampleOf", op.OperationID)
			}
			params, body, status := build(e.nextConversation(t))
			s := Sample{OperationID: op.OperationID, Method: method, Path: path, Body: body, Status: status}
			for name, v := range params {
				s.Path = strings.ReplaceAll(s.Path, "{"+name+"}", v)
			}
			if strings.Contains(s.Path, "{") {
				t.Fatalf("the sample of %s leaves a path parameter of %s unset", op.OperationID, path)
			}
			if _, err := openapi.Extension(op, "x-required-scopes", &s.Scopes); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].OperationID < out[j].OperationID })
	return out
}

// nextConversation is a demo conversation no sample used yet, from the newest.
func (e *Env) nextConversation(t testing.TB) uuid.UUID {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	ids := e.Seeded.ConversationIDs
	if e.sampled >= len(ids) {
		t.Fatalf("samples used all %d demo conversations: seed more (Options.Conversations)", len(ids))
	}
	e.sampled++
	return ids[len(ids)-e.sampled]
}
