// Package importer reads conversations as JSON Lines, one PublicConversation (plus an optional
// botId) a line, validates every line against the spec's schema and stores them all or none.
// `fini-server import` and the demo data use it; it is not part of the HTTP layer. It
// depends on openapi, the generated types, the contract engine (its wording of schema errors
// and its JSON scanner) and store.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/fini-oss/conversations/openapi"
	"github.com/fini-oss/conversations/server/store"
)

// MaxLineBytes bounds one JSON line of an import.
const MaxLineBytes = 16 << 20

// Importer turns JSON Lines of PublicConversation (plus an optional botId) into stored
// conversations, validating each line against the spec's schema.
type Importer struct {
	schema *openapi3.Schema
	// fast is the schema compiled for the fast path; nil if the spec's schema cannot be
	// compiled for it (fastErr says why), and then every line takes the general path.
	fast    *node
	fastErr error
}

// New prepares the PublicConversation schema of the spec.
func New() (*Importer, error) {
	doc, err := openapi.Load()
	if err != nil {
		return nil, err
	}
	ref, ok := doc.Components.Schemas["PublicConversation"]
	if !ok || ref.Value == nil {
		return nil, errors.New("openapi.yaml has no PublicConversation schema")
	}
	fast, err := compileLine(ref.Value)
	return &Importer{schema: ref.Value, fast: fast, fastErr: err}, nil
}

// LineError is an import failure on one line of the input.
type LineError struct {
	Line int
	Err  error
}

// Error names the line and what is wrong with it.
func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the line's error.
func (e *LineError) Unwrap() error { return e.Err }

// Import reads JSON Lines from r and stores them all in one transaction, or nothing: a bad
// line is a *LineError naming its number (the first bad line by number). Blank lines are
// skipped. It returns the count. The input streams through: lines are read, parsed and
// validated on every core, and stored in order while later lines are still being parsed,
// so memory holds a few batches, not the file.
func (im *Importer) Import(ctx context.Context, s store.Imports, workspace uuid.UUID, r io.Reader) (int, error) {
	if _, err := s.GetWorkspace(ctx, workspace); err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := im.parse(ctx, workspace, r)
	n := 0
	seen := map[uuid.UUID]int{}
	err := s.ImportConversations(ctx, func(yield func(store.Conversation, error) bool) {
		for b := range batches {
			// b.cs are the lines before b's error, if any: a duplicate among them comes first.
			for i, c := range b.cs {
				if first, dup := seen[c.ID]; dup {
					yield(store.Conversation{}, &LineError{Line: b.numbers[i], Err: fmt.Errorf("conversation %s already on line %d", c.ID, first)})
					return
				}
				seen[c.ID] = b.numbers[i]
				n++
				if !yield(c, nil) {
					return
				}
			}
			if b.err != nil {
				yield(store.Conversation{}, b.err)
				return
			}
		}
	})
	cancel() // stops the readers and parsers if the store stopped early
	for range batches {
	}
	// A line's error is reported as itself: the store's context says nothing more.
	if le := (*LineError)(nil); errors.As(err, &le) {
		return 0, le
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// jsonSpace is the whitespace JSON allows around a value.
const jsonSpace = " \t\r\n"

// batchLines is how many lines a parser takes at a time.
const batchLines = 256

// batch is a run of consecutive lines: as read, then as parsed.
type batch struct {
	seq     int
	lines   [][]byte
	numbers []int
	cs      []store.Conversation
	err     error // the first error of the batch, a *LineError, or the reader's
	done    chan struct{}
}

// parse reads r in batches of lines, parses them on every core, and returns them in input
// order on the channel, which it closes after the last batch or the first error.
func (im *Importer) parse(ctx context.Context, workspace uuid.UUID, r io.Reader) <-chan *batch {
	work := make(chan *batch)
	ordered := make(chan *batch, runtime.GOMAXPROCS(0)*2)
	go func() {
		defer close(work)
		defer close(ordered)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
		b := &batch{done: make(chan struct{})}
		send := func() bool {
			select {
			case ordered <- b:
			case <-ctx.Done():
				return false
			}
			select {
			case work <- b:
			case <-ctx.Done():
				return false
			}
			b = &batch{seq: b.seq + 1, done: make(chan struct{})}
			return true
		}
		for n := 1; sc.Scan(); n++ {
			// JSON's whitespace only: a line wrapped in a form feed or a Unicode space is not
			// JSON, and is refused rather than guessed at.
			line := bytes.Trim(sc.Bytes(), jsonSpace)
			if len(line) == 0 {
				continue
			}
			b.lines, b.numbers = append(b.lines, bytes.Clone(line)), append(b.numbers, n)
			if len(b.lines) == batchLines && !send() {
				return
			}
		}
		if err := sc.Err(); err != nil {
			b.err = fmt.Errorf("import: read input: %w", err)
			close(b.done)
			select {
			case ordered <- b:
			case <-ctx.Done():
			}
			return
		}
		if len(b.lines) > 0 {
			send()
		}
	}()
	for range runtime.GOMAXPROCS(0) {
		go func() {
			for b := range work {
				b.cs = make([]store.Conversation, 0, len(b.lines))
				for i, line := range b.lines {
					c, err := im.Parse(workspace, line)
					if err != nil {
						b.err = &LineError{Line: b.numbers[i], Err: err}
						break
					}
					b.cs = append(b.cs, c)
				}
				b.lines = nil
				close(b.done)
			}
		}()
	}
	out := make(chan *batch)
	go func() {
		defer close(out)
		for b := range ordered {
			select {
			case <-b.done:
			case <-ctx.Done():
				return
			}
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	return out
}
