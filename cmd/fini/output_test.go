package main

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
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/server/importer"
	"github.com/fini-oss/conversations/server/servertest"
)

// TestOutputIsTheAPIs: list --json prints each conversation of the API's answer as the
// generated api.PublicConversation encodes it (what fini printed before the client had types
// of its own): the API's values, the fields in alphabetical order, byte for byte what the
// API sent for conversations stored in that form (the demo's). get --json prints the same,
// indented. The table and get's text show the API's times in UTC, as they did.
func TestOutputIsTheAPIs(t *testing.T) {
	env := servertest.New(t, servertest.Options{Conversations: 6})
	unusual := importUnusual(t, env)
	f := &fixture{url: env.URL, key: env.Seeded.Key}
	raw := apiGet(t, f, "/v2/hc-interactions/public?limit=10")
	var page struct{ Interactions []json.RawMessage }
	if err := json.Unmarshal(raw, &page); err != nil || len(page.Interactions) != 7 {
		t.Fatalf("the API's page: %d conversations, %v", len(page.Interactions), err)
	}
	convs := make([]api.PublicConversation, len(page.Interactions))
	for i, c := range page.Interactions {
		if err := json.Unmarshal(c, &convs[i]); err != nil {
			t.Fatal(err)
		}
	}

	for _, args := range [][]string{{"--limit", "10"}, {"--all", "--limit", "3"}} {
		r := f.fini(t, f.key, "", append([]string{"conversations", "list", "--json"}, args...)...)
		lines := strings.SplitAfter(r.stdout, "\n")
		if r.code != 0 || len(lines) != len(convs)+1 || lines[len(convs)] != "" {
			t.Fatalf("list --json %v: %+v", args, r)
		}
		for i, line := range lines[:len(convs)] {
			want, _ := json.Marshal(convs[i])
			if line != string(want)+"\n" {
				t.Errorf("list --json %v, line %d:\n got %s\nwant %s", args, i+1, line, want)
			}
			if !reflect.DeepEqual(jsonValue(t, []byte(line)), jsonValue(t, page.Interactions[i])) {
				t.Errorf("list --json %v, line %d: not the API's values\n got %s\nwant %s", args, i+1, line, page.Interactions[i])
			}
			if convs[i].ID != unusual && line != string(page.Interactions[i])+"\n" {
				t.Errorf("list --json %v, line %d: a demo conversation is not the API's bytes\n got %s\nwant %s", args, i+1, line, page.Interactions[i])
			}
		}
	}

	r := f.fini(t, f.key, "", "conversations", "list", "--limit", "10")
	if want := table(convs); r.code != 0 || r.stdout != want {
		t.Errorf("list:\n got %s\nwant %s", r.stdout, want)
	}

	for _, c := range convs {
		raw := apiGet(t, f, "/v2/hc-interactions/"+c.ID.String()+"/public")
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(c); err != nil {
			t.Fatal(err)
		}
		r := f.fini(t, f.key, "", "conversations", "get", "--json", c.ID.String())
		if r.code != 0 || r.stdout != want.String() || !reflect.DeepEqual(jsonValue(t, []byte(r.stdout)), jsonValue(t, raw)) {
			t.Errorf("get --json %s:\n got %s\nwant %s", c.ID, r.stdout, want.String())
		}
		r = f.fini(t, f.key, "", "conversations", "get", c.ID.String())
		if want := text(c); r.code != 0 || r.stdout != want {
			t.Errorf("get %s:\n got %s\nwant %s", c.ID, r.stdout, want)
		}
	}
}

// table is list's table of convs, from the API's epoch milliseconds.
func table(convs []api.PublicConversation) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLATEST MESSAGE\tSOURCE\tCHANNEL\tSTATUS\tSUBJECT")
	for _, c := range convs {
		last := c.CreatedAt
		for _, e := range c.Events {
			last = max(last, e.CreatedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, time.UnixMilli(last).UTC().Format("2006-01-02 15:04"),
			c.Source, deref(c.Channel), deref(c.Status), truncate(deref(c.SubjectPreview), 48))
	}
	tw.Flush()
	return b.String()
}

// text is get's text of c, from the API's epoch milliseconds.
func text(c api.PublicConversation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Conversation %s\nSource:  %s / %s\nStatus:  %s\nStarted: %s\nURL:     %s\n\n",
		c.ID, c.Source, deref(c.Channel), deref(c.Status), time.UnixMilli(c.CreatedAt).UTC().Format(time.RFC3339), deref(c.URL))
	for _, e := range c.Events {
		fmt.Fprintf(&b, "[%s] %-8s %s\n", time.UnixMilli(e.CreatedAt).UTC().Format("2006-01-02 15:04:05"), e.Role, deref(e.Message))
	}
	return b.String()
}

// importUnusual imports a conversation whose fields take values the demo's do not (nulls,
// HTML, a tab, non-ASCII, an external time, fields in the order of the spec's example rather
// than alphabetical) and returns its id.
func importUnusual(t *testing.T, env *servertest.Env) uuid.UUID {
	t.Helper()
	id := uuid.New()
	at := time.Now().Add(-time.Hour).UnixMilli()
	line := fmt.Sprintf(`{"id":%q,"createdAt":%d,"source":"zendesk","channel":null,"status":null,"resolved":null,`+
		`"hasFeedback":false,"subjectPreview":"<b>Tom & Jerry</b>\ttab \u2028 ünïcode 😀","url":null,"externalId":"ZD-1",`+
		`"events":[{"id":%q,"createdAt":%d,"role":"agent","type":"message","message":"a <script> & \"quotes\"",`+
		`"externalId":"ev-1","externalCreatedAt":1764590004123,"approved":true,"resolved":false,"csatRating":0,"feedback":null,`+
		`"attachments":[{"name":"a.png"}],"tags":[{"k":"v"}],"usedArticles":[]},`+
		`{"id":%q,"createdAt":%d,"role":"user","type":"message","message":null,"externalId":null,"externalCreatedAt":null,`+
		`"approved":null,"resolved":null,"csatRating":null,"feedback":null,"attachments":[],"tags":[],"usedArticles":[]}],`+
		`"usedArticles":[],"usedSubfolders":[],"userAttributes":{"z":1,"a":{"b":[1,2.5]}}}`+"\n",
		id, at, uuid.New(), at+30_000, uuid.New(), at+90_000)
	im, err := importer.New()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Import(context.Background(), env.Store, env.Seeded.WorkspaceID, strings.NewReader(line)); err != nil {
		t.Fatal(err)
	}
	return id
}

// apiGet returns the API's answer to GET path, as it sent it.
func apiGet(t *testing.T, f *fixture, path string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, res.StatusCode, err)
	}
	return bytes.TrimSuffix(body, []byte("\n"))
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
