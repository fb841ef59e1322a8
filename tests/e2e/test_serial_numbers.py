"""Serial numbers end to end through Meltano (issue 18): the warehouse scans them while packing, the sent bookings
carry them (one row per serial number), and the Billbee order gets them once, as a message per parcel."""

from __future__ import annotations

import pytest

from tests.conftest import MeltanoProject

pytestmark = [pytest.mark.e2e]


def serial_texts(project: MeltanoProject, order_id: str) -> list[str]:
    messages = project.sandbox.control.billbee_state()["messages"].get(order_id, [])
    return [m["Text"] for m in messages if "Seriennummern" in (m.get("Text") or "")]


def test_serial_numbers_scanned_in_the_warehouse_reach_the_billbee_order_once(project: MeltanoProject) -> None:
    control = project.sandbox.control
    control.load_demo()
    project.run("run", "billbee-to-wemalo")
    control.wemalo("POST", "/stock", {p["sku"]: 50 for p in control.wemalo_state()["products"]})
    order = next(o for o in control.wemalo_state()["orders"] if o["status"] == "OPEN")
    position = order["positions"][0]
    serials = [f"SN-{n}" for n in range(position["quantity"])]
    control.advance("SHIPPED", [order["externalId"]], serialNumbers={position["externalId"]: serials})

    project.run("run", "wemalo-to-billbee")
    project.run("run", "wemalo-to-billbee")  # a replay of the overlap window: nothing again
    texts = serial_texts(project, order["externalId"])
    assert len(texts) == 1, texts
    assert f"{position['externalId']}: {', '.join(serials)}" in texts[0]
    billbee = next(o for o in control.billbee_state()["orders"] if str(o["BillBeeOrderId"]) == order["externalId"])
    assert billbee["State"] == 4
