//go:build tools

// Package tools pins the code generators and release tools in go.mod, so that `make generate`
// and `make release` (cyclonedx-gomod, for the SBOMs) run the same version on every machine.
package tools

import (
	_ "github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod"
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)
