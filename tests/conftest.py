"""Fixtures shared by the end-to-end tests: a `meltano run` helper on the sandbox (the `sandbox` fixture itself:
sandbox/pytest_plugin.py)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox.runner import ROOT, Sandbox
from tests.e2e.catalogs import dump_catalogs
from tests.e2e.meltano_sysdir import private_sys_dir


@dataclass
class MeltanoProject:
    sandbox: Sandbox
    workdir: Path
    catalogs: dict[str, str] = field(default_factory=dict)  # the taps' catalogs as files (tests/e2e/catalogs.py)

    @property
    def env(self) -> dict[str, str]:
        # A private Meltano system directory: `meltano run`s of other tests or sessions in this project
        # directory cannot touch this run's files (see tests/e2e/meltano_sysdir.py).
        return {**self.sandbox.meltano_env(self.workdir), **private_sys_dir(self.workdir), **self.catalogs}

    def run(self, *args: str, env: dict[str, str] | None = None, check: bool = True,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
        meltano = Path(sys.executable).with_name("meltano")
        result = subprocess.run([str(meltano), *args], cwd=ROOT, env={**self.env, **(env or {})}, text=True,
                                capture_output=True, timeout=timeout, check=False)
        (self.workdir / "meltano.log").open("a").write(result.stdout + result.stderr)
        if check and result.returncode != 0:
            raise AssertionError(f"meltano {' '.join(args)} exited {result.returncode}:\n{result.stderr[-4000:]}")
        return result


@pytest.fixture(scope="session")
def tap_catalogs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Both taps' catalogs, discovered once per test process (why: tests/e2e/catalogs.py)."""
    return dump_catalogs(tmp_path_factory.mktemp("catalogs"))


@pytest.fixture
def project(sandbox: Sandbox, tmp_path: Path, tap_catalogs: dict[str, str]) -> MeltanoProject:
    sandbox.control.reset()
    return MeltanoProject(sandbox, tmp_path, dict(tap_catalogs))
