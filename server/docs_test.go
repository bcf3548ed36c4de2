package server_test

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/fini-oss/conversations/gen/docs"
)

// TestDocsPage: /docs answers the generated reference page, as HTML, without a key, with a
// Content-Security-Policy that lets it load nothing and run only its own inline scripts,
// each named by its hash. (TestDocsPageInBrowser shows that the page works under it.)
func TestDocsPage(t *testing.T) {
	e := newTestServer(t)
	r := e.do("GET", "/docs", "", "")
	if r.status != 200 || r.body != string(docs.HTML) {
		t.Fatalf("GET /docs: %d %.200q, want 200 and gen/docs/index.html", r.status, r.body)
	}
	if got := r.header.Get("Content-Type"); got != "text/html; charset=UTF-8" {
		t.Errorf("Content-Type %q", got)
	}
	csp := r.header.Get("Content-Security-Policy")
	want := "default-src 'none'; script-src " + docs.ScriptSources +
		"; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	if csp != want {
		t.Errorf("Content-Security-Policy\n%s\nwant\n%s", csp, want)
	}
	var allowed []string
	for _, d := range strings.Split(csp, ";") {
		if f := strings.Fields(d); len(f) > 0 && f[0] == "script-src" {
			allowed = f[1:]
		}
	}
	scripts := inlineScriptHashes(t, r.body)
	if len(scripts) == 0 || !slices.Equal(scripts, allowed) {
		t.Errorf("the page's inline scripts hash to %v; script-src allows %v", scripts, allowed)
	}
}

// inlineScriptHashes returns the CSP hash source of each inline script of the page.
func inlineScriptHashes(t *testing.T, page string) []string {
	t.Helper()
	var out []string
	z := html.NewTokenizer(strings.NewReader(page))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt != html.StartTagToken || z.Token().DataAtom != atom.Script {
			continue
		}
		if z.Next() == html.TextToken {
			sum := sha256.Sum256(z.Text())
			out = append(out, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		}
	}
	return out
}
