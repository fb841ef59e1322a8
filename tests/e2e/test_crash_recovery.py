"""Plugin processes killed mid-run (SIGKILL, no chance to flush), then clean runs: nothing lost, nothing doubled.

The kill is triggered from the sandbox's request log, so it lands at a precise point: in the middle of
target-wemalo creating goods orders, and in the middle of tap-billbee writing the acknowledgement tags.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from sandbox.runner import ROOT
from tests.conftest import MeltanoProject
from tests.e2e.test_sync import RECEIVED, TAG, _has, eligible_orders

pytestmark = pytest.mark.e2e


def run_and_kill(project: MeltanoProject, plugin: str, when: Callable[[], bool], timeout: float = 180) -> str:
    """Start `meltano run billbee-to-wemalo`, SIGKILL `plugin` once `when()` holds; returns how the run ended."""
    meltano = Path(sys.executable).with_name("meltano")
    proc = subprocess.Popen([str(meltano), "run", "billbee-to-wemalo"], cwd=ROOT, env=project.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    killed = False
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if not killed and when():
                for child in psutil.Process(proc.pid).children(recursive=True):
                    if any(plugin in part for part in child.cmdline()):
                        child.send_signal(signal.SIGKILL)
                        killed = True
            time.sleep(0.02)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert killed, f"{plugin} finished before the kill point was reached"
    return f"exit {proc.returncode}"


def count(project: MeltanoProject, system: str, method: str, route_part: str) -> int:
    return sum(1 for r in project.sandbox.control.requests(system)
               if r["method"] == method and route_part in r["path"] and r["status"] < 300)


def test_killed_plugins_lose_nothing_and_double_nothing(project: MeltanoProject) -> None:
    control = project.sandbox.control
    initial = control.load_demo()["billbee"]
    eligible = eligible_orders(initial["orders"])

    # 1. target-wemalo dies after its third goods order: no state reaches Meltano.
    ended = run_and_kill(project, "target-wemalo", lambda: count(project, "wemalo", "POST", "goodsOrder/add") >= 3)
    assert ended != "exit 0"
    assert not any(_has(o.get("Tags"), RECEIVED) for o in control.billbee_state()["orders"]
                   if str(o["BillBeeOrderId"]) in eligible)

    # 2. A clean run sends the rest; the first three are found in wemalo and not created again.
    project.run("run", "billbee-to-wemalo")

    # 3. tap-billbee dies while writing the acknowledgement tags of run 2.
    ended = run_and_kill(project, "tap-billbee", lambda: count(project, "billbee", "POST", "/tags") >= 2)

    # 4. Two clean runs: the remaining tags are written, and then nothing is left to do.
    project.run("run", "billbee-to-wemalo")
    project.run("run", "billbee-to-wemalo")

    wemalo = control.wemalo_state()
    per_order = Counter(o["externalId"] for o in wemalo["orders"])
    assert max(per_order.values()) == 1
    billbee = {str(o["BillBeeOrderId"]): o for o in control.billbee_state()["orders"]}
    rejected = eligible - set(per_order)
    assert set(per_order) <= eligible
    assert len(rejected) == 1
    for order_id in per_order:
        assert _has(billbee[order_id].get("Tags"), RECEIVED), order_id
        assert _has(billbee[order_id].get("Tags"), TAG)
    for order_id in rejected:
        assert _has(billbee[order_id].get("Tags"), f"{TAG}_error")
        assert len(control.billbee_state()["messages"].get(order_id, [])) == 1
    # Exactly-once in wemalo also means no duplicate was even attempted and refused.
    duplicates = [r for r in control.requests("wemalo") if r["path"] == "/v1/goodsOrder/add" and r["status"] >= 400]
    assert duplicates == []
