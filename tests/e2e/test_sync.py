"""The happy path end to end: `meltano run sync` against the sandbox, the warehouse ships, `sync` again."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.conftest import MeltanoProject
from tests.stock_check import sellable_stock_problems

# These cycles run under both profiles: the vendor documents read literally, and the other readings.
pytestmark = [pytest.mark.e2e, pytest.mark.sandbox(profiles=["literal", "lenient"])]

TAG, RECEIVED, ERROR = "wemalo", "order_received_by_wemalo", "wemalo_error"


def _has(tags: list[str] | None, tag: str) -> bool:
    return tag.casefold() in {t.casefold() for t in tags or []}


def eligible_orders(billbee_orders: list[dict], *, strict_tags: bool = False) -> set[str]:
    """Orders the connector must hand to wemalo: paid, tagged, not yet received, not a credit order. With
    `strict_tags` (the sandbox's strict tag filter, lenient profile) only the orders tag spelled as configured
    counts: Billbee's filter would not return `WEMALO` for `wemalo`."""
    def tagged(tags: list[str] | None) -> bool:
        return TAG in (tags or []) if strict_tags else _has(tags, TAG)
    return {str(o["BillBeeOrderId"]) for o in billbee_orders
            if o["State"] == 3 and tagged(o.get("Tags")) and not _has(o.get("Tags"), RECEIVED)
            and not o.get("IsCancelationFor")}


def assert_sellable_stock(control: Any) -> None:
    checked, problems = sellable_stock_problems(control.billbee_state(), control.wemalo_state(),
                                                control.billbee("GET", "/settings")["unfulfilled_states"])
    assert checked
    assert problems == []


def test_sync_moves_products_orders_and_parcels_both_ways(project: MeltanoProject) -> None:
    control = project.sandbox.control
    initial = control.load_demo()["billbee"]
    eligible = eligible_orders(initial["orders"], strict_tags=project.sandbox.profile == "lenient")
    assert len(eligible) >= 10

    project.run("run", "sync")
    wemalo = control.wemalo_state()
    billbee = control.billbee_state()
    in_wemalo = Counter(o["externalId"] for o in wemalo["orders"])
    assert all(count == 1 for count in in_wemalo.values())
    rejected = eligible - set(in_wemalo)
    assert set(in_wemalo) <= eligible
    assert len(rejected) == 1  # the order whose article has no EAN (demo data)
    # Products: every article with SKU and EAN except the one whose EAN another article already has; no bundles.
    wemalo_skus = {p["sku"] for p in wemalo["products"]}
    bundles = {p["SKU"] for p in initial["products"] if p.get("Type") == 2}
    assert not wemalo_skus & bundles
    assert all(p.get("SKU") and p.get("EAN") for p in initial["products"] if p.get("SKU") in wemalo_skus)
    # Acknowledgement after commit: no tag in the same run as the transfer.
    assert not any(_has(o.get("Tags"), RECEIVED) for o in billbee["orders"] if str(o["BillBeeOrderId"]) in in_wemalo)

    control.wemalo("POST", "/stock", {p["sku"]: 50 for p in wemalo["products"]})
    open_ids = sorted(o["externalId"] for o in control.wemalo_state()["orders"] if o["status"] == "OPEN")
    two_parcels, partial, single = open_ids[:2], open_ids[2:3], open_ids[3:-1]
    control.advance("SHIPPED", two_parcels, parcels=2)
    control.advance("SHIPPED", partial, parcels=2, partial=True)
    control.advance("SHIPPED", single)

    project.run("run", "sync")
    billbee = {str(o["BillBeeOrderId"]): o for o in control.billbee_state()["orders"]}
    wemalo = control.wemalo_state()
    for order_id in in_wemalo:
        assert _has(billbee[order_id].get("Tags"), RECEIVED), order_id
    for order_id in rejected:
        assert _has(billbee[order_id].get("Tags"), ERROR)
        assert not _has(billbee[order_id].get("Tags"), RECEIVED)
    for order in wemalo["orders"]:
        handed_over = sorted(p["trackingNumber"] for p in order["parcels"] if p.get("isHandedOver"))
        on_billbee = sorted(s["ShippingId"] for s in billbee[order["externalId"]].get("ShippingIds") or [])
        assert on_billbee == handed_over, order["externalId"]
        assert (billbee[order["externalId"]]["State"] == 4) == (order["status"] == "SHIPPED"), order["externalId"]
    tracking = sum(len(billbee[o].get("ShippingIds") or []) for o in in_wemalo)
    assert tracking == 2 * len(two_parcels) + len(partial) + len(single)

    # A third run with nothing new writes nothing to either system (the stock values wemalo reports again are
    # compared with Billbee's and found there).
    marks = {s: max((r["id"] for r in control.requests(s)), default=0) for s in ("billbee", "wemalo")}
    project.run("run", "sync")
    writes = [r for s in ("billbee", "wemalo") for r in control.requests(s)
              if r["id"] > marks[s] and r["method"] != "GET"]
    assert writes == [], json.dumps(writes[:5], indent=1)

    assert_sellable_stock(control)

    # Everything the connector sent conformed to the simulators' schemas of the vendor specs.
    assert control.violations() == {"billbee": [], "wemalo": []}

    # The next parcel's run takes Billbee's shipping providers from the state Meltano kept (the tap passes the
    # target's entry on): no read, the same route as the first parcels got.
    reads = [r for r in control.requests("billbee") if r["route"].endswith("/shipment/shippingproviders")]
    assert len(reads) == 1
    control.advance("SHIPPED", open_ids[-1:])
    mark = max(r["id"] for r in control.requests("billbee"))
    project.run("run", "wemalo-to-billbee")
    run = [r for r in control.requests("billbee") if r["id"] > mark]
    assert not [r for r in run if r["route"].endswith("/shipment/shippingproviders")]
    shipped = [r["body"] for r in run if r["route"].endswith("/shipment")]
    assert len(shipped) == 1
    assert shipped[0].get("ShippingProviderProductId") is not None, shipped


@pytest.mark.parametrize("semantics", ["available", "on_hand"])
def test_stock_without_oversell_or_double_subtraction(project: MeltanoProject, semantics: str) -> None:
    """An order paid in Billbee but not in wemalo yet, and orders wemalo holds but has not shipped: Billbee's stock
    counts each exactly once, whether wemalo's figure is net of its open orders or on-hand."""
    control = project.sandbox.control
    control.load_demo()
    control.wemalo_settings(stock_quantity=semantics)
    env = {"TAP_WEMALO_SHIPMENTS_STOCK_SEMANTICS": semantics}
    project.run("run", "sync", env=env)
    control.wemalo("POST", "/stock", {p["sku"]: 50 for p in control.wemalo_state()["products"]})
    project.run("run", "sync", env=env)
    project.run("run", "sync", env=env)
    assert any(o["status"] == "OPEN" for o in control.wemalo_state()["orders"])  # held by wemalo, not shipped
    assert_sellable_stock(control)

    # A new order arrives in Billbee (Billbee lowers the stock itself); it is not in wemalo yet.
    article = next(p for p in control.billbee_state()["products"]
                   if p.get("Type") != 2 and p["SKU"] in {w["sku"] for w in control.wemalo_state()["products"]})
    control.billbee("POST", "/orders", {"orders": [{
        "State": 3, "Tags": [], "OrderItems": [{"Product": {"Id": article["Id"], "SKU": article["SKU"]},
                                                "Quantity": 3}],
        "ShippingAddress": {"FirstName": "Eva", "LastName": "Neu", "Street": "Ring", "HouseNumber": "1",
                            "Zip": "10115", "City": "Berlin", "CountryISO2": "DE"}}]})
    project.run("run", "wemalo-to-billbee", env=env)
    assert_sellable_stock(control)
    # wemalo's stock changes (goods received): the next write still subtracts that order exactly once.
    control.wemalo("POST", "/stock", {article["SKU"]: 80})
    project.run("run", "wemalo-to-billbee", env=env)
    assert_sellable_stock(control)


def test_stock_values_are_trusted_between_comparisons_and_a_cancellation_still_reaches_billbee(
        project: MeltanoProject) -> None:
    """stock_verify_hours (default 24) over runs: once written and compared, a value equal to the last written is
    not read back from Billbee every run (0 product pages, 0 writes); an order wemalo held, cancelled in Billbee,
    still makes its SKU's value compared and written (Billbee gives no stock back on cancellation here)."""
    control = project.sandbox.control
    control.load_demo()
    control.billbee_settings(restock_on_cancel=False)
    project.run("run", "sync")
    control.wemalo("POST", "/stock", {p["sku"]: 50 for p in control.wemalo_state()["products"]})
    project.run("run", "sync")  # written
    project.run("run", "sync")  # compared once (held quantities and cancelled orders recorded)
    assert_sellable_stock(control)

    mark = max(r["id"] for r in control.requests("billbee"))
    project.run("run", "wemalo-to-billbee")
    calls = [r for r in control.requests("billbee") if r["id"] > mark]
    assert not [r for r in calls if r["path"].startswith("/api/v1/products")]  # trusted: no article read or write
    assert_sellable_stock(control)

    held = next(o for o in control.wemalo_state()["orders"] if o["status"] == "OPEN")
    control.billbee("PATCH", f"/orders/{held['externalId']}", {"State": 8})
    project.run("run", "sync")  # wemalo cancels it and releases its stock; Billbee's value is compared and written
    assert_sellable_stock(control)
