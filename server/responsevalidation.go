package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/openapi"
)

// ValidationMode says what happens to a response that does not conform to the spec.
type ValidationMode string

const (
	// Enforce replaces a non-conforming response with a 500 envelope and logs it (the default).
	Enforce ValidationMode = "enforce"
	// Report logs and counts a non-conforming response and sends it unchanged.
	Report ValidationMode = "report"
	// Off skips response validation. Requests are always validated.
	Off ValidationMode = "off"
)

// ParseValidationMode parses "enforce", "report" or "off"; "" means Enforce.
func ParseValidationMode(s string) (ValidationMode, error) {
	switch m := ValidationMode(strings.ToLower(s)); m {
	case "":
		return Enforce, nil
	case Enforce, Report, Off:
		return m, nil
	}
	return "", fmt.Errorf("response validation mode %q: want enforce, report or off", s)
}

// responseValidator checks each captured response of an operation against the spec before
// it leaves: status, declared headers, content type and body. A body that validated once is
// remembered (responsememo.go), so the same bytes are not walked again.
type responseValidator struct {
	mode       ValidationMode
	opts       openapi3filter.Options
	headerOpts openapi3filter.Options // opts without the body, for a body the memo vouches for
	itemOpts   []openapi3.SchemaValidationOption
	memo       *validatedMemo
	log        *slog.Logger
	metrics    *metrics
	trace      *tracing // nil when tracing is off
	// onResponse, when set, is told of every response that left after validation.
	onResponse func(operationID string, status int)
}

func newResponseValidator(mode ValidationMode, log *slog.Logger, m *metrics, onResponse func(string, int)) *responseValidator {
	formats := openapi.Formats()
	opts := openapi3filter.Options{
		IncludeResponseStatus:   true,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{formats},
	}
	headerOpts := opts
	headerOpts.ExcludeResponseBody = true
	return &responseValidator{
		mode: mode, opts: opts, headerOpts: headerOpts,
		itemOpts:   []openapi3.SchemaValidationOption{formats, openapi3.VisitAsResponse()},
		memo:       newValidatedMemo(),
		log:        log,
		metrics:    m,
		onResponse: onResponse,
	}
}

// send validates the captured response and writes it, or its replacement, to the client.
func (v *responseValidator) send(c echo.Context, op *operation, in *openapi3filter.RequestValidationInput, rec *recorder) error {
	res := c.Response()
	status, body := rec.status, rec.buf.Bytes()
	if status == 0 {
		status = http.StatusOK
	}
	ctx := c.Request().Context()
	vctx, span := v.trace.step(ctx, "validate response")
	err := v.validate(vctx, op, in, status, res.Header(), body)
	endStep(span, err)
	if err != nil {
		v.metrics.validationFailures.WithLabelValues("response").Inc()
		v.log.ErrorContext(ctx, "response does not conform to openapi.yaml",
			"request_id", c.Get(ctxKeyRequestID), "operation", op.id, "status", status,
			"mode", string(v.mode), "error", err)
		if v.mode == Enforce {
			status = http.StatusInternalServerError
			body, _ = jsonBytes(envelope(status, msgInternal))
			res.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
			setFixedHeaders(res.Header(), op.fixed[status])
			c.Set(ctxKeyInternalError, fmt.Errorf("non-conforming response: %w", err))
		}
	}
	res.Status, res.Size = status, int64(len(body))
	res.Header().Del(echo.HeaderContentLength)
	res.Writer.WriteHeader(status)
	if v.onResponse != nil {
		v.onResponse(op.id, status)
	}
	if _, err := res.Writer.Write(body); err != nil {
		return fmt.Errorf("write response: %w", err)
	}
	return nil
}

// validate returns nil when the response conforms to op's documented responses. The memo
// vouches for what validated before: a body (with its status and content type) and, apart,
// the values of the headers the response declares, which change more often (RateLimit).
// Whatever it does not vouch for is validated by kin-openapi.
func (v *responseValidator) validate(ctx context.Context, op *operation, in *openapi3filter.RequestValidationInput, status int, h http.Header, body []byte) error {
	bodyKey := v.memo.key(op.id, status, memoBody, h.Get(echo.HeaderContentType), body)
	headersKey := v.memo.headersKey(op.id, status, op.declaredHeaders[status], h)
	bodyKnown, headersKnown := v.memo.has(bodyKey), v.memo.has(headersKey)
	switch {
	case bodyKnown && headersKnown:
		return nil
	case bodyKnown:
		if err := v.validateHeaders(ctx, in, status, h); err != nil {
			return err
		}
		v.memo.add(headersKey)
		return nil
	}
	// A page of stored conversations: each distinct conversation is validated once, then the
	// page around them in full.
	if h.Get(echo.HeaderContentType) == echo.MIMEApplicationJSON && len(op.itemArrays[status]) > 0 {
		rest, split, err := v.validateItems(op, status, body)
		if err != nil {
			return err
		}
		if split {
			body = rest
		}
	}
	// The whole response: status, headers, content type and body.
	if err := v.validateWhole(ctx, in, status, h, body); err != nil {
		return err
	}
	v.memo.add(bodyKey)
	v.memo.add(headersKey)
	return nil
}

func (v *responseValidator) validateWhole(ctx context.Context, in *openapi3filter.RequestValidationInput, status int, h http.Header, body []byte) error {
	return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 h,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &v.opts,
	})
}

// validateHeaders checks the status and the declared headers of a response, not its body.
func (v *responseValidator) validateHeaders(ctx context.Context, in *openapi3filter.RequestValidationInput, status int, h http.Header) error {
	return openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 h,
		Body:                   http.NoBody,
		Options:                &v.headerOpts,
	})
}

// validateItems validates each item of the arrays found in body, each at most once per
// distinct bytes, and returns body with those arrays emptied, for the caller to validate the
// rest. ok is false when the body is not shaped as expected; the caller then validates the
// whole body the ordinary way.
func (v *responseValidator) validateItems(op *operation, status int, body []byte) (rest []byte, ok bool, err error) {
	arrays := op.itemArrays[status]
	for _, a := range arrays {
		var items [][]byte
		rest, items, ok = cutArray(body, a.name)
		if !ok {
			return nil, false, nil
		}
		for i, item := range items {
			k := v.memo.key(op.id, status, memoItem, a.name, item)
			if v.memo.has(k) {
				continue
			}
			var value any
			if err := json.Unmarshal(item, &value); err != nil {
				return nil, true, fmt.Errorf("%s[%d]: %w", a.name, i, err)
			}
			if err := a.items.VisitJSON(value, v.itemOpts...); err != nil {
				return nil, true, fmt.Errorf("response body %s[%d]: %w", a.name, i, err)
			}
			v.memo.add(k)
		}
		body = rest
	}
	return body, len(arrays) > 0, nil
}
