"""What a release publishes: each plugin's sdist and wheel, with its version from the git tags.

- the wheel alone (plus its PyPI dependencies) in a fresh virtualenv runs `<plugin> --about` with the right
  name, version and settings, and imports the shared clients from the wheel, not from the repository;
- the sdist, unpacked outside the repository, builds a wheel that carries the shared client packages;
- versions: `vX.Y.Z` tags (one tag for all four plugins), a dev version between tags, 0.0.0 without git.

Builds need PyPI (hatchling, hatch-vcs) like every other install here; uv is used where available (it comes
with Meltano) because it makes the build environments and venvs much faster.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

pytestmark = pytest.mark.release

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("tap-billbee", "target-wemalo", "tap-wemalo-shipments", "target-billbee")


def uv_binary() -> str | None:
    try:
        from uv import find_uv_bin
    except ImportError:
        return shutil.which("uv")
    return find_uv_bin()


UV = uv_binary()
BUILD = [sys.executable, "-m", "build", *(["--installer=uv"] if UV else [])]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "UV_PROJECT"))}
    return {**env, **extra}


def run_all(commands: Sequence[tuple[list[str], Path]], env: dict[str, str] | None = None) -> None:
    """Run the commands at once (builds mostly wait for their isolated environments), fail with their output."""
    procs = [(cmd, subprocess.Popen(cmd, cwd=cwd, env=env or clean_env(), stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)) for cmd, cwd in commands]
    failures = []
    for cmd, proc in procs:
        out, _ = proc.communicate(timeout=300)
        if proc.returncode:
            failures.append(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{out[-3000:]}")
    assert not failures, "\n\n".join(failures)


def client_packages(pyproject: Path) -> list[str]:
    return tomllib.loads(pyproject.read_text())["tool"]["hatch"]["build"]["hooks"]["custom"]["packages"]


def dist_version(path: Path) -> str:
    return path.name.split("-")[1].removesuffix(".tar.gz")


def outside_repo(path: Path) -> Path:
    assert ROOT not in path.resolve().parents, f"{path} must be outside the repository"
    return path


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=release-test", "-c", "user.email=release-test@invalid",
                           "-c", "commit.gpgsign=false", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist + wheel of every plugin, built from the repository as the release workflow does."""
    out = tmp_path_factory.mktemp("dist")
    run_all([([*BUILD, "--outdir", str(out), str(ROOT / plugin)], ROOT) for plugin in PLUGINS])
    return out


def artifacts(dist: Path, plugin: str) -> tuple[Path, Path]:
    stem = plugin.replace("-", "_")
    (sdist,) = dist.glob(f"{stem}-*.tar.gz")
    (wheel,) = dist.glob(f"{stem}-*-py3-none-any.whl")
    return sdist, wheel


def test_every_plugin_has_the_same_version_from_git(dist: Path) -> None:
    versions = {dist_version(path) for plugin in PLUGINS for path in artifacts(dist, plugin)}
    assert len(versions) == 1, versions
    version = Version(versions.pop())
    tag = subprocess.run(["git", "describe", "--tags", "--exact-match", "--match", "v[0-9]*"], cwd=ROOT,
                         capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True, check=False).stdout.strip()
    if tag and not dirty:
        assert str(version) == tag.removeprefix("v")
    else:
        assert version.is_devrelease or version.local or version == Version("0.0.0"), version  # 0.0.0: no git


@pytest.mark.parametrize("plugin", PLUGINS)
def test_wheel_alone_in_a_fresh_venv(plugin: str, dist: Path, tmp_path: Path) -> None:
    _, wheel = artifacts(dist, plugin)
    venv = outside_repo(tmp_path / "venv")
    python = venv / "bin" / "python"
    if UV:
        subprocess.run([UV, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=clean_env())
        install = [UV, "pip", "install", "-q", "--python", str(python), str(wheel)]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = [str(python), "-m", "pip", "install", "-q", str(wheel)]
    subprocess.run(install, check=True, env=clean_env(), cwd=tmp_path)

    about = json.loads(subprocess.run([str(venv / "bin" / plugin), "--about", "--format=json"], cwd=tmp_path,
                                      env=clean_env(), capture_output=True, text=True, check=True).stdout)
    assert about["name"] == plugin
    assert about["version"] == dist_version(wheel)
    hub = yaml.safe_load((ROOT / "hub" / f"{plugin}.yml").read_text())  # checked against the source's --about
    assert set(about["settings"]["properties"]) == {s["name"] for s in hub["settings"]}
    assert sorted(about["capabilities"]) == hub["capabilities"]

    packages = client_packages(ROOT / plugin / "pyproject.toml")
    code = "import importlib, sys; print('\\n'.join(importlib.import_module(p).__file__ for p in sys.argv[1:]))"
    files = subprocess.run([str(python), "-c", code, *packages], cwd=tmp_path, env=clean_env(), capture_output=True,
                           text=True, check=True).stdout.split()
    assert all(Path(f).is_relative_to(venv) for f in files), files


def test_sdist_builds_a_complete_wheel_outside_the_repository(dist: Path, tmp_path: Path) -> None:
    builds = []
    for plugin in PLUGINS:
        sdist, _ = artifacts(dist, plugin)
        with tarfile.open(sdist) as archive:
            archive.extractall(outside_repo(tmp_path / plugin), filter="data")
        (source,) = (tmp_path / plugin).iterdir()
        hatch = tomllib.loads((source / "pyproject.toml").read_text())["tool"]["hatch"]["build"]
        paths = [hatch["hooks"]["custom"]["path"], *hatch["targets"]["wheel"]["dev-mode-dirs"]]
        assert not [p for p in paths if p.startswith("..")], f"the sdist's pyproject.toml points outside: {paths}"
        builds.append(([*BUILD, "--wheel", "--outdir", str(tmp_path / "wheels"), str(source)], source))
    # No git repository above the unpacked sdists: the version must come from the sdist itself.
    run_all(builds, env=clean_env(GIT_CEILING_DIRECTORIES=str(tmp_path)))

    for plugin in PLUGINS:
        sdist, original = artifacts(dist, plugin)
        (wheel,) = (tmp_path / "wheels").glob(f"{plugin.replace('-', '_')}-*.whl")
        assert dist_version(wheel) == dist_version(sdist)
        names = set(zipfile.ZipFile(wheel).namelist())
        expected = [plugin.replace("-", "_"), *client_packages(ROOT / plugin / "pyproject.toml")]
        assert {f"{package}/__init__.py" for package in expected} <= names, sorted(names)
        assert names - {n for n in names if ".dist-info/" in n} == {
            n for n in zipfile.ZipFile(original).namelist() if ".dist-info/" not in n}


def test_version_scheme_tags_dev_versions_and_fallback(tmp_path: Path) -> None:
    """A copy of one plugin and the clients: without git, in git without tags, then with tags."""
    work = outside_repo(tmp_path / "repo")
    work.mkdir()
    for name in ("tap-billbee", "clients"):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env = clean_env(GIT_CEILING_DIRECTORIES=str(tmp_path))

    def version(label: str) -> Version:
        out = tmp_path / label
        run_all([([*BUILD, "--wheel", "--outdir", str(out), "tap-billbee"], work)], env=env)
        (wheel,) = out.glob("*.whl")
        return Version(dist_version(wheel))

    assert version("no-git") == Version("0.0.0")
    git(work, "init", "-q")
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "first")
    untagged = version("untagged")
    assert untagged.is_devrelease, untagged
    assert untagged.release == (0, 0, 1), untagged
    git(work, "tag", "v0.2.0")
    git(work, "tag", "reconcile-v7.0.0")  # other tags than vX.Y.Z are ignored
    assert version("tagged") == Version("0.2.0")


def test_release_notes_come_from_the_changelog() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from release_notes import CHANGELOG, notes
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    changelog = "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2026-12-01\n\n### Added\n\n- a\n\n" \
                "## [0.1.0] - 2026-11-01\n\n- b\n\n[Unreleased]: https://example.invalid\n"
    assert notes(changelog, "v0.2.0") == "### Added\n\n- a"
    assert notes(changelog, "0.1.0") == "- b"
    assert notes(changelog, "0.3.0") is None
    assert notes(changelog, "Unreleased") is None  # empty
    assert notes(CHANGELOG.read_text(), "Unreleased"), "CHANGELOG.md needs an Unreleased section"
