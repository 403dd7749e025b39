#!/usr/bin/env bash
# The load benchmark (issue 6): builds the release binaries once, then runs bench/bench.py, which
# starts oauth2-server on loopback with fresh SQLite and PostgreSQL databases, the ceiling server
# (bench/ceiling) and node-oidc-provider (bench/node) beside it, measures them with wrk and
# oauth2-bench-driver in interleaved rounds, prints one table and writes it to bench/out/results.md.
# Needs wrk (Debian: apt-get install wrk), Node.js 20+ with npm, PostgreSQL at 127.0.0.1:5432.
#
#   bash bench/run.sh            # everything: RS256 ES256 EdDSA HS256, SQLite and PostgreSQL,
#                                # 3 rounds of 10 s per case (about 50 minutes)
#   bash bench/run.sh --smoke    # 1 round of 2 s per case, ES256, SQLite, small growth database:
#                                # checks that the benchmark works (bench/out/results-smoke.md)
#
# Settings (environment): DURATION, ROUNDS, ALGS, BACKENDS, CONNS, GROWTH_CONNS, FLOW_CONNS,
# GROWTH_TOKENS, GROWTH_CLIENTS, FLOW_USERS, NODE=0 (skip node-oidc-provider), BENCH_PG_URL,
# OUT; OAUTH2_BENCH_BIN_DIR to use binaries built elsewhere (skips the build).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }

if [ -z "${OAUTH2_BENCH_BIN_DIR:-}" ]; then
  target="${CARGO_TARGET_DIR:-target}"
  cargo build --release -q -p oauth2-server -p oauth2-bench-ceiling
  # What was built: the report names it (the tree may change while the benchmark runs).
  export BENCH_BUILT_FROM="$(git describe --always --dirty 2>/dev/null || echo unknown) at $(date -u +%H:%M)Z"
  # A private copy: a rebuild in the same target directory during the run changes nothing.
  mkdir -p bench/out/bin
  for b in oauth2-server oauth2-bench-ceiling oauth2-bench-driver; do
    cp "$target/release/$b" bench/out/bin/
  done
  export OAUTH2_BENCH_BIN_DIR="$PWD/bench/out/bin"
fi

if [ "${NODE:-1}" != 0 ] && [ ! -d bench/node/node_modules/oidc-provider ]; then
  (cd bench/node && npm ci --no-audit --no-fund --loglevel=error)
fi

exec python3 bench/bench.py "$@"
