#!/usr/bin/env bash
# Independent checkers against the real fini-server binary on a loopback port:
#  1. Stoplight Prism (pinned in package.json) as a validating proxy with --errors in front of
#     the server: every operation, its successes and the error answers valid-shaped requests
#     get (401, 403, 404, 406). Any violation Prism reports fails the run.
#  2. Fini's documented examples (examples/seed: cURL, Python requests, Node fetch), run as
#     written with only the base URL and the key substituted.
# Requests the spec itself forbids are stopped by Prism before the server, so those are
# covered by the Go tests that drive the server directly. Bounded: every wait has a limit.
set -euo pipefail
cd "$(dirname "$0")/.."

SERVER_PORT=${SERVER_PORT:-18181}
PRISM_PORT=${PRISM_PORT:-18182}
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "contract-checkers: FAIL: $*" >&2; exit 1; }

# A port still taken (say, by an earlier run) would make us test the wrong process.
for port in "$SERVER_PORT" "$PRISM_PORT"; do
	if curl -s -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then fail "port $port is already in use"; fi
done

wait_for() { # url
	for _ in $(seq 1 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done
	fail "nothing answers at $1"
}

go build -o "$work/fini-server" ./cmd/fini-server
srv() { "$work/fini-server" --db "sqlite:$work/contract.db" "$@"; }

# Started directly (not through a function) so that $! is the server itself.
"$work/fini-server" --db "sqlite:$work/contract.db" serve --demo --addr "127.0.0.1:$SERVER_PORT" \
	>"$work/demo.out" 2>"$work/server.log" &
pids+=($!)
server="http://127.0.0.1:$SERVER_PORT"
wait_for "$server/healthz"
KEY=$(sed -n 's/.*export FINI_API_KEY=//p' "$work/demo.out")
WS=$(sed -n 's/^Demo workspace \([0-9a-f-]*\) .*/\1/p' "$work/demo.out")
[ -n "$KEY" ] && [ -n "$WS" ] || fail "demo output lacks a key or workspace: $(cat "$work/demo.out")"
READ_KEY=$(srv key create --workspace "$WS" --scopes read --name contract-read)
WRITE_KEY=$(srv key create --workspace "$WS" --scopes write --name contract-write)

# The seed's conversation id, in the demo workspace, and one conversation of workspace B.
SEED_ID=0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8
OTHER_ID=7f0c3f52-9d6e-4d43-a7a1-3f5c2b8e9d10
now=$(($(date +%s) * 1000))
conversation() { # id
	printf '{"id":"%s","createdAt":%d,"source":"widget","channel":"chat","status":"Resolved","externalId":null,"url":null,"subjectPreview":"How do I reset my password?","hasFeedback":false,"resolved":true,"userAttributes":{"plan":"pro"},"usedArticles":[],"usedSubfolders":[],"events":[]}\n' "$1" "$now"
}
conversation "$SEED_ID" | srv import --workspace "$WS" - >/dev/null
WS_B=$(srv workspace create other)
conversation "$OTHER_ID" | srv import --workspace "$WS_B" - >/dev/null

# ---- 1. Prism in front of the server --------------------------------------------------------
NO_UPDATE_NOTIFIER=1 node_modules/.bin/prism proxy openapi/openapi.yaml "$server" --errors \
	-h 127.0.0.1 -p "$PRISM_PORT" >"$work/prism.log" 2>&1 &
pids+=($!)
prism="http://127.0.0.1:$PRISM_PORT"
for _ in $(seq 1 150); do curl -s -o /dev/null "$prism/healthz" 2>/dev/null && break; sleep 0.2; done

checks=0
drive() { # expected-status method path key [json-body]
	local want=$1 method=$2 path=$3 key=$4 body=${5:-}
	local args=(-sS -o "$work/body" -D "$work/headers" -w '%{http_code}' -X "$method" "$prism$path")
	[ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
	local got
	got=$(curl "${args[@]}")
	if grep -qi '^sl-violations:' "$work/headers"; then
		fail "Prism reports violations for $method $path: $(grep -i '^sl-violations:' "$work/headers")"
	fi
	[ "$got" = "$want" ] || fail "$method $path through Prism: $got, want $want: $(cat "$work/body")"
	checks=$((checks + 1))
	echo "  prism ok: $method $path -> $got"
}

ids=$(curl -fsS -H "Authorization: Bearer $KEY" "$server/v2/hc-interactions/public?limit=10" |
	python3 -c 'import json,sys; print(" ".join(c["id"] for c in json.load(sys.stdin)["interactions"] if c["id"] != sys.argv[1]))' "$SEED_ID")
set -- $ids
[ $# -ge 6 ] || fail "the demo lists fewer than 6 conversations"
echo "Prism proxy with --errors in front of fini-server:"
drive 200 GET "/v2/hc-interactions/public" "$KEY"
drive 200 GET "/v2/hc-interactions/public?limit=3&source=widget,api&channel=chat" "$KEY"
drive 200 GET "/v2/hc-interactions/public?limit=2&cursor=$2&direction=next" "$READ_KEY"
drive 200 GET "/v2/hc-interactions/public?limit=2&cursor=$5&direction=previous" "$READ_KEY"
drive 200 GET "/v2/hc-interactions/$1/public" "$READ_KEY"
drive 200 DELETE "/v2/hc-interactions/$1/public" "$WRITE_KEY"
drive 200 DELETE "/v2/hc-interactions/$1/public" "$WRITE_KEY"
drive 200 DELETE "/v2/hc-interactions/public" "$WRITE_KEY" "{\"ids\":[\"$2\",\"$3\"]}"
drive 401 GET "/v2/hc-interactions/public" "fini_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
drive 401 DELETE "/v2/hc-interactions/$4/public" "fini_revoked-or-unknown"
drive 401 DELETE "/v2/hc-interactions/public" "fini_nope" "{\"ids\":[\"$4\"]}"
drive 401 GET "/v2/hc-interactions/$4/public" "fini_nope"
drive 403 GET "/v2/hc-interactions/public" "$WRITE_KEY"
drive 403 GET "/v2/hc-interactions/$4/public" "$WRITE_KEY"
drive 403 DELETE "/v2/hc-interactions/$4/public" "$READ_KEY"
drive 403 DELETE "/v2/hc-interactions/public" "$READ_KEY" "{\"ids\":[\"$4\"]}"
drive 404 GET "/v2/hc-interactions/$1/public" "$KEY"
drive 404 GET "/v2/hc-interactions/$OTHER_ID/public" "$KEY"
drive 406 DELETE "/v2/hc-interactions/public" "$KEY" "{\"ids\":[\"$4\",\"$2\",\"$OTHER_ID\"]}"
drive 400 GET "/v2/hc-interactions/public?cursor=$OTHER_ID" "$KEY"
curl -fsS -o /dev/null -H "Authorization: Bearer $KEY" "$server/v2/hc-interactions/$4/public" ||
	fail "a refused bulk delete deleted $4"
echo "Prism: $checks exchanges, zero violations"

# ---- 2. Fini's documented examples ------------------------------------------------------------
PY=python3
if ! $PY -c 'import requests' 2>/dev/null; then
	if /usr/bin/python3 -c 'import requests' 2>/dev/null; then PY=/usr/bin/python3; else
		apt-get update -qq >/dev/null && apt-get install -y -qq python3-requests >/dev/null && PY=/usr/bin/python3; fi
fi
substitute() { # file -> copy with only the base URL and the key replaced
	local out="$work/$(basename "$1")"
	sed -e "s#https://api-prod.usefini.com#$server#g" -e "s#fini_your_api_key#$KEY#g" "$1" >"$out"
	echo "$out"
}
run_example() { # file -> prints the JSON result
	local f
	f=$(substitute "$1")
	case "$1" in
	*.sh) bash "$f" 2>"$work/curl.err" ;;
	*.py) $PY -c "import json; exec(open('$f').read()); print(json.dumps(result))" ;;
	*.mjs) node --input-type=module -e "$(cat "$f")
console.log(JSON.stringify(result));" ;;
	esac
}
seed_status() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$server/v2/hc-interactions/$SEED_ID/public"; }

echo "Fini's documented examples against fini-server:"
for lang in sh py mjs; do
	out=$(run_example "examples/seed/get.$lang")
	echo "$out" | grep -q "\"id\": *\"$SEED_ID\"" || fail "get.$lang: $out"
	out=$(run_example "examples/seed/list.$lang")
	echo "$out" | grep -q '"interactions"' || fail "list.$lang: $out"
	for op in delete bulk-delete; do
		[ "$(seed_status)" = 200 ] || fail "the seed conversation is not live before $op.$lang"
		out=$(run_example "examples/seed/$op.$lang")
		echo "$out" | grep -Eq '"success": ?true' || fail "$op.$lang answered $out"
		[ "$(seed_status)" = 404 ] || fail "$op.$lang answered success but the conversation is still there"
		srv restore --workspace "$WS" "$SEED_ID" 2>/dev/null
		echo "  example ok: $op.$lang deleted the seed conversation"
	done
	echo "  example ok: get.$lang, list.$lang"
done
# The seed's delete is idempotent: the same example on a deleted id still answers success.
run_example examples/seed/delete.sh >/dev/null
out=$(run_example examples/seed/delete.sh)
echo "$out" | grep -Eq '"success": ?true' || fail "a repeated delete answered $out"
echo "contract-checkers: all passed"
