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

# The container image's repository. make image, image-test and release stamp VERSION when it
# is given (VERSION=v1.3.0); otherwise each derives it the one way scripts/release does: the
# tag vX.Y.Z at HEAD, else Go's pseudo-version of HEAD.
IMAGE ?= localhost/fini-conversations

# The PostgreSQL the tests use when set (CI sets it); without it those tests skip, saying so.
FINI_TEST_POSTGRES ?=
export FINI_TEST_POSTGRES

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-17s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The address make run serves on: make run ADDR=127.0.0.1:9090.
ADDR ?= 127.0.0.1:8080

.PHONY: run
run: ## Serve the API on ADDR (default 127.0.0.1:8080) with a fresh SQLite demo database of its own; prints a key and a curl
	@mkdir -p bin
	go build -o bin/ ./cmd/fini-server
	dir=$$(mktemp -d) && exec bin/fini-server serve --db "sqlite:$$dir/demo.db" --demo --addr '$(ADDR)'

.PHONY: build
build: ## Build the binaries into bin/: fini-server (server and admin), fini (CLI client), fini-load (benchmarks)
	go build -o bin/ ./cmd/...

.PHONY: image
image: ## Build the container image IMAGE:VERSION and IMAGE:latest (podman or buildah; podman installed with apt-get if neither)
	IMAGE=$(IMAGE) $(if $(VERSION),VERSION=$(VERSION)) scripts/image.sh

.PHONY: image-test
image-test: ## Build a test image and check it: its config and labels, its files, its fini-server serving SQLite on 127.0.0.1 (no container is started)
	FINI_IMAGE_TEST=1 $(if $(VERSION),VERSION=$(VERSION)) go test -count=1 -v -timeout 15m -run '^TestImage$$' ./cmd/fini-server/

RELEASE_TARGETS ?= linux/amd64,linux/arm64,darwin/amd64,darwin/arm64,windows/amd64,windows/arm64

.PHONY: release
release: ## Cross-build the three binaries into reproducible archives in dist/, with SBOMs and SHA256SUMS
	rm -rf dist
	go run ./scripts/release -out dist -targets '$(RELEASE_TARGETS)' $(if $(VERSION),-version '$(VERSION)')
	ls -l dist

.PHONY: check-release
check-release: ## Prove make release reproducible: linux/amd64 built twice gives identical bytes (about 1-2 minutes)
	FINI_TEST_RELEASE=1 go test -count=1 -run '^TestReleaseIsReproducible$$' ./scripts/release/

.PHONY: generate
generate: node_modules/.package-lock.json ## Regenerate gen/ from openapi/openapi.yaml, and the contract engine's test server from its testdata spec (old output deleted first)
	find gen \( -name '*.gen.go' -o -name '*.html' \) -delete
	rm -f server/contract/*.gen_test.go
	cd gen && go generate ./...
	go generate ./server/contract/

.PHONY: check-generated
GENERATED := gen 'server/contract/*.gen_test.go'
check-generated: generate ## Fail if generated code differs from what the specs generate, or gen/ holds stray files
	@if [ -n "$$(git status --porcelain -- $(GENERATED))" ]; then \
		echo "generated code is not what the specs generate (run make generate and commit):"; \
		git status --porcelain -- $(GENERATED); git --no-pager diff --stat -- $(GENERATED); exit 1; fi
	@echo "gen/ matches openapi/openapi.yaml; server/contract's test server matches its testdata spec"

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

.PHONY: changelog
changelog: ## Regenerate CHANGELOG.md's API part (between its markers) from openapi/released.yaml and openapi/openapi.yaml
	OASDIFF="$(OASDIFF)" scripts/changelog.sh

.PHONY: check-changelog
check-changelog: ## Fail if CHANGELOG.md's API part is not what the spec's changes against openapi/released.yaml generate
	OASDIFF="$(OASDIFF)" scripts/changelog.sh --check
	OASDIFF="$(OASDIFF)" scripts/check-changelog-selftest.sh

.PHONY: release-spec
release-spec: ## Make the current spec the released baseline and clear the acknowledged breaks
	cp openapi/openapi.yaml openapi/released.yaml
	sed -i '/^[^#]/d' openapi/breaking-changes.txt

.PHONY: check-large-files
check-large-files: ## Fail if a tracked file is over 1 MiB (off a short allow-list) or an executable binary
	scripts/check-large-files.sh
	scripts/check-large-files-selftest.sh

.PHONY: check-make
check-make: ## Prove by dry runs that make run serves on ADDR and make test says when PostgreSQL tests skip
	scripts/check-make-selftest.sh

.PHONY: check-client-deps
check-client-deps: ## Fail if the client (or the generated client under it) compiles in Echo, kin-openapi or a YAML parser
	@for pkg in ./gen/api ./client; do \
		heavy=$$(go list -deps $$pkg | grep -E 'labstack|getkin/kin-openapi|yaml|santhosh-tekuri/jsonschema' || true); \
		if [ -n "$$heavy" ]; then echo "$$pkg depends on what a client does not need:"; echo "$$heavy"; exit 1; fi; \
		echo "$$pkg: $$(go list -deps $$pkg | wc -l) packages, none of Echo, kin-openapi or YAML"; done

# What make test says when FINI_TEST_POSTGRES is unset: go test says nothing of a skip without -v.
PG_SKIPPED := make test: FINI_TEST_POSTGRES is unset, so every PostgreSQL test was skipped (the PostgreSQL store suite, and the PostgreSQL half of each test that runs on both engines); set it to run them, e.g. FINI_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test?sslmode=disable'

.PHONY: test
test: ## Run every test with the race detector (PostgreSQL ones when FINI_TEST_POSTGRES is set, saying so when not)
	@mkdir -p bin
	FINI_SPEC_COVERAGE=$(CURDIR)/bin/spec-coverage.txt go test -race -count=1 -skip '^TestDocsPageInBrowser$$' ./...
	@cat bin/spec-coverage.txt
	$(if $(FINI_TEST_POSTGRES),,@echo "$(PG_SKIPPED)")

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
ci: check-large-files check-make tidy-check check-generated check-client-deps lint lint-spec check-breaking check-changelog test docs-test contract reliability image-test ## Everything CI runs
