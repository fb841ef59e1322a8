"""What a release publishes: the sdist and wheel of each plugin and of billbee-wemalo-core, versions from git tags.

- a plugin's wheel in a fresh virtualenv (its PyPI dependencies, and the core wheel of the same release as
  the one pinned dependency that is not on PyPI yet) runs `<plugin> --about` with the right name, version and
  settings, and imports the core from the venv, not from the repository;
- all four plugins in **one** virtualenv (a data engineer's pipeline): one core, every `--about` works;
- the sdist, unpacked outside the repository, builds the same wheel with the same pinned dependency;
- versions: `vX.Y.Z` tags (one tag for the core and all four plugins), a dev version between tags, 0.0.0
  without git; each plugin pins the core to its own version.

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
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

pytestmark = [pytest.mark.release, pytest.mark.xdist_group("release-artifacts")]  # one build per run

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("tap-billbee", "target-wemalo", "tap-wemalo-shipments", "target-billbee")
CORE = "core"  # the folder of billbee-wemalo-core
EVENTS = "events"  # billbee-wemalo-events: the webhook receiver (a Meltano utility)
DISTRIBUTIONS = (CORE, *PLUGINS, EVENTS)
STEMS = {CORE: "billbee_wemalo_core", EVENTS: "billbee_wemalo_events"}


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
    """sdist + wheel of the core and every plugin, built from the repository as the release workflow does."""
    out = tmp_path_factory.mktemp("dist")
    run_all([([*BUILD, "--outdir", str(out), str(ROOT / folder)], ROOT) for folder in DISTRIBUTIONS])
    return out


def artifacts(dist: Path, folder: str) -> tuple[Path, Path]:
    stem = STEMS.get(folder, folder.replace("-", "_"))
    (sdist,) = dist.glob(f"{stem}-*.tar.gz")
    (wheel,) = dist.glob(f"{stem}-*-py3-none-any.whl")
    return sdist, wheel


def requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = (n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    return [line.removeprefix("Requires-Dist: ") for line in lines if line.startswith("Requires-Dist: ")]


def fresh_venv(venv: Path) -> tuple[Path, list[str]]:
    """A virtualenv outside the repository; returns its python and the command that installs into it."""
    python = outside_repo(venv) / "bin" / "python"
    if UV:
        subprocess.run([UV, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=clean_env())
        return python, [UV, "pip", "install", "-q", "--python", str(python)]
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    return python, [str(python), "-m", "pip", "install", "-q"]


def about(venv: Path, plugin: str) -> dict[str, object]:
    return json.loads(subprocess.run([str(venv / "bin" / plugin), "--about", "--format=json"], cwd=venv.parent,
                                     env=clean_env(), capture_output=True, text=True, check=True).stdout)


def module_files(python: Path, *modules: str) -> list[str]:
    code = "import importlib, sys; print('\\n'.join(importlib.import_module(p).__file__ for p in sys.argv[1:]))"
    return subprocess.run([str(python), "-c", code, *modules], cwd=python.parents[2], env=clean_env(),
                          capture_output=True, text=True, check=True).stdout.split()


def test_every_distribution_has_the_same_version_from_git(dist: Path) -> None:
    versions = {dist_version(path) for folder in DISTRIBUTIONS for path in artifacts(dist, folder)}
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
def test_wheel_in_a_fresh_venv(plugin: str, dist: Path, tmp_path: Path) -> None:
    _, wheel = artifacts(dist, plugin)
    version = dist_version(wheel)
    assert f"billbee-wemalo-core[sdk]=={version}" in requires(wheel), requires(wheel)
    venv = tmp_path / "venv"
    python, install = fresh_venv(venv)
    # --find-links: the core of this release comes from dist/, like it will come from PyPI beside the plugin.
    subprocess.run([*install, "--find-links", str(dist), str(wheel)], check=True, env=clean_env(), cwd=tmp_path)

    description = about(venv, plugin)
    assert description["name"] == plugin
    assert description["version"] == version
    hub = yaml.safe_load((ROOT / "hub" / f"{plugin}.yml").read_text())  # checked against the source's --about
    assert set(description["settings"]["properties"]) == {s["name"] for s in hub["settings"]}
    assert sorted(description["capabilities"]) == hub["capabilities"]
    files = module_files(python, plugin.replace("-", "_"), "billbee_wemalo", "billbee_wemalo.http")
    assert all(Path(f).is_relative_to(venv) for f in files), files


def test_the_events_wheel_in_a_fresh_venv_with_the_core(dist: Path, tmp_path: Path) -> None:
    """billbee-wemalo-events, released from the same tag: its wheel with the core of the same release, the
    receiver's dependencies, and a working command."""
    _, wheel = artifacts(dist, EVENTS)
    version = dist_version(wheel)
    assert f"billbee-wemalo-core=={version}" in requires(wheel), requires(wheel)
    venv = tmp_path / "venv"
    python, install = fresh_venv(venv)
    subprocess.run([*install, "--find-links", str(dist), str(wheel)], check=True, env=clean_env(), cwd=tmp_path)
    command = venv / "bin" / "billbee-wemalo-events"
    shown = subprocess.run([str(command), "--help"], cwd=tmp_path, env=clean_env(), capture_output=True, text=True,
                           check=True).stdout
    assert all(name in shown for name in ("serve", "register", "unregister", "status")), shown
    files = module_files(python, "billbee_wemalo_events.receiver", "billbee_wemalo_events.event_queue",
                         "billbee_wemalo", "uvicorn", "starlette", "sqlalchemy")
    assert all(Path(f).is_relative_to(venv) for f in files), files


def test_all_four_plugins_in_one_venv_share_one_core(dist: Path, tmp_path: Path) -> None:
    """Before the core was a distribution of its own, each wheel carried copies of the clients under the same
    top-level names, and a second plugin overwrote the first one's copies."""
    venv = tmp_path / "venv"
    python, install = fresh_venv(venv)
    wheels = [str(artifacts(dist, plugin)[1]) for plugin in PLUGINS]
    subprocess.run([*install, "--find-links", str(dist), *wheels], check=True, env=clean_env(), cwd=tmp_path)
    for plugin in PLUGINS:
        assert about(venv, plugin)["name"] == plugin
    listing = subprocess.run([str(python), "-m", "pip", "list", "--format=json"] if not UV else
                             [UV, "pip", "list", "--format=json", "--python", str(python)],
                             env=clean_env(), capture_output=True, text=True, check=True).stdout
    cores = [p for p in json.loads(listing) if p["name"] == "billbee-wemalo-core"]
    assert [c["version"] for c in cores] == [dist_version(artifacts(dist, CORE)[1])], cores
    # No plugin wheel carries a package of the core (or any other top-level package than its own).
    for plugin in PLUGINS:
        names = zipfile.ZipFile(artifacts(dist, plugin)[1]).namelist()
        assert {n.split("/")[0] for n in names if ".dist-info/" not in n} == {plugin.replace("-", "_")}, names


def test_sdist_builds_a_complete_wheel_outside_the_repository(dist: Path, tmp_path: Path) -> None:
    builds = []
    for folder in DISTRIBUTIONS:
        sdist, _ = artifacts(dist, folder)
        with tarfile.open(sdist) as archive:
            archive.extractall(outside_repo(tmp_path / folder), filter="data")
        (source,) = (tmp_path / folder).iterdir()
        assert "../" not in (source / "pyproject.toml").read_text(), "the sdist's pyproject.toml points outside"
        builds.append(([*BUILD, "--wheel", "--outdir", str(tmp_path / "wheels"), str(source)], source))
    # No git repository above the unpacked sdists: the version must come from the sdist itself.
    run_all(builds, env=clean_env(GIT_CEILING_DIRECTORIES=str(tmp_path)))

    for folder in DISTRIBUTIONS:
        sdist, original = artifacts(dist, folder)
        (wheel,) = (tmp_path / "wheels").glob(f"{original.name.split('-')[0]}-*.whl")
        assert dist_version(wheel) == dist_version(sdist)
        assert requires(wheel) == requires(original)
        names = set(zipfile.ZipFile(wheel).namelist())
        assert names - {n for n in names if ".dist-info/" in n} == {
            n for n in zipfile.ZipFile(original).namelist() if ".dist-info/" not in n}


def test_version_scheme_tags_dev_versions_and_fallback(tmp_path: Path) -> None:
    """A copy of one plugin: without git, in git without tags, then with tags; the core pin follows."""
    work = outside_repo(tmp_path / "repo")
    work.mkdir()
    for name in ("tap-billbee",):
        shutil.copytree(ROOT / name, work / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env = clean_env(GIT_CEILING_DIRECTORIES=str(tmp_path))

    def version(label: str) -> Version:
        out = tmp_path / label
        run_all([([*BUILD, "--wheel", "--outdir", str(out), "tap-billbee"], work)], env=env)
        (wheel,) = out.glob("*.whl")
        assert f"billbee-wemalo-core[sdk]=={dist_version(wheel)}" in requires(wheel)
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
