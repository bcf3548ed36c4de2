// Package server is the Conversations API as an HTTP handler: New wires, in one place, the
// contract engine (contract) over the spec (openapi) with the generated Echo server
// (gen/apiserver), the operations (conversations), authentication (auth), rate limiting
// (ratelimit), the error envelope (apierror), the access log and its metrics (accesslog),
// request ids (requestid), tracing (tracing) and framing (framing), beside the operational
// endpoints (ops.go) and the API reference page (docs.go). Storage engines are chosen by the
// caller, which hands New the store's API role.
//
// Every request passes the frame (requestid, accesslog, recover.go, the spec's fixed
// headers, framing); a request of an operation then passes the contract engine's middleware
// (the header limit, authorization with the rate limit, request validation, the handler,
// response validation).
package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/fini-oss/conversations/gen/apiserver"
	"github.com/fini-oss/conversations/openapi"
	"github.com/fini-oss/conversations/server/accesslog"
	"github.com/fini-oss/conversations/server/apierror"
	"github.com/fini-oss/conversations/server/auth"
	"github.com/fini-oss/conversations/server/contract"
	"github.com/fini-oss/conversations/server/conversations"
	"github.com/fini-oss/conversations/server/framing"
	"github.com/fini-oss/conversations/server/ratelimit"
	"github.com/fini-oss/conversations/server/requestid"
	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/tracing"
)

// MaxHeaderBytes bounds the request headers an operation reads: more is a 431 in the
// envelope, as the spec documents. The HTTP server must accept more (fini-server sets
// 1 MiB), or it answers in plain text first.
const MaxHeaderBytes = 64 << 10

// Config configures New. Store is required; the rest has defaults.
type Config struct {
	Store store.API
	// Logger receives one line per request; default slog.Default().
	Logger *slog.Logger
	// ResponseValidation is what a response that breaks the spec does; "" is Enforce.
	ResponseValidation contract.Mode
	// Registry receives the server's metrics and is served at /metrics; default a new one.
	Registry *prometheus.Registry
	// Now is the clock for list windows and key bookkeeping; default time.Now.
	Now func() time.Time
	// OnResponse, when set, is called with the operationId and status of every API response
	// after validation; tests use it to record which documented statuses they exercised.
	OnResponse func(operationID string, status int)
	// RateLimit limits each API key's requests; the zero value is off.
	RateLimit ratelimit.RateLimit
	// TracerProvider, when set, traces every API request: a span named by its route, a span
	// per step of the contract engine. Nil is tracing off, at no cost. Spans of the store's
	// calls come from wrapping Store (storetrace).
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
	access     *accesslog.Log
}

// parts are what New assembles from the Config and the spec, before the routes.
type parts struct {
	cfg      Config
	engine   *contract.Engine
	handlers *conversations.Handlers
	access   *accesslog.Log
	tracing  *tracing.Tracing
	authn    *auth.Authenticator
}

// New builds the stack. The spec is loaded and every operation prepared once, here; an error
// (never a panic) is returned when the spec, the generated code or the Config is wrong.
func New(cfg Config) (*Server, error) {
	p, err := assemble(cfg)
	if err != nil {
		return nil, err
	}
	return p.build(func(api *echo.Echo, strict apiserver.ServerInterface) error {
		apiserver.RegisterHandlers(p.engine.Router(api), strict)
		return p.engine.CheckRoutes()
	})
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
	doc, err := openapi.Load()
	if err != nil {
		return nil, err
	}
	limiter, err := ratelimit.New(cfg.RateLimit, cfg.Now, cfg.Registry)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	authCfg := auth.Config{Keys: cfg.Store, Now: cfg.Now, Logger: cfg.Logger}
	if limiter != nil {
		authCfg.Gate = limiter
	}
	p := &parts{cfg: cfg, authn: auth.New(authCfg), tracing: tracing.New(cfg.TracerProvider)}
	invalid, err := newValidationLog(cfg.Logger, cfg.Registry, cfg.ResponseValidation)
	if err != nil {
		return nil, err
	}
	hooks := contract.Hooks{
		RenderError: apierror.Write,
		Authorizer:  p.authn.Authorizer,
		Invalid:     invalid.observe,
	}
	if p.tracing != nil {
		hooks.Step = p.tracing.Step
	}
	if on := cfg.OnResponse; on != nil {
		hooks.Responded = func(_ echo.Context, op *contract.Operation, status int) { on(op.ID(), status) }
	}
	p.engine, err = contract.New(doc, contract.Options{
		Mode:           cfg.ResponseValidation,
		Formats:        openapi.FormatCheckers,
		MaxHeaderBytes: MaxHeaderBytes,
		Hooks:          hooks,
	})
	if err != nil {
		return nil, fmt.Errorf("server: openapi.yaml: %w", err)
	}
	if p.handlers, err = conversations.New(cfg.Store, doc, cfg.Now); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if p.access, err = accesslog.New(cfg.Logger, cfg.Registry, p.operationID); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return p, nil
}

// build wires the routes: register puts the generated server's on api.
func (p *parts) build(register func(api *echo.Echo, strict apiserver.ServerInterface) error) (*Server, error) {
	srv := &Server{access: p.access, api: p.newEcho(), ops: p.newEcho()}
	if err := register(srv.api, apiserver.NewStrictHandler(p.handlers, nil)); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	srv.api.GET("/openapi.yaml", func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", openapi.Spec)
	})
	srv.api.GET("/docs", serveDocs)
	srv.apiHandler = decoded{srv.api}
	if p.tracing != nil {
		srv.apiHandler = decoded{p.tracing.Handler(srv.api)}
	}
	if err := registerOps(srv.ops, p.cfg.Store, p.cfg.Registry, p.cfg.Logger); err != nil {
		return nil, err
	}
	for _, r := range srv.ops.Routes() {
		if !opsPaths[r.Path] {
			return nil, fmt.Errorf("server: operational route %s is not in opsPaths", r.Path)
		}
	}
	return srv, nil
}

// newEcho is an Echo with the frame that every request passes, API or operational.
func (p *parts) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = apierror.HandleHTTPError
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error { return p.frame(c, next) }
	})
	return e
}

// frame is what every request passes before its route: one function rather than a
// middleware each, since Echo wraps its middleware anew at every request.
func (p *parts) frame(c echo.Context, next echo.HandlerFunc) error {
	requestid.Set(c)
	if p.tracing != nil {
		tracing.NameSpan(c)
	}
	return p.access.Around(c, func() error {
		return recovered(c, func() error {
			p.engine.SetFixedHeaders(c)
			framing.CloseChunked(c)
			return next(c)
		})
	})
}

// operationID is the operationId of the operation c was routed to; "" outside the API.
func (p *parts) operationID(c echo.Context) string {
	if op := p.engine.OperationOf(c); op != nil {
		return op.ID()
	}
	return ""
}

// InFlight is how many requests are being served right now; a graceful shutdown waits for
// it to reach zero.
func (s *Server) InFlight() int64 { return s.access.InFlight() }

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

// decoded routes h on the decoded path (framing.DecodePath), before Echo routes.
type decoded struct{ h http.Handler }

// ServeHTTP implements http.Handler.
func (d decoded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	framing.DecodePath(r.URL)
	d.h.ServeHTTP(w, r)
}
