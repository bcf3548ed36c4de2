package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/openapi"
	"github.com/fini-oss/conversations/server/contract"
	"github.com/fini-oss/conversations/server/contract/jsonscan"
	"github.com/fini-oss/conversations/server/store"
)

// Parse validates one line and returns the conversation to store in workspace. Most lines
// take the fast path (fastpath.go); the others, and every line the fast path is not sure of,
// take the general one, which decides.
func (im *Importer) Parse(workspace uuid.UUID, line []byte) (store.Conversation, error) {
	if im.fast != nil {
		if c, ok := parseFast(im.fast, line); ok {
			c.WorkspaceID = workspace
			return c, nil
		}
	}
	return im.parseGeneral(workspace, line)
}

// parseGeneral validates one line with kin-openapi and returns the conversation to store.
//
// A line that the spec accepts is stored as its own bytes (less its botId), since the API
// serves stored conversations as they are: decoding and re-encoding it would cost more than
// validating it. The exception is a line whose bytes are not what an answer may carry, an id
// in upper case (answers use the canonical lower case) or an integer too large to survive a
// float: it is stored re-encoded from the generated types, which canonicalise both.
func (im *Importer) parseGeneral(workspace uuid.UUID, line []byte) (store.Conversation, error) {
	var c store.Conversation
	// Stored bytes are served as they are, so they must read the same to every JSON parser.
	if err := jsonscan.Strict(line); err != nil {
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
	body := line
	if raw, ok := obj["botId"]; ok {
		delete(obj, "botId")
		if raw != nil {
			s, _ := raw.(string)
			id, err := openapi.ParseUUID(s)
			if err != nil {
				return c, errors.New("botId: must be a UUID or null")
			}
			c.BotID = &id
		}
		body = withoutMember(line, "botId")
	}
	if err := im.schema.VisitJSON(obj, openapi.Formats(), openapi3.MultiErrors()); err != nil {
		return c, contract.DescribeSchemaErrors(err)
	}
	var err error
	if canonical(im.schema, obj) {
		err = fromGeneric(&c, obj)
	} else {
		body, err = reencode(&c, body)
	}
	if err != nil {
		return c, err
	}
	c.WorkspaceID, c.Body = workspace, body
	return c, nil
}

// fromGeneric fills the columns of c from the validated, decoded line.
func fromGeneric(c *store.Conversation, obj map[string]any) error {
	id, err := uuid.Parse(obj["id"].(string))
	if err != nil {
		return fmt.Errorf("id: %w", err)
	}
	c.ID, c.Source = id, obj["source"].(string)
	if ch, ok := obj["channel"].(string); ok {
		c.Channel = &ch
	}
	c.CreatedAt = int64(obj["createdAt"].(float64))
	events := obj["events"].([]any)
	times := make([]int64, len(events))
	for i, e := range events {
		times[i] = int64(e.(map[string]any)["createdAt"].(float64))
	}
	c.LastMessageAt, err = latest(c.CreatedAt, times)
	return err
}

// reencode decodes body into the generated types and encodes it again, canonically.
func reencode(c *store.Conversation, body []byte) ([]byte, error) {
	var pc api.PublicConversation
	if err := json.Unmarshal(body, &pc); err != nil {
		return nil, fmt.Errorf("decode conversation: %w", err)
	}
	out, err := json.Marshal(pc)
	if err != nil {
		return nil, fmt.Errorf("encode conversation: %w", err)
	}
	c.ID, c.Source, c.Channel, c.CreatedAt = pc.ID, pc.Source, pc.Channel, pc.CreatedAt
	times := make([]int64, len(pc.Events))
	for i, e := range pc.Events {
		times[i] = e.CreatedAt
	}
	c.LastMessageAt, err = latest(pc.CreatedAt, times)
	return out, err
}

// latest is the time of the latest message: the newest event's, or the conversation's own
// when it has none. The spec promises events oldest first, and Get serves them as stored.
func latest(createdAt int64, events []int64) (int64, error) {
	last := createdAt
	for i, at := range events {
		if i > 0 && at < events[i-1] {
			return 0, fmt.Errorf("events.%d: createdAt is earlier than events.%d's: events must be oldest first", i, i-1)
		}
		last = max(last, at)
	}
	return last, nil
}

// maxExactInt is the largest integer every float64 between 0 and it holds exactly.
const maxExactInt = 1 << 53

// canonical reports whether the decoded value v of schema s is what an answer may carry as
// it is: every uuid-format string in lower case, every integer exact as a float64.
func canonical(s *openapi3.Schema, v any) bool {
	switch x := v.(type) {
	case string:
		return s.Format != "uuid" || x == strings.ToLower(x)
	case float64:
		return !s.Type.Is(openapi3.TypeInteger) || math.Abs(x) < maxExactInt
	case []any:
		if s.Items == nil || s.Items.Value == nil {
			return true
		}
		for _, item := range x {
			if !canonical(s.Items.Value, item) {
				return false
			}
		}
	case map[string]any:
		for name, prop := range s.Properties {
			if value, ok := x[name]; ok && prop.Value != nil && !canonical(prop.Value, value) {
				return false
			}
		}
	}
	return true
}
