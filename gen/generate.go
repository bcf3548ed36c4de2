// Package gen holds code generated from openapi/openapi.yaml and nothing written by hand:
// gen/api has the types and the HTTP client (free of Echo), gen/apiserver the Echo strict
// server. Run `make generate` after editing the spec.
package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config api/api.cfg.yaml ../openapi/openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config apiserver/apiserver.cfg.yaml ../openapi/openapi.yaml
