"""singer-sdk standard tap tests for tap-billbee against the sandbox, in both modes, plus the no-write rule of
plain ELT mode.

The test classes need the sandbox URL when they are defined, so the sandbox starts at import (stopped atexit).
"""

from __future__ import annotations

import atexit
import io
import json
from contextlib import redirect_stdout
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from sandbox.runner import Sandbox
from tap_billbee.tap import TapBillbee

SANDBOX = Sandbox(billbee_port=0, wemalo_port=0).start()
atexit.register(SANDBOX.stop)
DEMO = SANDBOX.control.load_demo()["billbee"]

TAGGED_CONFIG: dict[str, Any] = {
    **SANDBOX.billbee_config(),
    "orders_tag": "wemalo",
    "start_date": "2000-01-01T00:00:00Z",
    "max_attempts": 8,
}
ELT_CONFIG: dict[str, Any] = {**TAGGED_CONFIG, "orders_tag": ""}

TestTapBillbee = get_tap_test_class(
    tap_class=TapBillbee,
    config=TAGGED_CONFIG,
    suite_config=SuiteConfig(ignore_no_records_for_streams=["return_requests"]),  # off: return_announce_tag
)

TestTapBillbeePlainElt = get_tap_test_class(
    tap_class=TapBillbee,
    config=ELT_CONFIG,
    suite_config=SuiteConfig(ignore_no_records_for_streams=["return_requests"]),  # off: return_announce_tag
)


def _run(config: dict[str, Any], state: dict[str, Any]) -> list[str]:
    """Sync the tap in-process; returns the Singer messages it printed."""
    tap = TapBillbee(config=config, state=state, parse_env_config=False)
    out = io.StringIO()
    with redirect_stdout(out):
        tap.sync_all()
    return out.getvalue().splitlines()


def _requests_since(last_id: int) -> list[dict[str, Any]]:
    return SANDBOX.control.billbee("GET", "/requests", since_id=last_id)


def _last_request_id() -> int:
    rows = SANDBOX.control.requests("billbee")
    return rows[-1]["id"] if rows else 0


def test_plain_elt_mode_only_reads_even_with_pending_acknowledgements() -> None:
    order_id = str(DEMO["orders"][0]["BillBeeOrderId"])
    state = {"bookmarks": {"orders": {"pending_acks": {order_id: {"outcome": "accepted"}}}}}

    before = _last_request_id()
    messages = _run(ELT_CONFIG, state)
    seen = _requests_since(before)
    assert seen, "the tap made no requests"
    assert {r["method"] for r in seen} == {"GET"}
    assert any('"type":"RECORD"' in m.replace(" ", "") for m in messages)

    # Contrast: with orders_tag set, the same state is acknowledged by a tag write.
    before = _last_request_id()
    _run(TAGGED_CONFIG, state)
    writes = [(r["method"], r["path"]) for r in _requests_since(before) if r["method"] != "GET"]
    assert writes == [("POST", f"/api/v1/orders/{order_id}/tags")]


def test_incremental_orders_query_round_trips_the_bookmark() -> None:
    """The emitted LastModifiedAt carries an offset; fed back as state it becomes Billbee's naive modifiedAtMin.

    The tap's zone (Berlin) deliberately differs from the sandbox's frame (UTC): the query must still land on
    Billbee's own naive values, so the newest order is read again inside the overlap."""
    config = {**ELT_CONFIG, "order_state_ids": [], "billbee_timezone": "Europe/Berlin",
              "modified_overlap_minutes": 10}
    first = [json.loads(m) for m in _run(config, {})]
    states = [m["value"] for m in first if m["type"] == "STATE"]
    bookmark = states[-1]["bookmarks"]["orders"]["replication_key_value"]
    newest = max((m["record"] for m in first if m["type"] == "RECORD" and m["stream"] == "orders"),
                 key=lambda r: datetime.fromisoformat(r["LastModifiedAt"]))
    assert datetime.fromisoformat(bookmark) == datetime.fromisoformat(newest["LastModifiedAt"])
    assert datetime.fromisoformat(bookmark).utcoffset() is not None

    before = _last_request_id()
    second = [json.loads(m) for m in _run(config, {"bookmarks": {"orders": states[-1]["bookmarks"]["orders"]}})]
    queries = [r["query"] for r in _requests_since(before) if r["path"] == "/api/v1/orders"]
    naive_newest = datetime.fromisoformat(newest["LastModifiedAt"]).replace(tzinfo=None)
    assert queries
    assert queries[0]["modifiedAtMin"] == [(naive_newest - timedelta(minutes=10)).isoformat(timespec="seconds")]
    again = {m["record"]["BillBeeOrderId"] for m in second if m["type"] == "RECORD" and m["stream"] == "orders"}
    assert newest["BillBeeOrderId"] in again
    assert len(again) < len({m["record"]["BillBeeOrderId"] for m in first
                             if m["type"] == "RECORD" and m["stream"] == "orders"})


def test_stream_maps_drop_personal_data_filter_and_rename() -> None:
    """The SDK's inline stream maps (capability `stream-maps`): what a data engineer reusing the tap configures
    to keep personal data out of a warehouse, to filter, and to rename or drop streams."""
    config = {**ELT_CONFIG, "stream_maps": {
        "orders": {"__filter__": "State == 3", "ShippingAddress": "__NULL__", "InvoiceAddress": "__NULL__",
                   "Buyer": "__NULL__", "Customer": "__NULL__",
                   "country": "(record.get('ShippingAddress') or {}).get('CountryISO2')"},
        "products": {"__alias__": "articles"},
        "stocks": None,
    }}
    messages = [json.loads(m) for m in _run(config, {})]
    records: dict[str, list[dict[str, Any]]] = {}
    for m in messages:
        if m["type"] == "RECORD":
            records.setdefault(m["stream"], []).append(m["record"])
    schemas = {m["stream"]: m["schema"] for m in messages if m["type"] == "SCHEMA"}
    assert "stocks" not in records
    assert "stocks" not in schemas
    assert "articles" in records
    assert "products" not in records
    assert len(records["articles"]) == len(DEMO["products"])
    paid = [o for o in DEMO["orders"] if o["State"] == 3]  # plain ELT mode: credit orders too
    assert records["orders"]
    assert len(records["orders"]) <= len(paid)
    assert {o["State"] for o in records["orders"]} == {3}
    for field in ("ShippingAddress", "InvoiceAddress", "Buyer", "Customer"):
        assert field not in schemas["orders"]["properties"]
        assert all(field not in o for o in records["orders"])
    expected = {o["BillBeeOrderId"]: (o.get("ShippingAddress") or {}).get("CountryISO2") for o in paid}
    assert all(o["country"] == expected[o["BillBeeOrderId"]] for o in records["orders"])


def test_run_report_counts_acknowledgements_and_records(tmp_path: Path) -> None:
    """The tap's writes to Billbee (the acknowledgements) are in a run report like the targets' ones."""
    order_id = str(DEMO["orders"][1]["BillBeeOrderId"])
    state = {"bookmarks": {"orders": {"pending_acks": {order_id: {"outcome": "accepted"}}}}}
    _run({**TAGGED_CONFIG, "report_dir": str(tmp_path)}, state)
    (path,) = tmp_path.glob("tap-billbee-*.json")
    report = json.loads(path.read_text())
    assert report["counters"]["acknowledgements_tagged_received"] == 1
    assert report["counters"]["products_extracted"] == len(DEMO["products"])
    assert report["counters"]["orders_extracted"] >= 1
    assert "password" not in path.read_text().lower()
