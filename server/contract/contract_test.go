package contract_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/server/contract"
)

const books = "/shelves/0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8/books"

// TestRequestsTheSpecRefuses: every request that breaks the spec gets the status the spec
// documents for it, in the application's own error body, with a message that names what is
// wrong; the handler never runs, and Hooks.Invalid hears of it (the authorizer's refusals
// are the application's, not the spec's).
func TestRequestsTheSpecRefuses(t *testing.T) {
	s := newLibraryServer(t, contract.Enforce)
	librarian := "librarian,reader"
	book := `{"isbn":"9780000000001","title":"Dune"}`
	header := func(name, value string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set(name, value) }
	}
	tests := []struct {
		name, method, path, token, body string
		edit                            func(*http.Request)
		status                          int
		message                         string
	}{
		{"no token", "GET", books, "", "", nil, 401, "who are you?"},
		{"a role short", "POST", books, "reader", book, nil, 403, "you may not"},
		{"path parameter of the wrong format", "GET", "/shelves/fiction/books", "reader", "", nil, 400, `Invalid parameter "shelfId" in path: must be a UUID`},
		{"query parameter below its minimum", "GET", books + "?limit=0", "reader", "", nil, 400, `Invalid parameter "limit" in query: number must be at least 1`},
		{"query parameter of the wrong type", "GET", books + "?limit=ten", "reader", "", nil, 400, `Invalid parameter "limit" in query: must be an integer`},
		{"single parameter given twice", "GET", books + "?limit=1&limit=2", "reader", "", nil, 400, `Invalid parameter "limit" in query: given more than once`},
		{"array parameter over its maxItems", "GET", books + "?tag=a&tag=b&tag=c&tag=d", "reader", "", nil, 400, `Invalid parameter "tag" in query: maximum number of items is 3`},
		{"unknown query parameter", "GET", books + "?lmit=2", "reader", "", nil, 400, `Invalid query string: unknown parameter "lmit"; listBooks takes limit, tag`},
		{"query string that does not parse", "GET", books + "?limit=1;tag=a", "reader", "", nil, 400, `Invalid query string: ";" does not separate parameters; use "&"`},
		{"no body", "POST", books, librarian, "", header("Content-Type", "application/json"), 400, "Request body is required"},
		{"not JSON", "POST", books, librarian, `{"isbn":`, nil, 400, "Request body is not valid JSON (one JSON value, nothing after it)"},
		{"data after the value", "POST", books, librarian, book + `{}`, nil, 400, "Request body is not valid JSON (one JSON value, nothing after it)"},
		{"a member named twice", "POST", books, librarian, `{"isbn":"9780000000001","title":"A","title":"B"}`, nil, 400, `Request body is not valid JSON: member "title" given twice in one object`},
		{"a required property missing", "POST", books, librarian, `{"isbn":"9780000000001"}`, nil, 400, `Invalid request body: property "title" is missing`},
		{"a property breaking its pattern", "POST", books, librarian, `{"isbn":"978","title":"A"}`, nil, 400, `Invalid request body: isbn: string doesn't match the regular expression "^[0-9]{13}$"`},
		{"an unknown property", "POST", books, librarian, `{"isbn":"9780000000001","title":"A","price":3}`, nil, 400, `Invalid request body: property "price" is unsupported`},
		{"a body over x-max-body-bytes", "POST", books, librarian, `{"isbn":"9780000000001","title":"` + strings.Repeat("a", 1100) + `"}`, nil, 413, "Request body is larger than 1024 bytes"},
		{"another media type", "POST", books, librarian, book, header("Content-Type", "text/plain"), 415, "Content-Type must be application/json"},
		{"a content coding", "POST", books, librarian, book, header("Content-Encoding", "gzip"), 415, `Content-Encoding "gzip" is not supported; send the body uncompressed`},
		{"headers over the limit", "GET", books, "reader", "", header("X-Padding", strings.Repeat("a", 5000)), 431, "Request headers are larger than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.call(t, tt.method, tt.path, tt.token, tt.body, tt.edit)
			if got.status != tt.status || got.body != problemBody(tt.status, tt.message) {
				t.Errorf("got %d %s\nwant %d %s", got.status, got.body, tt.status, problemBody(tt.status, tt.message))
			}
			if got.header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want the spec's no-store", got.header.Get("Cache-Control"))
			}
			invalid, responded := s.seen.take()
			wantInvalid := []string{fmt.Sprintf("request: %d %s", tt.status, tt.message)}
			if tt.status == 401 || tt.status == 403 {
				wantInvalid = nil
			}
			if !slices.Equal(invalid, wantInvalid) || len(responded) != 1 || !strings.HasSuffix(responded[0], fmt.Sprint(tt.status)) {
				t.Errorf("hooks saw invalid %q and responses %q", invalid, responded)
			}
		})
	}
	if got := s.call(t, "GET", books, "reader", "", nil); got.status != 200 || got.body != `{"books":[],"more":false}`+"\n" {
		t.Errorf("nothing refused was added: %d %s", got.status, got.body)
	}
}

// TestResponsesThatBreakTheSpec: in Enforce a response that breaks the spec (a field, an
// item of a page, a declared header, the status, the content type) never reaches the client:
// it gets the application's 500 instead. In Report it is sent as it is; in Off it is not
// even checked. Either way Hooks.Invalid hears of it, naming the rule but never the value.
func TestResponsesThatBreakTheSpec(t *testing.T) {
	tests := []struct {
		breaks, method, path, body, reason string
		status                             int // what the handler answers
	}{
		{breakField, "POST", books, `{"isbn":"9780000000002","title":"Emma"}`, `response body doesn't match schema #/components/schemas/Book: isbn: string doesn't match the regular expression "^[0-9]{13}$"`, 201},
		{breakOneItem, "GET", books, "", `response body books.1: title: minimum string length is 1`, 200},
		{breakHeader, "POST", books, `{"isbn":"9780000000003","title":"Ulysses"}`, `response header "Location" doesn't match schema: string doesn't match the regular expression "^/shelves/[0-9a-f-]{36}/books/[0-9]{13}$"`, 201},
		{breakStatus, "POST", books, `{"isbn":"9780000000004","title":"Beloved"}`, `status is not supported`, 418},
		{breakContentType, "POST", books, `{"isbn":"9780000000005","title":"Middlemarch"}`, `response header Content-Type has unexpected value: "text/plain"`, 200},
	}
	for _, mode := range []contract.Mode{contract.Enforce, contract.Report, contract.Off} {
		for _, tt := range tests {
			t.Run(string(mode)+"/"+tt.breaks, func(t *testing.T) {
				s := newLibraryServer(t, mode)
				for _, b := range []string{`{"isbn":"9780000000098","title":"Kim"}`, `{"isbn":"9780000000099","title":"Ada"}`} {
					if got := s.call(t, "POST", books, "librarian", b, nil); got.status != 201 {
						t.Fatalf("adding a book: %d %s", got.status, got.body)
					}
				}
				// The page validates (and is remembered) before it breaks.
				if got := s.call(t, "GET", books, "reader", "", nil); got.status != 200 {
					t.Fatalf("listing: %d %s", got.status, got.body)
				}
				s.seen.take()
				s.app.breaks = tt.breaks
				got := s.call(t, tt.method, tt.path, "librarian,reader", tt.body, nil)
				invalid, _ := s.seen.take()
				want := fmt.Sprintf("response: %s %d: response does not conform to the spec: %s", opOf(tt.method), tt.status, tt.reason)
				switch mode {
				case contract.Enforce:
					if got.status != 500 || got.body != problemBody(500, "internal error") || got.header.Get("Cache-Control") != "no-store" {
						t.Errorf("enforce sent %d %v %s", got.status, got.header, got.body)
					}
				case contract.Report:
					if got.status != tt.status {
						t.Errorf("report sent %d %s, want the handler's %d", got.status, got.body, tt.status)
					}
				case contract.Off:
					want = ""
					if got.status != tt.status {
						t.Errorf("off sent %d %s, want the handler's %d", got.status, got.body, tt.status)
					}
				}
				if want == "" && len(invalid) != 0 || want != "" && !slices.Equal(invalid, []string{want}) {
					t.Errorf("hooks saw %q\nwant %q", invalid, want)
				}
				for _, msg := range invalid {
					if strings.Contains(msg, secretValue) {
						t.Errorf("the engine's error quotes the value: %s", msg)
					}
				}
			})
		}
	}
}

func opOf(method string) string {
	if method == "POST" {
		return "addBook"
	}
	return "listBooks"
}

// TestSuccessStatuses: both documented successes of an operation pass, with the declared
// header the handler sets and the fixed header the spec sets; a bare array passes too.
func TestSuccessStatuses(t *testing.T) {
	s := newLibraryServer(t, contract.Enforce)
	book := `{"isbn":"9780000000001","title":"Dune","tags":["sf"]}`
	first := s.call(t, "POST", books, "librarian", book, nil)
	again := s.call(t, "POST", books, "librarian", book, nil)
	stored := `{"addedAt":1,"isbn":"9780000000001","tags":["sf"],"title":"Dune"}` + "\n"
	if first.status != 201 || first.body != stored || first.header.Get("Location") != books+"/9780000000001" {
		t.Errorf("first add: %d %v %s", first.status, first.header, first.body)
	}
	if again.status != 200 || again.body != stored {
		t.Errorf("second add: %d %s", again.status, again.body)
	}
	shelves := s.call(t, "GET", "/shelves", "reader", "", nil)
	if shelves.status != 200 || shelves.body != `[{"id":"0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8","name":"Fiction"}]`+"\n" {
		t.Errorf("shelves: %d %s", shelves.status, shelves.body)
	}
	for _, a := range []answer{first, again, shelves} {
		if a.header.Get("Cache-Control") != "no-store" {
			t.Errorf("Cache-Control %q on %s", a.header.Get("Cache-Control"), a.body)
		}
	}
	invalid, responded := s.seen.take()
	if len(invalid) != 0 || !slices.Equal(responded, []string{"addBook 201", "addBook 200", "listShelves 200"}) {
		t.Errorf("hooks saw invalid %q, responses %q", invalid, responded)
	}
}

// TestNewRefusesWhatCannotWork: an engine that could not validate what it promises is an
// error at New, not a surprise in production.
func TestNewRefusesWhatCannotWork(t *testing.T) {
	doc := loadLibrarySpec(t)
	render := func(echo.Context, error) {}
	tests := []struct {
		name string
		opts contract.Options
		want string
	}{
		{"no renderer", contract.Options{Hooks: contract.Hooks{Authorizer: authorizer}}, "contract: Hooks.RenderError is required"},
		{"security but no authorizer", contract.Options{Hooks: contract.Hooks{RenderError: render}}, "declares security, and Hooks.Authorizer is nil"},
		{"an authorizer that cannot bind", contract.Options{Hooks: contract.Hooks{RenderError: render,
			Authorizer: func(*contract.Operation) (contract.AuthorizeFunc, error) { return nil, fmt.Errorf("no roles") }}}, ": no roles"},
		{"an unknown mode", contract.Options{Mode: "strict", Hooks: contract.Hooks{RenderError: render, Authorizer: authorizer}}, `mode "strict": want enforce, report or off`},
	}
	for _, tt := range tests {
		if _, err := contract.New(doc, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

// TestCheckRoutes: a server generated from another version of the spec, which lacks an
// operation, fails at start-up.
func TestCheckRoutes(t *testing.T) {
	engine, err := contract.New(loadLibrarySpec(t), contract.Options{Hooks: contract.Hooks{RenderError: renderProblem, Authorizer: authorizer}})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.GET("/shelves", func(echo.Context) error { return nil })
	err = engine.CheckRoutes(e.Routes())
	want := "contract: no route serves addBook (POST /shelves/{shelfId}/books), listBooks (GET /shelves/{shelfId}/books): regenerate the server from the spec"
	if err == nil || err.Error() != want {
		t.Errorf("CheckRoutes = %v\nwant %s", err, want)
	}
	RegisterHandlers(e, NewStrictHandler(&library{}, nil))
	if err := engine.CheckRoutes(e.Routes()); err != nil {
		t.Errorf("all routes: %v", err)
	}
}

// TestOperations: the engine prepares every operation of the spec, with what an application
// reads of it: its method and path, its documented statuses, its body limit (x-max-body-bytes
// or the default) and its security.
func TestOperations(t *testing.T) {
	engine, err := contract.New(loadLibrarySpec(t), contract.Options{Hooks: contract.Hooks{RenderError: renderProblem, Authorizer: authorizer}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, op := range engine.Operations() {
		got = append(got, fmt.Sprintf("%s %s %s %v %d %d", op.ID(), op.Method(), op.Path(), op.Statuses(), op.BodyLimit(), len(op.Security())))
	}
	want := []string{
		"addBook POST /shelves/{shelfId}/books [200 201 400 401 403 404 413 415 431 500] 1024 1",
		"listBooks GET /shelves/{shelfId}/books [200 400 401 403 404 431 500] 1048576 1",
		"listShelves GET /shelves [200 401 403 431 500] 1048576 1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("operations:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if engine.Operation("addBook") != engine.Operations()[0] || engine.Operation("nope") != nil {
		t.Error("Operation does not find operations by operationId")
	}
}
