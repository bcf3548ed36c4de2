package reliability_test

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// logWriter collects a child's stderr for the test to read and to wait on: it serialises
// the copier's writes with the test's reads, and wakes waiters at every write.
type logWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{} // closed, and replaced, at every write
}

func newLogWriter() *logWriter { return &logWriter{wrote: make(chan struct{})} }

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.buf.Write(p)
	close(l.wrote)
	l.wrote = make(chan struct{})
	return n, err
}

func (l *logWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor blocks until the log holds substr, and reports false if limit passes first.
func (l *logWriter) waitFor(substr string, limit time.Duration) bool {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		found, wrote := strings.Contains(l.buf.String(), substr), l.wrote
		l.mu.Unlock()
		if found {
			return true
		}
		select {
		case <-wrote:
		case <-deadline.C:
			return false
		}
	}
}
