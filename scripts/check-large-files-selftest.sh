#!/usr/bin/env bash
# Proves that scripts/check-large-files.sh fails on what it must refuse (a 2 MiB file, a
# small ELF binary) and passes on what it must allow (a large lockfile), in a throw-away repo.
set -euo pipefail
check=$(cd "$(dirname "$0")" && pwd)/check-large-files.sh
repo=$(mktemp -d)
trap 'rm -rf "$repo"' EXIT
cd "$repo"
git init -q .
expect() { # expect pass|fail NAME
	if "$check" >/dev/null 2>&1; then got=pass; else got=fail; fi
	if [ "$got" != "$1" ]; then echo "check-large-files self-test: $2: got $got, want $1"; exit 1; fi
}
head -c $((2 << 20)) /dev/zero >package-lock.json && git add package-lock.json
expect pass "a large lockfile is allowed"
head -c $((2 << 20)) /dev/zero >server.test && git add server.test
expect fail "a 2 MiB file off the allow-list"
git rm -q --cached server.test
printf '\177ELF\002\001\001' >fini && git add fini
expect fail "a small ELF binary"
echo "check-large-files self-test: a large file and a binary are caught, a lockfile passes"
