#!/usr/bin/env python3
"""docs/configuration.md's settings table, generated from `oauth2-server config example`.

The binary prints every setting it knows (crates/server/src/config.rs `SETTINGS`) with its doc,
environment variable, TOML key and default. This turns that into the Markdown table between the
GENERATED markers of docs/configuration.md, so the reference cannot drift from the code:

    python3 deploy/config_docs.py --bin target/debug/oauth2-server --write   # regenerate
    python3 deploy/config_docs.py --bin target/debug/oauth2-server --check   # what check.sh runs

Without --bin it runs `cargo run -q -p oauth2-server -- config example`.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "configuration.md"
BEGIN = "<!-- BEGIN GENERATED: python3 deploy/config_docs.py --write -->"
END = "<!-- END GENERATED -->"


@dataclass
class Setting:
    env: str
    key: str
    default: str | None
    doc: str


def example_output(binary: str | None) -> str:
    """`config example` in an environment with no OAUTH2_* variable (they would be validated)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAUTH2_")}
    if binary:
        cmd = [binary, "config", "example"]
    else:
        cmd = ["cargo", "run", "--quiet", "-p", "oauth2-server", "--bin", "oauth2-server", "--",
               "config", "example"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(cmd)}` failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def parse(example: str) -> list[Setting]:
    """Each setting is `# doc`, `# env: NAME`, then `key = value` or `# key = ` (unset)."""
    settings: list[Setting] = []
    section = ""
    lines = example.splitlines()
    for i, line in enumerate(lines):
        m = re.fullmatch(r"\[([A-Za-z0-9_.-]+)\]", line.strip())
        if m:
            section = m.group(1)
            continue
        m = re.fullmatch(r"# env: (OAUTH2_[A-Z0-9_]+)", line.strip())
        if not m:
            continue
        env = m.group(1)
        doc = ""
        if i > 0 and lines[i - 1].startswith("# ") and not lines[i - 1].startswith("# env:"):
            doc = lines[i - 1][2:].strip()
        value_line = lines[i + 1] if i + 1 < len(lines) else ""
        vm = re.fullmatch(r"(#\s*)?([A-Za-z0-9_]+)\s*=\s*(.*)", value_line.strip())
        if not vm:
            raise SystemExit(f"config example: no `key = value` line after `# env: {env}`: {value_line!r}")
        name = vm.group(2)
        key = f"{section}.{name}" if section else name
        default: str | None
        if vm.group(1) is not None:
            default = None
        else:
            raw = vm.group(3).strip()
            default = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
        settings.append(Setting(env=env, key=key, default=default, doc=doc))
    if not settings:
        raise SystemExit("config example printed no settings (no `# env:` lines)")
    return settings


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(settings: list[Setting]) -> str:
    rows = [
        BEGIN,
        "",
        "| environment variable | TOML key | default | meaning |",
        "|---|---|---|---|",
    ]
    for s in settings:
        default = f"`{cell(s.default)}`" if s.default is not None else "(unset)"
        rows.append(f"| `{s.env}` | `{s.key}` | {default} | {cell(s.doc)} |")
    rows += ["", END]
    return "\n".join(rows)


def generated_block(text: str) -> str | None:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start:end + len(END)]


def check(settings: list[Setting], doc_path: Path = DOC) -> list[str]:
    """Problems with docs/configuration.md (empty when it matches the binary)."""
    if not doc_path.exists():
        return [f"{doc_path.relative_to(ROOT)} is missing"]
    text = doc_path.read_text()
    problems = [
        f"{s.env} ({s.key}) is a setting of the binary but does not appear in "
        f"{doc_path.relative_to(ROOT)}"
        for s in settings
        if not re.search(rf"`{re.escape(s.env)}`", text)
    ]
    block = generated_block(text)
    if block is None:
        problems.append(f"{doc_path.relative_to(ROOT)} has no GENERATED block")
    elif block != table(settings):
        problems.append(
            f"the settings table in {doc_path.relative_to(ROOT)} differs from `oauth2-server config "
            "example` (a setting, default or doc changed)"
        )
    return problems


FIX = "to fix: python3 deploy/config_docs.py --write  (regenerates the table from the binary)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", help="the oauth2-server binary (default: cargo run)")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the table in docs/configuration.md")
    mode.add_argument("--check", action="store_true", help="fail when docs/configuration.md is stale")
    args = ap.parse_args()
    settings = parse(example_output(args.bin))
    if args.write:
        text = DOC.read_text()
        block = generated_block(text)
        if block is None:
            raise SystemExit(f"{DOC}: add the markers {BEGIN} and {END} where the table goes")
        DOC.write_text(text.replace(block, table(settings)))
        print(f"wrote {len(settings)} settings to {DOC.relative_to(ROOT)}")
        return 0
    problems = check(settings)
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    if problems:
        print(FIX, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
