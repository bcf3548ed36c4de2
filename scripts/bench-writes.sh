#!/usr/bin/env bash
# make bench-writes (and make bench): the write path's figures on SQLite, each beside the
# engine's floor measured in the same run, this tree ("head") side by side with a baseline
# ("base", WRITES_BASELINE, a git ref built in the same run). The floor is a bulk delete of 50
# in raw statements: the store's SQL, prepared, on one connection of the same driver with the
# store writer's settings, over the same schema and data, queued 8 deep, no HTTP. Results go
# to bin/bench/ (ignored by git):
#
#   writes-store-{base,head}.txt  BenchmarkWritePath, COUNT runs interleaved: 8 clients' bulk
#                                 deletes of 50 through the store (via=store) and the floor
#   writes-load.jsonl             the real server over loopback (bench-load.sh): deletes from
#                                 32 clients, bulk deletes of 50 from 8, by fini-load and wrk
#   writes-import.jsonl           deletes from 8 clients for exactly as long as fini-server import
#                                 adds 40,000 conversations to the database the server serves
#   writes-summary.txt            the figures beside the floor: medians, p99/p50, p50/floor
#
# Bounded: fixed counts and durations; traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
BASELINE=${WRITES_BASELINE:-dde0754} # main before the write path's work (the faults issue's "today")
COUNT=${BENCH_COUNT:-6}
PORT=${PORT:-18283}
IMPORT=${IMPORT:-40000}
out=bin/bench
mkdir -p "$out"
for tool in jq wrk taskset; do
	command -v "$tool" >/dev/null || { echo "bench-writes: needs $tool (apt-get install $tool)" >&2; exit 1; }
done
work=$(mktemp -d)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# The two trees. The baseline runs this tree's store benchmark (it uses only what every
# version of the store has), so that both trees are measured by the same code.
mkdir -p "$work/base"
git archive "$BASELINE" | tar -x -C "$work/base"
cp server/store/storetest/bench.go "$work/base/server/store/storetest/"
cp server/store/sqlite/writepath_test.go "$work/base/server/store/sqlite/"
declare -A tree=([base]="$work/base" [head]="$PWD")
for t in base head; do
	(cd "${tree[$t]}" && go build -o "$work/bin-$t/" ./cmd/fini-server ./cmd/fini-load &&
		go test -c -o "$work/bin-$t/sqlite.test" ./server/store/sqlite)
done
{
	echo "writes baseline: $BASELINE $(git log -1 --format='%h %s' "$BASELINE" | cut -c1-80)"
	echo "writes head: $(git log -1 --format='%h %s' HEAD | cut -c1-80)$(git diff --quiet HEAD || echo ' (with uncommitted changes)')"
	echo "date: $(date -u +%FT%TZ)  cpus: $(nproc)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out/writes-conditions.txt"

# 1. The store and the floor, the trees in turn, so that drift hits both alike.
: >"$out/writes-store-base.txt"
: >"$out/writes-store-head.txt"
for _ in $(seq "$COUNT"); do
	for t in base head; do
		(cd "${tree[$t]}/server/store/sqlite" && "$work/bin-$t/sqlite.test" -test.run '^$' \
			-test.bench '^BenchmarkWritePath$' -test.benchtime 1x) >>"$out/writes-store-$t.txt"
	done
done

# 2. The real server over loopback: deletes and bulk deletes, response validation enforced.
: >"$out/writes-load.jsonl"
for t in base head; do
	TREE=$t ENGINES=sqlite MODES=enforce OPS="delete bulk" PORT=$PORT SERVER_BIN="$work/bin-$t/fini-server" \
		scripts/bench-load.sh | tee -a "$out/writes-load.jsonl"
done

# 3. Deletes while another process imports: server on CPU 0; fini-load and the import on 1.
"$work/bin-head/fini-load" gen --n 10000 --seed 7 --ids "$work/seed-ids" >"$work/seed.jsonl"
"$work/bin-head/fini-load" gen --n "$IMPORT" --seed 8 >"$work/import.jsonl"
: >"$out/writes-import.jsonl"
for t in base head; do
	db="sqlite:$work/import-$t.db"
	srv() { "$work/bin-$t/fini-server" --db "$db" "$@"; }
	ws=$(srv workspace create bench)
	key=$(srv key create --workspace "$ws" --scopes read,write)
	srv import --workspace "$ws" "$work/seed.jsonl" >/dev/null
	taskset -c 0 "$work/bin-$t/fini-server" --db "$db" serve --addr "127.0.0.1:$PORT" 2>"$work/server.log" &
	server_pid=$!
	for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break; sleep 0.1; done
	# The deletes run from the start of the import to its end, when SIGINT ends fini-load's run.
	FINI_API_KEY="$key" taskset -c 1 "$work/bin-head/fini-load" run --url "http://127.0.0.1:$PORT" --ids "$work/seed-ids" \
		--op delete --concurrency 8 --duration 2m >"$work/during.json" &
	load=$!
	start=$(date +%s%N)
	taskset -c 1 "$work/bin-$t/fini-server" --db "$db" import --workspace "$ws" "$work/import.jsonl" >/dev/null
	ns=$(($(date +%s%N) - start))
	kill -INT "$load"
	wait "$load"
	kill -TERM "$server_pid"
	wait "$server_pid" || true
	server_pid=
	jq -c --arg tree "$t" --argjson n "$IMPORT" --argjson ns "$ns" \
		'{tree: $tree, engine: "sqlite", scenario: "delete during import", import_conversations: $n,
		  import_seconds: ($ns / 1e9 * 100 | round / 100)} + .' "$work/during.json" | tee -a "$out/writes-import.jsonl"
done

# 4. The summary: every write figure beside the floor's median p50 of this run.
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
metric() { # file via metric: that metric of the via's runs, one a line
	awk -v via="$2" -v m="$3" '$1 ~ "/via=" via "-" { for (i = 3; i < NF; i++) if ($(i + 1) == m) print $i }' "$1"
}
floor=$(cat "$out/writes-store-base.txt" "$out/writes-store-head.txt" >"$work/all.txt" && metric "$work/all.txt" floor p50-ms | median)
{
	printf 'SQLite write path, medians of this run; floor: raw statements, bulk of 50, 8 deep, p50 %.1f ms\n' "$floor"
	printf '%-5s %-46s %8s %8s %8s %10s\n' tree figure p50-ms p99-ms p99/p50 p50/floor
	row() { awk -v t="$1" -v f="$2" -v p50="$3" -v p99="$4" -v fl="$floor" \
		'BEGIN { printf "%-5s %-46s %8.1f %8.1f %8.2f %10.2f\n", t, f, p50, p99, p99 / p50, p50 / fl }'; }
	for t in base head; do
		for via in store floor; do
			row "$t" "store: bulk 50, 8 clients (via=$via, n=$COUNT)" \
				"$(metric "$out/writes-store-$t.txt" "$via" p50-ms | median)" "$(metric "$out/writes-store-$t.txt" "$via" p99-ms | median)"
		done
	done
	for t in base head; do
		jq -r --arg t "$t" 'select(.tree == $t and .op == "bulk" and .tool == null) | "\(.by_status["200"].p50_ms) \(.by_status["200"].p99_ms)"' \
			"$out/writes-load.jsonl" | while read -r p50 p99; do row "$t" "loopback: bulk 50 (200s), 8 clients, fini-load" "$p50" "$p99"; done
		jq -r --arg t "$t" 'select(.tree == $t and .op == "delete") | "\(.tool // "fini-load") \(.p50_ms) \(.p99_ms)"' \
			"$out/writes-load.jsonl" | while read -r tool p50 p99; do row "$t" "loopback: delete, 32 clients, $tool" "$p50" "$p99"; done
		jq -r --arg t "$t" 'select(.tree == $t) | "\(.p50_ms) \(.p99_ms) \(.max_ms) \(.statuses["503"] // 0) \(.requests) \(.import_seconds)"' \
			"$out/writes-import.jsonl" | while read -r p50 p99 max refused n secs; do
			row "$t" "delete in ${IMPORT} import ($secs s), max $max, $refused/$n 503" "$p50" "$p99"
		done
	done
} | tee "$out/writes-summary.txt"
