#!/usr/bin/env bash
# The API part of CHANGELOG.md is generated: `oasdiff changelog` between the released contract
# and the current one, rendered by scripts/changelog-api.md.tmpl, between the two marker lines
# below. With no argument this script rewrites that part (make changelog); with --check it
# fails, showing the difference, when the part is not what the specs generate now
# (make check-changelog): the spec changed and the changelog does not say so.
#
# Environment: OASDIFF (the pinned oasdiff command, required); CHANGELOG, BASE_SPEC, SPEC and
# TEMPLATE override the files (the self-test points them at a temporary copy).
set -euo pipefail
oasdiff=${OASDIFF:?set OASDIFF to the oasdiff command}
changelog=${CHANGELOG:-CHANGELOG.md}
base=${BASE_SPEC:-openapi/released.yaml}
spec=${SPEC:-openapi/openapi.yaml}
template=${TEMPLATE:-scripts/changelog-api.md.tmpl}
begin='<!-- BEGIN API CHANGELOG'
end='<!-- END API CHANGELOG'

check=false
case "${1:-}" in
--check) check=true ;;
'') ;;
*) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Each marker once, BEGIN first: otherwise the part cannot be found, and nothing is written.
nb=$(grep -c "^$begin" "$changelog" || true)
ne=$(grep -c "^$end" "$changelog" || true)
if [ "$nb" != 1 ] || [ "$ne" != 1 ] ||
	[ "$(grep -n "^$begin" "$changelog" | cut -d: -f1)" -gt "$(grep -n "^$end" "$changelog" | cut -d: -f1)" ]; then
	echo "$changelog: want one line starting '$begin' before one starting '$end' (found $nb and $ne)" >&2
	exit 1
fi

# oasdiff's template leaves a blank line at the end; drop trailing blank lines.
$oasdiff changelog "$base" "$spec" -f markdown --template "$template" |
	awk 'NF { for (; blank > 0; blank--) print ""; print; next } { blank++ }' >"$tmp/api.md"

awk -v begin="$begin" -v end="$end" -v part="$tmp/api.md" '
	index($0, begin) == 1 { print; print ""; while ((getline line < part) > 0) print line; print ""; skip = 1; next }
	index($0, end) == 1 { skip = 0 }
	!skip { print }
' "$changelog" >"$tmp/CHANGELOG.md"

if $check; then
	if ! diff -u --label "$changelog (committed)" --label "$changelog (generated now)" "$changelog" "$tmp/CHANGELOG.md"; then
		echo "$changelog: the API part is stale: $spec changed against $base and the changelog does not say so. Run make changelog and commit." >&2
		exit 1
	fi
	echo "$changelog: the API part matches oasdiff changelog $base $spec"
else
	cp "$tmp/CHANGELOG.md" "$changelog"
	echo "$changelog: API part regenerated from $base and $spec"
fi
