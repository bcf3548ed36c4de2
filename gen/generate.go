// Package gen holds code generated from openapi/openapi.yaml and nothing written by hand:
// gen/api has the types, the HTTP client (free of Echo) and the spec's values a client needs
// (contract.gen.go), gen/apiserver the Echo strict server, gen/docs the API reference page
// (Redoc, built by the Redocly CLI that `npm ci` installs). Run `make generate` after editing
// the spec.
package gen

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config api/api.cfg.yaml ../openapi/openapi.yaml
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config apiserver/apiserver.cfg.yaml ../openapi/openapi.yaml
//go:generate go run ../openapi/constgen -o api/contract.gen.go
//go:generate go run ../openapi/docsgen -spec ../openapi/openapi.yaml -config docs/docs.cfg.yaml -o docs
