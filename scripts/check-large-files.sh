#!/usr/bin/env bash
# Fails when the repository tracks build output: a file over 1 MiB that is not on the short
# allow-list below (lockfiles, generated code), or any executable binary (ELF) whatever its
# size. Run from the top of a git work tree; `make check-large-files` runs it with a self-test.
set -euo pipefail
limit=$((1 << 20))
# Tracked files that may legitimately be large: extended regular expressions on the path.
allow='^(package-lock\.json|go\.sum|gen/.*\.gen\.go|gen/.*\.html)$'

bad=0
while IFS= read -r -d '' f; do
	[ -f "$f" ] || continue # deleted in the work tree, not yet committed
	size=$(stat -c %s "$f")
	if [ "$size" -gt "$limit" ] && ! [[ $f =~ $allow ]]; then
		echo "tracked file over 1 MiB and not on the allow-list: $f ($size bytes)"
		bad=1
	fi
	if [ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
		echo "tracked executable binary: $f (build output belongs in bin/, which .gitignore covers)"
		bad=1
	fi
done < <(git ls-files -z)
if [ "$bad" != 0 ]; then
	echo "remove them with git rm --cached and cover them in .gitignore"
	exit 1
fi
echo "no build output or unexpected large file is tracked"
