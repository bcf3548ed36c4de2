// Package openapi holds the hand-written OpenAPI document of the Conversations API, the single
// source of truth of this project, embedded so that the server validates against exactly the
// bytes that gen/ was generated from. It depends on nothing of this module.
package openapi

import _ "embed"

// Spec is openapi.yaml, byte for byte.
//
//go:embed openapi.yaml
var Spec []byte
