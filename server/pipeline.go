package server

import (
	"fmt"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
)

// pipeline runs around the handler of each operation of the spec, in this order:
//
//  0. when rate limiting is on, take a token from the key's bucket (ratelimit.go);
//  1. authenticate the key and check the operation's scopes (auth.go);
//  2. limit the request body to the operation's x-max-body-bytes;
//  3. validate the request (requestvalidation.go);
//  4. run the handler, capturing its response;
//  5. validate the response and send it, or its replacement (responsevalidation.go).
//
// The error of any step is rendered in the envelope (errors.go) and goes through step 5 like
// any response. With tracing on, steps 1, 3 and 5 each have a span (tracing.go).
type pipeline struct {
	limits    *limiter // nil when rate limiting is off
	auth      *authenticator
	requests  *requestValidator
	responses *responseValidator
	trace     *tracing // nil when tracing is off
}

// wrap returns the middleware of op. Echo has already routed the request, so the operation
// is bound here, at start-up, and never looked up again.
func (p *pipeline) wrap(op *operation) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(ctxKeyOperation, op.id)
			in := p.requests.input(c, op)
			if p.responses.mode == Off {
				if err := p.serve(c, op, in, next); err != nil {
					writeError(c, err)
				}
				return nil
			}
			res := c.Response()
			orig := res.Writer
			rec := newRecorder(orig)
			defer rec.free()
			res.Writer = rec
			if err := p.serve(c, op, in, next); err != nil {
				writeError(c, err)
			}
			res.Writer = orig
			return p.responses.send(c, op, in, rec)
		}
	}
}

// serve runs steps 0 to 4. A panic in them becomes an error here, so that its 500 is
// validated, sent and counted like any other response of the operation.
func (p *pipeline) serve(c echo.Context, op *operation, in *openapi3filter.RequestValidationInput, next echo.HandlerFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(op.id, r)
		}
	}()
	cred := credentialOf(c.Request())
	if p.limits != nil {
		if err := p.limits.admit(c, op, cred); err != nil {
			return err
		}
	}
	ctx, span := p.trace.step(c.Request().Context(), "authenticate")
	authErr := p.auth.check(ctx, c, op, cred)
	endStep(span, authErr)
	if authErr != nil {
		return authErr
	}
	in.Request = c.Request() // it carries the principal now
	limitBody(c, op)
	ctx, span = p.trace.step(c.Request().Context(), "validate request")
	invalid := p.requests.validate(ctx, op, in)
	endStep(span, invalid)
	if invalid != nil {
		return invalid
	}
	return next(c)
}

// limitBody bounds the request body to the operation's x-max-body-bytes, or
// DefaultMaxBodyBytes; reading past it is an error that request validation reports as the
// operation's documented 413. An operation that takes no body never reads one, so no
// other operation can answer an undocumented 413.
func limitBody(c echo.Context, op *operation) {
	if req := c.Request(); req.Body != nil && op.body != nil {
		req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, op.bodyLimit())
	}
}

// panicError is what a recovered panic becomes: a 500 for the client, the value for the log.
func panicError(where string, r any) error {
	return fmt.Errorf("panic in %s: %v", where, r)
}
