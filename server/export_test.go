package server

import (
	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/gen/apiserver"
	"github.com/fini-oss/conversations/server/apierror"
)

// NewUnvalidated builds the stack with neither request nor response validation: the
// benchmarks' "off" baseline. Each operation only authorizes and runs its handler.
// Test-only, because handlers rely on validated requests.
func NewUnvalidated(cfg Config) (*Server, error) {
	p, err := assemble(cfg)
	if err != nil {
		return nil, err
	}
	perOperation := map[string][]echo.MiddlewareFunc{}
	for _, op := range p.engine.Operations() {
		authorize, err := p.authn.Authorizer(op)
		if err != nil {
			return nil, err
		}
		perOperation[op.ID()] = []echo.MiddlewareFunc{func(next echo.HandlerFunc) echo.HandlerFunc {
			return func(c echo.Context) error {
				err := authorize(c.Request().Context(), c)
				if err == nil {
					err = next(c)
				}
				if err != nil {
					apierror.Write(c, err)
				}
				return nil
			}
		}}
	}
	return p.build(func(api *echo.Echo, strict apiserver.ServerInterface) error {
		apiserver.RegisterHandlersWithOptions(api, strict, apiserver.RegisterHandlersOptions{OperationMiddlewares: perOperation})
		return nil
	})
}
