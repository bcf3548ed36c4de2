package contract_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/server/contract"
)

// The test application: the strict server of testdata/library.yaml over a map, with an
// error body of its own ({"problem", "status"}), bearer tokens that are the caller's roles
// ("reader", "librarian,reader"), and a switch that makes its answers break the spec. It
// knows nothing of the Conversations API, which is the point: it shows what the engine
// promises to any oapi-codegen server.
type library struct {
	mu     sync.Mutex
	books  map[uuid.UUID][]Book
	addeds int64
	// breaks, when set, is how the next answers break the spec.
	breaks string
}

// The ways library's answers can break the spec.
const (
	breakNothing     = ""
	breakField       = "a book whose ISBN is a customer's words"
	breakOneItem     = "one book of a page with a title too short"
	breakHeader      = "a Location that does not match its pattern"
	breakStatus      = "an undocumented status"
	breakContentType = "text instead of JSON"
	breakTrailing    = "a second value after the book"
	breakTwice       = "a member named twice"
	breakUTF8        = "a title that is not UTF-8"
	breakTags        = "the same tag twice"
	breakMember      = "a member the schema does not have"
	breakTwoHeaders  = "Location given twice"
	breakHeaders     = "a text answer with a cookie, an encoding and an elsewhere"
	breakThenFail    = "a book, then an error"
)

// secretValue stands for customer data in an answer that breaks the spec: it must never
// reach the engine's errors (and so the application's logs).
const secretValue = "call me at +44 20 7946 0958"

var shelf = uuid.MustParse("0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8")

var _ StrictServerInterface = (*library)(nil)

func (l *library) ListShelves(context.Context, ListShelvesRequestObject) (ListShelvesResponseObject, error) {
	return ListShelves200JSONResponse{Body: []Shelf{{ID: shelf, Name: "Fiction"}}}, nil
}

func (l *library) ListBooks(_ context.Context, req ListBooksRequestObject) (ListBooksResponseObject, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	books, ok := l.books[req.ShelfID]
	if !ok {
		return ListBooks404JSONResponse{Body: Problem{Problem: "no such shelf", Status: 404}}, nil
	}
	page := slices.Clone(books)
	if req.Params.Limit != nil && *req.Params.Limit < len(page) {
		page = page[:*req.Params.Limit]
	}
	if l.breaks == breakOneItem && len(page) > 1 {
		page[1].Title = ""
	}
	return ListBooks200JSONResponse{Body: BookPage{Books: page, More: len(page) < len(books)}}, nil
}

// badAnswer is an answer that breaks the spec in ways a typed response cannot.
type badAnswer struct {
	status int
	breaks string
	shelf  uuid.UUID
}

func (b badAnswer) VisitAddBookResponse(w http.ResponseWriter) error {
	h := w.Header()
	book := `{"isbn":"9780000000001","title":"T","tags":[],"addedAt":1}`
	h.Set("Content-Type", "application/json")
	h.Set("Location", fmt.Sprintf("/shelves/%s/books/9780000000001", b.shelf))
	switch b.breaks {
	case breakTrailing:
		book += `{"isbn":"` + secretValue + `"}`
	case breakTwice:
		book = `{"isbn":"9780000000001","isbn":"` + secretValue + `","title":"T","tags":[],"addedAt":1}`
	case breakUTF8:
		book = "{\"isbn\":\"9780000000001\",\"title\":\"\xff\",\"tags\":[],\"addedAt\":1}"
	case breakMember:
		book = `{"isbn":"9780000000001","title":"T","tags":[],"addedAt":1,"` + secretValue + `":1}`
	case breakTwoHeaders:
		h.Add("Location", "https://elsewhere.example/")
	case breakHeaders:
		h.Set("Content-Type", "text/plain")
		h.Set("Content-Encoding", "gzip")
		h.Set("Set-Cookie", "session="+secretValue)
		h.Set("Location", "https://elsewhere.example/")
		book = secretValue
	case "":
		h.Set("Content-Type", "text/plain")
		book = "a book"
	}
	w.WriteHeader(b.status)
	if _, err := io.WriteString(w, book); err != nil {
		return err
	}
	if b.breaks == breakThenFail {
		return errors.New("the book was written, then the write of its audit failed")
	}
	return nil
}

func (l *library) AddBook(_ context.Context, req AddBookRequestObject) (AddBookResponseObject, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	books, ok := l.books[req.ShelfID]
	if !ok {
		return AddBook404JSONResponse{Body: Problem{Problem: "no such shelf", Status: 404}}, nil
	}
	switch l.breaks {
	case breakStatus:
		return badAnswer{status: http.StatusTeapot}, nil
	case breakContentType:
		return badAnswer{status: http.StatusOK}, nil
	case breakTrailing, breakTwice, breakUTF8, breakMember, breakTwoHeaders, breakHeaders, breakThenFail:
		return badAnswer{status: http.StatusCreated, breaks: l.breaks, shelf: req.ShelfID}, nil
	}
	for _, b := range books {
		if b.Isbn == req.Body.Isbn {
			return AddBook200JSONResponse{Body: b}, nil
		}
	}
	l.addeds++
	b := Book{Isbn: req.Body.Isbn, Title: req.Body.Title, Tags: []string{}, AddedAt: l.addeds}
	if req.Body.Tags != nil {
		b.Tags = *req.Body.Tags
	}
	l.books[req.ShelfID] = append(books, b)
	location := fmt.Sprintf("/shelves/%s/books/%s", req.ShelfID, b.Isbn)
	switch l.breaks {
	case breakField:
		b.Isbn = secretValue
	case breakHeader:
		location = "/elsewhere"
	case breakTags:
		b.Tags = []string{secretValue, secretValue}
	}
	return AddBook201JSONResponse{Body: b, Headers: AddBook201ResponseHeaders{Location: location}}, nil
}

// problem is the application's own refusal, rendered like the engine's.
type problem struct {
	status int
	msg    string
}

func (p *problem) Error() string { return p.msg }

// renderProblem is the application's Hooks.RenderError: its own envelope for every error.
func renderProblem(c echo.Context, err error) {
	status, msg := http.StatusInternalServerError, "internal error"
	var ce *contract.Error
	var p *problem
	switch {
	case errors.As(err, &ce):
		status, msg = ce.Status, ce.Message
	case errors.As(err, &p):
		status, msg = p.status, p.msg
	}
	_ = c.JSON(status, Problem{Problem: msg, Status: status})
}

// authorizer is the application's Hooks.Authorizer: the roles an operation needs are in its
// own x-roles extension, read once here; a token is the caller's roles.
func authorizer(op *contract.Operation) (contract.AuthorizeFunc, error) {
	raw, ok := op.Spec().Extensions["x-roles"].([]any)
	if !ok || len(raw) == 0 {
		return nil, fmt.Errorf("no x-roles")
	}
	var roles []string
	for _, r := range raw {
		roles = append(roles, fmt.Sprint(r))
	}
	return func(_ context.Context, c echo.Context) error {
		token, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		if !ok || token == "" {
			return &problem{http.StatusUnauthorized, "who are you?"}
		}
		held := strings.Split(token, ",")
		for _, r := range roles {
			if !slices.Contains(held, r) {
				return &problem{http.StatusForbidden, "you may not"}
			}
		}
		return nil
	}, nil
}

// observed is what the hooks saw: each invalid request or response, each status sent.
type observed struct {
	mu        sync.Mutex
	invalid   []string // "kind: message"
	responded []string // "operationId status"
}

func (o *observed) add(list *[]string, s string) {
	o.mu.Lock()
	*list = append(*list, s)
	o.mu.Unlock()
}

func (o *observed) take() (invalid, responded []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	invalid, responded = o.invalid, o.responded
	o.invalid, o.responded = nil, nil
	return invalid, responded
}

// loadLibrarySpec reads testdata/library.yaml.
func loadLibrarySpec(t testing.TB) *openapi3.T {
	t.Helper()
	b, err := os.ReadFile("testdata/library.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return doc
}

// libraryServer is the test application served over HTTP with the engine in mode.
type libraryServer struct {
	url  string
	app  *library
	seen *observed
}

func newLibraryServer(t testing.TB, mode contract.Mode) *libraryServer {
	t.Helper()
	app := &library{books: map[uuid.UUID][]Book{shelf: {}}}
	seen := &observed{}
	engine, err := contract.New(loadLibrarySpec(t), contract.Options{
		Mode:           mode,
		Formats:        map[string]func(string) error{"uuid": checkUUID},
		MaxHeaderBytes: 4096,
		Hooks: contract.Hooks{
			RenderError: renderProblem,
			Authorizer:  authorizer,
			Invalid: func(_ echo.Context, _ *contract.Operation, kind contract.Kind, err error) {
				seen.add(&seen.invalid, kind.String()+": "+err.Error())
			},
			Responded: func(_ echo.Context, op *contract.Operation, status int) {
				seen.add(&seen.responded, fmt.Sprintf("%s %d", op.ID(), status))
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = func(err error, c echo.Context) { renderProblem(c, err) }
	RegisterHandlers(engine.Router(e), NewStrictHandler(app, nil))
	if err := engine.CheckRoutes(); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(e)
	t.Cleanup(hs.Close)
	return &libraryServer{url: hs.URL, app: app, seen: seen}
}

func checkUUID(s string) error {
	if _, err := uuid.Parse(s); err != nil || len(s) != 36 {
		return errors.New("must be a UUID")
	}
	return nil
}

// answer is what a request got back.
type answer struct {
	status int
	header http.Header
	body   string
}

// call sends a request with the token (none when empty) and a body (none when empty); edit,
// when set, changes the request before it leaves.
func (s *libraryServer) call(t testing.TB, method, path, token, body string, edit func(*http.Request)) answer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept-Encoding", "identity") // the answer as sent, never decompressed
	if edit != nil {
		edit(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: string(b)}
}

// problemBody is the application's error body of status with msg, as the server writes it.
func problemBody(status int, msg string) string {
	b, _ := json.Marshal(Problem{Problem: msg, Status: status})
	return string(b) + "\n"
}
