"""One Meltano project, three merchants, one PostgreSQL system database (docs/many-merchants.md).

Three sandboxes (each its own Billbee and wemalo account with its own credentials) are synced by three
concurrent `meltano run --state-id-suffix=<merchant> sync`, twice (the second after the warehouses shipped).
Each merchant's state stays under its own state IDs, and its orders, products, tags and tracking numbers reach
only its own accounts.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sandbox.runner import ROOT, Sandbox
from tests.e2e.meltano_sysdir import private_sys_dir
from tests.e2e.postgres_cluster import Cluster, cluster_or_skip
from tests.e2e.test_sync import RECEIVED, eligible_orders

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

MERCHANTS = {"merchant-a": 7, "merchant-b": 8, "merchant-c": 11}  # demo seeds with disjoint order ids
MELTANO = str(Path(sys.executable).with_name("meltano"))


@pytest.fixture(scope="module")
def postgres() -> Iterator[Cluster]:
    yield from cluster_or_skip()


@dataclass
class Merchant:
    name: str
    sandbox: Sandbox
    workdir: Path
    database_uri: str
    billbee: dict[str, Any] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """What a per-merchant env file holds: its own credentials, URLs, report folder and state suffix."""
        n = self.name
        return {
            **self.sandbox.meltano_env(self.workdir),
            **private_sys_dir(self.workdir),  # own .meltano/run (state.json, catalog) per concurrent run
            "MELTANO_DATABASE_URI": self.database_uri,
            "TAP_BILLBEE_USERNAME": f"{n}@example.com", "TARGET_BILLBEE_USERNAME": f"{n}@example.com",
            "TAP_BILLBEE_PASSWORD": f"{n}-api-password", "TARGET_BILLBEE_PASSWORD": f"{n}-api-password",
            "TAP_BILLBEE_API_KEY": f"{n}-api-key", "TARGET_BILLBEE_API_KEY": f"{n}-api-key",
            "TARGET_WEMALO_TOKEN": f"{n}-wemalo-token", "TAP_WEMALO_SHIPMENTS_TOKEN": f"{n}-wemalo-token",
        }

    def meltano(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([MELTANO, *args], cwd=ROOT, env=self.env, text=True, capture_output=True,
                                timeout=600, check=False)
        if check:
            assert result.returncode == 0, f"{self.name}: meltano {' '.join(args)}:\n{result.stderr[-3000:]}"
        return result


@pytest.fixture
def merchants(postgres: Cluster, tmp_path: Path) -> Iterator[list[Merchant]]:
    postgres.create_database("connector")
    uri = postgres.uri("connector")
    out = []
    try:
        for name, seed in MERCHANTS.items():
            sandbox = Sandbox(billbee_port=0, wemalo_port=0).start()
            merchant = Merchant(name, sandbox, tmp_path / name, uri)
            out.append(merchant)
            control = sandbox.control
            env = merchant.env
            merchant.billbee = control.load_demo(seed=seed)["billbee"]  # (a reset restores wemalo's settings)
            control.billbee_settings(username=env["TAP_BILLBEE_USERNAME"], password=env["TAP_BILLBEE_PASSWORD"],
                                     api_key=env["TAP_BILLBEE_API_KEY"])
            control.wemalo_settings(token=env["TARGET_WEMALO_TOKEN"])
        yield out
    finally:
        for merchant in out:
            merchant.sandbox.stop()


def concurrently(merchants: list[Merchant], *args: str) -> dict[str, str]:
    """`meltano <args>` for every merchant at the same time ("{m}" in an argument is the merchant's name);
    returns each merchant's stdout."""
    procs = {m.name: subprocess.Popen([MELTANO, *(a.format(m=m.name) for a in args)], cwd=ROOT, env=m.env,
                                      text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for m in merchants}
    outputs, failed = {}, {}
    for name, proc in procs.items():
        outputs[name], err = proc.communicate(timeout=900)
        if proc.returncode != 0:
            failed[name] = err[-3000:]
    assert not failed, json.dumps(failed, indent=1)
    return outputs


def run_sync(merchants: list[Merchant]) -> None:
    """The hourly job of every merchant, started at the same time, each under its own state ID suffix."""
    concurrently(merchants, "run", "--state-id-suffix={m}", "sync")


def ids(orders: list[dict[str, Any]]) -> set[str]:
    return {str(o["BillBeeOrderId"]) for o in orders}


def test_three_merchants_run_concurrently_on_one_postgres_system_db(merchants: list[Merchant]) -> None:
    a = merchants[0]
    a.meltano("upgrade", "database")  # migrate the new system database once, before runs start concurrently
    all_ids = {m.name: ids(m.billbee["orders"]) for m in merchants}
    assert sum(map(len, all_ids.values())) == len(set().union(*all_ids.values()))  # disjoint: a leak would show

    run_sync(merchants)

    for m in merchants:
        wemalo = m.sandbox.control.wemalo_state()
        in_wemalo = {o["externalId"] for o in wemalo["orders"]}
        assert in_wemalo <= eligible_orders(m.billbee["orders"]), m.name
        assert len(in_wemalo) >= 10, m.name
        eans = {p["EAN"] for p in m.billbee["products"] if p.get("EAN")}
        assert {p["ean"] for p in wemalo["products"]} <= eans, m.name
        requests = m.sandbox.control.requests("billbee") + m.sandbox.control.requests("wemalo")
        assert not [r for r in requests if r["status"] in (401, 403)], m.name  # only its own credentials

    # State: two state IDs per merchant in the one database, each holding only that merchant's orders.
    listed = set(a.meltano("--environment=dev", "state", "list").stdout.split())
    assert listed == {f"dev:{job}:{m.name}" for m in merchants
                      for job in ("tap-billbee-to-target-wemalo", "tap-wemalo-shipments-to-target-billbee")}
    states = concurrently(merchants, "--environment=dev", "state", "get", "dev:tap-billbee-to-target-wemalo:{m}")
    for m in merchants:
        acks = json.loads(states[m.name])["singer_state"]["bookmarks"]["orders"]["pending_acks"]
        handled = {o["externalId"] for o in m.sandbox.control.wemalo_state()["orders"]}
        assert handled <= set(acks) <= all_ids[m.name], m.name

    # The warehouses ship; the second concurrent run writes each merchant's tags and tracking numbers to its
    # own Billbee account only.
    for m in merchants:
        control = m.sandbox.control
        control.wemalo("POST", "/stock", {p["sku"]: 50 for p in control.wemalo_state()["products"]})
        control.advance("SHIPPED")
    run_sync(merchants)

    for m in merchants:
        wemalo = m.sandbox.control.wemalo_state()
        billbee = {str(o["BillBeeOrderId"]): o for o in m.sandbox.control.billbee_state()["orders"]}
        assert set(billbee) == all_ids[m.name]
        for order in wemalo["orders"]:
            got = billbee[order["externalId"]]
            assert RECEIVED.casefold() in {t.casefold() for t in got.get("Tags") or []}, (m.name, order["externalId"])
            handed_over = sorted(p["trackingNumber"] for p in order["parcels"] if p.get("isHandedOver"))
            assert sorted(s["ShippingId"] for s in got.get("ShippingIds") or []
                          if s["ShippingId"] in handed_over) == handed_over, m.name
        demo = {s["ShippingId"] for o in m.billbee["orders"] for s in o.get("ShippingIds") or []}
        own = {p["trackingNumber"] for o in wemalo["orders"] for p in o["parcels"]}
        assert {s["ShippingId"] for o in billbee.values() for s in o.get("ShippingIds") or []} <= demo | own
        assert m.sandbox.control.violations() == {"billbee": [], "wemalo": []}, m.name
    states = concurrently(merchants, "--environment=dev", "state", "get",
                          "dev:tap-wemalo-shipments-to-target-billbee:{m}")
    for m in merchants:
        parcels = {p["trackingNumber"] for o in m.sandbox.control.wemalo_state()["orders"] for p in o["parcels"]}
        bookmark = json.loads(states[m.name])["singer_state"]["bookmarks"]["shipments"]
        assert parcels, m.name
        assert bookmark["replication_key_value"], m.name
