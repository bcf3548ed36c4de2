package contract_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/server/contract"
)

// Example wraps the strict server that oapi-codegen generated from testdata/library.yaml
// (its echo-server and strict-server code: RegisterHandlers, NewStrictHandler) in the engine:
// the application gives it the spec and its hooks, registers the generated handlers on the
// engine's Router, which puts the engine in front of every operation, and checks that each
// operation is served. A request the spec refuses, a 413 here, gets the application's own
// error body; a valid one reaches the handler, whose response is validated before it leaves.
func Example() {
	spec, err := os.ReadFile("testdata/library.yaml")
	if err != nil {
		panic(err)
	}
	engine, err := contract.Load(spec, contract.Options{
		Hooks: contract.Hooks{
			// The application's error body, for the engine's refusals and its own errors.
			RenderError: func(c echo.Context, err error) {
				status, msg := http.StatusInternalServerError, "internal error"
				var ce *contract.Error
				if errors.As(err, &ce) {
					status, msg = ce.Status, ce.Message
				}
				_ = c.JSON(status, Problem{Problem: msg, Status: status})
			},
			// Bound once per secured operation: here any bearer token will do.
			Authorizer: func(*contract.Operation) (contract.AuthorizeFunc, error) {
				return func(_ context.Context, c echo.Context) error {
					if !strings.HasPrefix(c.Request().Header.Get("Authorization"), "Bearer ") {
						return &contract.Error{Status: http.StatusUnauthorized, Message: "no token"}
					}
					return nil
				}, nil
			},
		},
	})
	if err != nil {
		panic(err)
	}
	app := &library{books: map[uuid.UUID][]Book{shelf: {}}}
	e := echo.New()
	RegisterHandlers(engine.Router(e), NewStrictHandler(app, nil))
	if err := engine.CheckRoutes(); err != nil {
		panic(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()

	for _, title := range []string{"Dune", strings.Repeat("Dune", 300)} {
		body := fmt.Sprintf(`{"isbn":"9780000000001","title":%q}`, title)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/shelves/"+shelf.String()+"/books", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer t")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Printf("%d %s %s", res.StatusCode, res.Header.Get("Cache-Control"), got)
	}
	// Output:
	// 201 no-store {"addedAt":1,"isbn":"9780000000001","tags":[],"title":"Dune"}
	// 413 no-store {"problem":"Request body is larger than 1024 bytes","status":413}
}
