package contract

import (
	"bytes"
	"net/http"
	"slices"
	"sync"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// exchange is what the engine keeps of one request while it is served: the input that
// kin-openapi validates, and the response captured for validation. Pooled: nothing keeps
// either once the response is sent.
type exchange struct {
	in  openapi3filter.RequestValidationInput
	rec recorder
	// preset are the names of the response's headers before the operation began (the
	// application's own, such as a request id), which a replaced answer keeps.
	preset []string
}

var exchanges = sync.Pool{New: func() any { return new(exchange) }}

func newExchange(w http.ResponseWriter) *exchange {
	x := exchanges.Get().(*exchange)
	x.rec.w, x.rec.status = w, 0
	x.rec.buf.Reset()
	x.preset = x.preset[:0]
	for name := range w.Header() {
		x.preset = append(x.preset, name)
	}
	return x
}

// scrub removes from h the headers that an answer now dropped may have set: every one that
// was not there before the operation began and that declared (the operation's headers for
// the new answer's status) does not name, but for Content-Type, which the new answer set.
func (x *exchange) scrub(h http.Header, declared []string) {
	for name := range h {
		if name != "Content-Type" && !slices.Contains(x.preset, name) && !slices.Contains(declared, name) {
			delete(h, name)
		}
	}
}

func (x *exchange) free() {
	x.in = openapi3filter.RequestValidationInput{}
	x.rec.w = nil
	if x.rec.buf.Cap() <= 1<<20 { // keep huge pages out of the pool
		exchanges.Put(x)
	}
}

// recorder captures a response so that it can be validated before it leaves.
type recorder struct {
	w      http.ResponseWriter
	status int
	buf    bytes.Buffer
}

// Header shares the real writer's header map: handlers set headers once, in one place.
func (r *recorder) Header() http.Header { return r.w.Header() }

// WriteHeader implements http.ResponseWriter.
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// Write implements http.ResponseWriter.
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.buf.Write(b)
}
