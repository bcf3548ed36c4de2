package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"
)

// validateResponse returns nil when the response conforms to op's documented responses.
// The memo vouches for what validated before: a body (with its status and content type) and,
// apart, the values of the headers the response declares, which change more often (a rate
// limit's remaining count, say). Whatever it does not vouch for is validated by kin-openapi.
func (e *Engine) validateResponse(ctx context.Context, op *Operation, in *openapi3filter.RequestValidationInput, status int, h http.Header, body []byte) error {
	bodyKey := e.memo.key(op.id, status, memoBody, h.Get(echo.HeaderContentType), body)
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
	// A page of records: each distinct item is validated once, then the page around them.
	if h.Get(echo.HeaderContentType) == echo.MIMEApplicationJSON && len(op.pages[status]) > 0 {
		rest, split, err := e.validateItems(op, status, body)
		if err != nil {
			return err
		}
		if split {
			body = rest
		}
	}
	if err := e.validateWhole(ctx, in, status, h, body); err != nil {
		return err
	}
	e.memo.add(bodyKey)
	e.memo.add(headersKey)
	return nil
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

// describeResponseError words a validation failure of a response without its value: the
// location in the body and the rule (DescribeSchemaError), else kin-openapi's reason, whose
// schema errors leave the value out (DisableSchemaErrorDetails).
func describeResponseError(err error) error {
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return err
	}
	var re *openapi3filter.ResponseError
	if errors.As(err, &re) && re.Reason != "" {
		return fmt.Errorf("%s: %s", re.Reason, DescribeSchemaError(se))
	}
	return errors.New(DescribeSchemaError(se))
}

// send validates the captured response and writes it, or its replacement, to the client.
func (e *Engine) send(c echo.Context, op *Operation, in *openapi3filter.RequestValidationInput, rec *recorder) error {
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
		if e.hooks.Invalid != nil {
			e.hooks.Invalid(c, op, Response, invalid)
		}
		if e.mode == Enforce {
			replacement := &recorder{w: rec.w}
			e.render(c, replacement, invalid)
			status, body = replacement.status, replacement.buf.Bytes()
			setFixedHeaders(res.Header(), op.fixed[status])
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

// render has RenderError write err into rec, as the response of a request not yet answered.
func (e *Engine) render(c echo.Context, rec *recorder, err error) {
	res := c.Response()
	orig := res.Writer
	res.Writer, res.Committed, res.Status, res.Size = rec, false, 0, 0
	e.hooks.RenderError(c, err)
	res.Writer = orig
	if rec.status == 0 {
		rec.status = http.StatusInternalServerError
	}
}
