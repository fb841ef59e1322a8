"""The run billbee-wemalo-events starts for an event, through Meltano: `meltano run billbee-to-wemalo` with
TAP_BILLBEE_ORDER_IDS sends only that order, reads no products and no order pages, holds the bookmark, and shares
the state with the scheduled runs: it writes the last run's acknowledgements, and the next unrestricted run
writes its own and does not send its order twice."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from billbee_wemalo.billbee import BillbeeClient
from tests.conftest import MeltanoProject
from tests.e2e.test_sync import eligible_orders

pytestmark = pytest.mark.e2e
STATE_ID = "dev:tap-billbee-to-target-wemalo"
RECEIVED = "order_received_by_wemalo"


def bookmarks(project: MeltanoProject) -> dict[str, Any]:
    state: dict[str, Any] = json.loads(project.run("state", "get", STATE_ID).stdout)["singer_state"]["bookmarks"]
    return state


def test_a_restricted_run_sends_its_order_holds_the_bookmark_and_shares_the_acknowledgements(
        project: MeltanoProject) -> None:
    control = project.sandbox.control
    control.load_demo()
    orders = control.billbee_state()["orders"]
    first = eligible_orders(orders)
    project.run("run", "billbee-to-wemalo")  # the scheduled run: products, then every eligible order
    after_first = bookmarks(project)
    assert set(after_first["orders"]["pending_acks"]) >= first

    # A paid order the merchant tags now: Billbee would send its webhook.
    untagged = next(o for o in orders if o["State"] == 3 and not o.get("IsCancelationFor")
                    and not {t.casefold() for t in o.get("Tags") or []} & {"wemalo", RECEIVED})
    chosen = str(untagged["BillBeeOrderId"])
    client = BillbeeClient(**project.sandbox.billbee_config())
    client.add_tags(int(chosen), ["wemalo"])
    client.close()

    before = control.requests("billbee")[-1]["id"]
    project.run("run", "billbee-to-wemalo", env={"TAP_BILLBEE_ORDER_IDS": f"[{chosen}]"})
    paths = [(r["method"], r["path"]) for r in control.requests("billbee") if r["id"] > before]
    assert ("GET", "/api/v1/products") not in paths
    assert ("GET", "/api/v1/orders") not in paths
    assert ("GET", f"/api/v1/orders/{chosen}") in paths
    in_wemalo = Counter(o["externalId"] for o in control.wemalo_state()["orders"])
    assert in_wemalo[chosen] == 1
    after_event = bookmarks(project)
    assert after_event["orders"]["replication_key_value"] == after_first["orders"]["replication_key_value"]
    assert set(after_event["orders"]["pending_acks"]) == {chosen}  # the first run's were written by this one
    tags = {str(o["BillBeeOrderId"]): o.get("Tags") or [] for o in control.billbee_state()["orders"]}
    assert all(RECEIVED in tags[o] for o in first if o in in_wemalo)

    project.run("run", "billbee-to-wemalo", env={"TAP_BILLBEE_ORDER_IDS": "[]"})  # the next scheduled run
    in_wemalo = Counter(o["externalId"] for o in control.wemalo_state()["orders"])
    assert in_wemalo[chosen] == 1
    tags = {str(o["BillBeeOrderId"]): o.get("Tags") or [] for o in control.billbee_state()["orders"]}
    assert RECEIVED in tags[chosen]
