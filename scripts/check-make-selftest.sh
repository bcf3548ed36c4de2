#!/usr/bin/env bash
# Proves two promises of the Makefile by its dry runs (make -n), which run nothing:
# make run serves on ADDR (default 127.0.0.1:8080), and make test says in one line that the
# PostgreSQL tests are skipped when FINI_TEST_POSTGRES is unset, and only then.
# Run by `make check-make`.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "check-make self-test: $*" >&2; exit 1; }

# dry prints what make would run. Its output is read whole before it is searched: grep -q
# stops at the first match, and a make still writing (a recursive make's "Leaving directory")
# would then die of SIGPIPE and fail the pipeline under pipefail.
dry() { make --no-print-directory -n "$@"; }

[[ "$(dry run)" =~ --addr\ \'?127\.0\.0\.1:8080\'?( |$) ]] ||
	fail "make run does not serve on 127.0.0.1:8080 by default"
[[ "$(dry run ADDR=127.0.0.1:9090)" =~ --addr\ \'?127\.0\.0\.1:9090\'?( |$) ]] ||
	fail "make run ADDR=127.0.0.1:9090 does not serve on it"
echo "check-make self-test: make run serves on ADDR, 127.0.0.1:8080 by default"

note='FINI_TEST_POSTGRES is unset, so every PostgreSQL test was skipped'
[ "$(FINI_TEST_POSTGRES='' dry test | grep -c "$note")" = 1 ] ||
	fail "make test does not say once that the PostgreSQL tests are skipped when FINI_TEST_POSTGRES is unset"
[[ "$(FINI_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test' dry test)" != *"$note"* ]] ||
	fail "make test says the PostgreSQL tests are skipped when FINI_TEST_POSTGRES is set"
[[ "$(dry test FINI_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test')" == *"$note"* ]] &&
	fail "make test FINI_TEST_POSTGRES=... says the PostgreSQL tests are skipped"
echo "check-make self-test: make test says when the PostgreSQL tests are skipped, and only then"
