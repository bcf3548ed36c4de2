package contract

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// exchange is what the engine keeps of one request while it is served: the input that
// kin-openapi validates, and the response captured for validation. Pooled: nothing keeps
// either once the response is sent.
type exchange struct {
	in  openapi3filter.RequestValidationInput
	rec recorder
}

var exchanges = sync.Pool{New: func() any { return new(exchange) }}

func newExchange(w http.ResponseWriter) *exchange {
	x := exchanges.Get().(*exchange)
	x.rec.w, x.rec.status = w, 0
	x.rec.buf.Reset()
	return x
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
