#!/usr/bin/env python3
"""The structural half of deploy/check.sh: checks that need a parser rather than a tool.

    python3 deploy/check_deploy.py --bin BIN --rendered DIR [--k8s-version V]...

DIR holds `kubectl kustomize` output as base.yaml, dev.yaml and production.yaml. Every problem
is one `FAIL:` line; the exit code is 1 when there is any. Needs PyYAML and kubernetes-validate
(schemas bundled: no cluster, no network) and `dockerfile` (BuildKit's own Dockerfile parser).
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import config_docs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS: list[str] = []
SECRET_NAME = "oauth2-server-secrets"
SERVER_LABELS = {"app.kubernetes.io/name": "oauth2-server", "app.kubernetes.io/component": "server"}
# Variables the binary reads that are not settings (crates/server/src/config.rs).
NON_SETTING_ENV = {"OAUTH2_CONFIG"}
# Read by the test suite only; docs may name them.
TEST_ENV = {"OAUTH2_TEST_POSTGRES_URL", "OAUTH2_TEST_REDIS_URL"}


def fail(msg: str) -> None:
    PROBLEMS.append(msg)
    print(f"FAIL: {msg}", flush=True)


def ok(msg: str) -> None:
    print(f"ok: {msg}", flush=True)


def expect(cond: Any, msg: str) -> bool:
    if not cond:
        fail(msg)
    return bool(cond)


# --- the binary's settings -------------------------------------------------------------------

def settings(binary: str) -> list[config_docs.Setting]:
    return config_docs.parse(config_docs.example_output(binary))


def config_check(binary: str, env: dict[str, str], what: str) -> None:
    """`oauth2-server config check` with exactly these OAUTH2_* variables: validates the values."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OAUTH2_")}
    clean.update(env)
    done = subprocess.run([binary, "config", "check"], env=clean, capture_output=True, text=True,
                          timeout=60, cwd="/")
    unknown = [l for l in done.stderr.splitlines() if "unknown environment variable" in l]
    if done.returncode != 0:
        fail(f"{what}: `oauth2-server config check` rejects the settings: {done.stderr.strip()}")
    elif unknown:
        fail(f"{what}: {'; '.join(unknown)}")
    else:
        ok(f"{what}: `oauth2-server config check` accepts the settings")


def known_env(names: list[str], known: set[str], what: str) -> None:
    for n in names:
        if n.startswith("OAUTH2_") and n not in known and n not in NON_SETTING_ENV:
            fail(f"{what}: {n} is not a setting of oauth2-server (typo? see docs/configuration.md)")


# --- Dockerfile -------------------------------------------------------------------------------

def dockerignore_excludes(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parent folders wins."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for raw in patterns:
        neg = raw.startswith("!")
        pat = raw[1:] if neg else raw
        pat = pat.strip().strip("/")
        if not pat:
            continue
        regex = re.escape(pat).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, c) for c in candidates):
            excluded = not neg
    return excluded


def check_dockerfile(known: set[str]) -> None:
    import dockerfile  # BuildKit's parser, compiled in

    path = ROOT / "Dockerfile"
    try:
        cmds = dockerfile.parse_file(str(path))
    except dockerfile.GoParseError as e:
        fail(f"Dockerfile does not parse: {e}")
        return
    ok(f"Dockerfile parses with BuildKit's parser ({len(cmds)} instructions)")
    stages: list[dict[str, Any]] = []
    for c in cmds:
        if c.cmd == "FROM":
            name = c.value[2].lower() if len(c.value) >= 3 and c.value[1].upper() == "AS" else None
            stages.append({"image": c.value[0], "name": name, "cmds": []})
        elif stages:
            stages[-1]["cmds"].append(c)
        if c.cmd == "ADD" and any(re.match(r"^(https?|git)://|^git@", v) for v in c.value):
            fail(f"Dockerfile line {c.start_line}: ADD of a remote URL ({' '.join(c.value)})")
    if not expect(len(stages) >= 2, "Dockerfile: multi-stage (at least a builder and a runtime FROM)"):
        return
    names = {s["name"] for s in stages if s["name"]}
    rust = [s for s in stages if s["image"].startswith("rust:")]
    expect(rust and re.match(r"rust:1\.95(\.\d+)?-", rust[0]["image"]),
           f"Dockerfile: a builder stage FROM rust:1.95[.x]-<debian> (found {[s['image'] for s in stages]})")
    for s in stages:
        if s["image"] not in names and ":" not in s["image"] and "@" not in s["image"]:
            fail(f"Dockerfile: FROM {s['image']} has no pinned tag")
        if s["image"].endswith(":latest"):
            fail(f"Dockerfile: FROM {s['image']} uses :latest")
    final = stages[-1]
    expect(final["image"].startswith(("debian:bookworm-slim", "gcr.io/distroless/cc")),
           f"Dockerfile: the runtime stage is debian:bookworm-slim or distroless cc (found {final['image']})")
    if rust and "bookworm" in rust[0]["image"]:
        expect("bookworm" in final["image"] or "debian12" in final["image"],
               "Dockerfile: builder and runtime use the same Debian release (glibc)")
    fc = final["cmds"]
    users = [c for c in fc if c.cmd == "USER"]
    if expect(users, "Dockerfile: the runtime stage sets USER"):
        user = users[-1].value[0].split(":")[0]
        expect(user not in ("root", "0"), f"Dockerfile: the runtime stage runs as root (USER {user})")
        expect(user.isdigit() and int(user) >= 1000,
               f"Dockerfile: USER is numeric and unprivileged (runAsNonRoot needs a numeric UID; found {user})")
    health = [c for c in fc if c.cmd == "HEALTHCHECK"]
    if expect(health, "Dockerfile: the runtime stage has a HEALTHCHECK"):
        h = health[-1]
        expect(h.value and h.value[0] == "CMD" and "/health" in " ".join(h.value),
               f"Dockerfile: HEALTHCHECK runs a command against /health ({' '.join(h.value)})")
    expose = [v for c in fc if c.cmd == "EXPOSE" for v in c.value]
    expect("8080" in expose or "8080/tcp" in expose, "Dockerfile: EXPOSE 8080")
    env: dict[str, str] = {}
    for c in fc:
        if c.cmd == "ENV":
            env.update(dict(zip(c.value[0::2], c.value[1::2])))
    expect(env.get("OAUTH2_SERVER_HOST") == "0.0.0.0", "Dockerfile: ENV OAUTH2_SERVER_HOST=0.0.0.0")
    expect(env.get("OAUTH2_DATABASE_URL") == "sqlite:/data/oauth2.db",
           "Dockerfile: ENV OAUTH2_DATABASE_URL=sqlite:/data/oauth2.db")
    known_env(list(env), known, "Dockerfile ENV")
    expect(any(c.cmd == "VOLUME" and "/data" in c.value for c in fc), "Dockerfile: VOLUME /data")
    entry = [c for c in fc if c.cmd == "ENTRYPOINT"]
    expect(entry and "oauth2-server" in entry[-1].value[0], "Dockerfile: ENTRYPOINT is the oauth2-server binary")
    # Every file COPY'd from the build context exists and is not excluded by .dockerignore.
    ignore = [l.strip() for l in (ROOT / ".dockerignore").read_text().splitlines()
              if l.strip() and not l.lstrip().startswith("#")]
    for required in ("target", ".git", "node_modules", "bench/out"):
        expect(dockerignore_excludes(required, ignore) or dockerignore_excludes(f"x/{required}", ignore),
               f".dockerignore excludes {required}")
    for c in cmds:
        if c.cmd not in ("COPY", "ADD") or any(f.startswith("--from") for f in c.flags):
            continue
        for src in c.value[:-1]:
            if src in (".", "./"):
                continue
            expect((ROOT / src).exists(), f"Dockerfile line {c.start_line}: COPY source {src} does not exist")
            expect(not dockerignore_excludes(src, ignore),
                   f"Dockerfile line {c.start_line}: COPY source {src} is excluded by .dockerignore")
    for crate_path in ("Cargo.toml", "Cargo.lock", "crates/server/src/main.rs", "crates/store/migrations"):
        expect(not dockerignore_excludes(crate_path, ignore), f".dockerignore must not exclude {crate_path}")


# --- docker-compose.yml and Prometheus ----------------------------------------------------------

def interpolate(value: str) -> str:
    """Compose's ${VAR:-default} / ${VAR-default} / ${VAR}, with the defaults (nothing is set here)."""
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}", lambda m: m.group(2) or "", value)


def env_dict(env: Any) -> dict[str, str]:
    if isinstance(env, dict):
        return {k: "" if v is None else str(v) for k, v in env.items()}
    out: dict[str, str] = {}
    for item in env or []:
        k, _, v = str(item).partition("=")
        out[k] = v
    return out


def check_compose(binary: str, known: set[str]) -> None:
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services: dict[str, Any] = doc.get("services", {})
    for name in ("server", "postgres", "redis", "prometheus", "migrate"):
        expect(name in services, f"docker-compose.yml: a `{name}` service")
    if "server" not in services:
        return
    for name, svc in services.items():
        deps = svc.get("depends_on", {})
        if isinstance(deps, list):
            fail(f"docker-compose.yml: {name}.depends_on lists services without conditions")
            continue
        for dep, spec in deps.items():
            expect(dep in services, f"docker-compose.yml: {name} depends on unknown service {dep}")
            cond = (spec or {}).get("condition")
            expect(cond in ("service_healthy", "service_completed_successfully", "service_started"),
                   f"docker-compose.yml: {name}.depends_on.{dep} has a condition")
            if cond == "service_healthy" and dep in services:
                expect(services[dep].get("healthcheck", {}).get("test"),
                       f"docker-compose.yml: {name} waits for {dep} to be healthy, but {dep} has no healthcheck")
        if name != "migrate":
            expect(svc.get("healthcheck", {}).get("test"), f"docker-compose.yml: {name} has a healthcheck")
    server, migrate = services["server"], services.get("migrate", {})
    expect(migrate.get("command") == ["migrate"], "docker-compose.yml: migrate runs `oauth2-server migrate`")
    expect((server.get("depends_on") or {}).get("migrate", {}).get("condition") == "service_completed_successfully",
           "docker-compose.yml: server starts after migrate completed successfully")
    for dep in ("postgres", "redis"):
        expect((server.get("depends_on") or {}).get(dep, {}).get("condition") == "service_healthy",
               f"docker-compose.yml: server waits for {dep} to be healthy")
    expect(any("/health" in str(x) for x in server.get("healthcheck", {}).get("test", [])),
           "docker-compose.yml: the server's healthcheck hits /health")
    env = {k: interpolate(v) for k, v in env_dict(server.get("environment")).items()}
    expect(env.get("OAUTH2_DATABASE_URL", "").startswith("postgres://"),
           "docker-compose.yml: the server uses PostgreSQL")
    expect(env.get("OAUTH2_REDIS_URL", "").startswith("redis://"), "docker-compose.yml: the server uses Redis")
    known_env(list(env), known, "docker-compose.yml server environment")
    config_check(binary, env, "docker-compose.yml server environment")
    # Prometheus: its config file is mounted from the repo and scrapes the server's port.
    prom = services.get("prometheus", {})
    mounts = [str(v).split(":") for v in prom.get("volumes", [])]
    configs = [m[0] for m in mounts if len(m) >= 2 and m[1] == "/etc/prometheus/prometheus.yml"]
    if expect(configs, "docker-compose.yml: prometheus mounts a config at /etc/prometheus/prometheus.yml"):
        cfg_path = ROOT / configs[0]
        if expect(cfg_path.exists(), f"docker-compose.yml: {configs[0]} exists"):
            cfg = yaml.safe_load(cfg_path.read_text())
            targets = [(job.get("metrics_path", "/metrics"), t)
                       for job in cfg.get("scrape_configs", [])
                       for sc in job.get("static_configs", []) for t in sc.get("targets", [])]
            expect(("/metrics", "server:8080") in targets,
                   f"{configs[0]}: a scrape job for server:8080/metrics (found {targets})")
    ok("docker-compose.yml: services, start-up order and health checks")


# --- Kubernetes --------------------------------------------------------------------------------

def load_all(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def validate_schemas(name: str, docs: list[dict[str, Any]], versions: list[str]) -> None:
    import kubernetes_validate

    for version in versions:
        bad = 0
        for d in docs:
            what = f"{name}: {d.get('kind')}/{d.get('metadata', {}).get('name')} ({d.get('apiVersion')})"
            try:
                kubernetes_validate.validate(d, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                bad += 1
                fail(f"{what} is invalid for Kubernetes {version}: {'.'.join(map(str, e.path))}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError:
                bad += 1
                fail(f"{what}: no such API in Kubernetes {version} (removed or misspelled apiVersion/kind)")
        if not bad:
            ok(f"{name}: {len(docs)} objects valid against the Kubernetes {version} schemas (strict)")


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") == kind]


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def check_pod(what: str, pod: dict[str, Any], known: set[str], configmaps: dict[str, dict[str, str]],
              server: bool, overlay: bool) -> None:
    spec = pod.get("spec", {})
    expect(spec.get("enableServiceLinks") is False,
           f"{what}: enableServiceLinks: false (service links inject OAUTH2_SERVER_PORT=tcp://...)")
    expect(spec.get("automountServiceAccountToken") is False, f"{what}: no service account token mounted")
    psc = spec.get("securityContext", {})
    expect(psc.get("runAsNonRoot") is True, f"{what}: pod securityContext.runAsNonRoot")
    expect(isinstance(psc.get("runAsUser"), int) and psc["runAsUser"] > 0, f"{what}: pod runs as a non-zero UID")
    expect(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", f"{what}: seccompProfile RuntimeDefault")
    for c in spec.get("containers", []):
        cw = f"{what} container {c.get('name')}"
        sc = c.get("securityContext", {})
        expect(sc.get("readOnlyRootFilesystem") is True, f"{cw}: readOnlyRootFilesystem")
        expect(sc.get("allowPrivilegeEscalation") is False, f"{cw}: allowPrivilegeEscalation: false")
        expect("ALL" in sc.get("capabilities", {}).get("drop", []), f"{cw}: drops ALL capabilities")
        res = c.get("resources", {})
        expect(res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory"),
               f"{cw}: CPU and memory requests")
        expect(res.get("limits", {}).get("memory"), f"{cw}: a memory limit")
        image = c.get("image", "")
        # The base names a placeholder image; every overlay sets a real, tagged one.
        expect(not overlay or ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"),
               f"{cw}: image {image!r} has a pinned tag")
        env_names = [e["name"] for e in c.get("env", [])]
        known_env(env_names, known, cw)
        for e in c.get("env", []):
            vf = e.get("valueFrom", {})
            if "value" in e and e["name"] in ("OAUTH2_DATABASE_URL", "OAUTH2_JWT_SECRET", "OAUTH2_REDIS_URL"):
                fail(f"{cw}: {e['name']} is a literal value; take it from the Secret")
            if "secretKeyRef" in vf:
                expect(vf["secretKeyRef"].get("name") == SECRET_NAME,
                       f"{cw}: {e['name']} comes from Secret {SECRET_NAME}")
        db = [e for e in c.get("env", []) if e["name"] == "OAUTH2_DATABASE_URL"]
        expect(db and "secretKeyRef" in db[0].get("valueFrom", {}) and not db[0]["valueFrom"]["secretKeyRef"].get("optional"),
               f"{cw}: OAUTH2_DATABASE_URL from a required secretKeyRef")
        for ef in c.get("envFrom", []):
            ref = ef.get("configMapRef", {}).get("name")
            if ref:
                if expect(ref in configmaps, f"{cw}: envFrom ConfigMap {ref} is in the rendering"):
                    known_env(list(configmaps[ref]), known, f"ConfigMap {ref}")
        if server:
            probes = {p: c.get(p, {}).get("httpGet", {}) for p in ("livenessProbe", "readinessProbe", "startupProbe")}
            expect(probes["livenessProbe"].get("path") == "/health", f"{cw}: liveness probe GET /health")
            expect(probes["readinessProbe"].get("path") == "/ready", f"{cw}: readiness probe GET /ready")
            ports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
            for p, get in probes.items():
                if get:
                    expect(get.get("port") in ports or get.get("port") in ports.values(),
                           f"{cw}: {p} port {get.get('port')} is a container port")
            expect(ports.get("http") == 8080, f"{cw}: container port http=8080")


def check_rendering(name: str, docs: list[dict[str, Any]], binary: str, known: set[str]) -> dict[str, Any]:
    """Checks one rendered kustomization; returns the facts the overlays are compared on."""
    kinds = {(d["apiVersion"], d["kind"]) for d in docs}
    for want in [("apps/v1", "Deployment"), ("v1", "Service"), ("autoscaling/v2", "HorizontalPodAutoscaler"),
                 ("policy/v1", "PodDisruptionBudget"), ("v1", "ConfigMap"), ("batch/v1", "Job"),
                 ("v1", "ServiceAccount")]:
        expect(want in kinds, f"{name}: has a {want[1]} ({want[0]})")
    expect(not by_kind(docs, "Secret"), f"{name}: renders no Secret (only references to one)")
    configmaps = {d["metadata"]["name"]: d.get("data", {}) for d in by_kind(docs, "ConfigMap")}
    deps = [d for d in by_kind(docs, "Deployment") if d["metadata"]["name"] == "oauth2-server"]
    jobs = by_kind(docs, "Job")
    if not deps or not jobs:
        return {}
    dep = deps[0]
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    expect(matches(dep["spec"]["selector"]["matchLabels"], pod_labels), f"{name}: Deployment selector matches its pods")
    check_pod(f"{name}: Deployment", dep["spec"]["template"], known, configmaps, server=True,
              overlay=name != "base")
    for job in jobs:
        c = job["spec"]["template"]["spec"]["containers"][0]
        expect(c.get("args") == ["migrate"] or c.get("command", [])[-1:] == ["migrate"],
               f"{name}: Job {job['metadata']['name']} runs `oauth2-server migrate`")
        expect(c.get("image") == dep["spec"]["template"]["spec"]["containers"][0].get("image"),
               f"{name}: the migration Job runs the same image as the Deployment")
        check_pod(f"{name}: Job", job["spec"]["template"], known, configmaps, server=False,
                  overlay=name != "base")
        job_labels = job["spec"]["template"]["metadata"].get("labels", {})
        for svc in by_kind(docs, "Service"):
            expect(not matches(svc["spec"].get("selector", {}), job_labels),
                   f"{name}: Service {svc['metadata']['name']} must not select the migration Job's pods")
    for svc in by_kind(docs, "Service"):
        expect(matches(svc["spec"].get("selector", {}), pod_labels), f"{name}: Service selects the server pods")
    for pdb in by_kind(docs, "PodDisruptionBudget"):
        expect(matches(pdb["spec"]["selector"].get("matchLabels", {}), pod_labels), f"{name}: PDB selects the server pods")
    hpa = by_kind(docs, "HorizontalPodAutoscaler")[0]
    ref = hpa["spec"]["scaleTargetRef"]
    expect(ref.get("kind") == "Deployment" and ref.get("name") == dep["metadata"]["name"],
           f"{name}: HPA scales the Deployment")
    expect(any(m.get("resource", {}).get("name") == "cpu" for m in hpa["spec"].get("metrics", [])),
           f"{name}: HPA scales on CPU")
    expect(1 <= hpa["spec"].get("minReplicas", 1) <= hpa["spec"]["maxReplicas"], f"{name}: HPA bounds are sane")
    cm_ref = dep["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["configMapRef"]["name"]
    cm = configmaps.get(cm_ref, {})
    env = dict(cm)
    env["OAUTH2_DATABASE_URL"] = "postgres://oauth2:placeholder@postgres.example.invalid:5432/oauth2"
    config_check(binary, env, f"{name}: ConfigMap {cm_ref} (+ a PostgreSQL URL from the Secret)")
    container = dep["spec"]["template"]["spec"]["containers"][0]
    ok(f"{name}: Deployment, Job, Service, HPA and PDB fit together")
    return {
        "namespace": dep["metadata"].get("namespace"),
        "image": container["image"],
        "issuer": cm.get("OAUTH2_ISSUER"),
        "replicas": dep["spec"].get("replicas"),
        "hpa": (hpa["spec"].get("minReplicas"), hpa["spec"]["maxReplicas"]),
        "resources": container.get("resources"),
    }


def check_kustomizations() -> None:
    base = ROOT / "deploy/k8s/base"
    for k in (ROOT / "deploy/k8s").rglob("kustomization.yaml"):
        listed = yaml.safe_load(k.read_text()).get("resources", [])
        expect(not any(str(r).endswith("secret.example.yaml") for r in listed),
               f"{k.relative_to(ROOT)} must not list secret.example.yaml")
    for p in (ROOT / "deploy/k8s").rglob("*.yaml"):
        if p.name == "secret.example.yaml":
            continue
        for d in yaml.safe_load_all(p.read_text()):
            if isinstance(d, dict) and d.get("kind") == "Secret":
                fail(f"{p.relative_to(ROOT)}: a Secret with values is committed")
    ex = yaml.safe_load((base / "secret.example.yaml").read_text())
    expect(ex.get("metadata", {}).get("name") == SECRET_NAME, f"secret.example.yaml describes {SECRET_NAME}")
    expect("CHANGE-ME" in (base / "secret.example.yaml").read_text(), "secret.example.yaml holds placeholders only")


# --- docs ----------------------------------------------------------------------------------------

def check_docs(found: list[config_docs.Setting]) -> None:
    known = {s.env for s in found}
    problems = config_docs.check(found)
    for p in problems:
        fail(p)
    if problems:
        print(config_docs.FIX, flush=True)
    else:
        ok(f"docs/configuration.md lists all {len(found)} settings of `oauth2-server config example`")
    for doc in ("configuration.md", "deployment.md", "upgrading.md"):
        path = ROOT / "docs" / doc
        if not expect(path.exists(), f"docs/{doc} exists"):
            continue
        text = path.read_text()
        for ref in sorted(set(re.findall(r"(?<![\w/.-])((?:deploy|docs|crates)/[\w./-]*[\w-])", text))):
            expect((ROOT / ref).exists(), f"docs/{doc} names {ref}, which does not exist")
        for ref in re.findall(r"\]\(([\w.-]+\.md)\)", text):
            expect((path.parent / ref).exists(), f"docs/{doc} links to {ref}, which does not exist")
        for var in sorted(set(re.findall(r"\bOAUTH2_[A-Z0-9_]*[A-Z0-9]\b", text))):
            expect(var in known or var in NON_SETTING_ENV | TEST_ENV,
                   f"docs/{doc} names {var}, which is not a setting of the binary")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--rendered", required=True, type=Path)
    ap.add_argument("--k8s-version", action="append", required=True)
    args = ap.parse_args()

    found = settings(args.bin)
    known = {s.env for s in found}
    check_docs(found)
    check_dockerfile(known)
    check_compose(args.bin, known)
    check_kustomizations()
    facts = {}
    for name in ("base", "dev", "production"):
        docs = load_all(args.rendered / f"{name}.yaml")
        validate_schemas(name, docs, args.k8s_version)
        facts[name] = check_rendering(name, docs, args.bin, known)
    dev, prod = facts.get("dev") or {}, facts.get("production") or {}
    if dev and prod:
        for key in ("namespace", "image", "issuer", "hpa", "resources"):
            expect(dev[key] != prod[key], f"overlays: dev and production differ in {key} (both {dev[key]!r})")
        expect(dev["replicas"] == 1, "overlays: dev pins one replica")
        expect(prod["replicas"] is None, "overlays: production leaves the replica count to the HPA")
        for name, f in (("dev", dev), ("production", prod)):
            expect(str(f["issuer"]).startswith("https://"), f"overlays: {name} issuer is https:// ({f['issuer']})")
        expect(prod["hpa"][0] >= 2, "overlays: production keeps at least two replicas")
    print(f"{len(PROBLEMS)} problem(s)" if PROBLEMS else "structural checks: all passed")
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
