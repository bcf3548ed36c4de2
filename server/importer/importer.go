// Package importer reads conversations as JSON Lines, one PublicConversation (plus an optional
// botId) a line, validates every line against the spec's schema and stores them all or none.
// `fini-server import` and the demo data use it; it is not part of the HTTP layer. It
// depends on openapi, the generated types and store.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/openapi"
	"github.com/fini-oss/conversations/server/store"
)

// MaxLineBytes bounds one JSON line of an import.
const MaxLineBytes = 16 << 20

// Importer turns JSON Lines of PublicConversation (plus an optional botId) into stored
// conversations, validating each line against the spec's schema.
type Importer struct {
	schema *openapi3.Schema
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
	return &Importer{schema: ref.Value}, nil
}

// Parse validates one line and returns the conversation to store in workspace.
func (im *Importer) Parse(workspace uuid.UUID, line []byte) (store.Conversation, error) {
	var c store.Conversation
	// Stored bytes are served as they are, so they must read the same to every JSON parser.
	if err := openapi.StrictJSON(line); err != nil {
		return c, err
	}
	var generic any
	if err := json.Unmarshal(line, &generic); err != nil {
		return c, fmt.Errorf("not valid JSON: %w", err)
	}
	obj, ok := generic.(map[string]any)
	if !ok {
		return c, errors.New("not a JSON object")
	}
	var botID *uuid.UUID
	if raw, ok := obj["botId"]; ok {
		delete(obj, "botId")
		if raw != nil {
			s, _ := raw.(string)
			id, err := openapi.ParseUUID(s)
			if err != nil {
				return c, errors.New("botId: must be a UUID or null")
			}
			botID = &id
		}
	}
	if err := im.schema.VisitJSON(obj, openapi.Formats(), openapi3.MultiErrors()); err != nil {
		return c, openapi.DescribeSchemaErrors(err)
	}
	var pc api.PublicConversation
	if err := json.Unmarshal(line, &pc); err != nil {
		return c, fmt.Errorf("decode conversation: %w", err)
	}
	body, err := json.Marshal(pc)
	if err != nil {
		return c, fmt.Errorf("encode conversation: %w", err)
	}
	last := pc.CreatedAt
	for i, e := range pc.Events {
		// The spec promises events oldest first; Get serves them in the stored order.
		if i > 0 && e.CreatedAt < pc.Events[i-1].CreatedAt {
			return c, fmt.Errorf("events.%d: createdAt is earlier than events.%d's: events must be oldest first", i, i-1)
		}
		last = max(last, e.CreatedAt)
	}
	return store.Conversation{
		ID: pc.ID, WorkspaceID: workspace, BotID: botID, Source: pc.Source, Channel: pc.Channel,
		CreatedAt: pc.CreatedAt, LastMessageAt: last, Body: body,
	}, nil
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
// line is a *LineError naming its number. Blank lines are skipped. It returns the count.
// Lines are parsed and validated on every core; the first bad line by number is reported.
func (im *Importer) Import(ctx context.Context, s store.Store, workspace uuid.UUID, r io.Reader) (int, error) {
	if _, err := s.GetWorkspace(ctx, workspace); err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	var lines [][]byte
	var numbers []int
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		lines = append(lines, bytes.Clone(line))
		numbers = append(numbers, n)
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("import: read input: %w", err)
	}
	if len(lines) == 0 {
		return 0, nil
	}

	cs := make([]store.Conversation, len(lines))
	errs := make([]error, len(lines))
	workers := min(runtime.GOMAXPROCS(0), len(lines))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(lines); i = int(next.Add(1) - 1) {
				cs[i], errs[i] = im.Parse(workspace, lines[i])
			}
		}()
	}
	wg.Wait()
	seen := make(map[uuid.UUID]int, len(cs))
	for i, c := range cs {
		if errs[i] != nil {
			return 0, &LineError{Line: numbers[i], Err: errs[i]}
		}
		if first, dup := seen[c.ID]; dup {
			return 0, &LineError{Line: numbers[i], Err: fmt.Errorf("conversation %s already on line %d", c.ID, first)}
		}
		seen[c.ID] = numbers[i]
	}
	if err := s.ImportConversations(ctx, cs); err != nil {
		return 0, err
	}
	return len(cs), nil
}
