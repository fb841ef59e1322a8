"""The Dockerfile's build, as far as it can be done without Docker Hub (not reachable here).

The base image (`meltano/meltano`) cannot be pulled, so the test does what the image build does on top of it:
it takes the build context as Docker would (the repository's files minus `.dockerignore`), and in a copy of
that context runs the Dockerfile's `RUN` step — `meltano install` with the version passed in, then
`meltano invoke <plugin> --about` and `meltano invoke billbee-wemalo-events --help` — with this project's
Meltano. It also checks the base image's tag against
the Meltano and Python versions the project supports. What it cannot check: that the image itself starts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pathspec
import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

pytestmark = pytest.mark.release

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("tap-billbee", "target-wemalo", "tap-wemalo-shipments", "target-billbee")
VERSION = "9.8.7"


def dockerignore() -> pathspec.PathSpec:
    """`.dockerignore` as a PathSpec. Docker anchors every pattern at the context root (`tests` is only the
    top-level folder, `**/tests` any), unlike gitignore, so each pattern is anchored before it is compiled."""
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [("!/" + p[1:].lstrip("/") if p.startswith("!") else "/" + p.lstrip("/"))
                for p in lines if p and not p.startswith("#")]
    return pathspec.PathSpec.from_lines("gitignore", patterns)


def build_context() -> list[str]:
    """The files Docker would send: the repository's files (tracked and new, not git-ignored) not excluded."""
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.split("\0")
    spec = dockerignore()
    return [f for f in files if f and (ROOT / f).is_file() and not spec.match_file(f)]


def test_base_image_matches_the_supported_meltano_and_python() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    image = re.search(r"^ARG MELTANO_IMAGE=meltano/meltano:v([\d.]+)-python([\d.]+)$", dockerfile, re.M)
    assert image, "Dockerfile: ARG MELTANO_IMAGE=meltano/meltano:v<meltano>-python<x.y> expected"
    meltano, python = image.groups()
    required = next(line for line in (ROOT / "requirements-dev.txt").read_text().splitlines()
                    if line.startswith("meltano"))
    assert Version(meltano) in SpecifierSet(required.removeprefix("meltano").split("#")[0].strip())
    for plugin in PLUGINS:
        text = (ROOT / plugin / "pyproject.toml").read_text()
        requires_python = re.search(r'^requires-python = "(.+)"$', text, re.M).group(1)
        assert Version(python) in SpecifierSet(requires_python), plugin


def test_context_keeps_what_the_image_needs_and_drops_secrets_and_state() -> None:
    context = set(build_context())
    pip_paths = re.findall(r"-e \./([\w-]+)", (ROOT / "meltano.yml").read_text())
    assert pip_paths, "meltano.yml installs the plugins from their folders"
    assert "core" in pip_paths, "each plugin is installed with the shared core"
    for folder in pip_paths:
        assert any(f.startswith(f"{folder}/") and f.endswith(".py") for f in context), f"{folder}/ is missing"
    assert {"meltano.yml", "Dockerfile"} <= context
    spec = dockerignore()
    for kept_out in (".env", ".env.merchant-a", ".meltano/meltano.db", ".venv/bin/python", "output/x.json",
                     "tests/test_x.py", "tap-billbee/tests/test_core.py", "sandbox/app.py"):
        assert spec.match_file(kept_out), kept_out
    assert not any(f.startswith((".git/", "tests/", "sandbox/")) for f in context)


def test_the_images_install_step_runs_on_the_build_context(tmp_path: Path) -> None:
    """The Dockerfile's RUN: `meltano install` with the version passed in, then `--about` for each plugin."""
    project = tmp_path / "project"
    for name in build_context():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, project / name)
    meltano = str(Path(sys.executable).with_name("meltano"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "MELTANO_", "PYTHONPATH"))}
    env.update({"MELTANO_ENVIRONMENT": "prod", "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                "SETUPTOOLS_SCM_PRETEND_VERSION": VERSION})
    install = subprocess.run([meltano, "install"], cwd=project, env=env, capture_output=True, text=True,
                             timeout=900, check=False)
    assert install.returncode == 0, install.stderr[-4000:]
    for plugin in PLUGINS:
        about = subprocess.run([meltano, "invoke", plugin, "--about", "--format=json"], cwd=project, env=env,
                               capture_output=True, text=True, timeout=300, check=False)
        assert about.returncode == 0, f"{plugin}: {about.stderr[-3000:]}"
        assert f'"version": "{VERSION}"' in about.stdout, about.stdout[:500]
    # The image's webhook receiver (docs/deployment.md): installed, and its command runs.
    events = subprocess.run([meltano, "invoke", "billbee-wemalo-events", "--help"], cwd=project, env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert events.returncode == 0, events.stderr[-3000:]
    assert "serve" in events.stdout
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "meltano invoke billbee-wemalo-events --help" in dockerfile
    assert "EXPOSE 8765" in dockerfile
