"""`Sandbox(processes=True)`, which the bench uses: each simulator in a process of its own, loaded without HTTP, its
CPU time reported, and both processes gone after `stop`."""

from __future__ import annotations

import multiprocessing
import os

import pytest
import requests

from sandbox import demo_data
from sandbox.runner import Sandbox


@pytest.mark.parametrize("processes", [True, False])
def test_load_store_and_cpu_seconds(processes: bool) -> None:
    scenario = demo_data.generate(seed=3)
    with Sandbox(billbee_port=0, wemalo_port=0, processes=processes) as sandbox:
        sandbox.load_store("billbee", scenario["billbee"])
        sandbox.load_store("wemalo", scenario["wemalo"])
        state = sandbox.control.billbee_state()
        assert [p["Id"] for p in state["products"]] == sorted(p["Id"] for p in scenario["billbee"]["products"])
        assert len(state["orders"]) == len(scenario["billbee"]["orders"])
        assert sandbox.control.wemalo_state()["profiles"]
        before = sandbox.cpu_seconds()
        for _ in range(20):
            sandbox.control.billbee_state()
        assert sandbox.cpu_seconds() > before
        children = {c.name: c for c in multiprocessing.active_children()}
        if processes:
            assert {"sandbox-billbee", "sandbox-wemalo"} <= children.keys()
            assert children["sandbox-billbee"].pid != os.getpid()
        else:
            assert not {"sandbox-billbee", "sandbox-wemalo"} & children.keys()
        url = sandbox.billbee_url
    assert not {"sandbox-billbee", "sandbox-wemalo"} & {c.name for c in multiprocessing.active_children()}
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/_admin/state", timeout=5)
