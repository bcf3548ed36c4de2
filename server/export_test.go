package server

import "github.com/labstack/echo/v4"

// NewUnvalidated builds the stack with neither request nor response validation: the
// benchmarks' "off" baseline. Each operation only authenticates and runs its handler.
// Test-only, because handlers rely on validated requests.
func NewUnvalidated(cfg Config) (*Server, error) {
	p, err := assemble(cfg)
	if err != nil {
		return nil, err
	}
	return p.build(func(op *operation) echo.MiddlewareFunc {
		return func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				c.Set(ctxKeyOperation, op.id)
				if err := p.pipeline.auth.check(c.Request().Context(), c, op, credentialOf(c.Request())); err != nil {
					writeError(c, err)
					return nil
				}
				if err := next(c); err != nil {
					writeError(c, err)
				}
				return nil
			}
		}
	})
}
