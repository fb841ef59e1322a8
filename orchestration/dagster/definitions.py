"""Dagster definitions for the Billbee ⇄ wemalo connector: one job and one schedule per merchant.

Each job shells out to `meltano --environment=<env> run sync --state-id-suffix=<merchant>` in the Meltano
project, with the merchant's settings in the environment (see merchants.yml). Meltano does the work and keeps
the state; Dagster only decides when, keeps one run per merchant at a time (dagster.yaml) and shows the logs.

    pip install -r orchestration/dagster/requirements.txt      # in the orchestrator's own virtualenv
    dagster dev -f orchestration/dagster/definitions.py        # or a code location in your deployment

Environment: BILLBEE_WEMALO_MERCHANTS (default: merchants.yml beside this file), MELTANO_PROJECT_ROOT (default:
the repository root), MELTANO_EXECUTABLE (default: `meltano` on PATH), and the merchants' secrets.
"""

# No `from __future__ import annotations`: Dagster reads the `context` annotation at definition time.
import os
import re
import subprocess
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

HERE = Path(__file__).resolve().parent
MERCHANT_TAG = "billbee_wemalo/merchant"
MAX_RUNTIME_SECONDS = 55 * 60  # a hung sync ends before the next hourly run (needs run_monitoring)
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class Merchant:
    name: str  # also the Meltano state ID suffix
    environment: str = "prod"
    cron: str = "0 * * * *"
    env_prefix: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def job_name(self) -> str:
        return "sync_" + self.name.replace("-", "_")

    def command(self, meltano: str) -> list[str]:
        return [meltano, f"--environment={self.environment}", "run", "sync", f"--state-id-suffix={self.name}"]

    def environ(self, base: Mapping[str, str]) -> dict[str, str]:
        """The process environment for this merchant's run: its prefixed variables without the prefix, its
        `env`, and a report folder of its own."""
        env = dict(base)
        if self.env_prefix:
            env.update({k.removeprefix(self.env_prefix): v for k, v in base.items() if k.startswith(self.env_prefix)})
        env.update({k: str(v) for k, v in self.env.items()})
        for target in ("TARGET_WEMALO", "TARGET_BILLBEE"):
            env.setdefault(f"{target}_REPORT_DIR", f"output/reports/{self.name}")
        return env


def load_merchants(path: Path) -> tuple[list[Merchant], dict[str, Any]]:
    config = yaml.safe_load(path.read_text()) or {}
    schedule = {"cron": "0 * * * *", "timezone": "UTC", "running": False, **(config.get("schedule") or {})}
    merchants = []
    for entry in config.get("merchants") or []:
        merchant = Merchant(**{"cron": schedule["cron"], **entry})
        if not NAME.match(merchant.name):
            raise ValueError(f"{path}: merchant name {merchant.name!r} must match {NAME.pattern}")
        merchants.append(merchant)
    names = [m.name for m in merchants]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: merchant names must be unique: {names}")
    return merchants, schedule


def sync_job(merchant: Merchant, project_dir: Path, meltano: str) -> dg.JobDefinition:
    @dg.op(name=f"{merchant.job_name}_meltano_run", tags={MERCHANT_TAG: merchant.name})
    def meltano_run_sync(context: dg.OpExecutionContext) -> None:
        command = merchant.command(meltano)
        context.log.info(f"{' '.join(command)} (in {project_dir})")
        tail: deque[str] = deque(maxlen=50)
        with subprocess.Popen(command, cwd=project_dir, env=merchant.environ(os.environ), text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
            assert process.stdout is not None
            for line in process.stdout:
                tail.append(line.rstrip())
                context.log.info(tail[-1])
        if process.returncode:
            raise dg.Failure(description=f"meltano run sync for {merchant.name} exited {process.returncode}",
                             metadata={"output (last lines)": dg.MetadataValue.text("\n".join(tail))})

    @dg.job(name=merchant.job_name, description=f"meltano run sync for merchant {merchant.name}",
            tags={MERCHANT_TAG: merchant.name, "dagster/max_runtime": str(MAX_RUNTIME_SECONDS)})
    def job() -> None:
        meltano_run_sync()

    return job


def build_definitions(merchants_file: Path, project_dir: Path, meltano: str) -> dg.Definitions:
    merchants, schedule = load_merchants(merchants_file)
    jobs = [sync_job(m, project_dir, meltano) for m in merchants]
    status = dg.DefaultScheduleStatus.RUNNING if schedule["running"] else dg.DefaultScheduleStatus.STOPPED
    schedules = [
        dg.ScheduleDefinition(name=f"{m.job_name}_hourly", job=job, cron_schedule=m.cron,
                              execution_timezone=schedule["timezone"], default_status=status)
        for m, job in zip(merchants, jobs, strict=True)
    ]
    return dg.Definitions(jobs=jobs, schedules=schedules)


defs = build_definitions(
    Path(os.environ.get("BILLBEE_WEMALO_MERCHANTS", HERE / "merchants.yml")),
    Path(os.environ.get("MELTANO_PROJECT_ROOT", HERE.parents[1])),
    os.environ.get("MELTANO_EXECUTABLE", "meltano"),
)
