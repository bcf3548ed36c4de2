package contract

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/server/contract/jsonscan"
)

// pathParams are the request's path parameters, decoded, as the generated server binds them:
// what is validated is what the handler gets. A parameter that does not decode keeps its
// raw form, which its check then refuses.
func pathParams(c echo.Context) map[string]string {
	names := c.ParamNames()
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]string, len(names))
	for i, n := range names {
		m[n] = pathParam(c.ParamValues()[i])
	}
	return m
}

// pathParam is a path parameter's value, percent-decoded.
func pathParam(raw string) string {
	if !strings.Contains(raw, "%") {
		return raw
	}
	if v, err := url.PathUnescape(raw); err == nil {
		return v
	}
	return raw
}

// headerBytes counts the bytes of a request's header fields, as a limit on them reads them.
func headerBytes(h http.Header) int {
	n := 0
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// limitBody bounds the request body to the operation's limit; reading past it is an error
// that request validation reports as a 413. An operation that takes no body never reads
// one, so it never answers a 413 it does not document.
func limitBody(c echo.Context, op *Operation) {
	if req := c.Request(); req.Body != nil && op.body != nil {
		req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, op.maxBody)
	}
}

// validateRequest returns nil, or the client's error for the first rule the request breaks:
// the query string, the path, query and header parameters, then the body.
func (e *Engine) validateRequest(ctx context.Context, c echo.Context, op *Operation, in *openapi3filter.RequestValidationInput) *Error {
	// The standard library drops what it cannot parse and keeps the rest: a parameter lost
	// that way would change the answer in silence. Parsed once here, kin-openapi reuses it.
	q, err := parseQuery(in.Request.URL.RawQuery)
	if err != nil {
		return queryStringError(err)
	}
	in.QueryParams = q
	if err := unknownParameter(op, q); err != nil {
		return err
	}
	if !utf8.ValidString(in.Request.URL.RawQuery) || (len(q) > 0 && !validUTF8(q)) {
		return errorf(http.StatusBadRequest, "Invalid query string: not valid UTF-8")
	}
	for _, pc := range op.pathChecks {
		if err := pc.check(pathParam(c.Param(pc.name))); err != nil {
			return errorf(http.StatusBadRequest, "Invalid parameter %q in path: %s", pc.name, err)
		}
	}
	for _, name := range op.single {
		if len(q[name]) > 1 {
			return errorf(http.StatusBadRequest, "Invalid parameter %q in query: given more than once", name)
		}
	}
	for _, p := range op.params {
		if err := openapi3filter.ValidateParameter(ctx, in, p); err != nil {
			return requestError(err, op.maxBody)
		}
	}
	if op.body == nil {
		return nil
	}
	if err := identityEncoding(in.Request); err != nil {
		return err
	}
	if err := strictJSONBody(in.Request, op.maxBody); err != nil {
		return err
	}
	if err := openapi3filter.ValidateRequestBody(ctx, in, op.body); err != nil {
		return requestError(err, op.maxBody)
	}
	return nil
}

// identityEncoding refuses a body with a content coding (gzip, br...): the body is read as
// it comes, so a compressed one would be judged as what it is not.
func identityEncoding(req *http.Request) *Error {
	for _, v := range req.Header.Values(echo.HeaderContentEncoding) {
		for coding := range strings.SplitSeq(v, ",") {
			if c := strings.TrimSpace(coding); c != "" && !strings.EqualFold(c, "identity") {
				return errorf(http.StatusUnsupportedMediaType, "Content-Encoding %q is not supported; send the body uncompressed", clip(c, 64))
			}
		}
	}
	return nil
}

// strictJSONBody refuses a JSON body that Go's decoder would read leniently: trailing data
// after the value, invalid UTF-8, a member named twice (jsonscan.Strict). A proxy or WAF in
// front that parses strictly must see the request this server acts on. Other media types
// and an empty body are left to kin-openapi's 415 and 400.
func strictJSONBody(req *http.Request, maxBody int64) *Error {
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	mt, params, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if mt != echo.MIMEApplicationJSON {
		return nil
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return errorf(http.StatusUnsupportedMediaType, "Content-Type's charset must be utf-8: JSON is UTF-8")
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return requestError(err, maxBody)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := jsonscan.Strict(body); errors.Is(err, jsonscan.ErrInvalid) {
		return errorf(http.StatusBadRequest, "Request body is not valid JSON (one JSON value, nothing after it)")
	} else if err != nil {
		return errorf(http.StatusBadRequest, "Request body is not valid JSON: %s", err)
	}
	return nil
}

// unknownParameter refuses a query parameter the operation does not declare: a misspelled
// one (LIMIT, lmit) would otherwise be ignored, and the answer silently not what was asked.
func unknownParameter(op *Operation, q url.Values) *Error {
	var unknown []string
	for name := range q {
		if !slices.Contains(op.query, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	takes := "takes no query parameters"
	if len(op.query) > 0 {
		takes = "takes " + strings.Join(op.query, ", ")
	}
	return errorf(http.StatusBadRequest, "Invalid query string: unknown parameter %q; %s %s", clip(unknown[0], 64), op.id, takes)
}

// validUTF8 reports whether every name and value of q is valid UTF-8 once decoded.
func validUTF8(q url.Values) bool {
	for name, values := range q {
		if !utf8.ValidString(name) {
			return false
		}
		for _, v := range values {
			if !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}

// noQuery is the parse of an empty query string, shared: kin-openapi and the handlers only
// read it.
var noQuery = url.Values{}

func parseQuery(raw string) (url.Values, error) {
	if raw == "" {
		return noQuery, nil
	}
	return url.ParseQuery(raw)
}
