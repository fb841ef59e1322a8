"""Stuck and blocked orders end to end through Meltano (issue 18): target-wemalo asks wemalo about the orders it
holds at the end of each run, and the next run's tap-billbee writes the stuck tag and one message with the reason,
then removes the tag once the order moved on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from billbee_wemalo.protocol import WAREHOUSE_FLAGS_KEY, ConnectorTags
from tests.conftest import MeltanoProject

pytestmark = [pytest.mark.e2e]

STATE_ID = "dev:tap-billbee-to-target-wemalo"
TAGS = ConnectorTags("wemalo")


def billbee_order(project: MeltanoProject, order_id: str) -> dict[str, Any]:
    return next(o for o in project.sandbox.control.billbee_state()["orders"] if str(o["BillBeeOrderId"]) == order_id)


def warehouse_texts(project: MeltanoProject, order_id: str) -> list[str]:
    messages = project.sandbox.control.billbee_state()["messages"].get(order_id, [])
    return [m["Text"] for m in messages if (m.get("Text") or "").startswith("Lager:")]


def orders_state(project: MeltanoProject) -> dict[str, Any]:
    state = json.loads(project.run("state", "get", STATE_ID).stdout)["singer_state"]
    return state["bookmarks"]["orders"]  # type: ignore[no-any-return]


def in_the_warehouse(project: MeltanoProject, env: dict[str, str] | None = None) -> list[str]:
    """The demo synced, every order in wemalo reserved (stock for all products)."""
    control = project.sandbox.control
    control.load_demo()
    project.run("run", "billbee-to-wemalo", env=env)
    control.wemalo("POST", "/stock", {p["sku"]: 500 for p in control.wemalo_state()["products"]})
    return [o["externalId"] for o in control.wemalo_state()["orders"]]


@pytest.mark.parametrize("status_fields", ["example", "field_list"])
def test_a_blocked_packed_order_is_flagged_once_and_cleared_when_it_ships(project: MeltanoProject,
                                                                          status_fields: str) -> None:
    """getStatus's example has no blockReason (literal): the message says wemalo gave none; with the field
    list's reading it names wemalo's reason."""
    control = project.sandbox.control
    order_id, other = in_the_warehouse(project)[:2]
    control.wemalo_settings(status_fields=status_fields)  # after the demo's load, which resets the settings
    control.advance("BLOCKEDPACKED", [order_id], blockReason="LABEL_ERROR")

    project.run("run", "billbee-to-wemalo")  # the check finds it; the flag waits in the state for the tap
    assert orders_state(project)[WAREHOUSE_FLAGS_KEY][order_id]["stuck"] is True
    assert TAGS.stuck not in billbee_order(project, order_id)["Tags"]
    project.run("run", "billbee-to-wemalo")
    project.run("run", "billbee-to-wemalo")  # nothing changed: no second message
    texts = warehouse_texts(project, order_id)
    assert len(texts) == 1, texts
    assert "BLOCKEDPACKED" in texts[0]
    assert ("LABEL_ERROR" if status_fields == "field_list" else "keinen Grund") in texts[0]
    assert TAGS.stuck in billbee_order(project, order_id)["Tags"]
    assert TAGS.stuck not in billbee_order(project, other)["Tags"]
    assert billbee_order(project, other)["State"] == 3  # the status mirror is off by default
    assert WAREHOUSE_FLAGS_KEY not in orders_state(project)

    control.advance("SHIPPED", [order_id])
    project.run("run", "billbee-to-wemalo")
    project.run("run", "billbee-to-wemalo")
    tags = billbee_order(project, order_id)["Tags"]
    assert TAGS.stuck not in tags
    assert TAGS.received in tags
    assert order_id not in orders_state(project)["watched_orders"]  # shipped: no longer asked about
    assert len(warehouse_texts(project, order_id)) == 1


def test_with_the_check_off_nothing_is_asked_or_flagged(project: MeltanoProject) -> None:
    control = project.sandbox.control
    order_id = in_the_warehouse(project)[0]
    control.advance("BLOCKEDPACKED", [order_id])
    off = {"TARGET_WEMALO_STUCK_CHECK": "false"}
    project.run("run", "billbee-to-wemalo", env=off)
    project.run("run", "billbee-to-wemalo", env=off)
    assert TAGS.stuck not in billbee_order(project, order_id)["Tags"]
    assert warehouse_texts(project, order_id) == []


def test_an_address_held_order_is_flagged_corrected_in_billbee_resent_shipped_and_cleared(
        project: MeltanoProject) -> None:
    """wemalo holds the order for its address (PARTIAL, ADDRESS; getStatus's field list names the reason): the
    merchant corrects the address in Billbee, and the next run sends it to wemalo without a manual re-tag."""
    control = project.sandbox.control
    order_id = in_the_warehouse(project)[0]
    control.wemalo_settings(status_fields="field_list")
    control.advance("PARTIAL", [order_id], reasonPartiallyReserved="ADDRESS")
    project.run("run", "billbee-to-wemalo")
    project.run("run", "billbee-to-wemalo")
    texts = warehouse_texts(project, order_id)
    assert len(texts) == 1, texts
    assert "Lieferadresse" in texts[0]
    assert TAGS.stuck in billbee_order(project, order_id)["Tags"]

    project.run("run", "billbee-to-wemalo")  # nothing changed in Billbee: no re-send
    assert order_id not in updated_receivers(project)
    control.billbee("PATCH", f"/orders/{order_id}", {"ShippingAddress": {"Street": "Hauptstraße", "HouseNumber": "5"}})
    project.run("run", "billbee-to-wemalo")  # re-sent; wemalo re-checks the corrected address and releases it
    assert order_id in updated_receivers(project)
    wemalo_order = next(o for o in control.wemalo_state()["orders"] if o["externalId"] == order_id)
    assert wemalo_order["status"] == "OPEN"
    assert wemalo_order["meta"]["receiver"][0]["street"].startswith("Hauptstraße")

    control.advance("SHIPPED", [order_id])
    project.run("run", "billbee-to-wemalo")
    project.run("run", "billbee-to-wemalo")
    assert TAGS.stuck not in billbee_order(project, order_id)["Tags"]
    assert TAGS.received in billbee_order(project, order_id)["Tags"]
    assert len(warehouse_texts(project, order_id)) == 1


def updated_receivers(project: MeltanoProject) -> set[str]:
    """The goods orders whose meta (receiver) the connector updated, from the wemalo simulator's request log."""
    return {str(r.get("path", "")).rsplit("/", 1)[-1] for r in project.sandbox.control.requests("wemalo")
            if r.get("method") == "PUT" and "/goodsOrder/updateMeta/" in str(r.get("path", ""))}


MIRROR = {"TAP_BILLBEE_ACCEPTED_STATE_ID": "16", "TAP_BILLBEE_PACKED_STATE_ID": "13"}


def test_the_status_mirror_moves_states_forward_and_the_tap_still_sees_the_moved_orders(
        project: MeltanoProject) -> None:
    """The mirror acts on a stage change: it is on from the first run (an order wemalo already had when it was
    switched on moves with its next stage). Off (the default), the other tests' orders stay in state 3."""
    control = project.sandbox.control
    in_wemalo = in_the_warehouse(project, MIRROR)  # run 1: accepted; the stage waits in the state
    project.run("run", "billbee-to-wemalo", env=MIRROR)  # run 2: the tags, then "Im Fulfillment"
    assert {billbee_order(project, k)["State"] for k in in_wemalo} == {16}

    packed, resent, by_hand = in_wemalo[:3]
    control.advance("PACKED", [packed])
    control.billbee("PATCH", f"/orders/{by_hand}", {"State": 5})  # the merchant's own state: never overwritten
    project.run("run", "billbee-to-wemalo", env=MIRROR)
    project.run("run", "billbee-to-wemalo", env=MIRROR)
    assert billbee_order(project, packed)["State"] == 13
    assert billbee_order(project, by_hand)["State"] == 5

    # the documented re-send of an order the mirror moved to 16: the tap still reads orders in that state
    tags = [t for t in billbee_order(project, resent)["Tags"] if t != TAGS.received]
    control.billbee("PATCH", f"/orders/{resent}", {"Tags": tags, "ShippingAddress": {"Line2": "Hinterhaus"}})
    project.run("run", "billbee-to-wemalo", env=MIRROR)
    assert resent in updated_receivers(project)
    project.run("run", "billbee-to-wemalo", env=MIRROR)
    assert TAGS.received in billbee_order(project, resent)["Tags"]

    control.advance("SHIPPED", [packed])
    project.run("run", "wemalo-to-billbee", env=MIRROR)
    assert billbee_order(project, packed)["State"] == 4  # Versendet from the mirror's state
    project.run("run", "billbee-to-wemalo", env=MIRROR)
    project.run("run", "billbee-to-wemalo", env=MIRROR)
    assert billbee_order(project, packed)["State"] == 4  # never moved back
