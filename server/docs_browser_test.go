package server_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/fini-oss/conversations/openapi"
	"github.com/fini-oss/conversations/server/servertest"
)

// chromium is Debian's Chromium, which .ci/run installs when it is missing.
const chromium = "/usr/bin/chromium"

// TestDocsPageInBrowser opens /docs of a real server in headless Chromium and checks what a
// reader gets: each operation of the spec under its summary, opened from the page's own
// list of operations, with a tab for every response status the spec documents; bulk delete's
// 406 opened on its description; no script error and no Content-Security-Policy violation;
// and not one request to any origin but the server's. It keeps a screenshot of the opened
// 406 in bin/docs-screenshot.png, CI's artefact. `make docs-test` runs it and requires
// Chromium (FINI_REQUIRE_BROWSER); elsewhere it skips without one, saying how to install it.
func TestDocsPageInBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		msg := fmt.Sprintf("the browser test needs Debian's Chromium at %s (apt-get install -y chromium): %v", chromium, err)
		if os.Getenv("FINI_REQUIRE_BROWSER") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg + "; set FINI_REQUIRE_BROWSER to make this a failure")
	}
	e := servertest.New(t, servertest.Options{})
	ctx := newBrowserTab(t)
	seen := watchPage(t, ctx)

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 1400), chromedp.Navigate(e.URL+"/docs")); err != nil {
		t.Fatalf("open %s/docs: %v", e.URL, err)
	}
	for _, op := range specOperations(t) {
		// Redoc renders an operation when a reader goes to it: click its link in the list of
		// operations (method and path), which is there once the page's scripts have run.
		if _, err := chromedp.Run(ctx, chromedp.PollFunction[bool](jsOpenOperation,
			chromedp.WithPollingArgs(op.method, op.path), chromedp.WithPollingMutation())); err != nil {
			t.Fatalf("no link to %s %s in the list of operations: %v%s", op.method, op.path, err, seen.report())
		}
		tabs, err := chromedp.Run(ctx, chromedp.PollFunction[[]string](jsResponseTabs,
			chromedp.WithPollingArgs(op.summary), chromedp.WithPollingMutation()))
		if err != nil {
			t.Fatalf("operation %q (%s %s) not shown: %v%s", op.summary, op.method, op.path, err, seen.report())
		}
		if !slices.Equal(tabs, op.statuses) {
			t.Errorf("operation %q shows the responses %v, the spec documents %v", op.summary, tabs, op.statuses)
		}
	}

	// Back to bulk delete, once Redoc has scrolled its heading to the top, open its 406.
	bulk := specOperation(t, http.MethodDelete, "/v2/hc-interactions/public")
	if _, err := chromedp.Run(ctx, chromedp.PollFunction[bool](jsOpenOperation,
		chromedp.WithPollingArgs(bulk.method, bulk.path), chromedp.WithPollingMutation())); err != nil {
		t.Fatalf("no link to %s %s: %v%s", bulk.method, bulk.path, err, seen.report())
	}
	if _, err := chromedp.Run(ctx, chromedp.PollFunction[bool](jsAtTop, chromedp.WithPollingArgs(bulk.summary))); err != nil {
		t.Fatalf("the page did not scroll to %q: %v%s", bulk.summary, err, seen.report())
	}
	want := bulk.op.Responses.Status(http.StatusNotAcceptable).Value.Description
	if _, err := chromedp.Run(ctx, chromedp.PollFunction[bool](jsOpenResponse,
		chromedp.WithPollingArgs(bulk.summary, "406", *want), chromedp.WithPollingMutation())); err != nil {
		t.Fatalf("the 406 of %q does not show %q: %v%s", bulk.summary, *want, err, seen.report())
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](jsSearchReady, chromedp.WithPollingMutation())); err != nil {
		t.Fatalf("the page's search never finished loading: %v%s", err, seen.report())
	}
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path, err := filepath.Abs(filepath.Join("..", "bin", "docs-screenshot.png"))
	if err == nil {
		err = os.MkdirAll(filepath.Dir(path), 0o755)
	}
	if err == nil {
		err = os.WriteFile(path, shot, 0o644)
	}
	if err != nil {
		t.Fatalf("keep the screenshot: %v", err)
	}
	t.Logf("screenshot of /docs (bulk delete's 406): %s", path)

	requests, problems := seen.get()
	if !slices.Contains(requests, e.URL+"/docs") {
		t.Errorf("the page's own request was not seen, so the others cannot be trusted: %v", requests)
	}
	for _, u := range requests {
		if !sameOrigin(u, e.URL) {
			t.Errorf("the page requested %.120s, outside the server %s", u, e.URL)
		}
	}
	for _, p := range problems {
		t.Errorf("the page reported: %s", p)
	}
}

// sameOrigin says whether a request of the page stays with the server at origin: its own
// URLs, blob: URLs it made itself, and data: URLs, which are inline.
func sameOrigin(u, origin string) bool {
	return strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "blob:"+origin+"/") ||
		u == origin || strings.HasPrefix(u, origin+"/")
}

// jsOpenOperation clicks the link to an operation (its method and path) in the page's list
// of operations, as a reader would; false until that link exists.
const jsOpenOperation = `function(method, path) {
	const want = (method + path).toLowerCase();
	const link = [...document.querySelectorAll('a[href]')].find(a => a.textContent.trim().toLowerCase() === want);
	if (!link) return false;
	link.click();
	return true;
}`

// jsResponseTabs returns the response statuses that the operation's section (under the
// heading of its summary) offers as tabs; null until that section is shown.
const jsResponseTabs = `function(summary) {
	const h = [...document.querySelectorAll('h2')].find(h => h.textContent.trim() === summary);
	const section = h && h.closest('[data-section-id]');
	const list = section && section.querySelector('[role=tablist][aria-label="Response status"]');
	return list ? [...list.querySelectorAll('[role=tab]')].map(t => t.textContent.trim()) : null;
}`

// jsAtTop says whether the heading of the operation (its summary) is at the top of the
// window, where Redoc scrolls the operation a reader went to (polled on each frame).
const jsAtTop = `function(summary) {
	const h = [...document.querySelectorAll('h2')].find(h => h.textContent.trim() === summary);
	if (!h) return false;
	const top = h.getBoundingClientRect().top;
	return top >= 0 && top < 200;
}`

// jsSearchReady says whether Redoc's search box is ready (it says "Loading..." while it
// indexes the spec), so that the screenshot shows the page at rest.
const jsSearchReady = `![...document.querySelectorAll('span')].some(s => s.textContent === 'Loading...')`

// jsOpenResponse selects the tab of a response status in the operation's section; true once
// the section shows the response's description.
const jsOpenResponse = `function(summary, status, description) {
	const h = [...document.querySelectorAll('h2')].find(h => h.textContent.trim() === summary);
	const section = h && h.closest('[data-section-id]');
	const tab = section && [...section.querySelectorAll('[role=tablist][aria-label="Response status"] [role=tab]')].find(t => t.textContent.trim() === status);
	if (!tab) return false;
	if (tab.getAttribute('aria-selected') !== 'true') {
		tab.click();
		return false;
	}
	return section.innerText.includes(description);
}`

// newBrowserTab starts headless Chromium with a fresh profile, quiet on a closed network
// (no QUIC, component updates, sync or other background connections), and returns a tab;
// both are closed when the test ends.
func newBrowserTab(t *testing.T) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// pageEvents is what the page did that the test checks at the end: the URL of every request
// it made, and every error or warning it reported (exceptions, console errors, browser log
// entries such as a Content-Security-Policy violation).
type pageEvents struct {
	mu                 sync.Mutex
	requests, problems []string
}

// watchPage records the tab's requests and problems. chromedp.Listen sees an event before
// the command that follows it returns, so nothing the page did before a check is missed.
func watchPage(t *testing.T, ctx context.Context) *pageEvents {
	t.Helper()
	p := &pageEvents{}
	err := chromedp.Listen(ctx, func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			p.requests = append(p.requests, ev.Request.URL)
		case *runtime.EventExceptionThrown:
			msg := ev.ExceptionDetails.Text
			if ex := ev.ExceptionDetails.Exception; ex != nil {
				msg += " " + ex.Description
			}
			p.problems = append(p.problems, "exception: "+msg)
		case *runtime.EventConsoleAPICalled:
			switch ev.Type {
			case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
				var args []string
				for _, a := range ev.Args {
					args = append(args, strings.TrimSpace(string(a.Value)+" "+a.Description))
				}
				p.problems = append(p.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				p.problems = append(p.problems, fmt.Sprintf("%s %s: %.300s (%s)", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
			}
		}
	})
	if err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	return p
}

func (p *pageEvents) get() (requests, problems []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests), slices.Clone(p.problems)
}

// report is what the page reported so far, for a failure message.
func (p *pageEvents) report() string {
	_, problems := p.get()
	if len(problems) == 0 {
		return " (the page reported no error)"
	}
	return "; the page reported:\n" + strings.Join(problems, "\n")
}

// specOp is an operation of the spec as the reference page presents it.
type specOp struct {
	method, path, summary string
	// statuses are the documented response statuses, in ascending order.
	statuses []string
	op       *openapi3.Operation
}

// specOperations returns the spec's operations, by path and method.
func specOperations(t *testing.T) []specOp {
	t.Helper()
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	var out []specOp
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for _, method := range slices.Sorted(maps.Keys(item.Operations())) {
			op := item.Operations()[method]
			codes := slices.Sorted(maps.Keys(op.Responses.Map()))
			for _, c := range codes {
				if _, err := strconv.Atoi(c); err != nil {
					t.Fatalf("%s %s documents the response %q, which the page check does not expect", method, path, c)
				}
			}
			out = append(out, specOp{method: method, path: path, summary: op.Summary, statuses: codes, op: op})
		}
	}
	if len(out) == 0 {
		t.Fatal("the spec has no operation")
	}
	return out
}

// specOperation returns the spec's operation of method and path.
func specOperation(t *testing.T, method, path string) specOp {
	t.Helper()
	for _, op := range specOperations(t) {
		if op.method == method && op.path == path {
			return op
		}
	}
	t.Fatalf("no operation %s %s in the spec", method, path)
	return specOp{}
}
