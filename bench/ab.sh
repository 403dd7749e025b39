#!/usr/bin/env bash
# A/B comparison of server builds or settings on the two hot endpoints: client_credentials
# tokens and JWT introspection, ES256, 32 connections, wrk, interleaved rounds (so a busy moment of
# the machine hits every variant alike). Each variant gets a fresh database.
#
#   bash bench/ab.sh NAME=BINARY[+ENV=VALUE...] ...
#
# e.g. what the event sinks cost when they take every token issued:
#   bash bench/ab.sh off=target/release/oauth2-server \
#     'all=target/release/oauth2-server+OAUTH2_EVENTS_AUDIT=*+OAUTH2_EVENTS_RING=*'
# or two builds: git worktree add /tmp/base <rev>, build it, then base=/tmp/base/target/... new=...
#
# Settings: ROUNDS (3), DUR (10s), BACKEND (sqlite | postgres: a fresh database per variant on
# 127.0.0.1:5432), CONNS (32). Needs wrk, curl, python3. Prints one line per round and the medians.
set -euo pipefail
set -f  # event filters are full of `*`
ROUNDS=${ROUNDS:-3}; DUR=${DUR:-10s}; BACKEND=${BACKEND:-sqlite}; CONNS=${CONNS:-32}
[ $# -ge 1 ] || { sed -n 2,14p "$0"; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
W=$(mktemp -d /tmp/oauth2-ab.XXXXXX)
names=(); declare -A BIN PORT PID ENVS
port=18280
for spec in "$@"; do
  name=${spec%%=*}; rest=${spec#*=}
  IFS='+' read -r -a parts <<<"$rest"
  BIN[$name]=${parts[0]}; ENVS[$name]="${parts[*]:1}"; PORT[$name]=$port; port=$((port + 1))
  names+=("$name")
done
cleanup() { for n in "${names[@]}"; do [ -n "${PID[$n]:-}" ] && kill "${PID[$n]}" 2>/dev/null; done; wait 2>/dev/null || true; }
trap cleanup EXIT
for n in "${names[@]}"; do
  if [ "$BACKEND" = sqlite ]; then url="sqlite:$W/$n.db"; else
    psql -q -h 127.0.0.1 -U postgres test -c "DROP DATABASE IF EXISTS ab_$n" -c "CREATE DATABASE ab_$n" >/dev/null
    url="postgres://postgres@127.0.0.1:5432/ab_$n"; fi
  # shellcheck disable=SC2206
  cmd=(env OAUTH2_DATABASE_URL="$url" OAUTH2_SERVER_PORT="${PORT[$n]}" OAUTH2_LOG_LEVEL=warn
       OAUTH2_JWT_ALGORITHM=ES256 ${ENVS[$n]} "${BIN[$n]}")
  created=$("${cmd[@]}" client create --name ab --scope api.read)
  id=$(python3 -c 'import json,sys;print(json.load(sys.stdin)["client_id"])' <<<"$created")
  secret=$(python3 -c 'import json,sys;print(json.load(sys.stdin)["client_secret"])' <<<"$created")
  "${cmd[@]}" serve >"$W/$n.log" 2>&1 & PID[$n]=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:${PORT[$n]}/health" >/dev/null && break; sleep 0.1; done
  auth=$(printf '%s:%s' "$id" "$secret" | base64 -w0)
  token=$(curl -s -u "$id:$secret" -d grant_type=client_credentials -d scope=api.read \
    "http://127.0.0.1:${PORT[$n]}/oauth/token" | python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')
  for kind in token introspect; do
    body="grant_type=client_credentials&scope=api.read"; [ $kind = introspect ] && body="token=$token"
    printf 'wrk.method = "POST"\nwrk.body = "%s"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\nwrk.headers["Authorization"] = "Basic %s"\n' \
      "$body" "$auth" >"$W/$n-$kind.lua"
  done
done
for r in $(seq "$ROUNDS"); do
  for kind in token introspect; do
    path=/oauth/token; [ $kind = introspect ] && path=/oauth/introspect
    for n in "${names[@]}"; do
      out=$(wrk -t2 -c"$CONNS" -d"$DUR" --latency -s "$W/$n-$kind.lua" "http://127.0.0.1:${PORT[$n]}$path")
      rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
      bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
      echo "round $r $kind $n rps=$rps p99=$p99 non2xx=${bad:-0}" | tee -a "$W/rounds.txt"
    done
  done
done
echo "medians ($BACKEND, ES256, $CONNS connections, $ROUNDS rounds of $DUR):"
python3 - "$W/rounds.txt" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    _, _, kind, name, rps, *_ = line.split()
    rows.setdefault((kind, name), []).append(float(rps.split("=")[1]))
for (kind, name), v in rows.items():
    print(f"  {kind:10} {name:12} {statistics.median(v):>10,.0f}/s  (rounds: {', '.join(f'{x:,.0f}' for x in v)})")
PY
