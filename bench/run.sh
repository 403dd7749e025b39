#!/usr/bin/env bash
# Load benchmark of the release binary on loopback with a fresh SQLite database:
# client_credentials tokens/s and introspections/s at 1 and 32 connections, latency percentiles,
# peak RSS and start-to-first-200. Needs wrk (Debian: apt-get install wrk).
#
#   bash bench/run.sh                 # RS256, ES256, EdDSA, HS256; 10 s per run
#   ALGS="ES256" DURATION=15 bash bench/run.sh
#   bash bench/run.sh --smoke         # 2 s per run, ES256 only: checks that the bench works
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-10}"
ALGS="${ALGS:-RS256 ES256 EdDSA HS256}"
CONNS="${CONNS:-1 32}"
if [ "${1:-}" = "--smoke" ]; then DURATION=2; ALGS="ES256"; CONNS="32"; fi

command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
BIN="${OAUTH2_BIN:-target/release/oauth2-server}"
if [ -z "${OAUTH2_BIN:-}" ]; then cargo build --release -q -p oauth2-server; fi

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

printf '%-6s %-13s %5s %12s %9s %9s %9s\n' alg test conns "req/s" "p50" "p99" "non-2xx"
for ALG in $ALGS; do
  PORT=$(free_port)
  export OAUTH2_SERVER_PORT=$PORT OAUTH2_DATABASE_URL="sqlite:$WORK/$ALG.db" OAUTH2_JWT_ALGORITHM=$ALG \
         OAUTH2_LOG_LEVEL=warn
  if [ "$ALG" = HS256 ]; then export OAUTH2_JWT_SECRET=bench-secret-bench-secret-bench-secret; else unset OAUTH2_JWT_SECRET; fi
  "$BIN" migrate >/dev/null
  CLIENT=$("$BIN" client create --name bench --scope "api.read api.write")
  ID=$(echo "$CLIENT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
  SECRET=$(echo "$CLIENT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
  START=$(now_ms)
  "$BIN" serve & SERVER_PID=$!
  until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do sleep 0.005; done
  STARTUP=$(( $(now_ms) - START ))
  AUTH="Basic $(printf '%s:%s' "$ID" "$SECRET" | base64 -w0)"
  TOKEN=$(curl -sf -H "Authorization: $AUTH" -d grant_type=client_credentials "http://127.0.0.1:$PORT/oauth/token" \
          | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  cat > "$WORK/token.lua" <<LUA
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "$AUTH"
LUA
  cat > "$WORK/introspect.lua" <<LUA
wrk.method = "POST"
wrk.body = "token=$TOKEN"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "$AUTH"
LUA
  for TEST in token introspect; do
    PATH_="/oauth/token"; [ "$TEST" = introspect ] && PATH_="/oauth/introspect"
    for C in $CONNS; do
      OUT=$(wrk -t"$([ "$C" = 1 ] && echo 1 || echo 2)" -c"$C" -d"${DURATION}s" --latency \
            -s "$WORK/$TEST.lua" "http://127.0.0.1:$PORT$PATH_")
      RPS=$(echo "$OUT" | awk '/Requests\/sec/ {print $2}')
      P50=$(echo "$OUT" | awk '$1=="50%" {print $2}')
      P99=$(echo "$OUT" | awk '$1=="99%" {print $2}')
      BAD=$(echo "$OUT" | awk '/Non-2xx/ {print $5}')
      printf '%-6s %-13s %5s %12s %9s %9s %9s\n' "$ALG" "$TEST" "$C" "$RPS" "$P50" "$P99" "${BAD:-0}"
    done
  done
  RSS=$(awk '/VmHWM/ {print $2, $3}' "/proc/$SERVER_PID/status")
  echo "$ALG: start to first 200: ${STARTUP} ms; peak RSS: $RSS"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
done
