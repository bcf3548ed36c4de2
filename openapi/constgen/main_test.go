package main

import (
	"strings"
	"testing"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/openapi"
)

// The spec's version is read from openapi.yaml when gen/ is generated, never restated by
// hand: the generated constant is the spec's info.version, and so is the committed one.
func TestSpecVersionIsTheSpecsInfoVersion(t *testing.T) {
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	src, err := generate("api")
	if err != nil {
		t.Fatal(err)
	}
	want := `const SpecVersion = "` + doc.Info.Version + `"`
	if !strings.Contains(string(src), want) {
		t.Errorf("generated source lacks %s:\n%s", want, src)
	}
	if api.SpecVersion != doc.Info.Version {
		t.Errorf("gen/api.SpecVersion = %q, openapi.yaml's info.version = %q: run make generate", api.SpecVersion, doc.Info.Version)
	}
}
