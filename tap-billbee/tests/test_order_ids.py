"""Setting `order_ids` (a run triggered by webhooks): only those orders, read by id; no products, no order
queries; the last run's acknowledgements still written; every bookmark left where it was."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from typing import Any

import pytest

from sandbox.runner import Sandbox
from tap_billbee.tap import TapBillbee

pytestmark = pytest.mark.sandbox(demo=True)
BOOKMARK = "2024-01-01T00:00:00+00:00"


def run(sandbox: Sandbox, state: dict[str, Any], **config: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(messages, requests) of one in-process run."""
    before = (sandbox.control.requests("billbee") or [{"id": 0}])[-1]["id"]
    tap = TapBillbee(config={**sandbox.billbee_config(), "orders_tag": "wemalo", "order_state_ids": [3],
                             "start_date": "2000-01-01T00:00:00Z", **config}, state=state, parse_env_config=False)
    out = io.StringIO()
    with redirect_stdout(out):
        tap.sync_all()
    requests = sandbox.control.billbee("GET", "/requests", since_id=before)
    return [json.loads(line) for line in out.getvalue().splitlines()], requests


def eligible_orders(sandbox: Sandbox) -> list[dict[str, Any]]:
    messages, _ = run(sandbox, {})
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == "orders"
            and m["record"].get("State") == 3]


def test_only_the_named_orders_are_read_and_the_bookmarks_stay(sandbox: Sandbox) -> None:
    sandbox.control.reset()
    sandbox.control.load_demo()
    eligible = eligible_orders(sandbox)
    assert len(eligible) >= 3
    wanted, acked = eligible[0]["BillBeeOrderId"], eligible[1]["BillBeeOrderId"]
    state = {"bookmarks": {
        "orders": {"replication_key": "LastModifiedAt", "replication_key_value": BOOKMARK,
                   "pending_acks": {str(acked): {"outcome": "accepted"}}},
        "products": {"max_id": 1, "last_full_scan": "2024-01-01T00:00:00+00:00"},
    }}
    messages, requests = run(sandbox, json.loads(json.dumps(state)), order_ids=[wanted, 999999999])
    routes = [(r["method"], r["path"]) for r in requests]
    assert ("GET", "/api/v1/products") not in routes
    assert ("GET", "/api/v1/orders") not in routes  # no query: only reads by id
    assert ("GET", f"/api/v1/orders/{wanted}") in routes
    assert ("POST", f"/api/v1/orders/{acked}/tags") in routes  # the last run's acknowledgement, as every run
    records = [m["record"]["BillBeeOrderId"] for m in messages if m["type"] == "RECORD" and m["stream"] == "orders"]
    assert not [m for m in messages if m["type"] == "RECORD" and m["stream"] == "products"]
    assert records == [wanted]
    final = [m["value"] for m in messages if m["type"] == "STATE"][-1]["bookmarks"]
    assert final["orders"]["replication_key_value"] == BOOKMARK  # not moved to the order's LastModifiedAt
    assert "pending_acks" not in final["orders"] or str(acked) not in final["orders"]["pending_acks"]
    assert final["products"] == state["bookmarks"]["products"]


def test_an_order_outside_the_selection_is_not_emitted(sandbox: Sandbox) -> None:
    sandbox.control.reset()
    sandbox.control.load_demo()
    messages, _ = run(sandbox, {}, order_ids=[], orders_tag="wemalo")
    emitted = {m["record"]["BillBeeOrderId"] for m in messages if m["type"] == "RECORD" and m["stream"] == "orders"}
    untagged = next(o for o in _all_orders(sandbox) if o["BillBeeOrderId"] not in emitted
                    and not any(t.lower() == "wemalo" for t in o.get("Tags") or []))
    messages, requests = run(sandbox, {}, order_ids=[untagged["BillBeeOrderId"]])
    assert [m for m in messages if m["type"] == "RECORD" and m["stream"] == "orders"] == []
    assert ("GET", f"/api/v1/orders/{untagged['BillBeeOrderId']}") in [(r["method"], r["path"]) for r in requests]


def _all_orders(sandbox: Sandbox) -> list[dict[str, Any]]:
    messages, _ = run(sandbox, {}, orders_tag="", order_state_ids=[])
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == "orders"]


def test_an_order_whose_webhooks_show_nothing_to_do_is_not_read(sandbox: Sandbox) -> None:
    """Setting `order_hints`: the echo of the connector's own received tag costs no `GET /orders/{id}`; an order
    whose hints leave any doubt (one hint eligible, a hint without tags, a stuck flag) is read as before."""
    sandbox.control.reset()
    sandbox.control.load_demo()
    first, second, third, fourth = (o["BillBeeOrderId"] for o in eligible_orders(sandbox)[:4])
    received = {"State": 3, "Tags": ["wemalo", "order_received_by_wemalo"]}
    hints = {str(first): [received, received],
             str(second): [received, {"State": 3, "Tags": ["wemalo"]}],  # one of its events may need the order
             str(third): [{"State": 3}],  # no tags in the delivery (the id-only reading): read
             str(fourth): [received]}
    state = {"bookmarks": {"orders": {"stuck_modified_at": {str(fourth): "2024-01-01T00:00:00+00:00"}}}}
    messages, requests = run(sandbox, state, order_ids=[first, second, third, fourth], order_hints=hints)
    reads = {r["path"] for r in requests if r["method"] == "GET"}
    assert f"/api/v1/orders/{first}" not in reads
    assert {f"/api/v1/orders/{i}" for i in (second, third, fourth)} <= reads  # fourth: flagged stuck, may be fixed
    records = {m["record"]["BillBeeOrderId"] for m in messages if m["type"] == "RECORD" and m["stream"] == "orders"}
    assert records == {second, third, fourth}  # read, they are what Billbee holds: still eligible
