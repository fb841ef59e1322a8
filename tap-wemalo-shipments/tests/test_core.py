"""singer-sdk standard tap tests for tap-wemalo-shipments, plus the per-parcel shape of `shipments`.

The sandbox starts at import (the test class needs its URL when it is defined) and is stopped atexit. Its
wemalo side holds demo articles and goods orders for demo Billbee orders; goods arrive, then the warehouse
ships: one order in one parcel, one in two parcels, one only partly (two parcels, one handed over), one stays
open.
"""

from __future__ import annotations

import atexit
import io
import json
import logging
from collections import defaultdict
from contextlib import redirect_stdout
from typing import Any

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox.runner import Sandbox, credentials
from tap_wemalo_shipments.tap import TapWemaloShipments

RECEIVER = {"name1": "Erika Mustermann", "street": "Hauptstr.", "streetNumber": "5", "countryCode2Letter": "DE",
            "city": "Berlin", "zip": "10115", "email": "erika@example.org"}


def _setup(sandbox: Sandbox) -> dict[str, str]:
    """Demo data in wemalo; returns {case: Billbee order id}."""
    control = sandbox.control
    demo = control.load_demo()
    articles, eans = [], set()
    for p in demo["billbee"]["products"]:  # normal articles; the demo shop repeats an EAN on purpose: skip it
        if p["Type"] == 1 and p.get("SKU") and p.get("EAN") and p["EAN"] not in eans and len(articles) < 8:
            articles.append(p)
            eans.add(p["EAN"])
    products = [{"externalId": str(p["Id"]), "sku": p["SKU"], "ean": p.get("EAN") or "", "productGroup": "default",
                 "name": p["SKU"], "grossWeight": p.get("Weight") or 500} for p in articles]
    order_ids = [str(o["BillBeeOrderId"]) for o in demo["billbee"]["orders"][:4]]
    orders = []
    for n, ext in enumerate(order_ids):
        positions = [{"externalId": articles[(n + k) % len(articles)]["SKU"], "quantity": k + 1,
                      "externalPositionIdentifier": str(k + 1)} for k in range(2)]
        orders.append({"meta": {"externalId": ext, "orderNumber": f"B-{ext}", "externalIdMatch": "sku",
                                "dispatcherProfile": "dhl_paket", "receiver": [dict(RECEIVER)]},
                       "positions": positions})
    loaded = control.wemalo("POST", "/scenario", {**demo["wemalo"], "products": products, "orders": orders})
    assert loaded["ok"], loaded
    control.wemalo("POST", "/stock", {p["sku"]: 50 for p in products})
    cases = dict(zip(("one_parcel", "two_parcels", "partial", "open"), order_ids, strict=True))
    control.advance("SHIPPED", [cases["one_parcel"]])
    control.advance("SHIPPED", [cases["two_parcels"]], parcels=2)
    control.advance("SHIPPED", [cases["partial"]], parcels=2, partial=True)
    return cases


SANDBOX = Sandbox(billbee_port=0, wemalo_port=0).start()
atexit.register(SANDBOX.stop)
CASES = _setup(SANDBOX)

CONFIG: dict[str, Any] = {
    "api_url": f"{SANDBOX.wemalo_url}/v1",
    "token": credentials()["TAP_WEMALO_SHIPMENTS_TOKEN"],
    "max_attempts": 8,
}

TestTapWemaloShipments = get_tap_test_class(
    tap_class=TapWemaloShipments,
    config=CONFIG,
    suite_config=SuiteConfig(),
)


def _shipments() -> dict[str, list[dict[str, Any]]]:
    tap = TapWemaloShipments(config=CONFIG, parse_env_config=False)
    out = io.StringIO()
    with redirect_stdout(out):
        tap.sync_all()
    by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in out.getvalue().splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD" and message["stream"] == "shipments":
            by_order[message["record"]["order_external_id"]].append(message["record"])
    return by_order


def test_one_record_per_parcel_with_order_level_facts() -> None:
    shipments = _shipments()
    assert set(shipments) == {CASES["one_parcel"], CASES["two_parcels"], CASES["partial"]}  # not the open one

    two = shipments[CASES["two_parcels"]]
    assert len(two) == 2
    tracking = sorted(r["tracking_number"] for r in two)
    assert len(set(tracking)) == 2
    for record in two:
        assert record["order_completely_shipped"] is True
        assert record["order_status"] == "SHIPPED"
        assert record["order_tracking_numbers"] == tracking
        assert record["parcel_id"]
        assert record["carrier"] == "DHL"
    assert sum(i["quantity"] for r in two for i in r["items"]) == 1 + 2  # both lines, split over the parcels

    [partial] = shipments[CASES["partial"]]  # the second parcel is packed but not handed over
    assert partial["order_completely_shipped"] is False
    assert partial["order_status"] == "PACKED"
    assert partial["order_tracking_numbers"] == [partial["tracking_number"]]

    [single] = shipments[CASES["one_parcel"]]
    assert single["order_completely_shipped"] is True
    assert single["order_tracking_numbers"] == [single["tracking_number"]]
    assert {i["quantity"] for i in single["items"]} == {1, 2}


def test_the_tap_only_reads_from_wemalo() -> None:
    rows = SANDBOX.control.requests("wemalo")
    assert rows
    assert {r["method"] for r in rows} == {"GET"}  # the scenario was loaded through admin routes, not the API
    assert SANDBOX.control.violations()["wemalo"] == []


def test_sent_packages_are_read_across_pages() -> None:
    """One booking row per page: the parcels must come out the same as from one page."""
    def key(records: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple[str, Any]]]:
        return {order: sorted((r["tracking_number"], r["items"]) for r in rows) for order, rows in records.items()}

    expected = key(_shipments())
    SANDBOX.control.wemalo_settings(sent_page_size=1)
    try:
        assert key(_shipments()) == expected
    finally:
        SANDBOX.control.wemalo_settings(sent_page_size=50)
    paged = [r for r in SANDBOX.control.requests("wemalo") if r["path"] == "/v1/goodsOrder/sentPackages/"]
    assert "page" not in paged[0]["query"]  # the first page is asked for without a page number
    assert len(paged) >= 5


def test_stream_maps_rename_fields_and_drop_a_stream() -> None:
    """The SDK's inline stream maps work on this tap's streams too (capability `stream-maps`)."""
    config = {**CONFIG, "stream_maps": {"shipments": {"tracking": "tracking_number", "__else__": None,
                                                      "order_external_id": "order_external_id",
                                                      "__key_properties__": ["order_external_id", "tracking"]},
                                        "stock_levels": None}}
    tap = TapWemaloShipments(config=config, parse_env_config=False)
    out = io.StringIO()
    with redirect_stdout(out):
        tap.sync_all()
    messages = [json.loads(line) for line in out.getvalue().splitlines()]
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert {m["stream"] for m in messages if m["type"] == "RECORD"} == {"shipments"}
    assert records
    assert all(set(r) == {"tracking", "order_external_id"} for r in records)
    schema = next(m for m in messages if m["type"] == "SCHEMA")
    assert schema["key_properties"] == ["order_external_id", "tracking"]
    assert {r["order_external_id"] for r in records} == set(_shipments())


def test_both_streams_log_progress_with_wemalo_requests(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        shipments = _shipments()
    parcels = sum(len(v) for v in shipments.values())
    lines = [r.getMessage() for r in caplog.records if "records after" in r.getMessage()]
    assert any(line.startswith(f"shipments: done, {parcels} of {parcels} records") for line in lines), lines
    assert any(line.startswith("stock_levels: done, ") for line in lines), lines
    assert all(" wemalo requests, " in line for line in lines)


def test_order_ids_read_only_those_orders_parcels_skip_the_stock_and_hold_the_bookmarks() -> None:
    """A run triggered by webhooks (billbee-wemalo-events): the same records as the normal run for those orders."""
    bookmark = "2024-01-01T00:00:00+00:00"
    state = {"bookmarks": {"shipments": {"replication_key": "handed_over_at", "replication_key_value": bookmark},
                           "stock_levels": {"replication_key": "observed_at", "replication_key_value": bookmark}}}
    expected = sorted(r["tracking_number"] for r in _shipments()[CASES["two_parcels"]])
    before = (SANDBOX.control.requests("wemalo") or [{"id": 0}])[-1]["id"]
    tap = TapWemaloShipments(config={**CONFIG, "order_ids": [CASES["two_parcels"]]}, state=state,
                             parse_env_config=False)
    out = io.StringIO()
    with redirect_stdout(out):
        tap.sync_all()
    messages = [json.loads(line) for line in out.getvalue().splitlines()]
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert {r["order_external_id"] for r in records} == {CASES["two_parcels"]}
    assert len(records) == 2
    assert sorted(r["tracking_number"] for r in records) == expected
    final = [m["value"] for m in messages if m["type"] == "STATE"][-1]["bookmarks"]
    assert final["shipments"]["replication_key_value"] == bookmark
    assert final["stock_levels"]["replication_key_value"] == bookmark
    paths = {r["path"] for r in SANDBOX.control.requests("wemalo") if r["id"] > before}
    assert any("sentPackages" in p for p in paths)
    assert not any("availableStock" in p for p in paths)
