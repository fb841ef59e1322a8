"""The taps' catalogs as files, discovered once per test process, for `meltano run` without a discovery process.

Meltano caches a tap's discovered catalog, keyed by its configuration, unless the tap is installed editable
(`pip_url: -e ...`, as here in development): then it starts `<tap> --discover` before every run. Installed
from PyPI, as merchants run them, the taps' catalogs are cached. The end-to-end tests hand Meltano the
catalog as a file instead (the `<PLUGIN>__CATALOG` extra), produced by `meltano invoke --dump=catalog` with
the project's select rules, which Meltano applies again at each run. The plugins' code paths are the same;
a run is about a fifth cheaper (one Python start-up of the tap fewer). Runs that go through discovery are
still tested: `sandbox.meltano_env` alone (the many-merchants, logging and orchestration tests, the demo)
sets no catalog.

The catalogs are discovered with this project's defaults: a test that changes a setting the catalog depends
on (tap-wemalo-shipments' `sync_returns` adds the `returns` stream) must not use them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sandbox.runner import ROOT, credentials
from tests.e2e.meltano_sysdir import private_sys_dir

MELTANO = str(Path(sys.executable).with_name("meltano"))
TAPS = ("tap-billbee", "tap-wemalo-shipments")


def catalog_env_var(tap: str) -> str:
    return f"{tap.upper().replace('-', '_')}__CATALOG"


def dump_catalogs(workdir: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """Discover both taps' catalogs into `workdir`; the environment variables that hand them to Meltano."""
    workdir.mkdir(parents=True, exist_ok=True)
    if env is None:
        env = {**os.environ, **credentials(), "MELTANO_ENVIRONMENT": "dev",
               "MELTANO_DATABASE_URI": f"sqlite:///{workdir / 'meltano.db'}",
               "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", **private_sys_dir(workdir)}
    env = {key: value for key, value in env.items() if not key.endswith("__CATALOG")}
    # The system database may be new: create it once, or the two processes below race to migrate it.
    subprocess.run([MELTANO, "upgrade", "database"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=180)
    procs = {tap: subprocess.Popen([MELTANO, "invoke", "--dump=catalog", tap], cwd=ROOT, env=env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE) for tap in TAPS}
    out = {}
    for tap, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=180)
        if proc.returncode != 0:
            raise RuntimeError(f"meltano invoke --dump=catalog {tap} exited {proc.returncode}:\n{stderr[-2000:]}")
        json.loads(stdout)  # a catalog, not a log line
        path = workdir / f"{tap}.catalog.json"
        path.write_text(stdout)
        out[catalog_env_var(tap)] = str(path)
    return out
