// Command docsgen builds the API reference page that the server serves at /docs: openapi.yaml
// rendered by Redoc through the Redocly CLI pinned in package.json (`npx --no-install redocly
// build-docs`), with Redoc's scripts inlined and its telemetry off. It then takes out the one
// address the page would still load from the internet (Redocly's logo in the sidebar, an
// image on Redocly's CDN), and writes DIR/index.html and DIR/docs.gen.go: the page, embedded,
// and the hashes of its inline scripts, the only scripts that its Content-Security-Policy lets
// run. `make generate` runs it (after `npm ci`) and `make check-generated` keeps its output
// current; the output is the same on every run.
//
// Usage (go generate runs it in gen/): go run ../openapi/docsgen -spec ../openapi/openapi.yaml -config docs/docs.cfg.yaml -o docs
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

func main() {
	spec := flag.String("spec", "", "the OpenAPI document")
	config := flag.String("config", "", "the Redocly CLI configuration of the page")
	out := flag.String("o", "", "the directory to write index.html and docs.gen.go into")
	flag.Parse()
	if *spec == "" || *config == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "docsgen: -spec, -config and -o are required")
		os.Exit(2)
	}
	if err := run(*spec, *config, *out); err != nil {
		fmt.Fprintln(os.Stderr, "docsgen:", err)
		os.Exit(1)
	}
}

func run(spec, config, out string) error {
	page, err := buildDocs(spec, config)
	if err != nil {
		return err
	}
	if page, err = offline(page); err != nil {
		return err
	}
	hashes, err := scriptHashes(page)
	if err != nil {
		return err
	}
	src, err := goSource(hashes)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "index.html"), page, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "docs.gen.go"), src, 0o644)
}

// buildDocs runs Redocly CLI's build-docs and returns the page. The CLI's own output (a
// banner, a deprecation notice) is shown only when it fails.
func buildDocs(spec, config string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "docsgen")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	page := filepath.Join(tmp, "index.html")
	cmd := exec.Command("npx", "--no-install", "redocly", "build-docs", spec,
		"--config", config, "--inlineBundle", "--output", page)
	// Telemetry off twice over: the CLI reports nothing, and the page is built with Redoc's
	// telemetry disabled, so that its readers' browsers report nothing either (config says
	// `telemetry: off` too). Without it, the page would differ from machine to machine.
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "NO_UPDATE_NOTIFIER=1")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("npx --no-install redocly build-docs: %w (the pinned Redocly CLI comes with `npm ci`, which `make generate` runs)\n%s", err, log.Bytes())
	}
	return os.ReadFile(page)
}

// external are the addresses that Redoc would load from another origin, and what replaces
// each. Redocly CLI's documentation says that with --inlineBundle only the Redocly logo in the
// sidebar ("API docs by") still loads from its CDN; an empty data: URL is no image, and Redoc
// then leaves the logo out (its onError handler), so the page asks nothing of any other origin.
var external = []struct{ url, replacement string }{
	{"https://cdn.redoc.ly/redoc/logo-mini-full.svg", "data:,"},
	{"https://cdn.redoc.ly/redoc/logo-mini.svg", "data:,"},
}

// offline replaces the external addresses and checks what the page must be: Redoc inlined
// (no script or stylesheet loaded from anywhere) and its telemetry off. A Redocly upgrade
// that changes any of it fails here, before a page that calls out is committed.
func offline(page []byte) ([]byte, error) {
	for _, e := range external {
		if !bytes.Contains(page, []byte(e.url)) {
			return nil, fmt.Errorf("the page no longer refers to %s: check what it loads now (make docs-test) and update docsgen's list", e.url)
		}
		page = bytes.ReplaceAll(page, []byte(e.url), []byte(e.replacement))
	}
	if !bytes.Contains(page, []byte(`"disableTelemetry":true`)) {
		return nil, errors.New(`the page was built with Redoc's telemetry on ("disableTelemetry":true missing)`)
	}
	return page, nil
}

// scriptHashes returns the Content-Security-Policy source expressions ('sha256-...') of the
// page's inline scripts, in the order they appear. A script or stylesheet that the page would
// load (src, <link>) is an error: the page must carry everything it runs.
func scriptHashes(page []byte) ([]string, error) {
	var hashes []string
	z := html.NewTokenizer(bytes.NewReader(page))
	inScript := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				if len(hashes) == 0 {
					return nil, errors.New("the page has no inline script")
				}
				return hashes, nil
			}
			return nil, fmt.Errorf("parse the page: %w", z.Err())
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.DataAtom {
			case atom.Link:
				return nil, fmt.Errorf("the page loads a resource: %s", tok)
			case atom.Script:
				for _, a := range tok.Attr {
					if a.Key == "src" {
						return nil, fmt.Errorf("the page loads a script: %s", tok)
					}
				}
				inScript = true
			}
		case html.TextToken:
			if inScript {
				// The tokenizer returns a script's text raw, with line breaks normalised as a
				// browser does before hashing it.
				sum := sha256.Sum256(z.Text())
				hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
			}
		case html.EndTagToken:
			inScript = false
		}
	}
}

func goSource(hashes []string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by openapi/docsgen from openapi/openapi.yaml. DO NOT EDIT.\n\n")
	b.WriteString("// Package docs holds the API reference page served at /docs: openapi.yaml rendered by Redoc\n")
	b.WriteString("// (Redocly CLI build-docs), with everything it runs inlined.\n")
	b.WriteString("package docs\n\n")
	b.WriteString("import _ \"embed\" // for HTML\n\n")
	b.WriteString("// HTML is index.html, the whole page: it loads nothing from any other address.\n//\n")
	b.WriteString("//go:embed index.html\nvar HTML []byte\n\n")
	b.WriteString("// ScriptSources are the Content-Security-Policy source expressions of the page's inline\n")
	b.WriteString("// scripts (their SHA-256), the only scripts it runs.\n")
	fmt.Fprintf(&b, "const ScriptSources = %q\n", strings.Join(hashes, " "))
	return format.Source(b.Bytes())
}
