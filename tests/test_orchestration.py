"""The Dagster example (orchestration/dagster/) loads, has one hourly job per merchant, and each job runs
`meltano --environment=<env> run sync --state-id-suffix=<merchant>` with the merchant's variables.

Dagster is not a dependency of the connector: it goes into a throw-away virtualenv from
orchestration/dagster/requirements.txt (PyPI). A fake `meltano` records what the jobs would run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.orchestration

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "orchestration" / "dagster"

FAKE_MELTANO = """#!{python}
import json, os, sys
with open(os.environ["FAKE_MELTANO_LOG"], "a") as log:
    env = {{k: v for k, v in os.environ.items() if k.startswith(("TAP_", "TARGET_"))}}
    log.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": env}}) + "\\n")
print("meltano: pretending to run sync")
sys.exit(3 if sys.argv[-1] == "--state-id-suffix=" + os.environ.get("FAKE_MELTANO_FAIL", "") else 0)
"""

# Runs inside the Dagster virtualenv: load the definitions, describe them, run every job once.
PROBE = """
import json, os, runpy
import dagster as dg
defs = runpy.run_path(os.environ["DEFINITIONS"])["defs"]
out = {"jobs": {}, "schedules": {}}
for schedule in defs.schedules:
    out["schedules"][schedule.name] = {"job": schedule.job_name, "cron": schedule.cron_schedule,
                                       "timezone": schedule.execution_timezone,
                                       "status": schedule.default_status.value}
for schedule in defs.schedules:
    job = defs.resolve_job_def(schedule.job_name)
    result = job.execute_in_process(raise_on_error=False)  # ephemeral instance: fast
    failure = next((e.event_specific_data.error.message for e in result.all_events if e.is_step_failure), None)
    out["jobs"][job.name] = {"success": result.success, "tags": job.tags, "failure": failure}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def dagster_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("dagster") / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    try:
        from uv import find_uv_bin

        uv = find_uv_bin()
    except ImportError:
        uv = shutil.which("uv")
    if uv:
        commands = [[uv, "venv", "-q", "--python", sys.executable, str(venv)],
                    [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
                     "-r", str(EXAMPLE / "requirements.txt")]]
    else:
        commands = [[sys.executable, "-m", "venv", str(venv)],
                    [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r",
                     str(EXAMPLE / "requirements.txt")]]
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)
        if result.returncode:
            pytest.skip(f"Dagster could not be installed from PyPI here ({' '.join(command[:3])} exited "
                        f"{result.returncode}): {result.stderr.strip()[-500:]}")
    return venv / "bin" / "python"


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(EXAMPLE / "dagster.yaml", home / "dagster.yaml")
    return home


def test_definitions_validate(dagster_python: Path, dagster_home: Path) -> None:
    """`dagster definitions validate` loads the code location and the instance config (our dagster.yaml)."""
    result = subprocess.run([str(dagster_python.with_name("dagster")), "definitions", "validate", "-f",
                             str(EXAMPLE / "definitions.py")], cwd=EXAMPLE, capture_output=True, text=True,
                            env={**os.environ, "DAGSTER_HOME": str(dagster_home)}, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_one_hourly_job_per_merchant_runs_meltano_sync(dagster_python: Path, tmp_path: Path) -> None:
    fake = tmp_path / "meltano"
    fake.write_text(FAKE_MELTANO.format(python=sys.executable))
    fake.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    env = {**os.environ, "DEFINITIONS": str(EXAMPLE / "definitions.py"), "MELTANO_EXECUTABLE": str(fake),
           "FAKE_MELTANO_LOG": str(log), "FAKE_MELTANO_FAIL": "shop-b",
           "SHOP_A_TAP_BILLBEE_PASSWORD": "secret-a", "SHOP_B_TARGET_WEMALO_TOKEN": "token-b"}
    result = subprocess.run([str(dagster_python), "-c", PROBE], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    described = json.loads(result.stdout.strip().splitlines()[-1])

    config = yaml.safe_load((EXAMPLE / "merchants.yml").read_text())
    merchants = {m["name"]: m for m in config["merchants"]}
    jobs = {f"sync_{name.replace('-', '_')}": name for name in merchants}
    assert set(described["jobs"]) == set(jobs)
    assert {s["job"] for s in described["schedules"].values()} == set(jobs)
    for schedule in described["schedules"].values():
        merchant = merchants[jobs[schedule["job"]]]
        assert schedule["cron"] == merchant.get("cron", config["schedule"]["cron"])
        assert schedule["cron"].split()[1:] == ["*", "*", "*", "*"]  # hourly
        assert schedule["timezone"] == config["schedule"]["timezone"]
    for name, job in described["jobs"].items():
        assert job["tags"]["billbee_wemalo/merchant"] == jobs[name]
    # A failed `meltano run` fails the merchant's run (and only that one), saying how it exited.
    assert described["jobs"]["sync_shop_a"]["success"] is True
    assert described["jobs"]["sync_shop_b"]["success"] is False
    assert "shop-b exited 3" in described["jobs"]["sync_shop_b"]["failure"]

    calls = {c["argv"][-1].removeprefix("--state-id-suffix="): c for c in map(json.loads, log.read_text().splitlines())}
    assert set(calls) == set(merchants)
    for name, call in calls.items():
        environment = merchants[name].get("environment", "prod")
        assert call["argv"] == [f"--environment={environment}", "run", "sync", f"--state-id-suffix={name}"]
        assert Path(call["cwd"]) == ROOT
        assert call["env"]["TARGET_WEMALO_REPORT_DIR"] == f"output/reports/{name}"
        for key, value in (merchants[name].get("env") or {}).items():
            assert call["env"][key] == str(value)
    assert calls["shop-a"]["env"]["TAP_BILLBEE_PASSWORD"] == "secret-a"
    assert "TARGET_WEMALO_TOKEN" not in calls["shop-a"]["env"]
    assert calls["shop-b"]["env"]["TARGET_WEMALO_TOKEN"] == "token-b"
    assert "TAP_BILLBEE_PASSWORD" not in calls["shop-b"]["env"]
