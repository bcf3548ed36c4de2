#!/usr/bin/env bash
# Proves two promises of the Makefile by its dry runs (make -n), which run nothing:
# make run serves on ADDR (default 127.0.0.1:8080), and make test says in one line that the
# PostgreSQL tests are skipped when FINI_TEST_POSTGRES is unset, and only then.
# Run by `make check-make`.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "check-make self-test: $*" >&2; exit 1; }

make -n run | grep -Eq -- "--addr '?127.0.0.1:8080'?( |$)" || fail "make run does not serve on 127.0.0.1:8080 by default"
make -n run ADDR=127.0.0.1:9090 | grep -Eq -- "--addr '?127.0.0.1:9090'?( |$)" || fail "make run ADDR=127.0.0.1:9090 does not serve on it"
echo "check-make self-test: make run serves on ADDR, 127.0.0.1:8080 by default"

note='FINI_TEST_POSTGRES is unset, so every PostgreSQL test was skipped'
[ "$(FINI_TEST_POSTGRES='' make -n test | grep -c "$note")" = 1 ] ||
	fail "make test does not say once that the PostgreSQL tests are skipped when FINI_TEST_POSTGRES is unset"
! FINI_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test' make -n test | grep -q "$note" ||
	fail "make test says the PostgreSQL tests are skipped when FINI_TEST_POSTGRES is set"
make -n test FINI_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test' | grep -q "$note" &&
	fail "make test FINI_TEST_POSTGRES=... says the PostgreSQL tests are skipped"
echo "check-make self-test: make test says when the PostgreSQL tests are skipped, and only then"
