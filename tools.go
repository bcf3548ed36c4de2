//go:build tools

// Package tools pins the code generators in go.mod, so that `make generate` runs the same
// version on every machine.
package tools

import (
	_ "github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen"
)
