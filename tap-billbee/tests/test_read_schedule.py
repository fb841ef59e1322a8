"""What a run reads: the product full-scan interval, and the eligibility check once the tap has seen whether
Billbee moves LastModifiedAt when it writes tags (both sandbox modes)."""

from __future__ import annotations

import atexit
import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sandbox.runner import Sandbox
from tap_billbee.tap import TapBillbee

SANDBOX = Sandbox(billbee_port=0, wemalo_port=0).start()
atexit.register(SANDBOX.stop)
CONFIG: dict[str, Any] = {**SANDBOX.billbee_config(), "orders_tag": "wemalo", "order_state_ids": [3],
                          "start_date": "2000-01-01T00:00:00Z"}


def run(config: dict[str, Any], state: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any],
                                                                 list[dict[str, Any]]]:
    """(records, final state, Billbee requests) of one in-process sync."""
    rows = SANDBOX.control.requests("billbee")
    last = rows[-1]["id"] if rows else 0
    out = io.StringIO()
    with redirect_stdout(out):
        TapBillbee(config=config, state=state, parse_env_config=False).sync_all()
    messages = [json.loads(line) for line in out.getvalue().splitlines()]
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    requests = SANDBOX.control.billbee("GET", "/requests", since_id=last)
    return [m for m in messages if m["type"] == "RECORD"], states[-1], requests


def orders_queries(requests: list[dict[str, Any]]) -> list[str]:
    """The orders queries of a run; the check's query for cancellations (by creation date) counts with it."""
    kinds = ["incremental" if r["query"].get("modifiedAtMin") else "cancellations" if r["query"].get("minOrderDate")
             else "check" for r in requests if r["path"] == "/api/v1/orders" and r["query"].get("page", ["1"]) == ["1"]
             and r["status"] != 429]  # back-to-back runs: a new client does not know the last one's calls
    return [k for k in kinds if k != "cancellations"]


def test_products_full_scan_interval_reads_only_new_articles_in_between() -> None:
    demo = SANDBOX.control.load_demo()["billbee"]
    config = {**CONFIG, "products_full_scan_hours": 24}
    records, state, _ = run(config, {})
    assert sum(r["stream"] == "products" for r in records) == len(demo["products"])
    highest = max(p["Id"] for p in demo["products"])
    assert state["bookmarks"]["products"]["max_id"] == highest

    records, state, requests = run(config, state)
    pages = [r for r in requests if r["path"] == "/api/v1/products"]
    assert [p["query"].get("minimumBillBeeArticleId") for p in pages] == [[str(highest + 1)]]
    assert not [r for r in records if r["stream"] == "products"]
    # Bundle lines are still resolved (from the bundle index kept in the state), without reading the catalogue.
    bundle_orders = [r["record"] for r in records if r["stream"] == "orders"
                     and any(i.get("BundleComponents") for i in r["record"].get("OrderItems") or [])]
    assert bundle_orders

    new = {**demo["products"][0], "Id": highest + 5, "SKU": "NEU-1", "EAN": "4006381333931"}
    SANDBOX.control.billbee("POST", "/products", {"products": [new]})
    records, state, _ = run(config, state)
    assert [r["record"]["Id"] for r in records if r["stream"] == "products"] == [highest + 5]
    assert state["bookmarks"]["products"]["max_id"] == highest + 5

    records, _, _ = run({**config, "products_full_scan_hours": 0}, state)  # 0 = every run a full scan
    assert sum(r["stream"] == "products" for r in records) == len(demo["products"]) + 1


def test_the_full_product_scan_does_not_slip_an_hour_when_the_run_starts_early() -> None:
    """With products_full_scan_hours 4 and hourly runs, the run about 4 hours after the last scan scans, also when
    it starts a few minutes before the 4 hours are up; the run an hour earlier does not."""
    demo = SANDBOX.control.load_demo()["billbee"]
    config = {**CONFIG, "products_full_scan_hours": 4}
    _, state, _ = run(config, {})
    for hours_ago, full in ((3, False), (4 - 5 / 60, True)):
        state["bookmarks"]["products"]["last_full_scan"] = (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()
        records, _, _ = run(config, state)
        assert sum(r["stream"] == "products" for r in records) == (len(demo["products"]) if full else 0)


@pytest.mark.parametrize("bumps", [True, False])
def test_eligibility_check_after_observing_tag_writes(bumps: bool) -> None:
    SANDBOX.control.load_demo()
    SANDBOX.control.billbee_settings(writes_bump_modified=bumps)
    records, state, requests = run(CONFIG, {})
    assert orders_queries(requests) == ["incremental", "check"]  # first run: the check is due
    # What target-wemalo would emit: every order it received, acknowledged.
    emitted = [r["record"]["BillBeeOrderId"] for r in records if r["stream"] == "orders"]
    state["bookmarks"]["orders"]["pending_acks"] = {str(i): {"outcome": "accepted"} for i in emitted}

    _, state, requests = run(CONFIG, state)
    observed = state["bookmarks"]["orders"].get("tag_writes_bump_modified")
    assert observed is not None
    assert observed["value"] is bumps
    assert sum(r["method"] == "POST" and r["status"] != 429 for r in requests) == len(emitted)

    _, state, requests = run(CONFIG, state)  # a steady run: one orders query when tags move LastModifiedAt
    assert orders_queries(requests) == (["incremental"] if bumps else ["incremental", "check"])
    assert all(r["method"] == "GET" for r in requests)
    if bumps:
        _, _, requests = run({**CONFIG, "bumped_full_check_hours": 0}, state)
        assert orders_queries(requests) == ["incremental", "check"]
