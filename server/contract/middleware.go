package contract

import (
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
)

// middleware returns the middleware of op. Echo has already routed the request, so the
// operation is bound to its route when the Router registers it, and never looked up again.
// A request passes, in order:
//
//  1. the header limit (Options.MaxHeaderBytes): a 431;
//  2. the operation's security (Hooks.Authorizer): the application's 401, 403 or 429;
//  3. the body limit (x-max-body-bytes) and request validation: a 400, 413 or 415;
//  4. the handler, whose response is captured;
//  5. response validation, then the response (or, in Enforce, its replacement) is sent.
//
// The error of any step is rendered by Hooks.RenderError and goes through step 5 like any
// response. A panic in steps 1 to 4 becomes an error, so that its 500 is validated, sent and
// counted too.
func (e *Engine) middleware(op *Operation) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response()
			orig := res.Writer
			x := newExchange(orig)
			defer x.free()
			x.in.Request, x.in.Route, x.in.Options = c.Request(), op.route, &e.requestOpts
			if op.kinPathParams {
				x.in.PathParams = pathParams(c)
			}
			if e.mode == Off {
				res.Before(func() { setFixedHeaders(res.Header(), op.fixed[res.Status]) })
				if err := e.serve(c, op, &x.in, next); err != nil {
					e.hooks.RenderError(c, err)
				}
				return nil
			}
			res.Writer = &x.rec
			err := e.serve(c, op, &x.in, next)
			res.Writer = orig
			if err != nil {
				// An error after the handler answered drops its answer, unsent: the client
				// gets the error alone, never the two run together.
				x.rec.status = 0
				x.rec.buf.Reset()
				e.render(c, op, &x.rec, err, x)
			}
			return e.send(c, op, x)
		}
	}
}

// serve runs steps 1 to 4.
func (e *Engine) serve(c echo.Context, op *Operation, in *openapi3filter.RequestValidationInput, next echo.HandlerFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in %s: %v", op.id, r)
		}
	}()
	req := c.Request()
	if e.maxHeaderBytes > 0 && headerBytes(req.Header) > e.maxHeaderBytes {
		return e.refuse(c, op, errorf(http.StatusRequestHeaderFieldsTooLarge, "Request headers are larger than %d bytes", e.maxHeaderBytes))
	}
	if op.authorize != nil {
		ctx, end := e.step(req.Context(), StepAuthorize)
		err := op.authorize(ctx, c)
		if end != nil {
			end(err)
		}
		if err != nil {
			return err
		}
		in.Request = c.Request() // the authorizer may have put the caller on its context
	}
	limitBody(c, op)
	ctx, end := e.step(c.Request().Context(), StepValidateRequest)
	var invalid error
	if err := e.validateRequest(ctx, c, op, in); err != nil {
		invalid = e.refuse(c, op, err)
	}
	if end != nil {
		end(invalid)
	}
	if invalid != nil {
		return invalid
	}
	return next(c)
}

// refuse tells Hooks.Invalid of a refused request and returns its error.
func (e *Engine) refuse(c echo.Context, op *Operation, err *Error) error {
	if e.hooks.Invalid != nil {
		e.hooks.Invalid(c, op, Request, err)
	}
	return err
}
