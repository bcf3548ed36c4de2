# The contract workflow: edit openapi/openapi.yaml, `make generate`, implement, `make test`.
# `make help` lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Pinned tools, run with `go run pkg@version` so nothing is installed globally.
GOLANGCI_LINT := go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
OASDIFF       := go run github.com/oasdiff/oasdiff@v1.37.0
DEADCODE      := go run golang.org/x/tools/cmd/deadcode@v0.42.0
NPX           := NO_UPDATE_NOTIFIER=1 REDOCLY_TELEMETRY=off npx --no-install

# The PostgreSQL the tests use when set (CI sets it); without it those tests skip, saying so.
FINI_TEST_POSTGRES ?=
export FINI_TEST_POSTGRES

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Serve the API on 127.0.0.1:8080 with a fresh SQLite demo database; prints a key and a curl
	rm -f demo.db demo.db-shm demo.db-wal
	go run ./cmd/fini-server serve --db sqlite:demo.db --demo --addr 127.0.0.1:8080

.PHONY: build
build: ## Build the binaries into bin/: fini-server (server and admin), fini (CLI client), fini-load (benchmarks)
	go build -o bin/ ./cmd/...

.PHONY: generate
generate: node_modules/.package-lock.json ## Regenerate gen/ from openapi/openapi.yaml (old *.gen.go and pages deleted first)
	find gen \( -name '*.gen.go' -o -name '*.html' \) -delete
	cd gen && go generate ./...

.PHONY: check-generated
check-generated: generate ## Fail if gen/ differs from what the spec generates, or holds stray files
	@if [ -n "$$(git status --porcelain -- gen)" ]; then \
		echo "gen/ is not what openapi/openapi.yaml generates (run make generate and commit):"; \
		git status --porcelain -- gen; git --no-pager diff --stat -- gen; exit 1; fi
	@echo "gen/ matches openapi/openapi.yaml"

.PHONY: tidy-check
tidy-check: ## Fail if go.mod or go.sum is not tidy
	go mod tidy -diff

.PHONY: lint
lint: ## go vet, golangci-lint and deadcode (pinned): no finding, no code that nothing calls
	go vet ./...
	$(GOLANGCI_LINT) run ./...
	@out=$$($(DEADCODE) -test ./...); if [ -n "$$out" ]; then echo "unreachable code:"; echo "$$out"; exit 1; fi; echo "deadcode: nothing unreachable"

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: lint-spec
lint-spec: node_modules/.package-lock.json ## Validate the spec: kin-openapi (a Go test) and Redocly CLI (pinned, redocly.yaml)
	go test -count=1 -run 'TestSpec|TestEveryOperation' ./openapi/
	$(NPX) redocly lint --config redocly.yaml openapi/openapi.yaml

.PHONY: check-breaking
check-breaking: ## Fail on a breaking change against openapi/released.yaml not acknowledged in openapi/breaking-changes.txt
	$(OASDIFF) breaking openapi/released.yaml openapi/openapi.yaml --fail-on ERR --err-ignore openapi/breaking-changes.txt
	OASDIFF="$(OASDIFF)" scripts/check-breaking-selftest.sh

.PHONY: release-spec
release-spec: ## Make the current spec the released baseline and clear the acknowledged breaks
	cp openapi/openapi.yaml openapi/released.yaml
	sed -i '/^[^#]/d' openapi/breaking-changes.txt

.PHONY: check-large-files
check-large-files: ## Fail if a tracked file is over 1 MiB (off a short allow-list) or an executable binary
	scripts/check-large-files.sh
	scripts/check-large-files-selftest.sh

.PHONY: check-client-deps
check-client-deps: ## Fail if the client (or the generated client under it) compiles in Echo, kin-openapi or a YAML parser
	@for pkg in ./gen/api ./client; do \
		heavy=$$(go list -deps $$pkg | grep -E 'labstack|getkin/kin-openapi|yaml|santhosh-tekuri/jsonschema' || true); \
		if [ -n "$$heavy" ]; then echo "$$pkg depends on what a client does not need:"; echo "$$heavy"; exit 1; fi; \
		echo "$$pkg: $$(go list -deps $$pkg | wc -l) packages, none of Echo, kin-openapi or YAML"; done

.PHONY: test
test: ## Run every test with the race detector (PostgreSQL ones when FINI_TEST_POSTGRES is set)
	@mkdir -p bin
	FINI_SPEC_COVERAGE=$(CURDIR)/bin/spec-coverage.txt go test -race -count=1 -skip '^TestDocsPageInBrowser$$' ./...
	@cat bin/spec-coverage.txt

.PHONY: docs-test
docs-test: ## Open /docs in headless Chromium (Debian's, required): every operation shown, nothing loaded from elsewhere; bin/docs-screenshot.png
	@mkdir -p bin
	FINI_REQUIRE_BROWSER=1 go test -count=1 -v -run '^TestDocsPageInBrowser$$' ./server/

BENCH_COUNT ?= 6
BASELINE ?= b12f43a
.PHONY: bench
bench: ## Every figure of BENCHMARKS.md, side by side with BASELINE (a git ref, built in the same run) into bin/bench/, and bench-writes; about 45 minutes
	BENCH_COUNT=$(BENCH_COUNT) BASELINE=$(BASELINE) WRITES_BASELINE=$(WRITES_BASELINE) scripts/bench.sh

WRITES_BASELINE ?= dde0754
.PHONY: bench-writes
bench-writes: ## The SQLite write path's figures beside the engine's floor, side by side with WRITES_BASELINE, into bin/bench/writes-*; about 8 minutes
	BENCH_COUNT=$(BENCH_COUNT) WRITES_BASELINE=$(WRITES_BASELINE) scripts/bench-writes.sh

# Fuzzing budgets are counts of executions, not durations: with a duration, Go's fuzz coordinator
# can end a clean run with "context deadline exceeded" and no crashing input (golang/go#75804,
# fixed in Go 1.27), which once failed CI. A count sets no deadline to race. About 20 s each here.
FUZZ_HTTP ?= 10000x
FUZZ_IMPORT ?= 25000x
.PHONY: fuzz
fuzz: ## Fuzz the HTTP stack and the import parser (CI: FUZZ_HTTP=10000x FUZZ_IMPORT=25000x, about 20 s each; longer: FUZZ_HTTP=1000000x FUZZ_IMPORT=10000000x)
	go test -run '^$$' -fuzz '^FuzzHTTP$$' -fuzztime $(FUZZ_HTTP) -fuzzminimizetime 1s ./server/
	go test -run '^$$' -fuzz '^FuzzImportParse$$' -fuzztime $(FUZZ_IMPORT) -fuzzminimizetime 1s ./server/importer/

.PHONY: reliability
reliability: ## Load, replicas, outage, crashes, restart, hostile input, tenancy, secrets: the short run (RELIABILITY.md)
	FINI_RELIABILITY=1 go test -count=1 -v -timeout 15m ./reliability/ 2>&1 | grep -E '^(=== RUN|--- |ok|FAIL|PASS)|_test.go' 

.PHONY: soak
soak: ## The long run of the reliability scenarios
	FINI_SOAK=1 go test -count=1 -v -timeout 60m ./reliability/ 2>&1 | grep -E '^(=== RUN|--- |ok|FAIL|PASS)|_test.go'

.PHONY: contract
contract: node_modules/.package-lock.json ## Prove spec, server and client agree: coverage gate, round trip, fuzzing, Prism, Fini's examples
	@mkdir -p bin
	FINI_SPEC_COVERAGE=$(CURDIR)/bin/spec-coverage.txt go test -count=1 -skip '^TestDocsPageInBrowser$$' ./server/ ./client/
	@cat bin/spec-coverage.txt
	$(MAKE) fuzz FUZZ_HTTP=$(FUZZ_HTTP) FUZZ_IMPORT=$(FUZZ_IMPORT)
	scripts/contract-checkers.sh

.PHONY: ci
ci: check-large-files tidy-check check-generated check-client-deps lint lint-spec check-breaking test docs-test contract reliability ## Everything CI runs
