package importer_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/demo"
	"github.com/fini-oss/conversations/server/importer"
)

// FuzzImportParse feeds arbitrary lines to the import parser. Invariants: no panic; a line
// it accepts is stored in a form that parses again to the same bytes.
func FuzzImportParse(f *testing.F) {
	im, err := importer.New()
	if err != nil {
		f.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(13, 14))
	for range 3 {
		c := demo.Conversation(time.Now(), rnd)
		line, _ := json.Marshal(c)
		f.Add(line)
	}
	f.Add([]byte(`{"id":"0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8","botId":null}`))
	f.Add([]byte(`[1,2,3]`))
	f.Add([]byte("{\"id\":\"\x00\"}"))
	ws := uuid.New()
	f.Fuzz(func(t *testing.T, line []byte) {
		c, err := im.Parse(ws, line)
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error message")
			}
			return
		}
		again, err := im.Parse(ws, c.Body)
		if err != nil {
			t.Fatalf("stored body does not parse again: %v\n%s", err, c.Body)
		}
		if !bytes.Equal(again.Body, c.Body) || again.ID != c.ID || again.LastMessageAt != c.LastMessageAt {
			t.Fatalf("parse is not stable:\n%s\n%s", c.Body, again.Body)
		}
	})
}

// TestParseRefusesWhatTheAPICouldNotServeAsPromised: a line is refused, with the reason, when
// its stored bytes would read differently to another parser or break a promise of the spec
// that its schema cannot state.
func TestParseRefusesWhatTheAPICouldNotServeAsPromised(t *testing.T) {
	im, err := importer.New()
	if err != nil {
		t.Fatal(err)
	}
	good, err := json.Marshal(demo.Conversation(time.Now(), rand.New(rand.NewPCG(5, 6))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Parse(uuid.New(), good); err != nil {
		t.Fatalf("a demo conversation was refused: %v", err)
	}
	edit := func(f func(map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	twoEvents := func(m map[string]any) {
		e := m["events"].([]any)[0].(map[string]any)
		later := map[string]any{}
		for k, v := range e {
			later[k] = v
		}
		later["id"] = uuid.NewString()
		e["createdAt"] = e["createdAt"].(float64) + 1000 // the first event is now the newer
		m["events"] = []any{e, later}
	}
	tests := []struct {
		name string
		line []byte
		want string
	}{
		{"events not oldest first", edit(twoEvents), "events.1: createdAt is earlier than events.0's: events must be oldest first"},
		{"a member named twice", bytes.Replace(good, []byte(`"userAttributes":{`), []byte(`"userAttributes":{"plan":"x",`), 1),
			`member "plan" given twice in one object`},
		{"data after the object", append(append([]byte{}, good...), []byte(` {}`)...), "not valid JSON, or more than one JSON value"},
		{"invalid UTF-8", bytes.Replace(good, []byte(`"locale":"en-GB"`), []byte("\"locale\":\"\xff\""), 1), "not valid UTF-8"},
		{"a url that is not one", edit(func(m map[string]any) { m["url"] = "not a uri" }), "url: must be an absolute URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := im.Parse(uuid.New(), tt.line); err == nil || err.Error() != tt.want {
				t.Errorf("Parse = %v, want %q", err, tt.want)
			}
		})
	}
}
