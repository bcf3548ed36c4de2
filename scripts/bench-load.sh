#!/usr/bin/env bash
# Loopback load benchmark of the real fini-server binary, response validation enforce and off
# in the same run, on SQLite and PostgreSQL: server pinned to CPU 0, load generator to CPU 1.
# Prints one JSON line per (engine, mode, op) with rps, p50, p99, errors and the server's
# peak RSS. Get and delete are measured twice, by fini-load and by wrk (an established load
# generator, "tool":"wrk"), same ids, connections and duration, so that no headline figure
# rests on the project's own tool alone. Bounded: DURATION per op (default 5s), traffic to
# 127.0.0.1 only. SERVER_BIN runs another fini-server build under the same load (scripts/bench.sh
# passes the baseline's), and TREE labels the lines it prints; ENGINES, MODES and OPS narrow
# the run (scripts/bench-writes.sh runs only SQLite's writes, enforced).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5s}
CONC=${CONC:-32}
N=${N:-30000}
TREE=${TREE:-head}
PORT=${PORT:-18281}
ENGINES=${ENGINES:-sqlite postgres}
OPS=${OPS:-get list delete bulk}
MODES=${MODES:-enforce off}
PG=${FINI_BENCH_POSTGRES:-${FINI_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}}
work=$(mktemp -d)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/" ./cmd/fini-server ./cmd/fini-load
server_bin=${SERVER_BIN:-$work/fini-server}
"$work/fini-load" gen --n "$N" --ids "$work/ids" >"$work/conversations.jsonl"
head -n 10000 "$work/ids" >"$work/ids-a"          # get, list, delete
tail -n +10001 "$work/ids" >"$work/ids-b"         # bulk deletes (each id deleted once, then refused)

[ "$(nproc)" -ge 2 ] || { echo "bench-load: needs two cores (server and load on one each)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench-load: needs wrk (apt-get install wrk)" >&2; exit 1; }

for engine in $ENGINES; do
	for mode in $MODES; do
		case $engine in
		sqlite) db="sqlite:$work/$mode.db" ;;
		postgres)
			schema="bench_$(date +%s%N)"
			psql "$PG" -qc "CREATE SCHEMA $schema" >/dev/null
			db="$PG&search_path=$schema"
			;;
		esac
		# The DSN goes by environment: fini-server refuses a password in --db, where ps shows it.
		srv() { FINI_DB="$db" "$server_bin" "$@"; }
		ws=$(srv workspace create bench)
		key=$(srv key create --workspace "$ws" --scopes read,write)
		srv import --workspace "$ws" "$work/conversations.jsonl" >/dev/null
		# taskset execs the server, so $! is the server itself.
		FINI_DB="$db" taskset -c 0 "$server_bin" serve --addr "127.0.0.1:$PORT" --response-validation "$mode" \
			2>"$work/server.log" &
		server_pid=$!
		for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" 2>/dev/null && break; sleep 0.1; done
		for op in $OPS; do
			ids="$work/ids-a"
			conc=$CONC
			if [ "$op" = bulk ]; then ids="$work/ids-b"; conc=8; fi
			out=$(FINI_API_KEY="$key" taskset -c 1 "$work/fini-load" run --url "http://127.0.0.1:$PORT" --ids "$ids" \
				--op "$op" --concurrency "$conc" --duration "$DURATION")
			rss=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
			echo "{\"tree\":\"$TREE\",\"engine\":\"$engine\",\"mode\":\"$mode\",\"peak_rss_kib\":$rss,${out#\{}"
			case $op in
			get | delete)
				method=GET
				[ "$op" = delete ] && method=DELETE
				out=$(WRK_IDS="$ids" WRK_METHOD=$method WRK_KEY="$key" taskset -c 1 wrk -t1 -c"$conc" -d"$DURATION" \
					-s scripts/wrk-ids.lua "http://127.0.0.1:$PORT" | grep '^{"tool":"wrk"')
				echo "{\"tree\":\"$TREE\",\"engine\":\"$engine\",\"mode\":\"$mode\",\"op\":\"$op\",\"concurrency\":$conc,${out#\{}"
				;;
			esac
		done
		kill -TERM "$server_pid"
		wait "$server_pid" || true
		server_pid=
		if [ "$engine" = postgres ]; then psql "$PG" -qc "DROP SCHEMA $schema CASCADE" >/dev/null; fi
	done
done
