package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestDeriveVersion(t *testing.T) {
	const commit = "dde0754f0c1e2a3b4c5d6e7f8091a2b3c4d5e6f7"
	at := time.Date(2026, 12, 4, 9, 30, 15, 0, time.UTC)
	tests := []struct {
		name           string
		atHead, merged []string
		modified       bool
		want           string
	}{
		{name: "no tag", want: "v0.0.0-20261204093015-dde0754f0c1e"},
		{name: "no tag, modified", modified: true, want: "v0.0.0-20261204093015-dde0754f0c1e+dirty"},
		{name: "a tag at HEAD", atHead: []string{"v1.3.0"}, merged: []string{"v1.3.0", "v1.0.0"}, want: "v1.3.0"},
		{name: "the highest of two tags at HEAD", atHead: []string{"v1.3.0", "v1.3.1"}, want: "v1.3.1"},
		{name: "a tag at HEAD, modified", atHead: []string{"v1.3.0"}, modified: true, want: "v1.3.0+dirty"},
		{name: "after a tag", merged: []string{"v1.0.0", "v1.3.0"}, want: "v1.3.1-0.20261204093015-dde0754f0c1e"},
		{name: "after a pre-release", merged: []string{"v1.4.0-rc.1"}, want: "v1.4.0-rc.1.0.20261204093015-dde0754f0c1e"},
		{name: "after a v2 tag", merged: []string{"v2.0.0"}, want: "v2.0.1-0.20261204093015-dde0754f0c1e"},
		{name: "tags that are not versions are ignored", atHead: []string{"vnext"}, merged: []string{"v1", "v1.2.3+meta"}, want: "v0.0.0-20261204093015-dde0754f0c1e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deriveVersion(tt.atHead, tt.merged, commit, at, tt.modified); got != tt.want {
				t.Errorf("deriveVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLdflagsStampBothPackages(t *testing.T) {
	st := stamp{version: "v1.3.0", commit: "abc", modified: true}
	want := "-s -w -buildid= -X github.com/fini-oss/conversations/internal/version.version=v1.3.0 " +
		"-X github.com/fini-oss/conversations/client.version=v1.3.0 " +
		"-X github.com/fini-oss/conversations/internal/version.commit=abc " +
		"-X github.com/fini-oss/conversations/internal/version.modified=true"
	if got := st.ldflags(); got != want {
		t.Errorf("ldflags = %q\nwant      %q", got, want)
	}
}

// The SBOM's timestamp is the release's, whatever the tool wrote, and nothing else changes.
func TestSetTimestamp(t *testing.T) {
	name := filepath.Join(t.TempDir(), "sbom.json")
	in := `{"bomFormat":"CycloneDX","metadata":{"component":{"name":"m","version":"v1.3.0"}},"components":[{"name":"a&b"}]}`
	if err := os.WriteFile(name, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := setTimestamp(name, time.Date(2026, 12, 4, 16, 0, 0, 0, time.FixedZone("CET", 3600))); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var got, want any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"bomFormat":"CycloneDX","metadata":{"timestamp":"2026-12-04T15:00:00Z","component":{"name":"m","version":"v1.3.0"}},"components":[{"name":"a&b"}]}`), &want); err != nil {
		t.Fatal(err)
	}
	if a, b := mustJSON(t, got), mustJSON(t, want); !bytes.Equal(a, b) {
		t.Errorf("SBOM after setTimestamp:\n%s\nwant\n%s", a, b)
	}
	if err := os.WriteFile(name, []byte(`{"bomFormat":"CycloneDX"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := setTimestamp(name, time.Now()); err == nil {
		t.Error("an SBOM without metadata was accepted")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
