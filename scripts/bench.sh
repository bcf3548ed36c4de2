#!/usr/bin/env bash
# make bench: every figure of BENCHMARKS.md, this tree ("head") side by side with a baseline
# ("base") built from a git ref in the same run, so that a shared, noisy machine shows both
# under the same conditions. Results go to bin/bench/ (ignored by git):
#
#   inprocess-{base,head}.txt, inprocess-stat.txt  the full stack in-process, interleaved runs
#   ratio.txt                                       in-memory delete (enforce) / bare-Echo floor
#   load.jsonl                                      loopback load, both trees, fini-load and wrk
#   scale-{base,head}.jsonl                         SQLite import, get and list at 10k to 1M
#   import-postgres.jsonl                           import of 100k into PostgreSQL, both trees
#   store.txt, purge.txt (+ -stat)                  store-level bulk deletes and the purge (head)
#   writes-*                                        SQLite's write path beside its floor, against
#                                                   WRITES_BASELINE (scripts/bench-writes.sh)
#   profiles/*.pprof, profiles/*.top                CPU profiles behind the figures (head)
#
# Bounded: every step has a fixed count or duration; traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
BASELINE=${BASELINE:-b12f43a} # main before the performance work (issue 14's "today")
COUNT=${BENCH_COUNT:-6}
SIZES=${SIZES:-10000,100000,1000000}
PG_IMPORT=${PG_IMPORT:-100000}
PG=${FINI_BENCH_POSTGRES:-${FINI_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}}
BENCHSTAT=${BENCHSTAT:-go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260312031701-16a31bc5fbd0}
export PGOPTIONS='-c client_min_messages=warning' # psql: no NOTICE for each dropped table
out=bin/bench
rm -rf "$out"
mkdir -p "$out/profiles"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The two trees and their binaries: fini-server, fini-load and the server package's test binary.
mkdir -p "$work/base"
git archive "$BASELINE" | tar -x -C "$work/base"
declare -A tree=([base]="$work/base" [head]="$PWD")
for t in base head; do
	(cd "${tree[$t]}" && go build -o "$work/bin-$t/" ./cmd/fini-server ./cmd/fini-load &&
		go test -c -o "$work/bin-$t/server.test" ./server)
done
{
	echo "baseline: $BASELINE $(git log -1 --format='%h %s' "$BASELINE" | cut -c1-80)"
	echo "head: $(git log -1 --format='%h %s' HEAD | cut -c1-80)$(git diff --quiet HEAD || echo ' (with uncommitted changes)')"
	echo "date: $(date -u +%FT%TZ)  cpus: $(nproc)  $(go version)"
	grep -m1 'model name' /proc/cpuinfo
} | tee "$out/conditions.txt"

# In-process: each tree's test binary in turn, COUNT times, so that drift hits both alike.
for _ in $(seq "$COUNT"); do
	for t in base head; do
		(cd "${tree[$t]}/server" && "$work/bin-$t/server.test" -test.run '^$' \
			-test.bench 'BenchmarkDeleteOverhead|BenchmarkOperations' -test.benchmem -test.count 1) \
			>>"$out/inprocess-$t.txt"
	done
done
$BENCHSTAT base="$out/inprocess-base.txt" head="$out/inprocess-head.txt" | tee "$out/inprocess-stat.txt"
# The issue's ratio: the whole stack (enforce, access log on) over the bare-Echo floor, medians.
for t in base head; do
	awk -v t=$t '
		/op=delete-inmemory\/stack=(enforce|bare-echo)-/ {
			split($1, a, "stack="); s = a[2]; sub(/-[0-9]+$/, "", s); v[s] = v[s] " " $3
		}
		function median(list,   n, x, i, j, tmp) {
			n = split(list, x, " ")
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { tmp = x[i]; x[i] = x[j]; x[j] = tmp }
			return n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
		}
		END { e = median(v["enforce"]); f = median(v["bare-echo"])
			printf "%s: delete in-memory enforce %.0f ns / bare-echo %.0f ns = %.2fx\n", t, e, f, e / f }
	' "$out/inprocess-$t.txt"
done | tee "$out/ratio.txt"

# Loopback load: the same load generator and wrk against each tree's server, the trees in
# turn for each engine.
for engine in ${ENGINES:-sqlite postgres}; do
	for t in base head; do
		TREE=$t ENGINES=$engine SERVER_BIN="$work/bin-$t/fini-server" scripts/bench-load.sh | tee -a "$out/load.jsonl"
	done
done

# Scale on SQLite: each tree's own importer and stack, grown to the largest size.
for t in base head; do
	"$work/bin-$t/fini-load" scale --sizes "$SIZES" --dir "$(mktemp -d -p "$work")" | tee "$out/scale-$t.jsonl"
done

# Import into PostgreSQL: the whole fini-server import command of each tree, timed.
"$work/bin-head/fini-load" gen --n "$PG_IMPORT" --ids "$work/pg-ids" >"$work/pg.jsonl"
for t in base head; do
	schema="bench_import_$(date +%s%N)"
	psql "$PG" -qc "CREATE SCHEMA $schema" >/dev/null
	db="$PG&search_path=$schema"
	# The DSN goes by environment: fini-server refuses a password in --db, where ps shows it.
	ws=$(FINI_DB="$db" "$work/bin-$t/fini-server" workspace create import)
	start=$(date +%s%N)
	FINI_DB="$db" "$work/bin-$t/fini-server" import --workspace "$ws" "$work/pg.jsonl" >/dev/null
	ns=$(($(date +%s%N) - start))
	psql "$PG" -qc "DROP SCHEMA $schema CASCADE" >/dev/null
	echo "{\"tree\":\"$t\",\"engine\":\"postgres\",\"conversations\":$PG_IMPORT,\"seconds\":$(awk -v n=$ns 'BEGIN{printf "%.2f", n/1e9}'),\"import_per_sec\":$(awk -v n=$ns -v c="$PG_IMPORT" 'BEGIN{printf "%.0f", c/(n/1e9)}')}"
done | tee "$out/import-postgres.jsonl"

# Head only: the store's bulk deletes without HTTP (8 clients, 25 bulks of 50 each), bulk
# deletes during a purge, and the profiles that explain the figures.
go test -run '^$' -bench 'BenchmarkWritePath/op=bulk50/via=store' -benchtime 1x -count "$COUNT" \
	-cpuprofile "$out/profiles/sqlite-bulk.pprof" -o "$work/sqlite.test" ./server/store/sqlite/ | tee "$out/store.txt"
FINI_TEST_POSTGRES=$PG go test -run '^$' -bench BenchmarkBulkDelete -benchtime 1x -count "$COUNT" \
	-cpuprofile "$out/profiles/postgres-bulk.pprof" -o "$work/postgres.test" ./server/store/postgres/ | tee -a "$out/store.txt"
FINI_TEST_POSTGRES=$PG go test -run '^$' -bench BenchmarkBulkDeleteDuringPurge -benchtime 1x -count "$COUNT" ./server/retention/ | tee "$out/purge.txt"
$BENCHSTAT -col /purge "$out/purge.txt" | tee "$out/purge-stat.txt"
(cd server && "$work/bin-head/server.test" -test.run '^$' -test.bench 'BenchmarkDeleteOverhead/op=delete-inmemory/stack=enforce$' \
	-test.benchtime 2s -test.cpuprofile "$PWD/../$out/profiles/delete-enforce.pprof" >/dev/null)
go test -run '^$' -bench 'BenchmarkImport/engine=sqlite' -benchtime 3x -cpuprofile "$out/profiles/import.pprof" \
	-o "$work/importer.test" ./server/importer/ >/dev/null
for p in "$out"/profiles/*.pprof; do
	go tool pprof -top -nodecount 30 "$p" >"${p%.pprof}.top" 2>/dev/null
done
# SQLite's write path beside its floor, against main before that work (its own baseline).
BENCH_COUNT=$COUNT WRITES_BASELINE=${WRITES_BASELINE:-dde0754} scripts/bench-writes.sh
echo "bench: results in $out/"
