// Package server is the HTTP layer of the Conversations API: an Echo stack built by New that
// authenticates every request, validates it and its response against openapi/openapi.yaml,
// and serves the generated strict interface over a store.Store. It depends on gen, openapi
// and store; storage engines are chosen by the caller.
//
// A request passes, in order: tracing.go (its span, when tracing is on), requestid.go,
// accesslog.go (one log line and the metrics), recover.go, fixedheaders.go, limits.go, then
// for an operation of the spec the pipeline (pipeline.go: ratelimit.go, auth.go,
// requestvalidation.go, the handler in conversations.go, responsevalidation.go). errors.go
// renders every failure in the API's envelope.
package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/fini-oss/conversations/gen/apiserver"
	"github.com/fini-oss/conversations/openapi"
	"github.com/fini-oss/conversations/server/store"
)

// Config configures New. Store is required; the rest has defaults.
type Config struct {
	Store store.API
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
	// RateLimit limits each API key's requests; the zero value is off.
	RateLimit RateLimit
	// TracerProvider, when set, traces every API request: a span named by its route, a span
	// per pipeline step. Nil is tracing off, at no cost. Spans of the store's calls come from
	// wrapping Store (storetrace).
	TracerProvider trace.TracerProvider
}

// Server is the whole HTTP stack: the API (with /openapi.yaml and /docs) and the operational
// endpoints /healthz, /readyz and /metrics. ServeHTTP serves both on one listener; API and
// Ops serve each alone, for an operator who keeps the operational endpoints off the public
// listener.
type Server struct {
	api, ops *echo.Echo
	// apiHandler is api, inside its request span when tracing is on.
	apiHandler http.Handler
	inFlight   atomic.Int64
}

// New builds the Echo stack: the spec is loaded, validated and prepared once here, and an
// error (never a panic) is returned when it or the wiring is wrong.
func New(cfg Config) (*Server, error) {
	p, err := assemble(cfg)
	if err != nil {
		return nil, err
	}
	return p.build(p.pipeline.wrap)
}

// parts are what New assembles, prepared from the Config and the spec.
type parts struct {
	cfg      Config
	contract *contract
	metrics  *metrics
	pipeline *pipeline
}

func assemble(cfg Config) (*parts, error) {
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
	limits, err := newLimiter(cfg.RateLimit, cfg.Now, m)
	if err != nil {
		return nil, err
	}
	t := newTracing(cfg.TracerProvider)
	responses := newResponseValidator(mode, cfg.Logger, m, cfg.OnResponse)
	responses.trace = t
	return &parts{cfg: cfg, contract: c, metrics: m, pipeline: &pipeline{
		limits:    limits,
		auth:      &authenticator{store: cfg.Store, now: cfg.Now, log: cfg.Logger},
		requests:  newRequestValidator(m),
		responses: responses,
		trace:     t,
	}}, nil
}

// build wires the routes, with wrap as the middleware of each operation.
func (p *parts) build(wrap func(*operation) echo.MiddlewareFunc) (*Server, error) {
	srv := &Server{}
	srv.api = p.newEcho(&srv.inFlight)
	if p.pipeline.trace != nil {
		srv.api.Use(nameSpan)
	}
	srv.apiHandler = decoded{p.pipeline.trace.handler(srv.api)}
	perOp := make(map[string][]echo.MiddlewareFunc, len(p.contract.ops))
	for id, op := range p.contract.ops {
		perOp[id] = []echo.MiddlewareFunc{wrap(op)}
	}
	h := &Handlers{store: p.cfg.Store, rules: p.contract.list, now: p.cfg.Now}
	apiserver.RegisterHandlersWithOptions(srv.api, apiserver.NewStrictHandler(h, nil),
		apiserver.RegisterHandlersOptions{OperationMiddlewares: perOp})
	if n := len(srv.api.Routes()); n != len(p.contract.ops) {
		return nil, fmt.Errorf("server: %d routes registered for %d operations in openapi.yaml; regenerate gen/", n, len(p.contract.ops))
	}
	srv.api.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", openapi.Spec)
	})
	srv.api.GET("/docs", serveDocs)

	srv.ops = p.newEcho(&srv.inFlight)
	registerOps(srv.ops, p.cfg.Store, p.cfg.Registry, p.cfg.Logger)
	for _, r := range srv.ops.Routes() {
		if !opsPaths[r.Path] {
			return nil, fmt.Errorf("server: operational route %s is not in opsPaths", r.Path)
		}
	}
	return srv, nil
}

// newEcho is an Echo with the middleware every request passes, API or operational.
func (p *parts) newEcho(inFlight *atomic.Int64) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = handleHTTPError
	log := &accessLog{log: p.cfg.Logger, metrics: p.metrics, inFlight: inFlight}
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { return p.frame(c, log, next) }
	})
	return e
}

// frame is what every request passes, API or operational, before its route: one function
// rather than a middleware each, since Echo wraps its middleware anew at every request.
func (p *parts) frame(c echo.Context, log *accessLog, next echo.HandlerFunc) error {
	setRequestID(c)                     // requestid.go
	return log.around(c, func() error { // accesslog.go: one line and the metrics
		return recovered(c, func() error { // recover.go
			p.contract.setFixedHeadersLater(c)      // fixedheaders.go
			if err := checkFraming(c); err != nil { // limits.go
				return err
			}
			return next(c)
		})
	})
}

// InFlight is how many requests are being served right now; a graceful shutdown waits for
// it to reach zero.
func (s *Server) InFlight() int64 { return s.inFlight.Load() }

// API serves the API, /openapi.yaml and /docs, and nothing operational.
func (s *Server) API() http.Handler { return s.apiHandler }

// Ops serves /healthz, /readyz and /metrics, and nothing of the API.
func (s *Server) Ops() http.Handler { return decoded{s.ops} }

// ServeHTTP serves the API and the operational endpoints together.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if opsPaths[r.URL.Path] {
		s.Ops().ServeHTTP(w, r)
		return
	}
	s.apiHandler.ServeHTTP(w, r)
}

// decoded routes h on the decoded path (limits.go), before Echo routes.
type decoded struct{ h http.Handler }

// ServeHTTP implements http.Handler.
func (d decoded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	decodePath(r.URL)
	d.h.ServeHTTP(w, r)
}
