"""Order changes over several hourly runs: re-send, rejection and retry, cancellation (through `meltano run`)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.conftest import MeltanoProject
from tests.e2e.test_sync import ERROR, RECEIVED, TAG, _has

# These cycles run under both profiles: the vendor documents read literally, and the other readings.
pytestmark = [pytest.mark.e2e, pytest.mark.sandbox(profiles=["literal", "lenient"])]

JOB = "billbee-to-wemalo"
API_CREDENTIALS = ("merchant@example.com", "Sandbox-Api-Passw0rd")
API_KEY = {"X-Billbee-Api-Key": "sandbox-api-key"}


def billbee_order(project: MeltanoProject, order_id: str) -> dict[str, Any]:
    return next(o for o in project.sandbox.control.billbee_state()["orders"] if str(o["BillBeeOrderId"]) == order_id)


def wemalo_order(project: MeltanoProject, order_id: str) -> dict[str, Any] | None:
    return next((o for o in project.sandbox.control.wemalo_state()["orders"] if o["externalId"] == order_id), None)


def merchant_sets_tags(project: MeltanoProject, order_id: str, tags: list[str]) -> None:
    """The merchant edits tags in Billbee (through the API, so the bump-or-not setting applies)."""
    url = f"{project.sandbox.billbee_url}/api/v1/orders/{order_id}/tags"
    for _ in range(5):  # Billbee's throttle counts the connector's tag writes of the run just before: wait as told
        response = requests.put(url, json={"Tags": tags}, auth=API_CREDENTIALS, headers=API_KEY, timeout=10)
        if response.status_code != 429:
            break
        time.sleep(float(response.headers.get("Retry-After") or 1))
    response.raise_for_status()


def writes_since(project: MeltanoProject, marks: dict[str, int]) -> list[dict[str, Any]]:
    control = project.sandbox.control
    return [r for system in ("billbee", "wemalo") for r in control.requests(system)
            if r["id"] > marks[system] and r["method"] != "GET"]


def marks(project: MeltanoProject) -> dict[str, int]:
    control = project.sandbox.control
    return {s: max((r["id"] for r in control.requests(s)), default=0) for s in ("billbee", "wemalo")}


@pytest.mark.parametrize("tag_writes_bump_modified", [True, False])
def test_resend_rejection_retry_and_cancellation(project: MeltanoProject, tag_writes_bump_modified: bool) -> None:
    control = project.sandbox.control
    demo = control.load_demo()
    control.billbee_settings(writes_bump_modified=tag_writes_bump_modified)
    project.run("run", JOB)
    control.wemalo("POST", "/stock", {p["sku"]: 50 for p in control.wemalo_state()["products"]})
    project.run("run", JOB)  # acknowledgements -> tags
    in_wemalo = sorted(o["externalId"] for o in control.wemalo_state()["orders"])
    rejected = next(str(o["BillBeeOrderId"]) for o in control.billbee_state()["orders"]
                    if _has(o.get("Tags"), ERROR))

    # Nothing changed: a further run writes nothing, the rejected order is not tried again.
    before = marks(project)
    project.run("run", JOB)
    assert writes_since(project, before) == []

    # Re-send: the merchant removes the received tag (and keeps the orders tag); wemalo still OPEN.
    resend = in_wemalo[0]
    assert wemalo_order(project, resend)["status"] == "OPEN"
    merchant_sets_tags(project, resend, [TAG])
    project.run("run", JOB)
    updates = [r for r in control.requests("wemalo") if r["path"] == f"/v1/goodsOrder/updateMeta/{resend}"]
    assert len(updates) == 1
    project.run("run", JOB)
    assert _has(billbee_order(project, resend).get("Tags"), RECEIVED)
    assert sum(1 for o in control.wemalo_state()["orders"] if o["externalId"] == resend) == 1

    # Re-send refused: the warehouse is already picking; the reason reaches the order as a message.
    busy = in_wemalo[1]
    control.advance("INPROCESS", [busy])
    merchant_sets_tags(project, busy, [TAG])
    project.run("run", JOB)
    project.run("run", JOB)
    assert _has(billbee_order(project, busy).get("Tags"), RECEIVED)
    assert any("INPROCESS" in m["Text"] for m in control.billbee_state()["messages"].get(busy, []))

    # Retry after a fix: the merchant gives the article its EAN and edits the order.
    article = next(p for p in demo["billbee"]["products"] if p.get("SKU") and not p.get("EAN")
                   and p["SKU"] in {i["Product"]["SKU"] for i in billbee_order(project, rejected)["OrderItems"]})
    control.billbee("POST", "/products", {"products": [{**article, "EAN": "4006381333931"}]})
    control.billbee("PATCH", f"/orders/{rejected}", {"SellerComment": "EAN nachgetragen"})
    project.run("run", JOB)
    assert wemalo_order(project, rejected) is not None
    project.run("run", JOB)
    tags = billbee_order(project, rejected).get("Tags")
    assert _has(tags, RECEIVED)
    assert not _has(tags, ERROR)

    # Cancellation: a transferred order is cancelled in Billbee; wemalo cancels it, Billbee gets the tag.
    cancelled = in_wemalo[2]
    control.billbee("PATCH", f"/orders/{cancelled}", {"State": 8})
    project.run("run", JOB)
    assert wemalo_order(project, cancelled)["status"] == "CANCELLED"
    project.run("run", JOB)
    assert _has(billbee_order(project, cancelled).get("Tags"), f"order_cancelled_received_by_{TAG}")

    # And once more nothing to do.
    before = marks(project)
    project.run("run", JOB)
    assert writes_since(project, before) == []
    assert control.violations() == {"billbee": [], "wemalo": []}


def first_order_in_wemalo(project: MeltanoProject) -> str:
    """The demo shop after two runs (orders transferred and acknowledged, stock in wemalo): one order's id."""
    control = project.sandbox.control
    control.load_demo()
    project.run("run", JOB)
    control.wemalo("POST", "/stock", {p["sku"]: 50 for p in control.wemalo_state()["products"]})
    project.run("run", JOB)
    return sorted(o["externalId"] for o in control.wemalo_state()["orders"])[0]


def test_refused_cancellation_is_recorded_once_and_not_sent_again(project: MeltanoProject) -> None:
    """Too late to cancel: one message and the error tag, then nothing until the merchant changes the order."""
    control, late = project.sandbox.control, first_order_in_wemalo(project)
    control.advance("PACKED", [late])
    control.billbee("PATCH", f"/orders/{late}", {"State": 8})
    project.run("run", JOB)
    assert wemalo_order(project, late)["status"] == "PACKED"
    project.run("run", JOB)  # the acknowledgement: message and error tag
    order = billbee_order(project, late)
    assert _has(order.get("Tags"), ERROR)
    messages = [m["Text"] for m in control.billbee_state()["messages"].get(late, [])]
    assert sum("Stornierung nicht an wemalo" in m for m in messages) == 1

    before = marks(project)
    project.run("run", JOB)
    project.run("run", JOB)
    cancels = [r for r in control.requests("wemalo") if r["path"] == f"/v1/goodsOrder/cancel/{late}"]
    assert writes_since(project, before) == []
    assert len(cancels) <= 1  # asked once, when the cancellation came


def test_a_cancellation_without_a_modification_time_still_reaches_wemalo(project: MeltanoProject) -> None:
    """Billbee does not say whether a state change moves LastModifiedAt: a cancellation that left it where it was
    is found by the eligibility check's cancellation query (by creation date)."""
    control, cancelled = project.sandbox.control, first_order_in_wemalo(project)
    unchanged = billbee_order(project, cancelled)["LastModifiedAt"]
    control.billbee("PATCH", f"/orders/{cancelled}", {"State": 8, "LastModifiedAt": unchanged})
    project.run("run", JOB, env={"TAP_BILLBEE_CANCEL_CHECK_DAYS": "400"})  # the demo's orders are weeks old
    assert wemalo_order(project, cancelled)["status"] == "CANCELLED"
