package contract

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// EchoRouter is what the server code that oapi-codegen generates registers its routes on (its
// own EchoRouter interface has these methods): an *echo.Echo, or an *echo.Group to serve the
// API under a prefix.
type EchoRouter interface {
	CONNECT(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
	DELETE(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
	GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
	HEAD(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
	OPTIONS(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
	PATCH(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
	POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
	PUT(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
	TRACE(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
}

// Router registers the generated server's routes on an EchoRouter with the engine's
// middleware in front of each operation: pass it to the generated RegisterHandlers, then
// call Engine.CheckRoutes. No operation can then be served without the engine. Routes are
// registered before the server serves; a Router is not for concurrent use.
type Router struct {
	e    *Engine
	next EchoRouter
}

var _ EchoRouter = (*Router)(nil)

// Router returns a Router over r.
func (e *Engine) Router(r EchoRouter) *Router { return &Router{e: e, next: r} }

// register registers path on the next router with add, the engine's middleware first when
// method and path are an operation's, and records what it served.
func (r *Router) register(method, path string, h echo.HandlerFunc, m []echo.MiddlewareFunc,
	add func(string, echo.HandlerFunc, ...echo.MiddlewareFunc) *echo.Route) *echo.Route {
	op := r.e.bySpecPath[route{method, path}]
	if op == nil {
		r.e.strays = append(r.e.strays, method+" "+path)
		return add(path, h, m...)
	}
	rt := add(path, h, append([]echo.MiddlewareFunc{r.e.middleware(op)}, m...)...)
	r.e.registered[op.id]++
	r.e.routes[route{rt.Method, rt.Path}] = op
	return rt
}

// CONNECT implements EchoRouter.
func (r *Router) CONNECT(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.register(http.MethodConnect, path, h, m, r.next.CONNECT)
}

// DELETE implements EchoRouter.
func (r *Router) DELETE(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.register(http.MethodDelete, path, h, m, r.next.DELETE)
}

// GET implements EchoRouter.
func (r *Router) GET(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.register(http.MethodGet, path, h, m, r.next.GET)
}

// HEAD implements EchoRouter.
func (r *Router) HEAD(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.register(http.MethodHead, path, h, m, r.next.HEAD)
}

// OPTIONS implements EchoRouter.
func (r *Router) OPTIONS(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.register(http.MethodOptions, path, h, m, r.next.OPTIONS)
}

// PATCH implements EchoRouter.
func (r *Router) PATCH(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.register(http.MethodPatch, path, h, m, r.next.PATCH)
}

// POST implements EchoRouter.
func (r *Router) POST(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.register(http.MethodPost, path, h, m, r.next.POST)
}

// PUT implements EchoRouter.
func (r *Router) PUT(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.register(http.MethodPut, path, h, m, r.next.PUT)
}

// TRACE implements EchoRouter.
func (r *Router) TRACE(path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.register(http.MethodTrace, path, h, m, r.next.TRACE)
}

// CheckRoutes returns an error unless every operation of the spec was registered exactly
// once through a Router, and nothing else was: code generated from another version of the
// spec, or routes registered around the engine, fail here, at start-up, rather than serve
// an operation the engine does not validate.
func (e *Engine) CheckRoutes() error {
	var missing, twice []string
	for _, o := range e.ops {
		switch n := e.registered[o.id]; {
		case n == 0:
			missing = append(missing, o.id+" ("+o.method+" "+o.path+")")
		case n > 1:
			twice = append(twice, o.id)
		}
	}
	switch {
	case len(missing) > 0:
		return fmt.Errorf("contract: no route registered through the engine's Router serves %v: register the generated handlers on Engine.Router, or regenerate them from the spec", missing)
	case len(twice) > 0:
		return fmt.Errorf("contract: %v registered more than once", twice)
	case len(e.strays) > 0:
		return fmt.Errorf("contract: %v registered through the engine's Router are no operation of the spec: regenerate the server from the spec", e.strays)
	}
	return nil
}
