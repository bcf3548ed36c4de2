package reliability_test

import (
	"io"
	"sync"
)

// syncWriter serialises writes from the child's stderr copier and reads by the test.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
