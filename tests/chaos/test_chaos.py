"""Chaos suite (issue 5): many `meltano run sync` cycles with faults, killed plugins and a moving world.

One seed (`CHAOS_SEED`, printed) drives everything: the demo data, what the world does between cycles, which
cycles kill which plugin where, and the fault sequence of each simulator in each cycle. `CHAOS_CYCLES` sets
the number of chaos cycles (default 8, the seeded short run of `make test`; `make chaos` runs 30 cycles alone,
nightly in CI also with a seed of the day).

* Each chaos cycle is one `meltano run sync` with Billbee's real throttles (2 requests/s per endpoint, 10/s
  per user) and seeded faults on about 10 % of all API calls of both simulators (every kind: 429 with and
  without Retry-After, 500, 503, HTML error page, malformed JSON, slow answers past the plugins' 2 s
  `request_timeout`, dropped connections). `max_attempts` is 2, so retries run out in many cycles.
  In about a third of the cycles one plugin process is SIGKILLed at a seeded point. A failing run is
  fine; the following runs must heal it.
* Between cycles the warehouse receives goods and picks, packs and ships (two parcels, partial shipments
  completed later); the shop sells new paid, tagged orders (some with a bundle, an article wemalo cannot
  have, or an address wemalo refuses); payments arrive; the merchant edits orders, re-sends transferred
  ones (received tag removed, orders tag set), cancels transferred ones and fixes refused addresses; the
  warehouse blocks an order after packing or holds one for its address (the merchant corrects it once the
  stuck tag shows), and customers send items back (returns wemalo can link to an order, and some it cannot).
* Then two clean cycles (no faults, no kills); during them a second `meltano run sync` is started, once in
  the first run's billbee-to-wemalo block and once in its wemalo-to-billbee block (see
  `_second_run_while_first_runs`), and finally the invariants are checked (tests/chaos/invariants.py).

The table of figures is printed (also without `-s`) and written to output/chaos-report.json, both
simulators' final state to output/chaos-final-state.json.

Speed: each run is mostly Python start-up of Meltano and four plugins on a small machine. The taps get
their catalog as a file, as in every end-to-end test (tests/e2e/catalogs.py). The runs use a private Meltano
system directory (tests/e2e/meltano_sysdir.py), so other Meltano runs on the machine cannot touch their state
files.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from sandbox.core import FAULT_KINDS
from sandbox.runner import ROOT
from tests.chaos.cycle import MELTANO, PLUGINS, KillPlan, RequestLog, RunResult, plugin_process, run_sync
from tests.chaos.invariants import Invariants, check
from tests.chaos.world import World
from tests.conftest import MeltanoProject
from tests.e2e.meltano_sysdir import private_sys_dir

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]

SEED = int(os.environ.get("CHAOS_SEED", "5"))
CYCLES = int(os.environ.get("CHAOS_CYCLES", "8"))
FAULT_RATE = 0.1
REQUEST_TIMEOUT = 2  # seconds; slow answers take SLOW_SECONDS
SLOW_SECONDS = 3
MAX_ATTEMPTS = 2
KILL_SHARE = 1 / 3
REPORT = ROOT / "output" / "chaos-report.json"
FINAL_STATE = ROOT / "output" / "chaos-final-state.json"
REQUEST_KILL_RANGE = {"tap-billbee": 10, "target-wemalo": 8, "tap-wemalo-shipments": 5, "target-billbee": 6}


def plugin_env() -> dict[str, str]:
    # All cycles happen within minutes: with the default 60-minute overlap tap-wemalo-shipments would re-read
    # every parcel of the whole test in every cycle. One minute still replays the last cycles' parcels.
    env = {"TAP_WEMALO_SHIPMENTS_OVERLAP_MINUTES": "1"}
    for plugin in PLUGINS:
        prefix = plugin.upper().replace("-", "_")
        env[f"{prefix}_REQUEST_TIMEOUT"] = str(REQUEST_TIMEOUT)
        env[f"{prefix}_MAX_ATTEMPTS"] = str(MAX_ATTEMPTS)
    return env


def set_faults(project: MeltanoProject, cycle: int, rate: float) -> None:
    control = project.sandbox.control
    for offset, call in enumerate((control.billbee, control.wemalo)):
        call("POST", "/faults", {"rate": rate, "seed": SEED * 10_000 + cycle * 2 + offset,
                                 "kinds": list(FAULT_KINDS), "slow_seconds": SLOW_SECONDS})


def kill_plan(rng: random.Random) -> KillPlan:
    plugin = rng.choice(sorted(PLUGINS))
    if rng.random() < 0.6:
        return KillPlan(plugin, "requests", rng.randint(1, REQUEST_KILL_RANGE[plugin]))
    return KillPlan(plugin, "time", round(rng.uniform(0.0, 3.0), 1))


def cycle_row(cycle: int, result: RunResult, plan: KillPlan | None, faults: Counter[str]) -> dict[str, Any]:
    text = result.text()
    return {"cycle": cycle, "exit": result.exit_code, "seconds": round(result.seconds, 1),
            "kill_plan": plan.describe() if plan else None, "killed": result.killed,
            "faults": sum(faults.values()), "retries_exhausted": text.count("gave up after"),
            "held_back": text.count("will retry next run") + text.count("kept for the next run")}


def _wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _second_run_while_first_runs(env: dict[str, str], workdir: Path, requests: RequestLog, block: int,
                                 inv: Invariants) -> dict[str, Any]:
    """Start `meltano run sync` (A); while A is in `block`, run a second `meltano run sync` (B) to its end.

    A's tap of that block is paused (SIGSTOP) until B has ended, so that B meets A in that block whatever
    the machine's speed. Meltano's own job lock is per block (state ID): alone, it would let B run its
    billbee-to-wemalo block while A is in its wemalo-to-billbee block. The project's lock (the first task of
    every job, `billbee-wemalo-reconcile:lock`) refuses B in both cases before any plugin starts: B must exit
    non-zero with the lock's message and send no request to either system.
    """
    log_a, log_b = workdir / f"clean-{block}-A.log", workdir / f"clean-{block}-B.log"
    with log_a.open("w") as out:
        first = subprocess.Popen([MELTANO, "run", "sync"], cwd=ROOT, env=env, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    paused = None
    try:
        plugin = "tap-billbee" if block == 1 else "tap-wemalo-shipments"
        paused = _wait_for(lambda: plugin_process(first.pid, plugin), 120, f"{plugin} of the first run")
        paused.send_signal(signal.SIGSTOP)
        requests.poll_all()
        marks = dict(requests.last)
        second = run_sync(env, log_b, requests, timeout=180)
        # A's tap is paused and its target has nothing to write: requests meanwhile would be B's.
        b_requests = sum(1 for system in ("billbee", "wemalo") for r in requests.entries[system]
                         if r["id"] > marks[system])
        paused.send_signal(signal.SIGCONT)
        paused = None
        first.wait(timeout=300)
    finally:
        if paused is not None:
            paused.send_signal(signal.SIGCONT)
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    requests.poll_all()
    text = second.text()
    message = next((line.split("billbee-wemalo-lock: ", 1)[-1].strip() for line in text.splitlines()
                    if "another sync for" in line), None)
    bad = []
    if first.returncode != 0:
        bad.append(f"the first run failed (exit {first.returncode}), see {log_a}")
    if second.exit_code == 0 or message is None or f"pid {first.pid}" not in message:
        bad.append(f"the second run was not refused by the first run's lock (exit {second.exit_code}), see {log_b}")
    if b_requests:
        bad.append(f"the second run sent {b_requests} API requests before it was refused, see {log_b}")
    inv.add(f"second `run sync` during block {block} of the first: refused by the lock, no request", 1, bad)
    return {"during_block": block, "first_exit": first.returncode, "second_exit": second.exit_code,
            "second_seconds": round(second.seconds, 1), "second_run_requests": b_requests, "message": message}


def print_report(report: dict[str, Any]) -> str:
    lines = [f"chaos seed {report['seed']}: {len(report['cycles'])} chaos cycles + 2 clean, "
             f"{report['runtime_seconds']:.0f} s",
             "cycle exit   s  faults exhausted held  kill"]
    for row in report["cycles"]:
        kill = row["killed"] or (f"(planned {row['kill_plan']}: the plugin ended first)" if row["kill_plan"] else "")
        lines.append(f"{row['cycle']:>5} {row['exit']:>4} {row['seconds']:>4.0f} {row['faults']:>7} "
                     f"{row['retries_exhausted']:>9} {row['held_back']:>4}  {kill}")
    lines.append("faults injected: " + ", ".join(f"{k} {v}" for k, v in report["faults_by_kind"].items()))
    lines.append("world: " + ", ".join(f"{k} {v}" for k, v in report["world"].items()))
    for name, value in report["figures"].items():
        lines.append(f"  {name}: {value}")
    lines.append("invariants (checked / violations):")
    for row in report["invariants"]:
        mark = "ok  " if not row["violations"] else "FAIL"
        lines.append(f"  {mark} {row['invariant']}: {row['checked']} / {row['violations']}"
                     + (f"  e.g. {row['examples']}" if row["violations"] else ""))
    return "\n".join(lines)


def test_chaos_cycles_heal_and_keep_every_invariant(project: MeltanoProject,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    with capsys.disabled():
        print(f"\nchaos seed {SEED} (set CHAOS_SEED to repeat or vary), {CYCLES} cycles", flush=True)
    control = project.sandbox.control
    rng = random.Random(SEED)
    control.load_demo(SEED, n_products=30, n_orders=20)
    # getStatus and the return bookings answer with the apidoc's field lists, not its examples: so the chaos
    # reaches the warehouse paths that need wemalo's reasons (an address hold, fixed by the merchant) and
    # returns that name their order. The examples' literal readings are covered end to end
    # (tests/e2e/test_stuck_orders.py, tests/e2e/test_returns.py); everything else stays literal here.
    control.wemalo_settings(status_fields="field_list", returns_fields="field_list")
    world = World(control)
    world.start()
    env = {**project.env, **private_sys_dir(project.workdir), **plugin_env()}
    requests = RequestLog(control)
    kill_cycles = set(rng.sample(range(1, CYCLES + 1), round(CYCLES * KILL_SHARE)))

    rows = []
    for cycle in range(1, CYCLES + 1):
        step_rng = random.Random(f"{SEED}/{cycle}")
        if cycle > 1:
            world.step(step_rng, cycle)
        set_faults(project, cycle, FAULT_RATE)
        plan = kill_plan(step_rng) if cycle in kill_cycles else None
        marks = dict(requests.last)
        result = run_sync(env, project.workdir / f"cycle-{cycle:02d}.log", requests, plan)
        faults = Counter(r["fault"] for system in ("billbee", "wemalo") for r in requests.entries[system]
                         if r["id"] > marks[system] and r["fault"])
        rows.append(cycle_row(cycle, result, plan, faults))

    set_faults(project, 0, 0.0)
    inv_concurrency = Invariants()
    concurrency = [_second_run_while_first_runs(env, project.workdir, requests, block, inv_concurrency)
                   for block in (1, 2)]
    figures, inv = check(world, requests.entries)
    inv.rows += inv_concurrency.rows

    all_requests = [r for system in ("billbee", "wemalo") for r in requests.entries[system]]
    report = {
        "seed": SEED,
        "runtime_seconds": round(time.monotonic() - started, 1),
        "settings": {"fault_rate": FAULT_RATE, "fault_kinds": list(FAULT_KINDS), "request_timeout": REQUEST_TIMEOUT,
                     "slow_seconds": SLOW_SECONDS, "max_attempts": MAX_ATTEMPTS, "demo": "30 articles, 20 orders",
                     "billbee_throttle": "2/s per endpoint, 10/s per user"},
        "cycles": rows,
        "runs_failed": sum(1 for r in rows if r["exit"] != 0),
        "kills": sum(1 for r in rows if r["killed"]),
        "kills_by_plugin": dict(Counter(r["killed"].split()[0] for r in rows if r["killed"])),
        "requests": {"billbee": len(requests.entries["billbee"]), "wemalo": len(requests.entries["wemalo"])},
        "faults_by_kind": dict(sorted(Counter(r["fault"] for r in all_requests if r["fault"]).items())),
        "throttled_by_billbee_limits": sum(1 for r in requests.entries["billbee"]
                                           if r["status"] == 429 and not r["fault"]),
        "world": dict(sorted(world.actions.items())),
        "concurrent_runs": concurrency,
        "figures": figures,
        "invariants": inv.rows,
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str))
    # Both simulators' final state beside the report: what an invariant violation is diagnosed from.
    FINAL_STATE.write_text(json.dumps({"billbee": control.billbee_state(), "wemalo": control.wemalo_state()},
                                      ensure_ascii=False, default=str))
    table = print_report(report)
    with capsys.disabled():
        print(table, flush=True)
        print(f"report: {REPORT}; meltano logs: {project.workdir}", flush=True)
    assert not inv.failures, f"chaos seed {SEED}: invariants violated:\n{table}"
