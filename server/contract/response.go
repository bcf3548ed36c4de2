package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/server/contract/jsonscan"
)

// validateResponse returns nil when the response conforms to op's documented responses.
// The memo vouches for what validated before: a body (with its status and content type) and,
// apart, the values of the headers the response declares, which change more often (a rate
// limit's remaining count, say). Whatever it does not vouch for is validated by kin-openapi.
// A JSON body must be strict JSON (jsonscan.Strict), as a request's must: a client may read
// a second value, or the first of two members, that kin-openapi never saw.
func (e *Engine) validateResponse(ctx context.Context, op *Operation, in *openapi3filter.RequestValidationInput, status int, h http.Header, body []byte) error {
	if err := singleValued(h, op.declared[status]); err != nil {
		return err
	}
	contentType := h.Get(echo.HeaderContentType)
	bodyKey := e.memo.key(op.id, status, memoBody, contentType, body)
	headersKey := e.memo.headersKey(op.id, status, op.declared[status], h)
	bodyKnown, headersKnown := e.memo.has(bodyKey), e.memo.has(headersKey)
	switch {
	case bodyKnown && headersKnown:
		return nil
	case bodyKnown:
		if err := e.validateWhole(ctx, in, status, h, nil); err != nil {
			return err
		}
		e.memo.add(headersKey)
		return nil
	}
	json := isJSON(contentType)
	// A page of records: each distinct item is validated once, then the page around them.
	split := false
	if json && len(op.pages[status]) > 0 {
		rest, ok, err := e.validateItems(op, status, body)
		if err != nil {
			return err
		}
		if split = ok; split {
			body = rest
		}
	}
	if json && len(bytes.TrimSpace(body)) > 0 {
		if err := strictBody(body); err != nil {
			return err
		}
	}
	if err := e.validateWhole(ctx, in, status, h, body); err != nil {
		return err
	}
	e.memo.add(bodyKey)
	e.memo.add(headersKey)
	return nil
}

// singleValued refuses a response that gives its Content-Type, or a header its operation
// declares, more than once: kin-openapi checks the first value only, and a client may read
// another.
func singleValued(h http.Header, declared []string) error {
	if n := len(h[echo.HeaderContentType]); n > 1 {
		return fmt.Errorf("response header %q given %d times", echo.HeaderContentType, n)
	}
	for _, name := range declared {
		if n := len(h[name]); n > 1 {
			return fmt.Errorf("response header %q given %d times", name, n)
		}
	}
	return nil
}

// isJSON reports whether a media type is JSON's: application/json or a +json suffix.
func isJSON(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == echo.MIMEApplicationJSON || strings.HasSuffix(mt, "+json")
}

// strictBody words, without the value, why a response body is not strict JSON.
func strictBody(body []byte) error {
	var dup *jsonscan.DuplicateError
	switch err := jsonscan.Strict(body); {
	case err == nil:
		return nil
	case errors.Is(err, jsonscan.ErrInvalid):
		return errors.New("response body is not one JSON value (or has something after it)")
	case errors.As(err, &dup):
		return errors.New("response body names a member twice in one object")
	default:
		return fmt.Errorf("response body: %w", err)
	}
}

// validateWhole checks the status, the declared headers, the content type and the body (or,
// when body is nil, everything but the body) with kin-openapi.
func (e *Engine) validateWhole(ctx context.Context, in *openapi3filter.RequestValidationInput, status int, h http.Header, body []byte) error {
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 h,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &e.responseOpts,
	}
	if body == nil {
		input.Body, input.Options = http.NoBody, &e.headerOpts
	}
	if err := openapi3filter.ValidateResponse(ctx, input); err != nil {
		return describeResponseError(err)
	}
	return nil
}

// validateItems validates each item of the arrays found in body, each at most once per
// distinct bytes, and returns body with those arrays emptied, for the caller to validate the
// rest. ok is false when the body is not shaped as expected; the caller then validates the
// whole body the ordinary way.
func (e *Engine) validateItems(op *Operation, status int, body []byte) (rest []byte, ok bool, err error) {
	arrays := op.pages[status]
	for _, a := range arrays {
		var items [][]byte
		rest, items, ok = cutArray(body, a.name)
		if !ok {
			return nil, false, nil
		}
		for i, item := range items {
			k := e.memo.key(op.id, status, memoItem, a.name, item)
			if e.memo.has(k) {
				continue
			}
			if err := strictBody(item); err != nil {
				return nil, true, fmt.Errorf("%s.%d: %w", a.name, i, err)
			}
			var value any
			if err := json.Unmarshal(item, &value); err != nil {
				return nil, true, fmt.Errorf("response body %s.%d: not valid JSON", a.name, i)
			}
			if err := a.items.VisitJSON(value, e.itemOpts...); err != nil {
				return nil, true, fmt.Errorf("response body %s.%d: %w", a.name, i, describeResponseError(err))
			}
			e.memo.add(k)
		}
		body = rest
	}
	return body, len(arrays) > 0, nil
}

// describeResponseError words a validation failure of a response without its value:
// kin-openapi's reason (which part broke: the status, a header, the body) and where and
// which rule the value broke (valueFree). A decoder's message, which may quote the value,
// is left out.
func describeResponseError(err error) error {
	var se *openapi3.SchemaError
	hasSchemaError := errors.As(err, &se)
	var re *openapi3filter.ResponseError
	reason := ""
	if errors.As(err, &re) {
		reason = re.Reason
	}
	switch {
	case hasSchemaError && reason != "":
		return fmt.Errorf("%s: %s", reason, valueFree(se))
	case hasSchemaError:
		return errors.New(valueFree(se))
	case reason != "":
		return errors.New(reason)
	}
	return errors.New("response does not conform")
}

// send validates the captured response and writes it, or its replacement, to the client.
func (e *Engine) send(c echo.Context, op *Operation, x *exchange) error {
	in, rec := &x.in, &x.rec
	res := c.Response()
	status, body := rec.status, rec.buf.Bytes()
	if status == 0 {
		status = http.StatusOK
	}
	setFixedHeaders(res.Header(), op.fixed[status])
	ctx, end := e.step(c.Request().Context(), StepValidateResponse)
	err := e.validateResponse(ctx, op, in, status, res.Header(), body)
	if end != nil {
		end(err)
	}
	if err != nil {
		invalid := &ResponseError{Operation: op.id, Status: status, Reason: err.Error()}
		e.invalid(c, op, invalid)
		if e.mode == Enforce {
			replacement := &recorder{w: rec.w}
			e.render(c, op, replacement, invalid, x)
			status, body = replacement.status, replacement.buf.Bytes()
			setFixedHeaders(res.Header(), op.fixed[status])
			// The replacement is the application's; one that breaks the spec is sent all the
			// same, and reported.
			if err := e.validateResponse(ctx, op, in, status, res.Header(), body); err != nil {
				e.invalid(c, op, &ResponseError{Operation: op.id, Status: status, Reason: "the answer that replaced a non-conforming one: " + err.Error()})
			}
		}
	}
	res.Status, res.Size = status, int64(len(body))
	res.Header().Del(echo.HeaderContentLength)
	res.Writer.WriteHeader(status)
	if e.hooks.Responded != nil {
		e.hooks.Responded(c, op, status)
	}
	if _, err := res.Writer.Write(body); err != nil {
		return fmt.Errorf("write response: %w", err)
	}
	return nil
}

// invalid tells Hooks.Invalid of a response that breaks the spec.
func (e *Engine) invalid(c echo.Context, op *Operation, err *ResponseError) {
	if e.hooks.Invalid != nil {
		e.hooks.Invalid(c, op, Response, err)
	}
}

// render has RenderError write err into rec, as the answer of a request not yet answered:
// whatever an answer dropped before it had set of the headers (a Location, a Set-Cookie, a
// Content-Encoding) goes, but for those there before the operation began (x.preset) and those
// the operation declares for the new answer's status.
func (e *Engine) render(c echo.Context, op *Operation, rec *recorder, err error, x *exchange) {
	res := c.Response()
	orig := res.Writer
	res.Writer, res.Committed, res.Status, res.Size = rec, false, 0, 0
	res.Header().Del(echo.HeaderContentType) // Echo's renderers keep one already set
	e.hooks.RenderError(c, err)
	res.Writer = orig
	if rec.status == 0 {
		rec.status = http.StatusInternalServerError
	}
	x.scrub(res.Header(), op.declared[rec.status])
}
