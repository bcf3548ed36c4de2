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
		{"a query value not UTF-8", "GET", books + "?tag=%ff", "reader", "", nil, 400, "Invalid query string: not valid UTF-8"},
		{"a charset but UTF-8", "POST", books, librarian, book, header("Content-Type", "application/json; charset=iso-8859-1"), 415, "Content-Type's charset must be utf-8: JSON is UTF-8"},
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
		{breakTrailing, "POST", books, `{"isbn":"9780000000006","title":"Emma"}`, "response body is not one JSON value (or has something after it)", 201},
		{breakTwice, "POST", books, `{"isbn":"9780000000007","title":"Emma"}`, "response body names a member twice in one object", 201},
		{breakUTF8, "POST", books, `{"isbn":"9780000000008","title":"Emma"}`, "response body: not valid UTF-8", 201},
		{breakTags, "POST", books, `{"isbn":"9780000000009","title":"Emma"}`, "response body doesn't match schema #/components/schemas/Book: tags: holds an item twice", 201},
		{breakMember, "POST", books, `{"isbn":"9780000000010","title":"Emma"}`, "response body doesn't match schema #/components/schemas/Book: has a property the schema does not allow", 201},
		{breakTwoHeaders, "POST", books, `{"isbn":"9780000000011","title":"Emma"}`, `response header "Location" given 2 times`, 201},
		{breakHeaders, "POST", books, `{"isbn":"9780000000012","title":"Emma"}`, `response header "Location" doesn't match schema: string doesn't match the regular expression "^/shelves/[0-9a-f-]{36}/books/[0-9]{13}$"`, 201},
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
					// Nothing of the answer replaced reaches the client, its headers included.
					for _, name := range []string{"Location", "Set-Cookie", "Content-Encoding"} {
						if v := got.header.Get(name); v != "" {
							t.Errorf("the 500 carries the replaced answer's %s: %s", name, v)
						}
					}
					if ct := got.header.Get("Content-Type"); ct != "application/json" {
						t.Errorf("the 500's Content-Type is %q", ct)
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

// TestHandlerErrorAfterItsAnswer: a handler that answers and then fails has its answer
// dropped, unsent, and the client gets the error alone, never the two run together.
func TestHandlerErrorAfterItsAnswer(t *testing.T) {
	for _, mode := range []contract.Mode{contract.Enforce, contract.Report} {
		t.Run(string(mode), func(t *testing.T) {
			s := newLibraryServer(t, mode)
			s.app.breaks = breakThenFail
			got := s.call(t, "POST", books, "librarian", `{"isbn":"9780000000013","title":"Emma"}`, nil)
			if got.status != 500 || got.body != problemBody(500, "internal error") || got.header.Get("Location") != "" {
				t.Errorf("sent %d %v %s", got.status, got.header, got.body)
			}
		})
	}
}

// TestPathParametersAreCheckedDecoded: a path parameter is checked as the handler gets it,
// percent-decoded.
func TestPathParametersAreCheckedDecoded(t *testing.T) {
	s := newLibraryServer(t, contract.Enforce)
	for path, status := range map[string]int{
		"/shelves/0b8626b0%2D4cc8-4a3d-8fc2-f18ad1a4a1a8/books":   200,
		"/shelves/%30b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8/books":   200,
		"/shelves/0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8%2Fx/books": 400,
	} {
		if got := s.call(t, "GET", path, "reader", "", nil); got.status != status {
			t.Errorf("%s: %d %s, want %d", path, got.status, got.body, status)
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
		{"an authorizer that returns no check", contract.Options{Hooks: contract.Hooks{RenderError: render,
			Authorizer: func(*contract.Operation) (contract.AuthorizeFunc, error) { return nil, nil }}}, "Hooks.Authorizer returned no check for it"},
		{"a format without its check", contract.Options{Formats: map[string]func(string) error{"uuid": nil},
			Hooks: contract.Hooks{RenderError: render, Authorizer: authorizer}}, `Formats["uuid"] is nil`},
		{"a negative limit", contract.Options{MaxBodyBytes: -1, Hooks: contract.Hooks{RenderError: render, Authorizer: authorizer}}, "may not be negative"},
		{"a header limit the spec does not document", contract.Options{MaxHeaderBytes: 100,
			Hooks: contract.Hooks{RenderError: render, Authorizer: authorizer}}, ""},
	}
	for _, tt := range tests {
		if tt.want == "" {
			continue
		}
		if _, err := contract.New(doc, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	// Each operation must document what the engine may answer it: a 400 (every one), a 413
	// and 415 (one that takes a body), a 431 (with a header limit).
	for status, want := range map[string]string{
		"400": "contract: listShelves documents no [400], which the engine answers",
		"415": "contract: addBook documents no [415], which the engine answers",
		"431": "documents no [431], which the engine answers",
	} {
		doc := loadLibrarySpec(t)
		for _, item := range doc.Paths.Map() {
			for _, op := range item.Operations() {
				if status != "400" || op.OperationID == "listShelves" {
					op.Responses.Delete(status)
				}
			}
		}
		_, err := contract.New(doc, contract.Options{MaxHeaderBytes: 4096, Hooks: contract.Hooks{RenderError: render, Authorizer: authorizer}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("without %s: New = %v, want %q...", status, err, want)
		}
	}
}

// TestCheckRoutes: every operation must be registered through the engine's Router, once,
// and nothing else: handlers registered around it, or generated from another version of
// the spec, fail at start-up.
func TestCheckRoutes(t *testing.T) {
	newEngine := func() *contract.Engine {
		engine, err := contract.New(loadLibrarySpec(t), contract.Options{Hooks: contract.Hooks{RenderError: renderProblem, Authorizer: authorizer}})
		if err != nil {
			t.Fatal(err)
		}
		return engine
	}
	noop := func(echo.Context) error { return nil }
	tests := []struct {
		name     string
		register func(e *echo.Echo, r *contract.Router)
		want     string
	}{
		{"through the router", func(e *echo.Echo, r *contract.Router) { RegisterHandlers(r, NewStrictHandler(&library{}, nil)) }, ""},
		{"under a prefix", func(e *echo.Echo, r *contract.Router) {}, ""},
		{"around the engine", func(e *echo.Echo, r *contract.Router) { RegisterHandlers(e, NewStrictHandler(&library{}, nil)) },
			"contract: no route registered through the engine's Router serves [addBook (POST /shelves/{shelfId}/books) listBooks (GET /shelves/{shelfId}/books) listShelves (GET /shelves)]: register the generated handlers on Engine.Router, or regenerate them from the spec"},
		{"an operation missing", func(e *echo.Echo, r *contract.Router) {
			r.GET("/shelves", noop)
			r.GET("/shelves/:shelfId/books", noop)
		},
			"contract: no route registered through the engine's Router serves [addBook (POST /shelves/{shelfId}/books)]: register the generated handlers on Engine.Router, or regenerate them from the spec"},
		{"an operation twice", func(e *echo.Echo, r *contract.Router) {
			RegisterHandlers(r, NewStrictHandler(&library{}, nil))
			r.GET("/shelves", noop)
		}, "contract: [listShelves] registered more than once"},
		{"a route of no operation", func(e *echo.Echo, r *contract.Router) {
			RegisterHandlers(r, NewStrictHandler(&library{}, nil))
			r.DELETE("/shelves", noop)
		}, "contract: [DELETE /shelves] registered through the engine's Router are no operation of the spec: regenerate the server from the spec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			engine, e := newEngine(), echo.New()
			r := engine.Router(e)
			if tt.name == "under a prefix" {
				RegisterHandlers(engine.Router(e.Group("/v1")), NewStrictHandler(&library{}, nil))
			}
			tt.register(e, r)
			err := engine.CheckRoutes()
			if got := fmt.Sprint(err); (err != nil || tt.want != "") && got != tt.want {
				t.Errorf("CheckRoutes = %v\nwant %s", err, tt.want)
			}
		})
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
		"listShelves GET /shelves [200 400 401 403 431 500] 1048576 1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("operations:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if engine.Operation("addBook") != engine.Operations()[0] || engine.Operation("nope") != nil {
		t.Error("Operation does not find operations by operationId")
	}
}
