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
