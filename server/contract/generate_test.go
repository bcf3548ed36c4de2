package contract_test

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config testdata/library.cfg.yaml testdata/library.yaml
