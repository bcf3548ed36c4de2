// Package server is the HTTP layer of the Conversations API: an Echo stack built by New that
// authenticates every request, validates it and its response against openapi/openapi.yaml,
// and serves the generated strict interface over a store.Store. It depends on gen, openapi
// and store; storage engines are chosen by the caller.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fini-oss/conversations/gen/apiserver"
	"github.com/fini-oss/conversations/openapi"
	"github.com/fini-oss/conversations/server/store"
)

// DefaultMaxBodyBytes limits every request body; an operation may set a lower limit with
// x-max-body-bytes in the spec.
const DefaultMaxBodyBytes = 1 << 20

// Config configures New. Store is required; the rest has defaults.
type Config struct {
	Store store.Store
	// Logger receives one line per request; default slog.Default().
	Logger *slog.Logger
	// ResponseValidation is Enforce when empty.
	ResponseValidation ValidationMode
	// Registry receives the server's metrics and is served at /metrics; default a new one.
	Registry *prometheus.Registry
	// Now is the clock for list windows and key bookkeeping; default time.Now.
	Now func() time.Time
	// OnResponse, when set, is called with the operationId and status of every API response
	// after validation; tests use it to record which documented statuses they exercised.
	OnResponse func(operationID string, status int)

	// skipRequestValidation exists for the benchmarks' baseline only (see export_test.go):
	// handlers rely on validated requests, so it is not reachable outside tests.
	skipRequestValidation bool
}

// Server is the whole HTTP stack: the API (with /openapi.yaml) and the operational
// endpoints /healthz, /readyz and /metrics. ServeHTTP serves both on one listener; API and
// Ops serve each alone, for an operator who keeps the operational endpoints off the public
// listener.
type Server struct {
	api, ops *echo.Echo
	inFlight atomic.Int64
}

// opsPaths are the routes of the operational endpoints.
var opsPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// API serves the API and /openapi.yaml, and nothing operational.
func (s *Server) API() http.Handler { return s.api }

// Ops serves /healthz, /readyz and /metrics, and nothing of the API.
func (s *Server) Ops() http.Handler { return s.ops }

// InFlight is how many requests are being served right now; a graceful shutdown waits for
// it to reach zero.
func (s *Server) InFlight() int64 { return s.inFlight.Load() }

// New builds the Echo stack: the spec is loaded, validated and prepared once here, and an
// error (never a panic) is returned when it or the wiring is wrong.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("server: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	mode, err := ParseValidationMode(string(cfg.ResponseValidation))
	if err != nil {
		return nil, err
	}
	c, err := loadContract()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, fmt.Errorf("server: metrics: %w", err)
	}
	auth := &authenticator{store: cfg.Store, now: cfg.Now, log: cfg.Logger}
	v := newValidator(mode, auth, cfg.Logger, m, cfg.OnResponse)
	v.skipRequests = cfg.skipRequestValidation

	srv := &Server{}
	newEcho := func() *echo.Echo {
		e := echo.New()
		e.HideBanner, e.HidePort = true, true
		e.HTTPErrorHandler = handleHTTPError
		e.Use(requestID, observe(cfg.Logger, m, &srv.inFlight), contractHeaders(c), limitHeaders, closeAfterChunked,
			middleware.BodyLimit(fmt.Sprint(DefaultMaxBodyBytes)))
		return e
	}
	e := newEcho()

	perOp := make(map[string][]echo.MiddlewareFunc, len(c.ops))
	for id, op := range c.ops {
		perOp[id] = []echo.MiddlewareFunc{v.middleware(op)}
	}
	h := &Handlers{store: cfg.Store, rules: c.list, now: cfg.Now}
	apiserver.RegisterHandlersWithOptions(e, apiserver.NewStrictHandler(h, nil),
		apiserver.RegisterHandlersOptions{OperationMiddlewares: perOp})
	if n := len(e.Routes()); n != len(c.ops) {
		return nil, fmt.Errorf("server: %d routes registered for %d operations in openapi.yaml; regenerate gen/", n, len(c.ops))
	}

	e.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", openapi.Spec)
	})
	srv.api = e

	// Outside the API and its validation.
	ops := newEcho()
	ops.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	ops.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
		defer cancel()
		if err := cfg.Store.Ping(ctx); err != nil {
			cfg.Logger.WarnContext(ctx, "not ready", "error", err)
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
	ops.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})))
	for _, r := range ops.Routes() {
		if !opsPaths[r.Path] {
			return nil, fmt.Errorf("server: operational route %s is not in opsPaths", r.Path)
		}
	}
	srv.ops = ops
	return srv, nil
}

// ServeHTTP serves the API and the operational endpoints together.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if opsPaths[r.URL.Path] {
		s.ops.ServeHTTP(w, r)
		return
	}
	s.api.ServeHTTP(w, r)
}
