"""Write requirements-dev.lock: every package of the development and CI environment, pinned.

Inputs: requirements-dev.txt (the tooling) and the dependencies the core, the plugins and the reconcile
and events utilities declare (the plugins' are in their hatch_build.py hook config; the core itself is installed from
core/, so it is not pinned here). Resolved by uv (it comes with Meltano) for the oldest supported Python,
so the lock installs on 3.11 and newer.

    .venv/bin/python scripts/lock.py            # rewrite the lock
    .venv/bin/python scripts/lock.py --check    # exit 1 when the inputs changed since the lock was written
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements-dev.lock"
PROJECTS = ("core", "tap-billbee", "target-wemalo", "tap-wemalo-shipments", "target-billbee", "reconcile", "events")
LOCAL = {"billbee-wemalo-core"}  # installed from the repository (editable), never from the index


def declared(folder: str) -> list[str]:
    config = tomllib.loads((ROOT / folder / "pyproject.toml").read_text(encoding="utf-8"))
    hook = config.get("tool", {}).get("hatch", {}).get("metadata", {}).get("hooks", {}).get("custom", {})
    project = config["project"]
    extras = [req for reqs in project.get("optional-dependencies", {}).values() for req in reqs]
    found = [*project.get("dependencies", []), *hook.get("dependencies", []), *extras]
    return [req for req in found if canonicalize_name(Requirement(req).name) not in LOCAL]


def inputs() -> str:
    lines = [line for line in (ROOT / "requirements-dev.txt").read_text(encoding="utf-8").splitlines()]
    for folder in PROJECTS:
        lines += [f"{req}  # {folder}" for req in declared(folder)]
    return "\n".join(lines) + "\n"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = inputs()
    stamp = f"# inputs: {digest(text)} (scripts/lock.py)"
    if args.check:
        first = LOCK.read_text(encoding="utf-8").splitlines()[:1] if LOCK.exists() else []
        if first != [stamp]:
            print(f"{LOCK.name} is out of date: run scripts/lock.py", file=sys.stderr)
            return 1
        return 0
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        print("uv not found (it comes with Meltano: make setup)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "requirements.in"
        source.write_text(text, encoding="utf-8")
        out = subprocess.run([uv, "pip", "compile", "-q", "--python-version", "3.11", "--no-header",
                              "--no-annotate", str(source)], capture_output=True, text=True, check=False)
    if out.returncode:
        print(out.stderr, file=sys.stderr)
        return out.returncode
    header = (f"{stamp}\n# Every package of the development and CI environment, pinned; the Makefile installs the\n"
              "# venv and Meltano's plugin venvs with it as constraints. Regenerate: scripts/lock.py\n")
    LOCK.write_text(header + out.stdout, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
