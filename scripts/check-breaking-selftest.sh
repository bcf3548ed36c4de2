#!/usr/bin/env bash
# Proves that the breaking-change gate bites: each mutation of the current spec below must
# fail `oasdiff breaking`, and an acknowledged break must pass. Run by `make check-breaking`.
set -euo pipefail
oasdiff=${OASDIFF:?set OASDIFF to the oasdiff command}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
base=openapi/openapi.yaml

mutate() { # name, python replacement old -> new
	python3 - "$base" "$tmp/$1.yaml" "$2" "$3" <<'PY'
import sys
src, dst, old, new = sys.argv[1:]
s = open(src).read()
if old not in s:
    sys.exit(f"self-test mutation no longer applies: {old!r}")
open(dst, "w").write(s.replace(old, new, 1))
PY
}

expect_break() { # name
	if $oasdiff breaking "$base" "$tmp/$1.yaml" --fail-on ERR >"$tmp/$1.out" 2>&1; then
		echo "check-breaking self-test: '$1' was NOT caught" >&2
		exit 1
	fi
	echo "check-breaking self-test: '$1' caught: $(grep -m1 -o '\[[a-z-]*\]' "$tmp/$1.out")"
}

mutate removed-response-field '        hasMore:
          type: boolean
          description: More conversations exist beyond this page in the direction travelled.
' ''
sed -i 's/required: \[interactions, hasMore, nextCursor, prevCursor\]/required: [interactions, nextCursor, prevCursor]/' "$tmp/removed-response-field.yaml"
expect_break removed-response-field

mutate tightened-limit '          maxItems: 50
          uniqueItems: true' '          maxItems: 40
          uniqueItems: true'
expect_break tightened-limit

mutate changed-field-type '        createdAt:
          type: integer
          format: int64
          description: When the conversation started' '        createdAt:
          type: string
          description: When the conversation started'
expect_break changed-field-type

# An acknowledged break passes.
# The acknowledgement is the line oasdiff prints, as "METHOD /path message".
awk '/in API /{api=$3" "$4; next} api!="" && NF{sub(/^[ \t]+/, ""); print api" "$0; api=""}' \
	"$tmp/tightened-limit.out" >"$tmp/ack.txt"
if ! $oasdiff breaking "$base" "$tmp/tightened-limit.yaml" --fail-on ERR --err-ignore "$tmp/ack.txt" >"$tmp/ack.out" 2>&1; then
	echo "check-breaking self-test: an acknowledged break still fails:" >&2
	cat "$tmp/ack.txt" "$tmp/ack.out" >&2
	exit 1
fi
echo "check-breaking self-test: an acknowledged break passes"
