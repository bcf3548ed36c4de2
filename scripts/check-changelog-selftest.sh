#!/usr/bin/env bash
# Proves that the changelog gate bites, on a temporary copy: a change to the spec that the
# changelog does not record fails `scripts/changelog.sh --check`; the changelog regenerated
# by `scripts/changelog.sh` records it and passes; a changelog without its markers is refused
# and left as it was. Run by `make check-changelog`.
set -euo pipefail
export OASDIFF=${OASDIFF:?set OASDIFF to the oasdiff command}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp CHANGELOG.md openapi/openapi.yaml openapi/released.yaml "$tmp/"
export CHANGELOG=$tmp/CHANGELOG.md BASE_SPEC=$tmp/released.yaml SPEC=$tmp/openapi.yaml

fail() { echo "check-changelog self-test: $*" >&2; exit 1; }

# The committed changelog passes to begin with, or the mutation below proves nothing.
scripts/changelog.sh --check >/dev/null || fail "the committed changelog does not pass: run make changelog"

# A change to the spec: an optional query parameter on list.
python3 - "$SPEC" <<'PY'
import sys
path = sys.argv[1]
s = open(path).read()
old = """        - name: limit
          in: query
          description: Page size.
"""
new = """        - name: selftestFilter
          in: query
          description: A parameter only the self-test adds.
          schema:
            type: string
""" + old
if old not in s:
    sys.exit(f"self-test mutation no longer applies: {old!r}")
open(path, "w").write(s.replace(old, new, 1))
PY
if scripts/changelog.sh --check >"$tmp/stale.out" 2>&1; then
	cat "$tmp/stale.out" >&2
	fail "a spec change the changelog does not record was NOT caught"
fi
grep -q "the API part is stale" "$tmp/stale.out" || { cat "$tmp/stale.out" >&2; fail "the failure does not say the API part is stale"; }
echo "check-changelog self-test: an unrecorded spec change is caught"

scripts/changelog.sh >/dev/null
grep -q 'selftestFilter' "$CHANGELOG" || fail "the regenerated changelog does not name the new parameter"
scripts/changelog.sh --check >/dev/null || fail "the regenerated changelog still fails the check"
echo "check-changelog self-test: the regenerated changelog records it and passes"

# Without its markers, nothing is written.
grep -v '^<!-- END API CHANGELOG' "$CHANGELOG" >"$tmp/unmarked.md"
cp "$tmp/unmarked.md" "$CHANGELOG"
if scripts/changelog.sh >"$tmp/unmarked.out" 2>&1; then
	fail "a changelog without its END marker was rewritten"
fi
cmp -s "$tmp/unmarked.md" "$CHANGELOG" || fail "a changelog without its END marker was changed"
echo "check-changelog self-test: a changelog without its markers is refused, untouched"
