package contract

import (
	"context"
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"
)

// Mode says what happens to a response that does not conform to the spec.
type Mode string

const (
	// Enforce replaces a non-conforming response with the application's 500 (the default).
	Enforce Mode = "enforce"
	// Report tells Hooks.Invalid of a non-conforming response and sends it unchanged.
	Report Mode = "report"
	// Off skips response validation. Requests are always validated.
	Off Mode = "off"
)

// ParseMode parses "enforce", "report" or "off", in any case; "" is Enforce.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(s)); m {
	case "":
		return Enforce, nil
	case Enforce, Report, Off:
		return m, nil
	}
	return "", fmt.Errorf("response validation mode %q: want enforce, report or off", s)
}

// Kind is what failed validation: a request or a response.
type Kind int

const (
	// Request is a request the spec refuses; the client got a 4xx.
	Request Kind = iota
	// Response is a response that does not conform to the spec.
	Response
)

// String is "request" or "response".
func (k Kind) String() string {
	if k == Response {
		return "response"
	}
	return "request"
}

// The names of the steps that Hooks.Step measures, in the order a request passes them.
const (
	StepAuthorize        = "authorize"
	StepValidateRequest  = "validate request"
	StepValidateResponse = "validate response"
)

// DefaultMaxBodyBytes bounds the request body of an operation whose spec sets no
// x-max-body-bytes, unless Options.MaxBodyBytes says otherwise.
const DefaultMaxBodyBytes = 1 << 20

// Options configure New. The zero value validates requests and enforces responses, with
// DefaultFormats, and no header limit.
type Options struct {
	// Mode is what a non-conforming response does; "" is Enforce.
	Mode Mode
	// Formats are checks of the string formats the spec uses (`uuid`, say), by name; nil is
	// DefaultFormats. Each returns an error saying what the value must be, which a 400 quotes
	// and which should not quote the value. Path parameters of a format here are checked by
	// calling it alone, without kin-openapi.
	Formats map[string]func(string) error
	// MaxBodyBytes bounds the request body of an operation whose spec sets no
	// x-max-body-bytes; 0 is DefaultMaxBodyBytes. Reading past an operation's limit is a 413.
	MaxBodyBytes int64
	// MaxHeaderBytes, when above 0, refuses a request whose header fields (names and values)
	// take more bytes with a 431, before anything else is done. Each operation must then
	// document 431.
	MaxHeaderBytes int
	// Hooks connect the engine to the application.
	Hooks Hooks
}

// Hooks are what the engine needs of the application. RenderError is required, and
// Authorizer is for a spec that declares security; the others may be nil.
type Hooks struct {
	// RenderError writes err as the response, in the application's error body, through c
	// (c.JSON, say). err is an *Error for a request the engine refuses, a *ResponseError for
	// a response that Enforce replaces, or whatever AuthorizeFunc or the handler returned.
	RenderError func(c echo.Context, err error)
	// Authorizer is called once at New for each operation that declares security (its own
	// or the spec's default), and returns the check of that operation's requests: it reads
	// op.Security() and whatever extension states its scopes. New fails when it returns an
	// error, or when an operation declares security and Authorizer is nil.
	Authorizer func(op *Operation) (AuthorizeFunc, error)
	// Invalid is told of every request the engine refuses (err is an *Error) and every
	// non-conforming response (err is a *ResponseError, whose message quotes no value), for
	// metrics and logs.
	Invalid func(c echo.Context, op *Operation, kind Kind, err error)
	// Step starts measuring a step (a span, say) and returns the context the step runs in
	// and the function that ends it with the step's error. Nil measures nothing, at no cost.
	Step func(ctx context.Context, name string) (context.Context, func(error))
	// Responded is told the status of every response that left after validation (not in
	// Off mode), for a gate that proves every documented status was produced.
	Responded func(c echo.Context, op *Operation, status int)
}
