"""`.singer` fixture files replayed through target-billbee against the Billbee simulator."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from billbee_wemalo.billbee import BillbeeClient
from sandbox.runner import Sandbox
from target_billbee.target import TargetBillbee

pytestmark = pytest.mark.sandbox(billbee_settings={"throttle": False})

FIXTURES = Path(__file__).parent / "fixtures"
ORDER = 300000000000001
CREDENTIALS = {"username": "merchant@example.com", "password": "Sandbox-Api-Passw0rd", "api_key": "sandbox-api-key"}


def _order(order_id: int, state: int = 3) -> dict[str, Any]:
    return {"BillBeeOrderId": order_id, "State": state, "Tags": ["wemalo", "order_received_by_wemalo"],
            "OrderItems": [{"Product": {"SKU": "STK-1"}, "Quantity": "1.000"}]}


BILLBEE = {
    "stocks": [{"Id": 1, "Name": "Hauptlager", "IsDefault": True}, {"Id": 2, "Name": "Außenlager", "IsDefault": False}],
    "shipping_providers": [{"id": 900, "name": "Freier Provider", "products": [
        {"id": 901, "displayName": "DHL Paket", "productName": "V01PAK"},
        {"id": 902, "displayName": "DPD Classic", "productName": "Classic"}]}],
    "products": [{"Id": 1, "SKU": "STK-1", "EAN": "4000000000017", "Type": 1},
                 {"Id": 2, "SKU": "STK-2", "EAN": "4000000000024", "Type": 1}],
    "orders": [_order(ORDER + i) for i in range(6)],
}


@pytest.fixture
def billbee(sandbox: Sandbox) -> Sandbox:
    sandbox.control.reset()
    # Billbee's reset keeps settings: a reading a test chose (e.g. restock_on_cancel) must not reach the next one
    sandbox.control.profile(sandbox.profile)
    sandbox.control.billbee_settings(throttle=False)
    sandbox.control.billbee("POST", "/scenario", BILLBEE)
    return sandbox


def replay(sandbox: Sandbox, *cases: str, state: dict[str, Any] | None = None,
           **config: Any) -> tuple[TargetBillbee, list[dict[str, Any]], dict[str, Any]]:
    """Run the target once per fixture (each a separate run, the state carried over like Meltano does)."""
    target: TargetBillbee | None = None
    marker = max((r["id"] for r in sandbox.control.requests("billbee")), default=0)
    for case in cases:
        target = TargetBillbee(config={"api_url": f"{sandbox.billbee_url}/api/v1", **CREDENTIALS, **config})
        lines = (FIXTURES / f"{case}.singer").read_text()
        if state:  # the tap passes the last state through as its first STATE message
            lines = json.dumps({"type": "STATE", "value": state}) + "\n" + lines
        out = io.StringIO()
        with redirect_stdout(out):
            target.listen(file_input=io.StringIO(lines))
        emitted = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
        state = emitted[-1] if emitted else state
    writes = [r for r in sandbox.control.requests("billbee") if r["id"] > marker and r["method"] != "GET"]
    assert sandbox.control.violations()["billbee"] == []
    assert target is not None
    return target, writes, state or {}


def order(sandbox: Sandbox, order_id: int) -> dict[str, Any]:
    return next(o for o in sandbox.control.billbee_state()["orders"] if o["BillBeeOrderId"] == order_id)


def test_one_parcel_tracking_then_shipped_state(billbee: Sandbox) -> None:
    _, writes, _ = replay(billbee, "one_parcel")
    assert [(w["method"], w["route"]) for w in writes] == [
        ("POST", "/api/v1/orders/<id>/shipment"), ("PUT", "/api/v1/orders/<id>/orderstate")]
    shipment = writes[0]["body"]
    assert shipment["ShippingId"] == "00340434161094000001"
    route = (shipment["ShippingProviderId"], shipment["ShippingProviderProductId"], shipment.get("CarrierId"))
    assert route == (900, 901, None)  # "DHL Paket" named alike in Billbee; its product's carrier is not overridden
    assert writes[1]["body"] == {"NewStateId": 4}
    assert order(billbee, ORDER)["State"] == 4


def test_replay_changes_nothing(billbee: Sandbox) -> None:
    replay(billbee, "one_parcel")
    _, writes, _ = replay(billbee, "one_parcel")
    assert writes == []
    assert [s["ShippingId"] for s in order(billbee, ORDER)["ShippingIds"]] == ["00340434161094000001"]


def test_two_parcels_in_different_runs(billbee: Sandbox) -> None:
    _, writes, _ = replay(billbee, "two_parcels_run1")
    assert [w["route"].rsplit("/", 1)[-1] for w in writes] == ["shipment"]
    assert order(billbee, ORDER + 1)["State"] == 3
    _, writes, _ = replay(billbee, "two_parcels_run2")
    assert [w["route"].rsplit("/", 1)[-1] for w in writes] == ["shipment", "orderstate"]
    assert [s["ShippingId"] for s in order(billbee, ORDER + 1)["ShippingIds"]] == ["00340434161094000011",
                                                                             "00340434161094000012"]
    assert order(billbee, ORDER + 1)["State"] == 4


def test_partial_shipment_adds_tracking_and_leaves_the_state(billbee: Sandbox) -> None:
    _, writes, _ = replay(billbee, "partial")
    assert [w["route"].rsplit("/", 1)[-1] for w in writes] == ["shipment"]
    assert order(billbee, ORDER + 2)["State"] == 3


def test_unknown_profile_still_writes_tracking_and_reports_once(billbee: Sandbox) -> None:
    target, writes, _ = replay(billbee, "unknown_profile")
    bodies = [w["body"] for w in writes if w["route"].endswith("shipment")]
    assert [b["ShippingId"] for b in bodies] == ["1Z999AA10123456784", "1Z999AA10123456785"]
    assert all("ShippingProviderId" not in b and b["CarrierId"] == 5 for b in bodies)  # UPS
    assert target.run.report.counters == {"unmatched_profile:UPS Standard": 1, "tracking_numbers_written": 2,
                                      "orders_marked_shipped": 2}


def test_explicit_mapping_wins(billbee: Sandbox) -> None:
    mapping = {"DPD Cloud Classic": {"provider_id": 900, "product_id": 902}}
    _, writes, _ = replay(billbee, "explicit_mapping", shipping_provider_map=mapping)
    body = writes[0]["body"]
    assert (body["ShippingProviderId"], body["ShippingProviderProductId"], body.get("CarrierId")) == (900, 902, None)


def test_explicit_mapping_with_a_carrier_sends_it(billbee: Sandbox) -> None:
    mapping = {"DPD Cloud Classic": {"provider_id": 900, "product_id": 902, "carrier_id": 4}}
    _, writes, _ = replay(billbee, "explicit_mapping", shipping_provider_map=mapping)
    assert writes[0]["body"]["CarrierId"] == 4


def test_order_deleted_in_billbee_is_reported_and_the_rest_goes_on(billbee: Sandbox) -> None:
    target, _writes, _ = replay(billbee, "order_deleted")
    outcomes = {o.record_id: (o.outcome, o.reason) for o in target.run.report.outcomes}
    assert outcomes[f"{ORDER + 99}/00340434161094000999"] == ("rejected", "order not found in Billbee (deleted?)")
    assert outcomes[f"{ORDER}/00340434161094000001"] == ("written", "")
    assert order(billbee, ORDER)["State"] == 4


def _item(sku: str, quantity: int) -> dict[str, Any]:
    return {"Sku": sku, "NewQuantity": quantity, "AutosubtractReservedAmount": True, "Reason": "wemalo stock sync"}


def test_stock_standard_location_never_negative_unknown_sku_reported(billbee: Sandbox) -> None:
    """wemalo's figure is net of its open orders (semantics available): the six orders wemalo holds (received
    tag, state 3, one STK-1 each) are added back, because Billbee subtracts its whole unfulfilled amount."""
    target, writes, state = replay(billbee, "stock")
    stock_writes = [w for w in writes if w["method"] == "POST"]
    assert len(stock_writes) == 1
    assert stock_writes[0]["body"] == [_item("STK-1", 12 + 6), _item("STK-2", 0), _item("NOPE-1", 5)]
    outcomes = {o.record_id: o.outcome for o in target.run.report.outcomes}
    assert outcomes == {"STK-1": "written", "STK-2": "written", "NOPE-1": "rejected"}
    # A replay of the same values reads Billbee's stock and writes only what Billbee does not have (the SKU it
    # refused); Billbee ends where it was.
    before = {p["SKU"]: p["StockCurrent"] for p in billbee.control.billbee_state()["products"]}
    marker = max(r["id"] for r in billbee.control.requests("billbee"))
    _, writes, _ = replay(billbee, "stock", state=state)
    assert [w["body"] for w in writes if w["method"] == "POST"] == [[_item("NOPE-1", 5)]]
    reads = [r["path"] for r in billbee.control.requests("billbee") if r["id"] > marker and r["method"] == "GET"]
    assert reads.count("/api/v1/products") == 1  # one page of articles: STK-1 and STK-2 are on it
    assert {p["SKU"]: p["StockCurrent"] for p in billbee.control.billbee_state()["products"]} == before


def test_stock_on_hand_is_written_as_it_is(billbee: Sandbox) -> None:
    """On-hand figures include what wemalo holds: Billbee's own subtraction gives the sellable stock."""
    _, writes, _ = replay(billbee, "stock_on_hand")
    assert [w["body"] for w in writes if w["method"] == "POST"] == [[_item("STK-1", 12), _item("STK-2", 0)]]
    reads = [r["path"] for r in billbee.control.requests("billbee") if r["method"] == "GET"]
    assert not [p for p in reads if p.endswith("/orders")]  # no held quantities needed


def test_missing_stock_figure_is_rejected_never_zero(billbee: Sandbox) -> None:
    target, writes, _ = replay(billbee, "stock_missing")
    assert [w["body"] for w in writes if w["method"] == "POST"] == [[_item("STK-1", 12)]]
    outcomes = {o.record_id: (o.outcome, o.reason) for o in target.run.report.outcomes}
    assert outcomes["STK-2"][0] == "rejected"
    assert "attribute 1: quantity 'n/a'" in outcomes["STK-2"][1]


def test_stock_other_location_sends_its_stock_id(billbee: Sandbox) -> None:
    _, writes, _ = replay(billbee, "stock", storage_location_id=2)
    assert {item["StockId"] for item in writes[0]["body"]} == {2}
    stocks = {p["SKU"]: {s["StockId"]: s for s in p["Stocks"]} for p in billbee.control.billbee_state()["products"]}
    entry = stocks["STK-1"][2]  # Billbee subtracted that location's unfulfilled amount from the 12 + 6 sent
    assert Decimal(str(entry["StockCurrent"])) == 18 - Decimal(str(entry.get("UnfulfilledAmount") or 0))


@pytest.mark.parametrize(("case", "record_id"), [("one_parcel", f"{ORDER}/00340434161094000001"),
                                                ("stock", "STK-2")])
def test_dry_run_reports_everything_and_writes_nothing(billbee: Sandbox, case: str, record_id: str) -> None:
    target, writes, _ = replay(billbee, case, dry_run=True)
    assert writes == []
    assert order(billbee, ORDER)["ShippingIds"] == []
    outcomes = {o.record_id: (o.outcome, o.reason) for o in target.run.report.outcomes}
    assert outcomes[record_id] == ("written", "dry run")


BEFORE = "2026-11-25T09:00:00+00:00"


def _stock_run(sandbox: Sandbox, records: list[dict[str, Any]], state: dict[str, Any] | None = None,
               **config: Any) -> tuple[TargetBillbee, list[Any], Any]:
    state = state or {"bookmarks": {"stock_levels": {  # both SKUs had 10 from the last run
        "replication_key": "observed_at", "replication_key_value": BEFORE,
        "written": {"STK-1": 10, "STK-2": 10}, "written_stock_id": 0}}}
    lines = [{"type": "SCHEMA", "stream": "stock_levels", "key_properties": ["sku"], "schema": {
        "type": "object", "properties": {"sku": {"type": "string"}, "available": {"type": ["integer", "null"]},
                                         "semantics": {"type": "string"}, "observed_at": {"type": "string"}}}},
             {"type": "STATE", "value": state}]
    lines += [{"type": "RECORD", "stream": "stock_levels", "record": r} for r in records]
    # The tap's last STATE: the state it was given (its stream state carries the target's keys through), the
    # bookmark moved on.
    last = json.loads(json.dumps(state))
    last["bookmarks"]["stock_levels"].update({"replication_key": "observed_at",
                                              "replication_key_value": "2026-11-26T10:00:00+00:00"})
    lines.append({"type": "STATE", "value": last})
    marker = max((r["id"] for r in sandbox.control.requests("billbee")), default=0)
    target = TargetBillbee(config={"api_url": f"{sandbox.billbee_url}/api/v1", **CREDENTIALS, **config})
    out = io.StringIO()
    error = None
    with redirect_stdout(out):
        try:
            target.listen(file_input=io.StringIO("\n".join(json.dumps(x) for x in lines)))
        except SystemExit as exc:
            error = exc
    states = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    writes = [r for r in sandbox.control.requests("billbee") if r["id"] > marker and r["method"] == "POST"]
    return target, writes, (error, states)


ZEROS = [{"sku": "STK-1", "available": 0, "semantics": "on_hand", "observed_at": "2026-11-26T10:00:00+00:00"},
         {"sku": "STK-2", "available": 0, "semantics": "on_hand", "observed_at": "2026-11-26T10:00:00+00:00"}]


def _stk1(available: int) -> list[dict[str, Any]]:
    return [{"sku": "STK-1", "available": available, "semantics": "on_hand",
             "observed_at": "2026-11-26T10:00:00+00:00"}]


def _stock_current(sandbox: Sandbox, sku: str) -> float:
    article = next(p for p in sandbox.control.billbee_state()["products"] if p["SKU"] == sku)
    return float(article["StockCurrent"])


def test_a_run_killed_after_its_stock_write_does_not_leave_billbee_on_that_value(billbee: Sandbox) -> None:
    """The state says 10 was written; the next run writes 7 and is killed before its STATE reaches Meltano. The
    run after it starts from "10 written" and reads 10 again: that must reach Billbee (a skip because "10 was
    written" would leave the 7)."""
    _stock_run(billbee, _stk1(7))
    _, writes, (error, _) = _stock_run(billbee, _stk1(10))  # the same starting state: the 7 was never recorded
    assert error is None
    assert [i["NewQuantity"] for i in writes[0]["body"]] == [10]
    assert _stock_current(billbee, "STK-1") == 10 - 6  # less the six unfulfilled orders


@pytest.mark.parametrize("restock", [True, False], ids=["cancel_restocks", "cancel_keeps_stock"])
def test_a_cancelled_held_order_gives_its_stock_back_on_either_reading(billbee: Sandbox, restock: bool) -> None:
    """Whether Billbee gives stock back on a cancellation is not documented. wemalo's figure rises by the cancelled
    quantity and the held quantity falls by it: the same NewQuantity as written last. Without a restock Billbee's
    stock is one too low until it is written again; with one, Billbee has the value and nothing is written."""
    billbee.control.billbee_settings(restock_on_cancel=restock)
    record = [{"sku": "STK-1", "available": 12, "semantics": "available", "observed_at": "2026-11-26T10:00:00+00:00"}]
    _, writes, (_, states) = _stock_run(billbee, record)
    assert [i["NewQuantity"] for i in writes[0]["body"]] == [12 + 6]
    assert _stock_current(billbee, "STK-1") == 12
    billbee.control.billbee("PATCH", f"/orders/{ORDER}", {"State": 8})  # one held order (1 x STK-1) cancelled
    record[0]["available"] = 13  # wemalo cancelled it too and released its unit
    _, writes, (error, _) = _stock_run(billbee, record, state=states[-1])  # the state says 18 was written
    assert error is None
    assert [i["NewQuantity"] for w in writes for i in w["body"]] == ([] if restock else [13 + 5])
    assert _stock_current(billbee, "STK-1") == 13


def test_a_failed_stock_read_writes_the_values(billbee: Sandbox) -> None:
    """Billbee's articles cannot be read: that is no reason to skip a value, so it is written."""
    _, _, (_, states) = _stock_run(billbee, _stk1(7))
    billbee.control.faults(rate=1.0, kinds=["500"], paths=["/api/v1/products/stocks"])
    _, writes, (error, _) = _stock_run(billbee, _stk1(7), state=states[-1], max_attempts=1)
    billbee.control.faults(rate=0.0)
    assert error is None
    assert [i["NewQuantity"] for w in writes for i in w["body"]] == [7]


def test_a_tripped_breaker_writes_nothing_holds_the_bookmark_and_fails(billbee: Sandbox) -> None:
    target, writes, (error, states) = _stock_run(billbee, ZEROS, stock_breaker_min_skus=1)
    assert writes == []
    assert error is not None
    assert "circuit breaker" in str(error)
    assert states[-1]["bookmarks"]["stock_levels"]["replication_key_value"] == BEFORE
    outcomes = {o.record_id: (o.outcome, o.reason) for o in target.run.report.outcomes}
    assert outcomes["(whole run)"][0] == "rejected"
    assert "2 of 2 SKUs would be set to 0" in outcomes["(whole run)"][1]


def test_a_confirmed_breaker_writes(billbee: Sandbox) -> None:
    _, writes, (error, _) = _stock_run(billbee, ZEROS, stock_breaker_min_skus=1, stock_breaker_confirm=True)
    assert error is None
    assert [i["NewQuantity"] for i in writes[0]["body"]] == [0, 0]


@pytest.mark.parametrize("min_skus", [5])
def test_below_the_minimum_the_zeros_are_written(billbee: Sandbox, min_skus: int) -> None:
    _, writes, (error, _) = _stock_run(billbee, ZEROS, stock_breaker_min_skus=min_skus)
    assert error is None
    assert len(writes) == 1


def test_a_parcel_without_tracking_number_ships_the_order_with_a_note(billbee: Sandbox) -> None:
    _, writes, state = replay(billbee, "untracked")
    assert [(w["method"], w["route"]) for w in writes] == [("POST", "/api/v1/orders/<id>/message"),
                                                          ("PUT", "/api/v1/orders/<id>/orderstate")]
    assert "ohne Sendungsnummer" in writes[0]["body"]["Text"]
    assert order(billbee, ORDER)["State"] == 4
    assert order(billbee, ORDER)["ShippingIds"] == []
    _, again, _ = replay(billbee, "untracked", state=state)  # a replay: the order is shipped, nothing written
    assert again == []


def test_serial_numbers_of_a_parcel_reach_the_order_once_as_a_message(billbee: Sandbox) -> None:
    _, writes, state = replay(billbee, "serial_numbers")
    assert [w["route"].rsplit("/", 1)[-1] for w in writes] == ["message", "shipment", "orderstate"]
    assert writes[0]["body"]["Text"] == "wemalo Paket 00340434161094000001: Seriennummern STK-1: SN-A1, SN-A2"
    _, again, _ = replay(billbee, "serial_numbers", state=state)
    assert again == []


def test_a_serial_number_message_is_not_written_twice_after_a_lost_shipment(billbee: Sandbox) -> None:
    """A run killed between the message and the shipment: the replay finds the message in the order's Comments
    (Billbee lists API messages there, the literal reading) and writes only the shipment."""
    text = "wemalo Paket 00340434161094000001: Seriennummern STK-1: SN-A1, SN-A2"
    client = BillbeeClient(api_url=f"{billbee.billbee_url}/api/v1", **CREDENTIALS)
    client.add_message(ORDER + 2, text)  # the killed run's message
    _, writes, _ = replay(billbee, "serial_numbers")
    assert [w["route"].rsplit("/", 1)[-1] for w in writes] == ["shipment", "orderstate"]


@pytest.mark.parametrize("later", [5, 7, 9])
def test_a_parcel_never_moves_a_later_state_back(billbee: Sandbox, later: int) -> None:
    billbee.control.billbee("PATCH", f"/orders/{ORDER}", {"State": later})
    target, writes, _ = replay(billbee, "one_parcel")
    assert [w["route"] for w in writes] == ["/api/v1/orders/<id>/shipment"]  # tracking yes, state no
    assert order(billbee, ORDER)["State"] == later
    outcomes = {o.record_id: (o.outcome, o.reason) for o in target.run.report.outcomes}
    assert outcomes[str(ORDER)][0] == "unchanged"


LATER = "2026-11-26T10:00:00+00:00"


def test_a_state_before_the_stock_write_keeps_the_stock_bookmark(billbee: Sandbox) -> None:
    """Stock is written at the end of the run; a STATE message in between (Meltano stores it) must not move the
    bookmark past values not written yet."""
    target = TargetBillbee(config={"api_url": f"{billbee.billbee_url}/api/v1", **CREDENTIALS})
    target.run.stock_pending = 3
    lines = [json.dumps({"type": "STATE", "value": {"bookmarks": {"stock_levels": {
        "replication_key": "observed_at", "replication_key_value": value}}}}) for value in (BEFORE, LATER)]
    out = io.StringIO()
    with redirect_stdout(out):  # the tap's first STATE (the last run's bookmark), then a later one
        target.listen(io.StringIO("\n".join(lines) + "\n"))
    emitted = [json.loads(line) for line in out.getvalue().splitlines()]
    assert emitted[-1]["bookmarks"]["stock_levels"]["replication_key_value"] == BEFORE


# -- stock_verify_hours: which values equal to the last written are compared with Billbee (verify.py) --------------


def _available(available: int) -> list[dict[str, Any]]:
    return [{"sku": "STK-1", "available": available, "semantics": "available",
             "observed_at": "2026-11-26T10:00:00+00:00"}]


def _billbee_reads(sandbox: Sandbox, marker: int) -> list[str]:
    return [r["path"] for r in sandbox.control.requests("billbee") if r["id"] > marker and r["method"] == "GET"]


def _marker(sandbox: Sandbox) -> int:
    return max((r["id"] for r in sandbox.control.requests("billbee")), default=0)


def _settled(sandbox: Sandbox, available: int, **config: Any) -> dict[str, Any]:
    """Two runs with the same figure: the first writes it, the second compares it and records what the runs
    after it compare against (held quantities, the cancelled orders seen). Returns the last state."""
    _, writes, (_, states) = _stock_run(sandbox, _available(available), **config)
    assert writes
    _, writes, (_, states) = _stock_run(sandbox, _available(available), state=states[-1], **config)
    assert writes == []
    return dict(states[-1])


@pytest.mark.parametrize("hours", [24, 0])
def test_a_value_equal_to_the_last_written_is_trusted_between_full_comparisons(billbee: Sandbox, hours: int) -> None:
    state = _settled(billbee, 12, stock_verify_hours=hours)
    marker = _marker(billbee)
    target, writes, (error, _) = _stock_run(billbee, _available(12), state=state, stock_verify_hours=hours)
    assert error is None
    assert writes == []
    products = [p for p in _billbee_reads(billbee, marker) if p.startswith("/api/v1/products")]
    assert products == ([] if hours else ["/api/v1/products/stocks", "/api/v1/products/STK-1"])
    assert target.run.report.counters["stock_values_trusted"] == (1 if hours else 0)


@pytest.mark.parametrize("replayed", [False, True])
def test_the_skus_of_an_order_the_run_ships_are_compared_though_their_value_equals_the_last_written(
        billbee: Sandbox, replayed: bool) -> None:
    """An order sent to wemalo after one stock run and acknowledged and shipped before the next was never seen held:
    its held quantity does not move, yet it left Billbee's unfulfilled amount, which the last write subtracted (a
    chaos run found Billbee 2 low). The SKUs of the orders the run sets to "Versendet" are compared; also when the
    parcel is replayed after a run killed between the state and the stock write (the order is already Versendet)."""
    if replayed:
        billbee.control.billbee("PATCH", f"/orders/{ORDER}", {"State": 4})
    state = {"bookmarks": {"stock_levels": {
        "replication_key": "observed_at", "replication_key_value": BEFORE, "written": {"STK-1": 10},
        "written_stock_id": 0, "verified_at": datetime.now(UTC).isoformat(), "held": {"stk-1": 5},
        "cancelled_seen": []}}}
    parcel = (FIXTURES / "one_parcel.singer").read_text().splitlines()  # ships ORDER (1 x STK-1): 6 held -> 5
    stock = [{"type": "SCHEMA", "stream": "stock_levels", "key_properties": ["sku"], "schema": {
        "type": "object", "properties": {"sku": {"type": "string"}, "available": {"type": ["integer", "null"]},
                                         "semantics": {"type": "string"}, "observed_at": {"type": "string"}}}},
             *[{"type": "RECORD", "stream": "stock_levels", "record": r} for r in _available(5)]]  # 5 + 5 held
    lines = [json.dumps({"type": "STATE", "value": state}), *parcel, *map(json.dumps, stock)]
    marker = _marker(billbee)
    target = TargetBillbee(config={"api_url": f"{billbee.billbee_url}/api/v1", **CREDENTIALS})
    with redirect_stdout(io.StringIO()):
        target.listen(file_input=io.StringIO("\n".join(lines)))
    calls = [r for r in billbee.control.requests("billbee") if r["id"] > marker]
    assert order(billbee, ORDER)["State"] == 4
    assert any(r["method"] == "GET" and r["route"].endswith("/products/<id>") for r in calls)
    assert [i["Sku"] for r in calls if r["route"].endswith("updatestockmultiple") for i in r["body"]] == ["STK-1"]


def test_the_skus_of_an_order_shipped_in_a_run_without_their_stock_stay_unsettled_until_compared(
        billbee: Sandbox) -> None:
    """The run ships ORDER but has no stock record for STK-1 (wemalo reports it later, or the run is killed before
    its stock work with its STATE past the parcel stored): its STATE lists stk-1 as unsettled, and the next run
    compares it though the value equals the last written."""
    state = {"bookmarks": {"stock_levels": {
        "replication_key": "observed_at", "replication_key_value": BEFORE, "written": {"STK-1": 10},
        "written_stock_id": 0, "verified_at": datetime.now(UTC).isoformat(), "held": {"stk-1": 5},
        "cancelled_seen": []}}}
    parcel = (FIXTURES / "one_parcel.singer").read_text().splitlines()  # ships ORDER (1 x STK-1)
    out = io.StringIO()
    with redirect_stdout(out):
        TargetBillbee(config={"api_url": f"{billbee.billbee_url}/api/v1", **CREDENTIALS}).listen(
            file_input=io.StringIO("\n".join([json.dumps({"type": "STATE", "value": state}), *parcel])))
    assert order(billbee, ORDER)["State"] == 4
    emitted = json.loads(out.getvalue().splitlines()[-1])["bookmarks"]["stock_levels"]
    assert emitted["unsettled"] == ["stk-1"]
    state["bookmarks"]["stock_levels"]["unsettled"] = emitted["unsettled"]
    marker = _marker(billbee)
    _, writes, (error, states) = _stock_run(billbee, _available(5), state=state)  # 5 + 5 held = the last written
    assert error is None
    assert "/api/v1/products/STK-1" in _billbee_reads(billbee, marker)
    assert [i["Sku"] for w in writes for i in w["body"]] == ["STK-1"]
    assert states[-1]["bookmarks"]["stock_levels"]["unsettled"] == []

def test_the_full_comparison_comes_back_after_stock_verify_hours(billbee: Sandbox) -> None:
    state = _settled(billbee, 12)
    state["bookmarks"]["stock_levels"]["verified_at"] = "2026-01-01T00:00:00+00:00"
    article = next(p for p in billbee.control.billbee_state()["products"] if p["SKU"] == "STK-1")
    for entry in [article, *(article.get("Stocks") or [])]:  # an edit in Billbee the connector cannot see
        entry["StockCurrent"] = 3
    billbee.control.billbee("POST", "/products", {"products": [article]})
    _, writes, (_, states) = _stock_run(billbee, _available(12), state=state)
    assert [i["NewQuantity"] for w in writes for i in w["body"]] == [12 + 6]
    assert _stock_current(billbee, "STK-1") == 12
    assert states[-1]["bookmarks"]["stock_levels"]["verified_at"] > "2026-01-01"


@pytest.mark.parametrize("restock", [True, False], ids=["cancel_restocks", "cancel_keeps_stock"])
def test_between_comparisons_a_cancelled_held_order_is_still_compared(billbee: Sandbox, restock: bool) -> None:
    billbee.control.billbee_settings(restock_on_cancel=restock)
    state = _settled(billbee, 12)
    billbee.control.billbee("PATCH", f"/orders/{ORDER}", {"State": 8})  # one held order (1 x STK-1) cancelled
    marker = _marker(billbee)
    _, writes, (error, _) = _stock_run(billbee, _available(13), state=state)  # wemalo released its unit
    assert error is None
    assert [i["NewQuantity"] for w in writes for i in w["body"]] == ([] if restock else [13 + 5])
    assert _stock_current(billbee, "STK-1") == 13
    assert "/api/v1/products/STK-1" in _billbee_reads(billbee, marker)  # one article read, not the catalogue


def test_between_comparisons_a_cancelled_order_wemalo_never_held_is_compared(billbee: Sandbox) -> None:
    """An order paid but not sent to wemalo yet (Billbee lowered its stock on import) is cancelled; wemalo's
    figure does not move, so the same value is planned. Without a restock Billbee is one unit low until written."""
    state = _settled(billbee, 12)
    billbee.control.billbee("POST", "/orders", {"orders": [
        {"BillBeeOrderId": ORDER + 50, "State": 3, "Tags": ["wemalo"],
         "CreatedAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
         "OrderItems": [{"Product": {"SKU": "STK-1"}, "Quantity": "1.000"}]}]})
    _, writes, (_, state_list) = _stock_run(billbee, _available(12), state=state)
    assert writes == []  # imported: Billbee lowered its stock and counts it unfulfilled, nothing to write
    billbee.control.billbee("PATCH", f"/orders/{ORDER + 50}", {"State": 8})
    _, writes, _ = _stock_run(billbee, _available(12), state=state_list[-1])
    assert [i["NewQuantity"] for w in writes for i in w["body"]] == [12 + 6]
    assert _stock_current(billbee, "STK-1") == 12


def test_a_run_killed_after_its_write_leaves_its_skus_unsettled(billbee: Sandbox) -> None:
    """The run writes 7 and is killed before its last STATE: Meltano has the STATE emitted before the write, which
    lists STK-1 as unsettled. The next run plans 10 (= the value the state says was written): compared, written."""
    state = _settled(billbee, 10)
    _, writes, (_, states) = _stock_run(billbee, _available(7), state=state)
    assert [i["NewQuantity"] for w in writes for i in w["body"]] == [7 + 6]
    before_write = states[-2]["bookmarks"]["stock_levels"]
    assert before_write["unsettled"] == ["stk-1"]  # casefolded, as the other SKU sets of the stock memory
    assert before_write["written"]["STK-1"] == 10 + 6
    assert "unsettled" not in states[-1]["bookmarks"]["stock_levels"] or \
        states[-1]["bookmarks"]["stock_levels"]["unsettled"] == []
    _, writes, (_, states) = _stock_run(billbee, _available(10), state=states[-2])
    assert [i["NewQuantity"] for w in writes for i in w["body"]] == [10 + 6]
    assert _stock_current(billbee, "STK-1") == 10
    assert states[-1]["bookmarks"]["stock_levels"]["unsettled"] == []


# -- Billbee's shipping providers kept in the state between runs (target_billbee.carriers.KnownProviders): read once
# per `shipping_providers_cache_hours`, again for a profile no known name matches once they are an hour old, and
# again after a shipment Billbee refused with a route from the state. ------------------------------------------

PROVIDERS_READ = ("GET", "/api/v1/shipment/shippingproviders")
UPS = {"id": 903, "displayName": "UPS Standard", "productName": "Standard"}


def run(sandbox: Sandbox, case: str, state: dict[str, Any] | None = None,
        **config: Any) -> tuple[TargetBillbee, list[dict[str, Any]], dict[str, Any]]:
    """One run of the fixture, given `state` as the tap's first STATE (as Meltano hands the stored state to the
    tap, which passes it on): the target, Billbee's requests in the run, the last state it emitted."""
    marker = max((r["id"] for r in sandbox.control.requests("billbee")), default=0)
    lines = (FIXTURES / f"{case}.singer").read_text()
    if state is not None:
        lines = json.dumps({"type": "STATE", "value": state}) + "\n" + lines
    target = TargetBillbee(config={"api_url": f"{sandbox.billbee_url}/api/v1", **CREDENTIALS, **config})
    out = io.StringIO()
    with redirect_stdout(out):
        target.listen(file_input=io.StringIO(lines))
    states = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]  # a target emits values
    requests = [r for r in sandbox.control.requests("billbee") if r["id"] > marker]
    return target, requests, states[-1]


def reads(requests: list[dict[str, Any]]) -> int:
    return sum((r["method"], r["route"]) == PROVIDERS_READ for r in requests)


def shipments(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["body"] for r in requests if r["method"] == "POST" and r["route"].endswith("/shipment")]


def known(hours_ago: float, *products: dict[str, Any]) -> dict[str, Any]:
    """A state whose shipping providers were read `hours_ago` and list `products` under provider 900."""
    read_at = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()
    return {"bookmarks": {"shipments": {"shipping_providers": {
        "read_at": read_at, "providers": [{"id": 900, "products": list(products)}]}}}}


def test_the_next_run_takes_the_providers_from_the_state(billbee: Sandbox) -> None:
    _, requests, state = run(billbee, "one_parcel")
    assert reads(requests) == 1
    kept = state["bookmarks"]["shipments"]["shipping_providers"]
    assert datetime.fromisoformat(kept["read_at"]) > datetime.now(UTC) - timedelta(minutes=5)
    assert kept["providers"] == [{"id": 900, "products": [
        {"id": 901, "displayName": "DHL Paket", "productName": "V01PAK"},
        {"id": 902, "displayName": "DPD Classic", "productName": "Classic"}]}]  # ids and names only
    assert state["bookmarks"]["shipments"]["replication_key_value"]  # the tap's bookmark kept beside it
    assert CREDENTIALS["password"] not in json.dumps(state)

    _, requests, again = run(billbee, "two_parcels_run1", state=state)
    assert reads(requests) == 0
    assert [(b["ShippingProviderId"], b["ShippingProviderProductId"]) for b in shipments(requests)] == [(900, 901)]
    assert again["bookmarks"]["shipments"]["shipping_providers"] == kept  # carried on, even by a state without it


@pytest.mark.parametrize(("hours_ago", "cache_hours", "read"), [(23, 24, 0), (25, 24, 1), (0.1, 0, 1), (2, 1, 1)])
def test_the_providers_are_read_again_after_the_cache_hours(billbee: Sandbox, hours_ago: float, cache_hours: int,
                                                            read: int) -> None:
    state = known(hours_ago, {"id": 901, "displayName": "DHL Paket", "productName": "V01PAK"})
    _, requests, after = run(billbee, "one_parcel", state=state, shipping_providers_cache_hours=cache_hours)
    assert reads(requests) == read
    assert [(b["ShippingProviderId"], b["ShippingProviderProductId"]) for b in shipments(requests)] == [(900, 901)]
    kept = after["bookmarks"]["shipments"]["shipping_providers"]
    assert (kept == state["bookmarks"]["shipments"]["shipping_providers"]) is (read == 0)


@pytest.mark.parametrize(("hours_ago", "read"), [(0.5, 0), (2, 1)])
def test_a_profile_no_known_name_matches_reads_the_providers_again_once_they_are_an_hour_old(
        billbee: Sandbox, hours_ago: float, read: int) -> None:
    # Since the state's read, the merchant named a product in Billbee like wemalo's profile "UPS Standard".
    scenario = json.loads(json.dumps(BILLBEE))
    scenario["shipping_providers"][0]["products"].append(UPS)
    billbee.control.billbee("POST", "/scenario", scenario)
    state = known(hours_ago, {"id": 901, "displayName": "DHL Paket", "productName": "V01PAK"})
    target, requests, _ = run(billbee, "unknown_profile", state=state)
    assert reads(requests) == read  # one read for both parcels of the profile
    bodies = shipments(requests)
    assert len(bodies) == 2
    if read:
        assert all((b["ShippingProviderId"], b["ShippingProviderProductId"]) == (900, 903) for b in bodies)
        assert "unmatched_profile:UPS Standard" not in target.run.report.counters
    else:  # within the hour: the carrier guessed from the name, as for any unmatched profile
        assert all("ShippingProviderId" not in b and b["CarrierId"] == 5 for b in bodies)
        assert target.run.report.counters["unmatched_profile:UPS Standard"] == 1


@pytest.mark.parametrize("reading", ["refuse", "accept"])
def test_a_shipment_refused_with_a_route_from_the_state_is_written_once_more_with_the_providers_read_again(
        billbee: Sandbox, reading: str) -> None:
    # The state still names product 999 "DHL Paket"; the merchant replaced it by 901 since. Whether Billbee refuses
    # a product id the account lacks is not documented (sandbox setting unknown_shipping_product).
    billbee.control.billbee_settings(unknown_shipping_product=reading)
    state = known(0.1, {"id": 999, "displayName": "DHL Paket", "productName": "V01PAK"})
    target, requests, after = run(billbee, "one_parcel", state=state)
    routes = [(b["ShippingProviderId"], b["ShippingProviderProductId"]) for b in shipments(requests)]
    assert [s["ShippingId"] for s in order(billbee, ORDER)["ShippingIds"]] == ["00340434161094000001"]
    assert order(billbee, ORDER)["State"] == 4
    assert target.run.report.counters["tracking_numbers_written"] == 1
    kept = after["bookmarks"]["shipments"]["shipping_providers"]["providers"][0]["products"][0]["id"]
    if reading == "refuse":
        assert (reads(requests), routes, kept) == (1, [(900, 999), (900, 901)], 901)
    else:  # accepted as sent: the removed product stays on this shipment until the state's providers expire
        assert (reads(requests), routes, kept) == (0, [(900, 999)], 999)


def test_a_refusal_after_this_run_read_the_providers_is_reported_without_another_read(billbee: Sandbox) -> None:
    # Billbee's own providers are read (no state) and the explicit mapping names a product Billbee lacks.
    target, requests, _ = run(billbee, "one_parcel", shipping_provider_map={
        "DHL Paket": {"provider_id": 900, "product_id": 999}})
    assert reads(requests) == 1
    assert len(shipments(requests)) == 1
    outcome = [o for o in target.run.report.outcomes if o.stream == "shipments"]
    assert [(o.outcome, "999" in o.reason) for o in outcome] == [("rejected", True)]


@pytest.mark.parametrize("value", [None, "x", {"read_at": "yesterday", "providers": []},
                                   {"read_at": "2026-12-01T10:00:00", "providers": []},  # no zone
                                   {"read_at": datetime.now(UTC).isoformat(), "providers": "DHL"}])
def test_a_state_entry_not_as_written_is_ignored_and_the_providers_read(billbee: Sandbox, value: Any) -> None:
    _, requests, after = run(billbee, "one_parcel", state={"bookmarks": {"shipments": {"shipping_providers": value}}})
    assert reads(requests) == 1
    assert after["bookmarks"]["shipments"]["shipping_providers"]["providers"][0]["id"] == 900
