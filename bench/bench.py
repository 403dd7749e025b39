#!/usr/bin/env python3
"""The load benchmark behind bench/run.sh (run that, not this: it builds the binaries first).

Everything runs on loopback on this machine, server and load generator sharing its cores, so
absolute figures mean little; the ratios to the ceiling server and to node-oidc-provider, measured
in the same run and interleaved with ours, are what carries over to another machine.

What it measures, for each algorithm and each backend (a fresh database each):
  * client_credentials tokens/s with wrk, p50/p99 latency, at 1 and 32 connections;
  * introspection of a valid JWT access token;
  * the same two at 32 connections with a grown database (1,000,000 rows in each of
    access_tokens, refresh_tokens and revoked_access_tokens, and 100,000 clients);
  * the ceiling (bench/ceiling) and node-oidc-provider (bench/node) in the same rounds;
  * the full authorization code flow and refresh token rotation per second, with
    oauth2-bench-driver (a Rust load driver: wrk cannot chain requests);
  * start to first 200 and peak RSS (VmHWM) of every server after its load;
  * the cost of one Argon2id hash with production parameters.
Each case is run ROUNDS times (default 3), the rounds interleaved over all cases (odd rounds in
reverse order); the table shows the median round.

Only the Python standard library; tools: wrk, node (v20+), sqlite3 module, psql/createdb/dropdb.
"""

import base64
import datetime
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SMOKE = "--smoke" in sys.argv[1:]


def setting(name, default, smoke=None):
    value = os.environ.get(name)
    if value not in (None, ""):
        return value
    return smoke if (SMOKE and smoke is not None) else default


DURATION = float(setting("DURATION", "10", "2"))
ROUNDS = int(setting("ROUNDS", "3", "1"))
ALGS = setting("ALGS", "RS256 ES256 EdDSA HS256", "ES256").split()
BACKENDS = setting("BACKENDS", "sqlite postgres", "sqlite").split()
CONNS = [int(c) for c in setting("CONNS", "1 32", "32").split()]
GROWTH_CONNS = [int(c) for c in setting("GROWTH_CONNS", "32").split()]
FLOW_CONNS = int(setting("FLOW_CONNS", "32", "8"))
GROWTH_TOKENS = int(setting("GROWTH_TOKENS", "1000000", "10000"))
GROWTH_CLIENTS = int(setting("GROWTH_CLIENTS", "100000", "1000"))
FLOW_USERS = int(setting("FLOW_USERS", "100000", "5000"))
WITH_NODE = setting("NODE", "1") != "0"
PG_URL = setting("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
BIN = setting("OAUTH2_BENCH_BIN_DIR", os.path.join(ROOT, "target", "release"))
OUT_DIR = os.path.join(HERE, "out")
OUT = setting("OUT", os.path.join(OUT_DIR, "results-smoke.md" if SMOKE else "results.md"))
ARGON2_HASHES = int(setting("ARGON2_HASHES", "10", "2"))

# The cheap, test-only Argon2id setting for the users of the code flow (the tests use the same).
CHEAP_ARGON2 = {"OAUTH2_ARGON2_MEMORY_KIB": "64", "OAUTH2_ARGON2_ITERATIONS": "1"}
HS256_SECRET = secrets.token_urlsafe(32)
PASSWORD = "correct horse battery staple"
REDIRECT_URI = "https://app.example/cb"
TOKEN_BODY = "grant_type=client_credentials&scope=api.read+api.write"

BUILT_FROM = os.environ.get("BENCH_BUILT_FROM") or "binaries in " + BIN + " (tree: " + (
    subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                   text=True).stdout.strip() or "unknown") + ")"
SERVER = os.path.join(BIN, "oauth2-server")
CEILING = os.path.join(BIN, "oauth2-bench-ceiling")
DRIVER = os.path.join(BIN, "oauth2-bench-driver")

WORK = tempfile.mkdtemp(prefix="work-", dir=(os.makedirs(OUT_DIR, exist_ok=True) or OUT_DIR))
PROCS = []  # every server we started, stopped at exit
PG_DBS = []  # every database we created, dropped at exit


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cleanup():
    for p in PROCS:
        stop(p)
    for name in PG_DBS:
        subprocess.run(pg_cmd("dropdb", "--if-exists", "--force", name), capture_output=True)
    shutil.rmtree(WORK, ignore_errors=True)


def on_signal(signum, _frame):
    log(f"signal {signum}: stopping")
    sys.exit(130)


# ----------------------------------------------------------------------------------------------
# Processes


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(argv, env=None, stdin=None):
    r = subprocess.run(argv, env=env, input=stdin, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()[:500]}")
    return r.stdout


def http_get_status(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def http_post(port, path, body, auth):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Authorization": auth})
        r = c.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError(f"POST :{port}{path} answered {r.status}: {data[:300]!r}")
        return json.loads(data)
    finally:
        c.close()


class Proc:
    def __init__(self, name, argv, env, port, ready_path, cwd=None):
        self.name, self.port = name, port
        self.log_path = os.path.join(WORK, f"{name}.log")
        log_file = open(self.log_path, "w")
        started = time.monotonic()
        self.popen = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log_file,
                                      stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        PROCS.append(self)
        while True:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{name} exited with {self.popen.returncode}: {self.tail()}")
            try:
                if http_get_status(port, ready_path) == 200:
                    break
            except OSError:
                pass
            if time.monotonic() - started > 60:
                raise RuntimeError(f"{name} did not answer 200 on {ready_path} within 60 s")
            time.sleep(0.002)
        self.startup_ms = (time.monotonic() - started) * 1000

    def tail(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-1500:]
        except OSError:
            return ""

    def peak_rss_mib(self):
        try:
            with open(f"/proc/{self.popen.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return None


def stop(p):
    if p.popen.poll() is None:
        p.popen.terminate()
        try:
            p.popen.wait(10)
        except subprocess.TimeoutExpired:
            p.popen.kill()
            p.popen.wait()


def basic(client_id, secret):
    q = urllib.parse.quote_plus
    return "Basic " + base64.b64encode(f"{q(client_id)}:{q(secret)}".encode()).decode()


# ----------------------------------------------------------------------------------------------
# Databases

PG = urllib.parse.urlsplit(PG_URL)


def pg_cmd(tool, *args):
    return [tool, "-h", PG.hostname or "127.0.0.1", "-p", str(PG.port or 5432),
            "-U", PG.username or "postgres", *args]


def server_env(db_url, alg=None, extra=None):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OAUTH2_")
           or k in ("OAUTH2_SERVER_WORKERS", "OAUTH2_DATABASE_MAX_CONNECTIONS")
           # Event sinks, to measure what turning them on costs (e.g. OAUTH2_EVENTS_AUDIT='*').
           or k.startswith(("OAUTH2_EVENTS", "OAUTH2_WEBHOOK_", "OAUTH2_REDIS_URL"))}
    env.update(OAUTH2_DATABASE_URL=db_url, OAUTH2_LOG_LEVEL="warn", **CHEAP_ARGON2)
    if alg:
        env["OAUTH2_JWT_ALGORITHM"] = alg
        if alg == "HS256":
            env["OAUTH2_JWT_SECRET"] = HS256_SECRET
    env.update(extra or {})
    return env


class Db:
    """A fresh database: an SQLite file in the work directory or a new PostgreSQL database."""

    def __init__(self, backend, name):
        self.backend, self.name = backend, name
        if backend == "sqlite":
            self.path = os.path.join(WORK, f"{name}.db")
            self.url = f"sqlite:{self.path}"
        else:
            self.dbname = f"bench_{os.getpid()}_{name}".lower()
            run(pg_cmd("createdb", self.dbname))
            PG_DBS.append(self.dbname)
            self.url = f"{PG_URL.rstrip('/')}/{self.dbname}"
        run([SERVER, "migrate"], env=server_env(self.url))

    def cli(self, *args, stdin=None):
        return run([SERVER, *args], env=server_env(self.url), stdin=stdin)

    def create_client(self, *args):
        return json.loads(self.cli("client", "create", *args))

    def execute(self, script):
        if self.backend == "sqlite":
            con = sqlite3.connect(self.path, timeout=60)
            try:
                con.executescript("PRAGMA synchronous=OFF;\nBEGIN;\n" + script + "\nCOMMIT;")
            finally:
                con.close()
        else:
            run(pg_cmd("psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-d", self.dbname),
                stdin="BEGIN;\n" + script + "\nCOMMIT;\n")

    def query(self, sql):
        if self.backend == "sqlite":
            con = sqlite3.connect(self.path, timeout=60)
            try:
                return [tuple(str(v) for v in row) for row in con.execute(sql)]
            finally:
                con.close()
        out = run(pg_cmd("psql", "-X", "-A", "-t", "-F", "\t", "-d", self.dbname, "-c", sql))
        return [tuple(line.split("\t")) for line in out.splitlines() if line]

    def columns(self, table):
        """(name, type, not null, has default) of each column, in order."""
        if self.backend == "sqlite":
            rows = self.query(f"PRAGMA table_info({table})")
            return [(r[1], r[2].upper(), r[3] == "1", r[4] not in ("None", "")) for r in rows]
        rows = self.query(
            "SELECT column_name, data_type, is_nullable, coalesce(column_default, '') "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            f"AND table_name = '{table}' ORDER BY ordinal_position")
        return [(r[0], r[1].upper(), r[2] == "NO", r[3] != "") for r in rows]

    def series(self, n):
        """A FROM clause yielding g = 1..n."""
        if self.backend == "sqlite":
            return f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) SELECT g FROM s) AS s"
        return f"generate_series(1, {n}) AS s(g)"

    def copy_rows(self, table, key_col, key, n, overrides):
        """Inserts n copies of one row of `table`, with some columns computed from g."""
        cols = [c[0] for c in self.columns(table)]
        exprs = [overrides.get(c, f"tpl.{c}") for c in cols]
        self.execute(
            f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} "
            f"FROM {self.series(n)}, {table} AS tpl WHERE tpl.{key_col} = '{key}';")

    def fill(self, table, n, known):
        """Inserts n made-up rows: known columns from `known`, other NOT NULL columns without a
        default get a neutral value, the rest are left to their default (NULL)."""
        cols, exprs = [], []
        now = int(time.time())
        for name, typ, notnull, has_default in self.columns(table):
            if name in known:
                if known[name] is None:
                    continue
                cols.append(name)
                exprs.append(known[name])
            elif notnull and not has_default:
                cols.append(name)
                if "INT" in typ:
                    exprs.append(str(now))
                elif "BOOL" in typ:
                    exprs.append("false")
                else:
                    exprs.append(f"'seed-{name}-' || g")
        self.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} FROM {self.series(n)};")

    def analyze(self):
        if self.backend == "postgres":
            # Bulk-loaded tables as a long-running database would have them: hint bits set,
            # visibility map and statistics up to date.
            run(pg_cmd("psql", "-q", "-X", "-d", self.dbname, "-c", "VACUUM ANALYZE"))

    def drop(self):
        if self.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                try:
                    os.remove(self.path + suffix)
                except FileNotFoundError:
                    pass
        else:
            run(pg_cmd("dropdb", "--if-exists", "--force", self.dbname))
            PG_DBS.remove(self.dbname)


def seed_growth(db, template_client):
    """100,000 clients (copies of the bench client's row) and 1,000,000 rows in each token table."""
    t0 = time.monotonic()
    later = int(time.time()) + 30 * 86400  # live rows: no purge may remove them during the run
    now = int(time.time())
    if GROWTH_CLIENTS:
        db.copy_rows("clients", "client_id", template_client, GROWTH_CLIENTS,
                     {"client_id": "'seed-c-' || g", "name": "'seed client ' || g"})
        owner = f"'seed-c-' || (1 + g % {GROWTH_CLIENTS})"
    else:
        owner = f"'{template_client}'"
    if GROWTH_TOKENS:
        common = {"family_id": "'seed-fam-' || (g / 2)", "client_id": owner,
                  "user_id": "'seed-user-' || (g % 1000)", "scope": "'api.read api.write'",
                  "expires_at": str(later), "created_at": str(now), "auth_time": str(now),
                  "rotated_at": None, "revoked_at": None}
        db.fill("access_tokens", GROWTH_TOKENS, {**common, "jti": "'seed-at-' || g"})
        db.fill("refresh_tokens", GROWTH_TOKENS, {**common, "token_hash": "'seed-rt-' || g"})
        db.fill("revoked_access_tokens", GROWTH_TOKENS,
                {"jti": "'seed-rv-' || g", "expires_at": str(later), "revoked_at": str(now)})
    db.analyze()
    counts = {t: int(db.query(f"SELECT count(*) FROM {t}")[0][0])
              for t in ("clients", "access_tokens", "refresh_tokens", "revoked_access_tokens")}
    log(f"  seeded {db.backend} growth database in {time.monotonic() - t0:.1f} s: {counts}")
    return counts


def seed_users(db, template_user):
    db.copy_rows("users", "username", template_user, FLOW_USERS,
                 {"id": "'seed-uid-' || g", "username": "'bench-u-' || (g - 1)", "email": "NULL"})


# ----------------------------------------------------------------------------------------------
# Load generators

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNITS_MS[m.group(2)] if m else None


def wrk(url, conns, lua=None):
    threads = 1 if conns == 1 else 2
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{DURATION:g}s", "--timeout", "10s", "--latency"]
    if lua:
        argv += ["-s", lua]
    out = subprocess.run(argv + [url], capture_output=True, text=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    total = re.search(r"(\d+) requests in", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rate": float(rps.group(1)) if rps else 0.0,
        "p50": to_ms(p50.group(1)) if p50 else None,
        "p99": to_ms(p99.group(1)) if p99 else None,
        "requests": int(total.group(1)) if total else 0,
        "errors": (int(non2xx.group(1)) if non2xx else 0)
                  + (sum(int(x) for x in sock.groups()) if sock else 0),
        "detail": out if (not rps or non2xx or sock) else "",
    }


def lua(name, body, auth):
    path = os.path.join(WORK, f"{name}.lua")
    with open(path, "w") as f:
        f.write(f'wrk.method = "POST"\nwrk.body = "{body}"\n'
                'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
                f'wrk.headers["Authorization"] = "{auth}"\n')
    return path


def driver(mode, port, env):
    e = dict(os.environ, CONNS=str(FLOW_CONNS), DURATION=f"{DURATION:g}", PASSWORD=PASSWORD,
             REDIRECT_URI=REDIRECT_URI, SCOPE="api.read", **env)
    r = subprocess.run([DRIVER, mode, f"http://127.0.0.1:{port}"], env=e, capture_output=True,
                       text=True)
    if r.returncode != 0:
        return {"rate": 0.0, "p50": None, "p99": None, "requests": 0, "errors": 1,
                "detail": r.stderr.strip()}
    v = json.loads(r.stdout)
    return {"rate": v["rate"], "p50": v["p50_ms"], "p99": v["p99_ms"], "requests": v["completed"],
            "errors": v["errors"] + v["setup_errors"], "detail": v.get("first_error") or "",
            "users_used": v["users_used"], "users_wrapped": v["users_wrapped"],
            "consent_skipped": v["consent_skipped"]}


# ----------------------------------------------------------------------------------------------
# The run

def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for tool in ("wrk",) + (("node",) if WITH_NODE else ()):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed" + (" (apt-get install wrk)" if tool == "wrk" else ""))
    for b in (SERVER, CEILING, DRIVER):
        if not os.access(b, os.X_OK):
            sys.exit(f"{b} is missing: run bench/run.sh, which builds it")
    if "postgres" in BACKENDS and subprocess.run(pg_cmd("pg_isready", "-q")).returncode != 0:
        sys.exit(f"PostgreSQL is not reachable at {PG_URL} (set BACKENDS=sqlite to skip it)")
    if WITH_NODE and not os.path.isdir(os.path.join(HERE, "node", "node_modules", "oidc-provider")):
        log("installing node-oidc-provider (npm ci in bench/node)")
        run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", os.path.join(HERE, "node")])

    started = datetime.datetime.now()
    load_before = os.getloadavg()
    log(f"benchmark: {', '.join(ALGS)} on {', '.join(BACKENDS)}; {ROUNDS} round(s) of {DURATION:g} s"
        f" per case; load average {load_before[0]:.2f}")

    log("Argon2id with production parameters")
    argon2 = json.loads(run([DRIVER, "argon2", str(ARGON2_HASHES)]))

    # Databases shared by the algorithms: the grown one (read-only load) and the flow one
    # (users for the code flow; each flow signs in a user who has not consented yet).
    shared = {}
    for backend in BACKENDS:
        log(f"{backend}: preparing the growth and flow databases")
        g = Db(backend, "growth")
        gc = g.create_client("--name", "bench", "--scope", "api.read api.write")
        counts = seed_growth(g, gc["client_id"])
        f = Db(backend, "flow")
        fc = f.create_client("--name", "bench web", "--redirect-uri", REDIRECT_URI,
                             "--scope", "api.read")
        f.cli("user", "create", "--username", "bench-user", "--password-stdin", stdin=PASSWORD + "\n")
        seed_users(f, "bench-user")
        shared[backend] = {"growth": g, "growth_client": gc, "growth_counts": counts,
                           "flow": f, "flow_client": fc, "next_user": 0}

    results = {}  # (alg, server, test, conns) -> [round results]
    servers = []  # (alg, name, startup ms, peak RSS MiB, note)
    notes = []

    for alg in ALGS:
        log(f"== {alg}")
        procs, cases = [], []
        empties = []

        def add_wrk(server, test, conns, port, path, script=None):
            url = f"http://127.0.0.1:{port}{path}"
            cases.append(((alg, server, test, conns), lambda: wrk(url, conns, script)))

        for backend in BACKENDS:
            sh = shared[backend]
            e = Db(backend, f"empty_{alg}")
            empties.append(e)
            ec = e.create_client("--name", "bench", "--scope", "api.read api.write")
            for kind, db, client in (("", e, ec), ("+growth", sh["growth"], sh["growth_client"])):
                label = f"ours/{backend}{kind}"
                port = free_port()
                p = Proc(f"{alg}-{label.replace('/', '-')}", [SERVER, "serve"],
                         server_env(db.url, alg, {"OAUTH2_SERVER_PORT": str(port)}), port, "/health")
                p.label = label
                procs.append(p)
                auth = basic(client["client_id"], client["client_secret"])
                token = http_post(port, "/oauth/token", TOKEN_BODY, auth)["access_token"]
                tl = lua(f"{alg}-{p.name}-token", TOKEN_BODY, auth)
                il = lua(f"{alg}-{p.name}-introspect", f"token={token}", auth)
                for c in (CONNS if not kind else GROWTH_CONNS):
                    add_wrk(label, "token", c, port, "/oauth/token", tl)
                    add_wrk(label, "introspect", c, port, "/oauth/introspect", il)
            # The flow server: code flow and refresh rotation.
            port = free_port()
            p = Proc(f"{alg}-ours-{backend}-flow", [SERVER, "serve"],
                     server_env(sh["flow"].url, alg, {"OAUTH2_SERVER_PORT": str(port)}), port, "/health")
            p.label = f"ours/{backend} (flows)"
            procs.append(p)
            fenv = {"CLIENT_ID": sh["flow_client"]["client_id"],
                    "CLIENT_SECRET": sh["flow_client"]["client_secret"]}

            def codeflow(port=port, fenv=fenv, sh=sh):
                start = sh["next_user"]
                r = driver("codeflow", port, {**fenv, "USER_START": str(start),
                                              "USERS": str(max(1, FLOW_USERS - start))})
                sh["next_user"] = min(FLOW_USERS, start + r.get("users_used", 0))
                return r

            cases.append(((alg, f"ours/{backend}", "code flow", FLOW_CONNS), codeflow))
            cases.append(((alg, f"ours/{backend}", "refresh", FLOW_CONNS),
                          lambda port=port, fenv=fenv: driver("refresh", port,
                                                              {**fenv, "USERNAME": "bench-user"})))

        # The ceiling, same algorithm.
        cid, csecret = "bench-ceiling", secrets.token_urlsafe(32)
        port = free_port()
        p = Proc(f"{alg}-ceiling", [CEILING], dict(
            os.environ, BENCH_PORT=str(port), BENCH_ALG=alg, BENCH_HS256_SECRET=HS256_SECRET,
            BENCH_CLIENT_ID=cid, BENCH_CLIENT_SECRET=csecret), port, "/plain")
        p.label = "ceiling"
        procs.append(p)
        auth = basic(cid, csecret)
        token = http_post(port, "/token", TOKEN_BODY, auth)["access_token"]
        tl, il = lua(f"{alg}-ceiling-token", TOKEN_BODY, auth), lua(f"{alg}-ceiling-introspect", f"token={token}", auth)
        for c in CONNS:
            add_wrk("ceiling", "token", c, port, "/token", tl)
            add_wrk("ceiling", "introspect", c, port, "/introspect", il)
        add_wrk("ceiling", "plain", max(CONNS), port, "/plain")

        # node-oidc-provider (RS256 and ES256 only).
        if WITH_NODE and alg in ("RS256", "ES256"):
            nsecret = secrets.token_urlsafe(32)
            port = free_port()
            p = Proc(f"{alg}-node", ["node", "server.mjs"], dict(
                os.environ, NODE_ENV="production", PORT=str(port), ALG=alg, CLIENT_ID="bench",
                CLIENT_SECRET=nsecret), port, "/.well-known/openid-configuration",
                cwd=os.path.join(HERE, "node"))
            p.label = "node-oidc-provider"
            procs.append(p)
            auth = basic("bench", nsecret)
            http_post(port, "/token", TOKEN_BODY, auth)  # a JWT: checks the configuration
            opaque = http_post(port, "/token", TOKEN_BODY, basic("bench-opaque", nsecret))["access_token"]
            tl, il = lua(f"{alg}-node-token", TOKEN_BODY, auth), lua(f"{alg}-node-introspect", f"token={opaque}", auth)
            for c in CONNS:
                add_wrk("node-oidc-provider", "token", c, port, "/token", tl)
                add_wrk("node-oidc-provider", "introspect", c, port, "/token/introspection", il)

        for r in range(ROUNDS):
            order = cases if r % 2 == 0 else list(reversed(cases))
            log(f"{alg}: round {r + 1}/{ROUNDS}, {len(order)} cases")
            for key, fn in order:
                res = fn()
                results.setdefault(key, []).append(res)
                log(f"  {key[1]:<24} {key[2]:<10} c{key[3]:<3} {res['rate']:>10.1f}/s"
                    f"  p50 {fmt(res['p50'])} ms  p99 {fmt(res['p99'])} ms"
                    + (f"  errors {res['errors']}" if res["errors"] else ""))
                if res["errors"] and res.get("detail"):
                    notes.append(f"{alg} {key[1]} {key[2]} c{key[3]}: {res['errors']} errors; "
                                 f"first: {res['detail'].strip()[:300]}")

        for p in procs:
            servers.append((alg, p.label, p.startup_ms, p.peak_rss_mib()))
            stop(p)
            if "panicked" in p.tail() or "ERROR" in p.tail():
                notes.append(f"{alg} {p.label} log: {p.tail()[-400:]}")
        for e in empties:
            e.drop()

    for backend, sh in shared.items():
        if sh["next_user"] >= FLOW_USERS:
            notes.append(f"{backend}: the code flow ran out of fresh users ({FLOW_USERS}); later "
                         "flows reused users whose consent was remembered")
        sh["growth"].drop()
        sh["flow"].drop()

    report = render(results, servers, notes, argon2, shared, started, load_before)
    print(report)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write(report)
    with open(os.path.splitext(OUT)[0] + ".json", "w") as f:
        json.dump({"results": {" | ".join(map(str, k)): v for k, v in results.items()},
                   "servers": servers, "argon2": argon2}, f, indent=1)
    log(f"written to {os.path.relpath(OUT, ROOT)}")
    failed = [k for k, v in results.items() if median_round(v)["requests"] == 0]
    if failed:
        log(f"FAILED: no successful request in {failed}")
        return 1
    return 0


# ----------------------------------------------------------------------------------------------
# The report

def fmt(v, digits=2):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def median_round(rounds):
    ordered = sorted(rounds, key=lambda r: r["rate"])
    return ordered[(len(ordered) - 1) // 2] if len(ordered) % 2 else ordered[len(ordered) // 2 - 1]


def render(results, servers, notes, argon2, shared, started, load_before):
    med = {k: median_round(v) for k, v in results.items()}
    rate = lambda k: med[k]["rate"] if k in med else None  # noqa: E731
    ratio = lambda a, b: (f"{a / b:.2f}" if a and b else "")  # noqa: E731

    lines = []
    w = lines.append
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    node_v = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip() if WITH_NODE else "-"
    try:
        with open(os.path.join(HERE, "node", "node_modules", "oidc-provider", "package.json")) as f:
            oidc_v = json.load(f)["version"]
    except OSError:
        oidc_v = "-"
    w(f"# oauth2-server benchmark{' (smoke)' if SMOKE else ''}")
    w("")
    w(f"- {started:%Y-%m-%d %H:%M}, built from {BUILT_FROM}; {os.cpu_count()} CPUs ({cpu}); load average "
      f"{load_before[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end")
    w(f"- wrk {wrk_version()} on loopback, sharing the machine with the servers; every case "
      f"{ROUNDS} round(s) of {DURATION:g} s, interleaved; the median round is shown")
    w(f"- ceiling: bench/ceiling (actix-web, same JOSE code, no database); node-oidc-provider "
      f"{oidc_v} on Node {node_v}, one process, in-memory adapter")
    gc = next(iter(shared.values()))["growth_counts"] if shared else {}
    w(f"- +growth: the same server on a database holding {gc.get('clients', 0):,} clients, "
      f"{gc.get('access_tokens', 0):,} access_tokens, {gc.get('refresh_tokens', 0):,} "
      f"refresh_tokens and {gc.get('revoked_access_tokens', 0):,} revoked_access_tokens rows")
    w(f"- code flow and refresh: oauth2-bench-driver, {FLOW_CONNS} connections; code flow = "
      "GET authorize, GET login page, POST login, GET authorize (consent page), POST consent, "
      "POST token (code + PKCE), each flow a new user in a new browser; refresh = one rotation "
      "(each connection chains its own refresh token)")
    w(f"- user passwords in the flows: cheap test-only Argon2id (m={CHEAP_ARGON2['OAUTH2_ARGON2_MEMORY_KIB']} KiB, "
      f"t={CHEAP_ARGON2['OAUTH2_ARGON2_ITERATIONS']}, p=1); with production parameters "
      f"(m={argon2['memory_kib']} KiB, t={argon2['iterations']}, p={argon2['parallelism']}) one "
      f"hash costs {argon2['median_ms']:.1f} ms of one core (median of {argon2['hashes']}), "
      f"i.e. at most {1000 / argon2['median_ms'] * (os.cpu_count() or 1):,.0f} sign-ins/s on "
      f"{os.cpu_count()} cores before anything else")
    w("- wrk corrects its latencies for coordinated omission: one stall of S seconds on a "
      "connection counts as S/interval late requests, so a p99 of seconds means stalls happened, "
      "not that 1% of requests were that slow")
    w("- node-oidc-provider cannot introspect JWT access tokens (it refuses structured tokens at "
      "its introspection endpoint): its introspection figure is for an opaque token")
    w("")
    w("## Tokens and introspection")
    w("")
    w("| alg | test | conns | server | req/s | p50 ms | p99 ms | errors | × ceiling | × node | × SQLite | × empty DB |")
    w("|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    order = {"token": 0, "introspect": 1, "plain": 2}
    server_order = lambda s: (0 if s.startswith("ours") else 1 if s == "ceiling" else 2, s)  # noqa: E731
    keys = sorted((k for k in med if k[2] in order),
                  key=lambda k: (ALGS.index(k[0]), order[k[2]], k[3], server_order(k[1])))
    for k in keys:
        alg, server, test, conns = k
        m = med[k]
        vs_ceiling = vs_node = vs_sqlite = vs_empty = ""
        if server.startswith("ours"):
            vs_ceiling = ratio(m["rate"], rate((alg, "ceiling", test, conns)))
            vs_node = ratio(m["rate"], rate((alg, "node-oidc-provider", test, conns)))
            if server.startswith("ours/postgres"):
                vs_sqlite = ratio(m["rate"], rate((alg, server.replace("postgres", "sqlite"), test, conns)))
            if server.endswith("+growth"):
                vs_empty = ratio(m["rate"], rate((alg, server[: -len("+growth")], test, conns)))
        errors = sum(r["errors"] for r in results[k])
        w(f"| {alg} | {test} | {conns} | {server} | {fmt(m['rate'])} | {fmt(m['p50'])} | "
          f"{fmt(m['p99'])} | {errors} | {vs_ceiling} | {vs_node} | {vs_sqlite} | {vs_empty} |")
    w("")
    w("## Authorization code flow and refresh token rotation")
    w("")
    w("| alg | backend | test | conns | per s | p50 ms | p99 ms | errors | consent skipped |")
    w("|---|---|---|--:|--:|--:|--:|--:|--:|")
    for k in sorted((k for k in med if k[2] not in order), key=lambda k: (ALGS.index(k[0]), k[2], k[1])):
        m = med[k]
        errors = sum(r["errors"] for r in results[k])
        skipped = sum(r.get("consent_skipped", 0) for r in results[k]) if k[2] == "code flow" else ""
        w(f"| {k[0]} | {k[1].split('/')[1]} | {k[2]} | {k[3]} | {fmt(m['rate'])} | {fmt(m['p50'])} | "
          f"{fmt(m['p99'])} | {errors} | {skipped} |")
    w("")
    w("## Servers: start to first 200, peak RSS after the load")
    w("")
    w("| alg | server | start → first 200 ms | peak RSS MiB (VmHWM) |")
    w("|---|---|--:|--:|")
    for alg, label, startup, rss in servers:
        w(f"| {alg} | {label} | {startup:.0f} | {fmt(rss, 1)} |")
    w("")
    w("Ours: the first start on a fresh database includes generating its signing key (RSA-2048 "
      "for RS256); the growth and flow servers start on a database migrated before.")
    w("")
    w("## Targets of issue 6 (this run)")
    w("")
    for line in targets(med, servers):
        w(f"- {line}")
    if notes:
        w("")
        w("## Notes")
        w("")
        for n in notes:
            w(f"- {n}")
    w("")
    return "\n".join(lines)


def targets(med, servers):
    out = []

    def r(alg, server, test, conns=32):
        m = med.get((alg, server, test, conns))
        return m["rate"] if m else None

    def check(label, value, goal, higher=True, unit="", digits=2):
        if value is None:
            return
        ok = value >= goal if higher else value < goal
        out.append(f"{'met' if ok else 'NOT met'}: {label}: {value:.{digits}f}{unit} "
                   f"({'≥' if higher else '<'} {goal}{unit})")

    for alg, goal in (("RS256", 0.85), ("ES256", 0.60), ("HS256", 0.50), ("EdDSA", None)):
        ours, ceil = r(alg, "ours/sqlite", "token"), r(alg, "ceiling", "token")
        if ours and ceil and goal:
            check(f"{alg} client_credentials, SQLite, 32 conns, × ceiling", ours / ceil, goal, digits=3)
    m = med.get(("ES256", "ours/sqlite", "token", 32))
    if m and m["p99"] is not None:
        check("ES256 client_credentials p99, SQLite, 32 conns", m["p99"], 10, higher=False, unit=" ms")
    for alg in ALGS:
        ours, ceil = r(alg, "ours/sqlite", "introspect"), r(alg, "ceiling", "introspect")
        if ours and ceil:
            check(f"{alg} introspection, SQLite, 32 conns, × ceiling", ours / ceil, 0.60, digits=3)
    for alg in ALGS:
        for test in ("token", "introspect"):
            pg, lite = r(alg, "ours/postgres", test), r(alg, "ours/sqlite", test)
            if pg and lite:
                check(f"{alg} {test}, PostgreSQL × SQLite", pg / lite, 0.5, digits=3)
            for backend in ("sqlite", "postgres"):
                grown, empty = r(alg, f"ours/{backend}+growth", test), r(alg, f"ours/{backend}", test)
                if grown and empty:
                    check(f"{alg} {test}, {backend}, grown × empty database", grown / empty, 0.90, digits=3)
    for alg, label, startup, rss in servers:
        if label in ("ours/sqlite", "ours/postgres"):
            if rss is not None:
                check(f"{alg} {label} peak RSS", rss, 64, higher=False, unit=" MiB", digits=1)
            check(f"{alg} {label} start to first 200", startup, 300, higher=False, unit=" ms", digits=0)
    return out


def wrk_version():
    r = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    m = re.search(r"wrk (\S+)", r.stdout + r.stderr)
    return m.group(1) if m else "?"


if __name__ == "__main__":
    try:
        code = main()
    finally:
        cleanup()
    sys.exit(code)
