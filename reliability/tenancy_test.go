package reliability_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestTenancy: for every operation, workspace A's keys against every id of workspace B have
// no effect and get an answer byte-identical (request id aside) to the answer for an id that
// does not exist.
func TestTenancy(t *testing.T) {
	f := newFixture(t, "sqlite", 30)
	p := start(t, f.db, "")
	same := func(what string, foreign, missing answer, foreignID, missingID string) {
		t.Helper()
		if foreign.err != nil || missing.err != nil {
			t.Fatalf("%s: %v / %v", what, foreign.err, missing.err)
		}
		// The answer may name the id it was given; with the ids swapped, nothing else differs.
		fb := bytes.ReplaceAll(foreign.body, []byte(foreignID), []byte(missingID))
		if foreign.status != missing.status || !bytes.Equal(fb, missing.body) || !sameHeaders(foreign.header, missing.header) {
			t.Errorf("%s: B's id answers %d %s, a missing id %d %s", what, foreign.status, foreign.body, missing.status, missing.body)
		}
	}
	for _, key := range []string{f.A.Key, f.readKey, f.writeKey} {
		for _, id := range f.B.ConversationIDs {
			missing := uuid.NewString()
			b, m := id.String(), missing
			same("get", call("GET", convURL(p.url, b), key, ""), call("GET", convURL(p.url, m), key, ""), b, m)
			same("delete", call("DELETE", convURL(p.url, b), key, ""), call("DELETE", convURL(p.url, m), key, ""), b, m)
			bulk := func(x string) string { return fmt.Sprintf(`{"ids":[%q]}`, x) }
			same("bulk delete", call("DELETE", listURL(p.url), key, bulk(b)), call("DELETE", listURL(p.url), key, bulk(m)), b, m)
			same("list cursor", call("GET", listURL(p.url)+"?cursor="+b, key, ""), call("GET", listURL(p.url)+"?cursor="+m, key, ""), b, m)
		}
	}
	// A's list never shows B's conversations, and B's data is untouched.
	var page struct{ Interactions []struct{ ID string } }
	a := call("GET", listURL(p.url)+"?limit=100", f.A.Key, "")
	if err := json.Unmarshal(a.body, &page); err != nil || len(page.Interactions) != 30 {
		t.Fatalf("A lists %d conversations (%v), want its 30", len(page.Interactions), err)
	}
	for _, c := range page.Interactions {
		for _, id := range f.B.ConversationIDs {
			if c.ID == id.String() {
				t.Fatalf("A's list shows B's conversation %s", c.ID)
			}
		}
	}
	for _, id := range f.B.ConversationIDs {
		if r := call("GET", convURL(p.url, id), f.B.Key, ""); r.status != http.StatusOK {
			t.Errorf("B's conversation %s after A's attempts: %d", id, r.status)
		}
	}
}

func sameHeaders(a, b http.Header) bool {
	for _, h := range []string{"Content-Type", "Content-Length"} {
		if a.Get(h) != b.Get(h) {
			return false
		}
	}
	return len(a) == len(b) && strings.EqualFold(a.Get("Content-Type"), b.Get("Content-Type"))
}
