package contract

import (
	"bytes"
	"net/http"
	"sync"
)

// recorder captures a response so that it can be validated before it leaves.
type recorder struct {
	w      http.ResponseWriter
	status int
	buf    bytes.Buffer
}

var recorders = sync.Pool{New: func() any { return new(recorder) }}

func newRecorder(w http.ResponseWriter) *recorder {
	r := recorders.Get().(*recorder)
	r.w, r.status = w, 0
	r.buf.Reset()
	return r
}

func (r *recorder) free() {
	r.w = nil
	if r.buf.Cap() <= 1<<20 { // keep huge pages out of the pool
		recorders.Put(r)
	}
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
