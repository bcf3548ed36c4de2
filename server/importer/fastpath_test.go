package importer_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/importer"
	"github.com/fini-oss/conversations/server/store"
)

// agree checks the one promise of the fast path: a line it takes is one the general path
// stores as the very same row.
func agree(t *testing.T, im *importer.Importer, ws uuid.UUID, line []byte) (fast bool) {
	t.Helper()
	got, ok := im.ParseFast(ws, line)
	want, err := im.ParseGeneral(ws, line)
	if ok && err != nil {
		t.Fatalf("the fast path took a line the general path refuses (%v):\n%s", err, line)
	}
	if ok && !sameRow(got, want) {
		t.Fatalf("the two paths store different rows:\nfast    %+v\ngeneral %+v\nline %s", got, want, line)
	}
	return ok
}

func sameRow(a, b store.Conversation) bool {
	return bytes.Equal(a.Body, b.Body) && reflect.DeepEqual(a.Channel, b.Channel) && reflect.DeepEqual(a.BotID, b.BotID) &&
		a.ID == b.ID && a.WorkspaceID == b.WorkspaceID && a.Source == b.Source &&
		a.CreatedAt == b.CreatedAt && a.LastMessageAt == b.LastMessageAt
}

// TestFastPathTakesTheDemoLines: the spec compiles for the fast path, and it takes every
// demo conversation (with a botId, as an export has) and stores what the general path would.
// Without it, an import would silently run at the general path's speed.
func TestFastPathTakesTheDemoLines(t *testing.T) {
	im, err := importer.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := im.FastPathErr(); err != nil {
		t.Fatalf("the spec's PublicConversation does not compile for the fast path: %v", err)
	}
	ws := uuid.New()
	for i, line := range bytes.Split(bytes.TrimSpace(demoLines(t, 500, 3)), []byte("\n")) {
		if !agree(t, im, ws, line) {
			t.Fatalf("demo line %d took the general path:\n%s", i+1, line)
		}
	}
}

// TestFastPathLeavesWhatItIsNotSureOf: lines edited in the ways a real export or an attacker
// spells things: the fast path takes the ones it can read exactly and leaves the rest to the
// general path, which refuses or re-encodes them.
func TestFastPathLeavesWhatItIsNotSureOf(t *testing.T) {
	im, err := importer.New()
	if err != nil {
		t.Fatal(err)
	}
	good := bytes.TrimSpace(demoLines(t, 1, 21))
	var top struct{ ID, BotID string }
	if err := json.Unmarshal(good, &top); err != nil || top.BotID == "" {
		t.Fatalf("the demo line has no id and botId (%v): %s", err, good)
	}
	id := top.ID
	noBot := bytes.Replace(good, []byte(`,"botId":"`+top.BotID+`"`), nil, 1)
	edit := func(old, new string) []byte {
		t.Helper()
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("the demo line has no %q", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	// set gives the first member of that name, whose value is not an object or an array,
	// the JSON value given.
	set := func(member, value string) []byte {
		t.Helper()
		re := regexp.MustCompile(`"` + member + `":("(?:[^"\\]|\\.)*"|[-0-9.eE+]+|true|false|null)`)
		loc := re.FindIndex(good)
		if loc == nil {
			t.Fatalf("the demo line has no scalar %q", member)
		}
		return slices.Concat(good[:loc[0]], []byte(`"`+member+`":`+value), good[loc[1]:])
	}
	tests := []struct {
		name string
		line []byte
		fast bool // whether the fast path should take it
	}{
		{"as exported", good, true},
		{"spaces around", slices.Concat([]byte(" \t"), good, []byte("\r\n ")), true},
		{"no botId", noBot, true},
		{"botId null", set("botId", `null`), true},
		{"botId in upper case", set("botId", `"`+strings.ToUpper(top.BotID)+`"`), true},
		{"botId first", slices.Concat([]byte(`{"botId":"`+top.BotID+`",`), noBot[1:]), true},
		{"a message with escapes", set("message", `"line\none \"quoted\" \u00e9 \ud83d\ude00 \/ \ud800"`), true},
		{"a decimal rating", set("csatRating", `4.5`), true},
		{"a negative zero time", set("externalCreatedAt", `-0`), true},
		{"free attributes of every kind", edit(`"userAttributes":{`, `"userAttributes":{"n":[1,-2.5,true,null,{"x":{}}],"s":"\u0000",`), true},

		{"an id in upper case", edit(id, strings.ToUpper(id)), false},
		{"an id spelt with an escape", edit(id, `\u00`+hexOf(id[0])+id[1:]), false},
		{"a time with an exponent", set("createdAt", `1e3`), false},
		{"a time as a fraction", set("createdAt", `1000.0`), false},
		{"a time of 16 digits", set("externalCreatedAt", `9007199254740993`), false},
		{"a rating with an exponent", set("csatRating", `1e400`), false},
		{"a leading zero", set("csatRating", `01`), false},
		{"a role not in the enum", set("role", `"x"`), false},
		{"a role spelt with an escape", editRole(good), false},
		{"an unknown member", edit(`{"channel"`, `{"extra":1,"channel"`), false},
		{"a member named twice", edit(`{"channel"`, `{"source":"api","channel"`), false},
		{"botId named twice", slices.Concat([]byte(`{"botId":null,`), good[1:]), false},
		{"an attribute named twice", edit(`"userAttributes":{`, `"userAttributes":{"k":1,"k":2,`), false},
		{"more attributes than the fast path compares", edit(`"userAttributes":{`, `"userAttributes":{`+manyMembers(17)+`,`), false},
		{"an attribute name with an escape", edit(`"userAttributes":{`, `"userAttributes":{"\u006b":1,`), false},
		{"a required member missing", edit(`"hasFeedback":`, `"hasFeedbackX":`), false},
		{"null where not nullable", set("hasFeedback", `null`), false},
		{"a bad botId", set("botId", `"nope"`), false},
		{"a url that is not one", set("url", `"not a uri"`), false},
		{"invalid UTF-8", set("message", "\"\xff\""), false},
		{"a control character", set("message", "\"\x01\""), false},
		{"a bad escape", set("message", `"\x"`), false},
		{"data after the object", slices.Concat(good, []byte(" {}")), false},
		{"cut short", good[:len(good)-1], false},
		{"not an object", slices.Concat([]byte(`[`), good, []byte(`]`)), false},
		{"empty", []byte(``), false},
	}
	ws := uuid.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fast := agree(t, im, ws, tt.line); fast != tt.fast {
				t.Errorf("fast path took it: %v, want %v\n%s", fast, tt.fast, tt.line)
			}
		})
	}
}

// hexOf returns the two hex digits of c's code, for a \u00XX escape of it.
func hexOf(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// editRole spells the first event's role with an escape, which means the same string.
func editRole(line []byte) []byte {
	for _, role := range []string{"user", "agent", "finibot", "otherbot"} {
		old := []byte(`"role":"` + role + `"`)
		if bytes.Contains(line, old) {
			return bytes.Replace(line, old, []byte(`"role":"\u00`+hexOf(role[0])+role[1:]+`"`), 1)
		}
	}
	return line
}

// manyMembers returns n members "m0":0, "m1":1, ... of an object, without its braces.
func manyMembers(n int) string {
	ms := make([]string, n)
	for i := range ms {
		ms[i] = fmt.Sprintf(`"m%d":%d`, i, i)
	}
	return strings.Join(ms, ",")
}
