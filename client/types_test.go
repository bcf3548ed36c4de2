package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/client"
	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/server/importer"
)

// unusualConversation is a JSON line for import whose fields take the values the demo data
// does not: nulls, a zero rating, an external time, free-form objects, HTML and non-ASCII
// text. created is its createdAt, external its event's externalCreatedAt.
func unusualConversation(id uuid.UUID, created, external time.Time) string {
	return fmt.Sprintf(`{"id":%q,"createdAt":%d,"source":"zendesk","channel":null,"status":null,"resolved":null,`+
		`"hasFeedback":false,"subjectPreview":"<b>Tom & Jerry</b> \u2028 ünïcode 😀","url":null,"externalId":"ZD-1",`+
		`"events":[{"id":%q,"createdAt":%d,"role":"agent","type":"message","message":"a <script> & \"quotes\"",`+
		`"externalId":"ev-1","externalCreatedAt":%d,"approved":true,"resolved":false,"csatRating":0,"feedback":null,`+
		`"attachments":[{"name":"a.png","size":12}],"tags":[{"k":"v"}],"usedArticles":[]}],`+
		`"usedArticles":[],"usedSubfolders":[],"userAttributes":{"nested":{"a":[1,2.5,"x"]},"empty":{}},"botId":%q}`+"\n",
		id, created.UnixMilli(), uuid.New(), created.UnixMilli(), external.UnixMilli(), uuid.New())
}

// rawGet returns the body the API answers to GET path.
func rawGet(t *testing.T, baseURL, key, path string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, baseURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", path, res.StatusCode, err, body)
	}
	return bytes.TrimSuffix(body, []byte("\n"))
}

// TestTypesReadTheAPIAndWriteItBack: the client's types hold the API's times as time.Time
// in UTC and its ids as UUIDs, and marshal back to the API's JSON values, in the bytes the
// generated types write (as the CLI's --json did before the types were the client's own).
func TestTypesReadTheAPIAndWriteItBack(t *testing.T) {
	f := newFixture(t, 3)
	ctx := context.Background()
	id := uuid.New()
	created := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	external := time.UnixMilli(1764590004123)
	im, err := importer.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Import(ctx, f.Store, f.ws.WorkspaceID, strings.NewReader(unusualConversation(id, created, external))); err != nil {
		t.Fatal(err)
	}
	c := f.client(t, f.ws.Key)

	conv, err := c.GetConversation(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	e := conv.Events[0]
	for what, ok := range map[string]bool{
		"the id":                         conv.ID == id,
		"createdAt, in UTC":              conv.CreatedAt.Equal(created) && conv.CreatedAt.Location() == time.UTC,
		"the event's createdAt":          e.CreatedAt.Equal(created) && e.CreatedAt.Location() == time.UTC,
		"the event's externalCreatedAt":  e.ExternalCreatedAt != nil && e.ExternalCreatedAt.Equal(external) && e.ExternalCreatedAt.Location() == time.UTC,
		"the event's role":               e.Role == client.EventRoleAgent,
		"a zero rating, not none":        e.CsatRating != nil && *e.CsatRating == 0,
		"null as nil":                    conv.Channel == nil && conv.Status == nil && conv.Resolved == nil && e.Feedback == nil,
		"[] as empty, not nil":           conv.UsedArticles != nil && len(conv.UsedArticles) == 0,
		"free-form objects as they came": string(e.Tags[0]) == `{"k":"v"}` && string(conv.UserAttributes) == `{"nested":{"a":[1,2.5,"x"]},"empty":{}}`,
		"the text, escapes undone":       *e.Message == `a <script> & "quotes"`,
		"the external help desk's ids":   *conv.ExternalID == "ZD-1" && *e.ExternalID == "ev-1",
	} {
		if !ok {
			t.Errorf("get: %s is not read as the API sent it: %+v", what, conv)
		}
	}
	raw := rawGet(t, f.URL, f.ws.Key, "/v2/hc-interactions/"+id.String()+"/public")
	checkSameJSON(t, "get", conv, raw)

	page, err := c.ListConversations(ctx, client.ListOptions{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Conversations) != 4 || page.HasMore || page.Conversations[0].Events[0].CreatedAt.IsZero() {
		t.Fatalf("list: %d conversations, hasMore %v", len(page.Conversations), page.HasMore)
	}
	raw = rawGet(t, f.URL, f.ws.Key, "/v2/hc-interactions/public?limit=10")
	checkSameJSON(t, "list", page, raw)
	var rawPage struct{ Interactions []json.RawMessage }
	if err := json.Unmarshal(raw, &rawPage); err != nil {
		t.Fatal(err)
	}
	for i, conv := range page.Conversations {
		checkSameJSON(t, "list", conv, rawPage.Interactions[i])
		for _, a := range conv.UsedArticles {
			if a.ID == uuid.Nil || a.Title == "" || a.DocumentURL == nil {
				t.Errorf("list: an article is not read: %+v", a)
			}
		}
		// The demo data was stored as json.Marshal writes it: it comes back byte for byte.
		if conv.ID != id {
			if got, _ := json.Marshal(conv); !bytes.Equal(got, rawPage.Interactions[i]) {
				t.Errorf("list: a demo conversation marshalled back differs from the API's\n got %s\nwant %s", got, rawPage.Interactions[i])
			}
		}
	}
}

// checkSameJSON fails unless v marshals to the same JSON values as raw, the API's answer,
// and to the same bytes as the generated type of the API does.
func checkSameJSON(t *testing.T, what string, v any, raw []byte) {
	t.Helper()
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := jsonValue(t, got), jsonValue(t, raw); !reflect.DeepEqual(g, w) {
		t.Errorf("%s: marshalled back is not the API's answer\n got %s\nwant %s", what, got, raw)
	}
	var generated any = &api.PublicConversation{}
	if _, ok := v.(*client.Page); ok {
		generated = &api.ConversationPage{}
	}
	if err := json.Unmarshal(raw, generated); err != nil {
		t.Fatal(err)
	}
	if want, _ := json.Marshal(generated); !bytes.Equal(got, want) {
		t.Errorf("%s: marshalled back differs from the generated type's JSON\n got %s\nwant %s", what, got, want)
	}
}

// jsonValue decodes JSON with numbers kept as written.
func jsonValue(t *testing.T, data []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	return v
}

// TestTypesJSONRoundTrip: what the API may send, unmarshalled and marshalled again, is the
// same bytes: null stays null and [] stays [], times keep their milliseconds, before 1970
// too.
func TestTypesJSONRoundTrip(t *testing.T) {
	const id, eid = `"7f0c3f52-9d6e-4d43-a7a1-3f5c2b8e9d10"`, `"6e8c2b4f-3a5d-4f9b-8c7e-2d3f4a5b6c7d"`
	event := func(createdAt, externalCreatedAt string) string {
		return `{"approved":null,"attachments":null,"createdAt":` + createdAt + `,"csatRating":4.5,"externalCreatedAt":` + externalCreatedAt +
			`,"externalId":null,"feedback":null,"id":` + eid + `,"message":null,"resolved":true,"role":"otherbot","tags":[],"type":"note","usedArticles":null}`
	}
	conversation := func(createdAt, events, userAttributes string) string {
		return `{"channel":"email","createdAt":` + createdAt + `,"events":` + events + `,"externalId":null,"hasFeedback":true,"id":` + id +
			`,"resolved":false,"source":"api","status":"Resolved","subjectPreview":null,"url":null,"usedArticles":null,` +
			`"usedSubfolders":[{"id":` + eid + `,"title":"Billing"}],"userAttributes":` + userAttributes + `}`
	}
	for _, in := range []string{
		conversation("1764590004001", "[]", "{}"),
		conversation("1764590004001", "null", "null"),
		conversation("-1000", "["+event("0", "null")+"]", `{"a":1}`),
		conversation("253402300799999", "["+event("1", "-62135596800000")+","+event("2", "1764590004999")+"]", `{}`),
	} {
		var c client.Conversation
		if err := json.Unmarshal([]byte(in), &c); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if out, err := json.Marshal(c); err != nil || string(out) != in {
			t.Errorf("round trip (%v):\n got %s\nwant %s", err, out, in)
		}
		var e client.Event
		if len(c.Events) > 0 {
			in := event(fmt.Sprint(c.Events[0].CreatedAt.UnixMilli()), "null")
			if err := json.Unmarshal([]byte(in), &e); err != nil {
				t.Fatal(err)
			}
			if out, err := json.Marshal(e); err != nil || string(out) != in {
				t.Errorf("event round trip (%v):\n got %s\nwant %s", err, out, in)
			}
		}
	}
	var c client.Conversation
	if err := json.Unmarshal([]byte(`{"createdAt":"2026-01-01T00:00:00Z"}`), &c); err == nil {
		t.Error("a time that is not epoch milliseconds was accepted")
	}
}

func TestEventRolesAreTheSpecs(t *testing.T) {
	for got, want := range map[client.EventRole]api.EventRole{
		client.EventRoleUser: api.EventRoleUser, client.EventRoleAgent: api.EventRoleAgent,
		client.EventRoleFinibot: api.EventRoleFinibot, client.EventRoleOtherbot: api.EventRoleOtherbot,
	} {
		if string(got) != string(want) || !want.Valid() {
			t.Errorf("%q, want the spec's %q", got, want)
		}
	}
}
