"""Return announcements end to end through Meltano (issue 18; off by default, on here through
TAP_BILLBEE_RETURN_ANNOUNCE_TAG): a shipped order the merchant tags for a return is announced to wemalo once and
gets the confirmation tag with the next run; a request wemalo cannot take gets the error tag and one message;
further runs announce and write nothing. Under both sandbox readings of the apidoc's required fields."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import MeltanoProject
from tests.e2e.test_order_lifecycle import merchant_sets_tags

pytestmark = [pytest.mark.e2e]

JOB = "billbee-to-wemalo"
RETURN_TAG = "wemalo_return_announce"
CONFIRMED = "return_announced_to_wemalo"
ERROR = "wemalo_error"
ON = {"TAP_BILLBEE_RETURN_ANNOUNCE_TAG": RETURN_TAG}


def billbee_order(project: MeltanoProject, order_id: str) -> dict[str, Any]:
    return next(o for o in project.sandbox.control.billbee_state()["orders"] if str(o["BillBeeOrderId"]) == order_id)


def refusal_messages(project: MeltanoProject, order_id: str) -> list[str]:
    messages = project.sandbox.control.billbee_state()["messages"].get(order_id, [])
    return [m["Text"] for m in messages if "Rücksendung" in (m.get("Text") or "")]


def announcements(project: MeltanoProject) -> list[dict[str, Any]]:
    return list(project.sandbox.control.wemalo("GET", "/returns")["announcements"])


def shipped_orders(project: MeltanoProject, reading: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The demo synced (return announcements on, nothing tagged yet), two orders shipped and state 4 in Billbee."""
    control = project.sandbox.control
    control.load_demo()
    control.wemalo_settings(announce_required=reading)  # after the load, which resets the settings
    project.run("run", JOB, env=ON)
    control.wemalo("POST", "/stock", {p["sku"]: 50 for p in control.wemalo_state()["products"]})
    first, second = control.wemalo_state()["orders"][:2]
    control.advance("SHIPPED", [first["externalId"], second["externalId"]])
    project.run("run", "wemalo-to-billbee")
    assert billbee_order(project, first["externalId"])["State"] == 4
    return first, second


@pytest.mark.parametrize("reading", ["field_list", "example"])
def test_a_tagged_order_is_announced_once_and_a_refusal_is_written_back(project: MeltanoProject,
                                                                        reading: str) -> None:
    announced, refused = shipped_orders(project, reading)
    good, bad = announced["externalId"], refused["externalId"]
    for order_id in (good, bad):
        merchant_sets_tags(project, order_id, [*billbee_order(project, order_id)["Tags"], RETURN_TAG])
    project.sandbox.control.billbee("PATCH", f"/orders/{bad}", {"ShippingAddress": {"Street": "", "HouseNumber": ""}})

    project.run("run", JOB, env=ON)  # announces
    [sent] = announcements(project)
    assert (sent["externalId"], sent["goodsOrderExternalId"]) == (f"{good}-R1", good)
    assert sorted(i["sku"] for i in sent["items"]) == sorted({p["externalId"] for p in announced["positions"]})
    assert CONFIRMED not in billbee_order(project, good)["Tags"]  # only after Meltano stored the run's state

    project.run("run", JOB, env=ON)  # the acknowledgements
    assert CONFIRMED in billbee_order(project, good)["Tags"]
    assert ERROR not in billbee_order(project, good)["Tags"]
    assert ERROR in billbee_order(project, bad)["Tags"]
    [message] = refusal_messages(project, bad)
    assert f"(Billbee id {bad})" in message
    assert "street is empty" in message

    project.run("run", JOB, env=ON)  # nothing new: nothing announced, nothing written
    assert len(announcements(project)) == 1
    assert len(refusal_messages(project, bad)) == 1
    assert billbee_order(project, bad)["State"] == 4  # the order's state is left alone


def test_off_by_default_nothing_is_announced(project: MeltanoProject) -> None:
    announced, _ = shipped_orders(project, "field_list")
    order_id = announced["externalId"]
    merchant_sets_tags(project, order_id, [*billbee_order(project, order_id)["Tags"], RETURN_TAG])
    project.run("run", JOB)
    project.run("run", JOB)
    assert announcements(project) == []
    assert CONFIRMED not in billbee_order(project, order_id)["Tags"]
