"""The Meltano jobs the worker runs: the project's own jobs (billbee-to-wemalo, wemalo-to-billbee), so a job
triggered by an event takes the same per-merchant run lock as the scheduled `sync` and reads and writes the same
Meltano state (see events/README.md, "State and lock"). Restricting a job to orders is a setting of the tap,
passed as its environment variable (TAP_BILLBEE_ORDER_IDS, TAP_WEMALO_SHIPMENTS_ORDER_IDS)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from billbee_wemalo_events.events import BILLBEE_TO_WEMALO, Direction
from billbee_wemalo_events.settings import Merchant

log = logging.getLogger("billbee_wemalo_events.jobs")
JOB_NAMES: dict[str, str] = {"billbee_to_wemalo": "billbee-to-wemalo", "wemalo_to_billbee": "wemalo-to-billbee"}
ORDER_IDS_VARIABLE: dict[str, str] = {"billbee_to_wemalo": "TAP_BILLBEE_ORDER_IDS",
                                      "wemalo_to_billbee": "TAP_WEMALO_SHIPMENTS_ORDER_IDS"}
ORDER_HINTS_VARIABLE = "TAP_BILLBEE_ORDER_HINTS"
JOB_TIMEOUT_SECONDS = 3600.0


@dataclass(frozen=True)
class Job:
    merchant: str
    direction: Direction
    order_ids: tuple[str, ...]  # empty: the whole direction, as the scheduled run does it
    # billbee-to-wemalo: per order id, the State/Tags each of its events showed (None: one showed none), as JSON
    # for tap-billbee's `order_hints` (tap_billbee/hints.py); "{}" reads every order
    hints: str = field(default="{}", compare=False)

    def describe(self) -> str:
        scope = f"orders {', '.join(self.order_ids)}" if self.order_ids else "all orders"
        return f"{JOB_NAMES[self.direction]} for merchant {self.merchant} ({scope})"


@dataclass(frozen=True)
class JobResult:
    ok: bool
    detail: str = ""


class JobRunner(Protocol):
    def __call__(self, job: Job, merchant: Merchant) -> JobResult: ...


def order_ids_value(job: Job) -> str:
    """The tap setting's value: a JSON array of the ids (integers for Billbee), `[]` for an unrestricted run."""
    if job.direction == BILLBEE_TO_WEMALO:
        return json.dumps([int(i) for i in job.order_ids])
    return json.dumps(list(job.order_ids))


def find_meltano(executable: str, env: Mapping[str, str]) -> str:
    """The `meltano` on PATH, else the project's .venv/bin/meltano (`meltano invoke` runs this utility in its own
    venv, whose PATH need not have Meltano)."""
    found = shutil.which(executable, path=env.get("PATH"))
    if found:
        return found
    candidate = Path(env.get("MELTANO_PROJECT_ROOT") or ".") / ".venv" / "bin" / "meltano"
    return str(candidate) if candidate.exists() else executable


class MeltanoRunner:
    """Runs `meltano run [--state-id-suffix=S] <job>` in the project with the merchant's environment."""

    def __init__(self, executable: str = "meltano", timeout: float = JOB_TIMEOUT_SECONDS) -> None:
        self.executable = executable
        self.timeout = timeout

    def command(self, job: Job, merchant: Merchant) -> list[str]:
        suffix = [f"--state-id-suffix={merchant.state_id_suffix}"] if merchant.state_id_suffix else []
        return [find_meltano(self.executable, merchant.env), "run", *suffix, JOB_NAMES[job.direction]]

    def environment(self, job: Job, merchant: Merchant) -> dict[str, str]:
        # Always set, also to [] and {}: an inherited restriction must never narrow a full run.
        env = {**merchant.env, ORDER_IDS_VARIABLE[job.direction]: order_ids_value(job)}
        if job.direction == BILLBEE_TO_WEMALO:
            env[ORDER_HINTS_VARIABLE] = job.hints if job.order_ids else "{}"
        return env

    def __call__(self, job: Job, merchant: Merchant) -> JobResult:
        env = self.environment(job, merchant)
        cwd = env.get("MELTANO_PROJECT_ROOT") or os.getcwd()
        started = time.monotonic()
        try:
            done = subprocess.run(self.command(job, merchant), cwd=cwd, env=env, capture_output=True, text=True,
                                  timeout=self.timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return JobResult(False, f"could not run meltano: {type(exc).__name__}")
        seconds = time.monotonic() - started
        if done.returncode == 0:
            return JobResult(True, f"{seconds:.1f} s")
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return JobResult(False, f"exit {done.returncode} after {seconds:.1f} s: {lines[-1][-300:] if lines else ''}")
