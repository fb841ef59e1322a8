"""target-billbee's returns sink against the Billbee simulator: message, tag, return shipment, optional state,
the bookings listed for marking in wemalo, and exactly once on a replay (target_billbee/returns.py)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from typing import Any

import pytest

from billbee_wemalo.protocol import PENDING_RETURN_ACKS_KEY
from sandbox.runner import Sandbox
from target_billbee.returns import bookings_named, return_message
from target_billbee.target import TargetBillbee

pytestmark = pytest.mark.sandbox(billbee_settings={"throttle": False})

ORDER = 300000000000101
CREDENTIALS = {"username": "merchant@example.com", "password": "Sandbox-Api-Passw0rd", "api_key": "sandbox-api-key"}
SCHEMA = {"type": "SCHEMA", "stream": "returns", "key_properties": ["return_id"],
          "schema": {"type": "object", "properties": {"return_id": {"type": "string"}}}}


@pytest.fixture
def billbee(sandbox: Sandbox) -> Sandbox:
    sandbox.control.reset()
    sandbox.control.billbee("POST", "/scenario", {
        "products": [{"Id": 9001, "SKU": "SHIRT-M", "EAN": "4000000000017", "Type": 1},
                     {"Id": 9002, "SKU": "CAP", "EAN": "4000000000024", "Type": 1}],
        "orders": [{"BillBeeOrderId": ORDER, "State": 4, "Tags": ["wemalo", "order_received_by_wemalo"],
                    "OrderItems": [{"Product": {"SKU": "SHIRT-M", "BillbeeId": 9001}, "Quantity": "2.000"},
                                   {"Product": {"SKU": "CAP", "BillbeeId": 9002}, "Quantity": "1.000"}]}]})
    return sandbox


def item(booking: str, product: str = "9001", **fields: Any) -> dict[str, Any]:
    return {"booking_id": booking, "external_product_id": product, "product_id": "4711", "product_name": "Shirt",
            "sku": None, "quantity": 1, "reason_code": "damaged", "condition": "2. Wahl",
            "condition_is_default": False, "serial_number": None, "ready_for_shipment": True,
            "booked_at": "2026-12-01T10:00:00+01:00", **fields}


def a_return(order: str | None = str(ORDER), *items: dict[str, Any], tracking: str | None = None) -> dict[str, Any]:
    items = items or (item("81"),)
    return {"return_id": f"{order or 'no-order'}/{items[0]['booking_id']}", "order_external_id": order,
            "order_number": "#1001", "delivery_number": None, "tracking_number": tracking,
            "booking_ids": [i["booking_id"] for i in items], "items": list(items),
            "booked_at": "2026-12-01T10:00:00+01:00"}


def run(sandbox: Sandbox, records: list[dict[str, Any]], state: dict[str, Any] | None = None,
        **config: Any) -> tuple[TargetBillbee, dict[str, Any]]:
    target = TargetBillbee(config={"api_url": f"{sandbox.billbee_url}/api/v1", **CREDENTIALS, **config})
    lines = [json.dumps({"type": "STATE", "value": state or {}}), json.dumps(SCHEMA)]
    lines += [json.dumps({"type": "RECORD", "stream": "returns", "record": r}) for r in records]
    lines.append(json.dumps({"type": "STATE", "value": state or {"bookmarks": {}}}))
    out = io.StringIO()
    with redirect_stdout(out):
        target.listen(file_input=io.StringIO("\n".join(lines) + "\n"))
    emitted = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return target, (emitted[-1] if emitted else {})


def messages(sandbox: Sandbox) -> list[str]:
    return [m["Text"] for m in sandbox.control.billbee_state()["messages"].get(str(ORDER), [])]


def the_order(sandbox: Sandbox) -> dict[str, Any]:
    return next(o for o in sandbox.control.billbee_state()["orders"] if o["BillBeeOrderId"] == ORDER)


def test_a_return_of_one_item_of_a_two_item_order(billbee: Sandbox) -> None:
    target, state = run(billbee, [a_return(str(ORDER), item("81", serial_number="SN-7"))])
    assert messages(billbee) == ["Retoure bei wemalo eingebucht (wemalo-Buchung 81):\n"
                                 "- 1x SHIRT-M, Grund: damaged, Zustand: 2. Wahl, Seriennummer: SN-7, "
                                 "wieder versandfähig"]
    order = the_order(billbee)
    assert "wemalo_returned" in order["Tags"]
    assert order["State"] == 4  # no state by default
    assert state["bookmarks"]["returns"][PENDING_RETURN_ACKS_KEY] == {"81": str(ORDER)}
    assert target.run.report.tally()["returns"] == {"written": 1}


def test_tracking_number_gives_a_return_shipment_and_a_state_only_when_configured(billbee: Sandbox) -> None:
    run(billbee, [a_return(str(ORDER), item("81"), tracking="RT-123")], returns_state_id=17, returns_tag="retour")
    order = the_order(billbee)
    shipments = [(s["ShippingId"], s["ShipmentType"]) for s in order["ShippingIds"]]
    assert shipments == [("RT-123", 1)]
    assert order["State"] == 17
    assert "retour" in order["Tags"]
    assert "wemalo_returned" not in order["Tags"]


def test_a_return_without_a_known_order_is_reported_and_never_listed_for_marking(billbee: Sandbox) -> None:
    target, state = run(billbee, [a_return(None, item("90")), a_return("300000000009999", item("91"))])
    assert PENDING_RETURN_ACKS_KEY not in state.get("bookmarks", {}).get("returns", {})
    problems = target.run.report.problems()["returns"]
    assert any("without a Billbee order" in reason and "90" in reason for reason in problems), problems
    assert any("not found" in reason and "91" in reason for reason in problems), problems
    assert target.run.report.counters["returns_without_order"] == 2


def test_a_dry_run_writes_nothing_and_lists_nothing_for_marking(billbee: Sandbox) -> None:
    target, state = run(billbee, [a_return()], dry_run=True)
    assert messages(billbee) == []
    assert PENDING_RETURN_ACKS_KEY not in state.get("bookmarks", {}).get("returns", {})
    assert target.run.report.as_dict()["dry_run"]["would_write"]


def test_a_replay_after_a_kill_before_the_state_was_stored_writes_no_second_message(billbee: Sandbox) -> None:
    """The run wrote the message and was killed before Meltano stored its state: wemalo still lists the
    booking, the next run gets it again (with a second item booked meanwhile) and writes only the new item."""
    run(billbee, [a_return(str(ORDER), item("81"))])
    _, state = run(billbee, [a_return(str(ORDER), item("81"), item("82", "9002"))])
    texts = messages(billbee)
    assert len(texts) == 2, texts
    assert "wemalo-Buchung 82" in texts[1]
    assert "CAP" in texts[1]
    assert "81" not in texts[1]
    assert state["bookmarks"]["returns"][PENDING_RETURN_ACKS_KEY] == {"81": str(ORDER), "82": str(ORDER)}
    run(billbee, [a_return(str(ORDER), item("81"), item("82", "9002"))])
    assert len(messages(billbee)) == 2


def test_where_billbee_does_not_list_messages_the_run_says_so(billbee: Sandbox) -> None:
    """The other reading of "Billbee: order messages": the target asks once, warns, and still writes."""
    billbee.control.billbee("POST", "/settings", {"messages_in_comments": False})
    try:
        target, state = run(billbee, [a_return(str(ORDER), item("81"))])
    finally:
        billbee.control.billbee("POST", "/settings", {"messages_in_comments": True})
    assert len(messages(billbee)) == 1
    assert target.run.comments_listed is False
    assert target.run.report.counters["returns_message_not_read_back"] == 1
    assert state["bookmarks"]["returns"][PENDING_RETURN_ACKS_KEY] == {"81": str(ORDER)}


def test_where_billbee_lists_messages_the_check_passes(billbee: Sandbox) -> None:
    target, _ = run(billbee, [a_return(str(ORDER), item("81"))])
    assert target.run.comments_listed is True
    assert target.run.report.counters["returns_message_not_read_back"] == 0


def test_the_marker_names_every_booking_and_is_read_back() -> None:
    text = return_message([item("81"), item("1200", sku="X-1", quantity=2)], {"9001": "SHIRT-M"})
    assert text.startswith("Retoure bei wemalo eingebucht (wemalo-Buchungen 81, 1200):")
    assert "- 2x X-1" in text
    assert bookings_named({"Comments": [{"Text": text}, {"Text": "Kunde ruft an"}, {"Text": None}]}) == {"81", "1200"}
