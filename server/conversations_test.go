package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/internal/version"
	"github.com/fini-oss/conversations/openapi"
	"github.com/fini-oss/conversations/server"
)

func TestDeleteConversation(t *testing.T) {
	e := newTestServer(t)
	id := e.A.ConversationIDs[0]
	e.do("GET", convPath(id), e.A.Key, "").expect(t, 200, "")

	e.do("DELETE", convPath(id), e.A.Key, "").expect(t, 200, success)
	e.do("GET", convPath(id), e.A.Key, "").expect(t, 404, errBody(404, "Conversation not found"))
	// Idempotent, and the same answer for ids that never existed or belong to B.
	e.do("DELETE", convPath(id), e.A.Key, "").expect(t, 200, success)
	e.do("DELETE", convPath(uuid.New()), e.A.Key, "").expect(t, 200, success)
	foreign := e.B.ConversationIDs[0]
	e.do("DELETE", convPath(foreign), e.A.Key, "").expect(t, 200, success)
	e.do("GET", convPath(foreign), e.B.Key, "").expect(t, 200, "")

	e.do("DELETE", convPath("not-a-uuid"), e.A.Key, "").
		expect(t, 400, errBody(400, `Invalid parameter "id" in path: must be a UUID`))
}

func TestBulkDeleteConversations(t *testing.T) {
	e := newTestServer(t)
	ids := e.A.ConversationIDs
	body := func(ids ...any) string {
		b, _ := json.Marshal(map[string]any{"ids": ids})
		return string(b)
	}

	t.Run("all or nothing", func(t *testing.T) {
		unknown, foreign := uuid.New(), e.B.ConversationIDs[1]
		want := fmt.Sprintf(`{"statusCode":406,"message":"Some interactions were not found or are not accessible: %s, %s","error":"Not Acceptable","ids":[%q,%q]}`,
			unknown, foreign, unknown, foreign)
		e.do("DELETE", listPath, e.A.Key, body(ids[1], unknown, ids[2], foreign)).expect(t, 406, want)
		e.do("GET", convPath(ids[1]), e.A.Key, "").expect(t, 200, "")
		e.do("GET", convPath(foreign), e.B.Key, "").expect(t, 200, "")

		e.do("DELETE", listPath, e.A.Key, body(ids[1], ids[2])).expect(t, 200, success)
		e.do("GET", convPath(ids[1]), e.A.Key, "").expect(t, 404, "")
		// Already deleted now: refused, by name.
		e.do("DELETE", listPath, e.A.Key, body(ids[2], ids[3])).expect(t, 406, fmt.Sprintf(
			`{"statusCode":406,"message":"Some interactions were not found or are not accessible: %s","error":"Not Acceptable","ids":[%q]}`, ids[2], ids[2]))
		e.do("GET", convPath(ids[3]), e.A.Key, "").expect(t, 200, "")
	})

	fiftyOne := make([]any, 51)
	for i := range fiftyOne {
		fiftyOne[i] = uuid.New()
	}
	tests := []struct {
		name, contentType, body string
		status                  int
		message                 string
	}{
		{"no body", "", "", 400, "Request body is required"},
		{"malformed", "application/json", `{"ids": [`, 400, "Request body is not valid JSON (one JSON value, nothing after it)"},
		{"data after the value", "application/json", body(ids[5]) + `}}}not json`, 400, "Request body is not valid JSON (one JSON value, nothing after it)"},
		{"two values", "application/json", body(ids[5]) + body(ids[6]), 400, "Request body is not valid JSON (one JSON value, nothing after it)"},
		{"ids named twice", "application/json", fmt.Sprintf(`{"ids":[%q],"ids":[%q]}`, ids[5], ids[6]), 400, `Request body is not valid JSON: member "ids" given twice in one object`},
		{"invalid UTF-8", "application/json; charset=utf-8", fmt.Sprintf("{\"ids\":[%q],\"x\":\"\xff\"}", ids[5]), 400, "Request body is not valid JSON: not valid UTF-8"},
		{"ids missing", "application/json", `{}`, 400, `Invalid request body: property "ids" is missing`},
		{"empty", "application/json", `{"ids":[]}`, 400, "Invalid request body: ids: minimum number of items is 1"},
		{"51 ids", "application/json", body(fiftyOne...), 400, "Invalid request body: ids: maximum number of items is 50"},
		{"duplicates", "application/json", body(ids[5], ids[5]), 400, "Invalid request body: ids.1 repeats ids.0: " + ids[5].String()},
		{"not a uuid", "application/json", body(ids[5], "nope"), 400, "Invalid request body: ids.1: must be a UUID"},
		{"ids not array", "application/json", `{"ids":"x"}`, 400, "Invalid request body: ids: must be an array"},
		{"not json", "text/plain", body(ids[5]), 415, "Content-Type must be application/json"},
		{"too large", "application/json", `{"ids":["` + strings.Repeat("a", 70000) + `"]}`, 413, "Request body is larger than 65536 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodDelete, e.url+listPath, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+e.A.Key)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			e.send(req).expect(t, tt.status, errBody(tt.status, tt.message))
		})
	}
	for _, id := range ids[5:7] {
		e.do("GET", convPath(id), e.A.Key, "").expect(t, 200, "") // nothing refused was deleted
	}
}

func TestGetConversation(t *testing.T) {
	e := newTestServer(t)
	id := e.A.ConversationIDs[3]
	r := e.do("GET", convPath(id), e.A.Key, "")
	r.expect(t, 200, "")
	var c map[string]any
	if err := json.Unmarshal([]byte(r.body), &c); err != nil {
		t.Fatal(err)
	}
	if c["id"] != id.String() || c["events"] == nil || c["userAttributes"] == nil {
		t.Errorf("get = %s", r.body)
	}
	if _, ok := c["botId"]; ok {
		t.Error("botId leaked into the public payload")
	}
	for _, other := range []string{e.B.ConversationIDs[0].String(), uuid.NewString()} {
		e.do("GET", convPath(other), e.A.Key, "").expect(t, 404, errBody(404, "Conversation not found"))
	}
	e.do("GET", convPath("123"), e.A.Key, "").expect(t, 400, errBody(400, `Invalid parameter "id" in path: must be a UUID`))
}

type page struct {
	Interactions []struct {
		ID     string `json:"id"`
		Source string `json:"source"`
	} `json:"interactions"`
	HasMore    bool    `json:"hasMore"`
	NextCursor *string `json:"nextCursor"`
	PrevCursor *string `json:"prevCursor"`
}

func (e *env) list(t *testing.T, key string, q url.Values) page {
	t.Helper()
	r := e.do("GET", listPath+"?"+q.Encode(), key, "")
	r.expect(t, 200, "")
	var p page
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func pageIDs(p page) []string {
	var out []string
	for _, c := range p.Interactions {
		out = append(out, c.ID)
	}
	return out
}

func TestListConversations(t *testing.T) {
	e := newTestServer(t)
	all := e.list(t, e.A.Key, url.Values{"limit": {"100"}})
	if len(all.Interactions) != 30 || all.HasMore || all.NextCursor != nil || all.PrevCursor != nil {
		t.Fatalf("default window: %d conversations, hasMore %v", len(all.Interactions), all.HasMore)
	}

	// Follow nextCursor to the end, then prevCursor back.
	var walked []string
	var pages []page
	q := url.Values{"limit": {"7"}}
	for {
		p := e.list(t, e.A.Key, q)
		pages = append(pages, p)
		walked = append(walked, pageIDs(p)...)
		if p.NextCursor == nil {
			break
		}
		q = url.Values{"limit": {"7"}, "cursor": {*p.NextCursor}, "direction": {"next"}}
	}
	if !slices.Equal(walked, pageIDs(all)) {
		t.Fatalf("walking nextCursor saw %d, want the %d of one big page in the same order", len(walked), len(pageIDs(all)))
	}
	last := pages[len(pages)-1]
	back := e.list(t, e.A.Key, url.Values{"limit": {"7"}, "cursor": {*last.PrevCursor}, "direction": {"previous"}})
	if !slices.Equal(pageIDs(back), pageIDs(pages[len(pages)-2])) || back.NextCursor == nil {
		t.Errorf("previous page = %v, want %v", pageIDs(back), pageIDs(pages[len(pages)-2]))
	}

	// source in both forms, and mixed.
	var widgets []string
	for _, c := range all.Interactions {
		if c.Source == "widget" || c.Source == "api" {
			widgets = append(widgets, c.ID)
		}
	}
	for _, raw := range []string{"source=widget,api", "source=widget&source=api", "source=api&source=widget"} {
		r := e.do("GET", listPath+"?limit=100&"+raw, e.A.Key, "")
		r.expect(t, 200, "")
		var p page
		_ = json.Unmarshal([]byte(r.body), &p)
		if !slices.Equal(pageIDs(p), widgets) {
			t.Errorf("%s: %d conversations, want %d", raw, len(p.Interactions), len(widgets))
		}
	}
	if p := e.list(t, e.A.Key, url.Values{"channel": {"email"}}); len(p.Interactions) != 0 {
		t.Errorf("channel=email: %v", pageIDs(p))
	}
	if p := e.list(t, e.A.Key, url.Values{"botId": {uuid.NewString()}}); len(p.Interactions) != 0 {
		t.Errorf("unknown bot: %v", pageIDs(p))
	}

	// A deleted conversation drops out at once.
	e.do("DELETE", convPath(all.Interactions[0].ID), e.A.Key, "").expect(t, 200, success)
	if p := e.list(t, e.A.Key, url.Values{"limit": {"100"}}); len(p.Interactions) != 29 || p.Interactions[0].ID == all.Interactions[0].ID {
		t.Errorf("after delete: %d conversations", len(p.Interactions))
	}
	// Workspace B sees only its own.
	if p := e.list(t, e.B.Key, url.Values{"limit": {"100"}}); len(p.Interactions) != 10 {
		t.Errorf("workspace B lists %d, want 10", len(p.Interactions))
	}

	now := time.Now().UnixMilli()
	day := int64(24 * time.Hour / time.Millisecond)
	bad := []struct {
		query, message string
	}{
		{"limit=0", `Invalid parameter "limit" in query: number must be at least 1`},
		{"limit=101", `Invalid parameter "limit" in query: number must be at most 100`},
		{"limit=abc", `Invalid parameter "limit" in query: must be an integer`},
		{"limit=5&limit=6", `Invalid parameter "limit" in query: given more than once`},
		{"direction=sideways", `Invalid parameter "direction" in query: value is not one of the allowed values ["next","previous"]`},
		{"direction=previous", `Invalid parameter "direction" in query: "previous" needs a cursor`},
		{"cursor=nope", `Invalid parameter "cursor" in query: must be a UUID`},
		{"cursor=" + uuid.NewString(), `Invalid parameter "cursor" in query: no conversation of this workspace has this id; start again without a cursor`},
		{"cursor=" + e.B.ConversationIDs[0].String(), `Invalid parameter "cursor" in query: no conversation of this workspace has this id; start again without a cursor`},
		{"botId=7", `Invalid parameter "botId" in query: must be a UUID`},
		{fmt.Sprintf("since=%d&until=%d", now, now), `Invalid window: "since" must be earlier than "until"`},
		{fmt.Sprintf("since=%d&until=%d", now-91*day, now), `Invalid window: from "since" to "until" may span at most 90 days`},
		{"since=-1", `Invalid parameter "since" in query: number must be at least 0`},
		{"source=", `Invalid parameter "source" in query: must not be empty`},
		{"source=a,,b", `Invalid parameter "source" in query: empty value`},
		{"source=" + strings.Repeat("s,", 20) + "s", `Invalid parameter "source" in query: at most 20 values`},
		{"source=s" + strings.Repeat("&source=s", 20), `Invalid parameter "source" in query: maximum number of items is 20`},
	}
	for _, tt := range bad {
		t.Run(tt.query, func(t *testing.T) {
			e.do("GET", listPath+"?"+tt.query, e.A.Key, "").expect(t, 400, errBody(400, tt.message))
		})
	}
}

// TestAuthMatrix runs every operation with every kind of key.
func TestAuthMatrix(t *testing.T) {
	e := newTestServer(t)
	malformed := "fini_short"
	unknown := "fini_" + strings.Repeat("A", 43)
	all, err := openapi.Scopes()
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range e.se.Samples(t) {
		// Every scope but one the operation requires: a key that lacks only that one.
		wrong := e.newKey(slices.DeleteFunc(slices.Clone(all), func(s string) bool { return s == op.Scopes[0] })...)
		cases := []struct {
			name, key string
			status    int
			body      string
		}{
			{"no key", "", 401, unauthorized},
			{"malformed", malformed, 401, unauthorized},
			{"unknown", unknown, 401, unauthorized},
			{"revoked", e.revokedKey, 401, unauthorized},
			{"wrong scope", wrong, 403, forbidden},
			{"right scope", e.newKey(op.Scopes...), op.Status, ""},
		}
		for _, c := range cases {
			t.Run(op.OperationID+" "+c.name, func(t *testing.T) {
				r := e.do(op.Method, op.Path, c.key, op.Body)
				r.expect(t, c.status, c.body)
				if got := r.header.Get("WWW-Authenticate"); (c.status == 401) != (got == "Bearer") {
					t.Errorf("%d with WWW-Authenticate %q; a 401, and only a 401, names the Bearer scheme", c.status, got)
				}
			})
		}
	}
	// Not a Bearer header at all.
	req, _ := http.NewRequest(http.MethodGet, e.url+listPath, nil)
	req.Header.Set("Authorization", "Basic "+e.readKey)
	e.send(req).expect(t, 401, unauthorized)
}

// TestEveryOperationRefusesHugeHeaders: headers over the limit are a 431 in the envelope,
// before anything else is read or done.
func TestEveryOperationRefusesHugeHeaders(t *testing.T) {
	e := newTestServer(t)
	for _, op := range e.se.Samples(t) {
		req, _ := http.NewRequest(op.Method, e.url+op.Path, strings.NewReader(op.Body))
		req.Header.Set("Authorization", "Bearer "+e.A.Key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Junk", strings.Repeat("a", server.MaxHeaderBytes))
		e.send(req).expect(t, 431, errBody(431, fmt.Sprintf("Request headers are larger than %d bytes", server.MaxHeaderBytes)))
	}
	for _, op := range e.se.Samples(t) {
		e.do(op.Method, op.Path, e.A.Key, op.Body).expect(t, op.Status, "") // nothing was done
	}
}

func TestServiceRoutes(t *testing.T) {
	e := newTestServer(t)
	e.do("GET", "/nope", "", "").expect(t, 404, errBody(404, "No such route"))
	e.do("PUT", listPath, e.A.Key, "").expect(t, 405, errBody(405, "Method not allowed on this route"))
	e.do("GET", "/healthz", "", "").expect(t, 200, healthy())
	e.do("GET", "/readyz", "", "").expect(t, 200, `{"status":"ready"}`)
	if r := e.do("GET", "/openapi.yaml", "", ""); r.status != 200 || !strings.HasPrefix(r.body, "openapi: 3.0.3") {
		t.Errorf("/openapi.yaml: %d %.40q", r.status, r.body)
	}

	req, _ := http.NewRequest(http.MethodGet, e.url+listPath, nil)
	req.Header.Set("X-Request-Id", "trace-123")
	if r := e.send(req); r.header.Get("X-Request-Id") != "trace-123" {
		t.Errorf("request id not echoed: %q", r.header.Get("X-Request-Id"))
	}
	req.Header.Set("X-Request-Id", strings.Repeat("x", 500))
	if got := e.send(req).header.Get("X-Request-Id"); len(got) != 36 {
		t.Errorf("an over-long request id should be replaced, got %q", got)
	}

	r := e.do("GET", "/metrics", "", "")
	build := version.Get()
	for _, want := range []string{`fini_http_requests_total{operation="listConversations",status="401"}`,
		fmt.Sprintf(`fini_build_info{commit=%q,go_version=%q,spec_version="%s",version=%q} 1`, build.Commit, build.GoVersion, api.SpecVersion, build.Version),
		`fini_validation_failures_total{kind="request"}`, "fini_http_request_duration_seconds"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(r.body, e.A.Key) {
		t.Error("a key leaked into /metrics")
	}
}

// TestIDsAreUUIDsInAnySpelling: upper- and lower-case spellings name the same conversation
// in the path, the bulk body, the cursor and botId; answers use the canonical lower case.
func TestIDsAreUUIDsInAnySpelling(t *testing.T) {
	e := newTestServer(t)
	ids := e.A.ConversationIDs
	upper := func(id uuid.UUID) string { return strings.ToUpper(id.String()) }

	r := e.do("GET", convPath(upper(ids[0])), e.A.Key, "")
	r.expect(t, 200, "")
	if !strings.Contains(r.body, `"id":"`+ids[0].String()+`"`) || strings.Contains(r.body, upper(ids[0])) {
		t.Errorf("get by an upper-case id answered %.120s, want the canonical lower-case id", r.body)
	}
	e.do("DELETE", convPath(upper(ids[0])), e.A.Key, "").expect(t, 200, success)
	e.do("GET", convPath(ids[0]), e.A.Key, "").expect(t, 404, "")

	t.Run("bulk names one id twice in two spellings", func(t *testing.T) {
		body := fmt.Sprintf(`{"ids":[%q,%q,%q]}`, ids[1], ids[2], upper(ids[1]))
		e.do("DELETE", listPath, e.A.Key, body).expect(t, 400,
			errBody(400, fmt.Sprintf("Invalid request body: ids.2 repeats ids.0: %s", ids[1])))
		e.do("GET", convPath(ids[1]), e.A.Key, "").expect(t, 200, "")
		e.do("GET", convPath(ids[2]), e.A.Key, "").expect(t, 200, "")
	})
	t.Run("bulk names one id twice in one spelling", func(t *testing.T) {
		body := fmt.Sprintf(`{"ids":[%q,%q,%q]}`, ids[1], ids[2], ids[2])
		e.do("DELETE", listPath, e.A.Key, body).expect(t, 400,
			errBody(400, fmt.Sprintf("Invalid request body: ids.2 repeats ids.1: %s", ids[2])))
	})
	t.Run("bulk in upper case deletes, and a 406 names canonical ids", func(t *testing.T) {
		missing := uuid.New()
		body := fmt.Sprintf(`{"ids":[%q,%q]}`, upper(ids[3]), upper(missing))
		e.do("DELETE", listPath, e.A.Key, body).expect(t, 406, fmt.Sprintf(
			`{"statusCode":406,"message":"Some interactions were not found or are not accessible: %s","error":"Not Acceptable","ids":[%q]}`, missing, missing))
		e.do("DELETE", listPath, e.A.Key, fmt.Sprintf(`{"ids":[%q]}`, upper(ids[3]))).expect(t, 200, success)
		e.do("GET", convPath(ids[3]), e.A.Key, "").expect(t, 404, "")
	})
	t.Run("cursor and botId", func(t *testing.T) {
		first := e.list(t, e.A.Key, url.Values{"limit": {"5"}})
		lower := e.list(t, e.A.Key, url.Values{"limit": {"5"}, "cursor": {*first.NextCursor}})
		up := e.list(t, e.A.Key, url.Values{"limit": {"5"}, "cursor": {strings.ToUpper(*first.NextCursor)}})
		if !slices.Equal(pageIDs(lower), pageIDs(up)) || *up.PrevCursor != strings.ToLower(*up.PrevCursor) {
			t.Errorf("an upper-case cursor gave %v, the lower-case one %v", pageIDs(up), pageIDs(lower))
		}
		c, err := e.store.GetConversation(context.Background(), e.A.WorkspaceID, ids[10])
		if err != nil || c.BotID == nil {
			t.Fatalf("conversation %s: bot %v, %v", ids[10], c.BotID, err)
		}
		byBot := e.list(t, e.A.Key, url.Values{"limit": {"100"}, "botId": {c.BotID.String()}})
		byUpperBot := e.list(t, e.A.Key, url.Values{"limit": {"100"}, "botId": {strings.ToUpper(c.BotID.String())}})
		if len(byBot.Interactions) == 0 || !slices.Equal(pageIDs(byBot), pageIDs(byUpperBot)) {
			t.Errorf("botId in upper case listed %d, in lower case %d", len(byUpperBot.Interactions), len(byBot.Interactions))
		}
	})
}

// TestQueryStringParsedInFull: a query string the standard library cannot parse in full is
// refused, never served with the unparsable filters silently dropped.
func TestQueryStringParsedInFull(t *testing.T) {
	e := newTestServer(t)
	tests := []struct{ name, path, message string }{
		{"semicolon", listPath + "?limit=5;source=nope", `Invalid query string: ";" does not separate parameters; use "&"`},
		{"semicolon after a filter", listPath + "?source=nope&limit=5;x=1", `Invalid query string: ";" does not separate parameters; use "&"`},
		{"bad escape in a value", listPath + "?limit=5&source=%zz", `Invalid query string: "%zz" is not a valid percent-escape`},
		{"bad escape in a name", listPath + "?sour%cg=widget", `Invalid query string: "%cg" is not a valid percent-escape`},
		{"more than the parser's limit", listPath + "?source=nope" + strings.Repeat("&", 10000), "Invalid query string: too many parameters"},
		{"on get too", convPath(e.A.ConversationIDs[0]) + "?a;b", `Invalid query string: ";" does not separate parameters; use "&"`},
		{"a misspelled parameter", listPath + "?LIMIT=2", `Invalid query string: unknown parameter "LIMIT"; listConversations takes since, until, limit, cursor, direction, botId, source, channel`},
		{"a parameter get does not take", convPath(e.A.ConversationIDs[0]) + "?limit=2", `Invalid query string: unknown parameter "limit"; getConversation takes no query parameters`},
		{"a name without a value", listPath + "?foo", `Invalid query string: unknown parameter "foo"; listConversations takes since, until, limit, cursor, direction, botId, source, channel`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do("GET", tt.path, e.A.Key, "").expect(t, 400, errBody(400, tt.message))
		})
	}
	// A %-escaped semicolon is an ordinary character.
	if p := e.list(t, e.A.Key, url.Values{"source": {"a;b"}}); len(p.Interactions) != 0 {
		t.Errorf("source=a%%3Bb matched %d conversations", len(p.Interactions))
	}
}

// TestPathsAreDecoded: a percent-escape of a character that needs none names the same
// route and id; an escaped "/" does not move a segment boundary.
func TestPathsAreDecoded(t *testing.T) {
	e := newTestServer(t)
	id := e.A.ConversationIDs[0].String()
	e.do("GET", "/v2/hc-interactions/"+strings.ReplaceAll(id, "-", "%2D")+"/public", e.A.Key, "").expect(t, 200, "")
	e.do("GET", "/v2/hc-interactions/p%75blic?limit=1", e.A.Key, "").expect(t, 200, "")
	e.do("GET", "/v2/hc-interactions/"+id+"%2Fpublic", e.A.Key, "").expect(t, 404, errBody(404, "No such route"))
}

// TestBodiesOnlyWhereTheSpecTakesThem: an operation without a request body never reads one,
// so a large body there is ignored, not an undocumented 413.
func TestBodiesOnlyWhereTheSpecTakesThem(t *testing.T) {
	e := newTestServer(t)
	big := strings.Repeat("x", 2<<20)
	for _, r := range []struct{ method, path string }{{"GET", listPath}, {"GET", convPath(e.A.ConversationIDs[0])}, {"DELETE", convPath(e.A.ConversationIDs[1])}} {
		req, _ := http.NewRequest(r.method, e.url+r.path, strings.NewReader(big))
		req.Header.Set("Authorization", "Bearer "+e.A.Key)
		e.send(req).expect(t, 200, "")
	}
}

// TestContentCodingIs415: a body is read as sent, so one with a content coding (gzip, or br
// on a plain body) is refused whole with a 415, and only identity is read.
func TestContentCodingIs415(t *testing.T) {
	e := newTestServer(t)
	ids := e.A.ConversationIDs
	body := fmt.Sprintf(`{"ids":[%q]}`, ids[0])
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write([]byte(body)); err != nil || w.Close() != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, coding, body string
		status             int
		want               string
	}{
		{"gzip", "gzip", gz.String(), 415, errBody(415, `Content-Encoding "gzip" is not supported; send the body uncompressed`)},
		{"br on a plain body", "br", body, 415, errBody(415, `Content-Encoding "br" is not supported; send the body uncompressed`)},
		{"identity after gzip", "gzip, identity", body, 415, errBody(415, `Content-Encoding "gzip" is not supported; send the body uncompressed`)},
		{"identity", "identity", body, 200, success},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodDelete, e.url+listPath, strings.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+e.A.Key)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", tt.coding)
			e.send(req).expect(t, tt.status, tt.want)
		})
	}
}
