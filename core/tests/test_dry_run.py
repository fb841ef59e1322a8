"""Dry-run clients: every write method of both clients is recorded and not sent; reads still go out."""

from __future__ import annotations

import inspect
import logging
import re
from typing import Any

import pytest

from billbee_wemalo.billbee import BillbeeClient, DryRunBillbeeClient
from billbee_wemalo.dry_run import PlannedWrites
from billbee_wemalo.http import DryRunViolation
from billbee_wemalo.report import RunReport
from billbee_wemalo.wemalo import DryRunWemaloClient, WemaloClient

BILLBEE = {"api_url": "http://127.0.0.1:9/api/v1", "username": "u", "password": "p", "api_key": "k"}
WEMALO = {"api_url": "http://127.0.0.1:9/connect/api/v1", "token": "t"}
# Each client's writes with arguments; a write method added to a client without an entry here fails below.
BILLBEE_WRITES: dict[str, tuple[Any, ...]] = {
    "add_tags": (1, ["x"]), "replace_tags": (1, ["x"]), "set_order_state": (1, 4),
    "add_shipment": (1, {"ShippingId": "T"}), "add_message": (1, "text"),
    "update_stock_multiple": ([{"Sku": "A", "NewQuantity": 1}],),
    "create_webhook": ({"WebHookUri": "https://x.example/hooks/billbee"},), "update_webhook": ("h1", {}),
    "delete_webhook": ("h1",),
}
WEMALO_WRITES: dict[str, tuple[Any, ...]] = {
    "add_products": ([{"externalId": "A"}],), "add_product": ({"externalId": "A"},),
    "update_product": ("A", {}), "add_order": ({"externalId": "1"},), "update_order_meta": ("1", {}),
    "cancel_order": ("1",), "mark_return_synchronised": (7,), "announce_return": ({"externalId": "1-R1"},),
    "register_webhook": ("status_update", "https://x.example/hooks/wemalo", "t"), "delete_webhook": ("status_update",),
}
READS = {"get_order", "stocks", "shipping_providers", "iter_products", "iter_orders", "iter_pages", "get_product",
         "get_product_by_sku", "list_products", "available_stock", "order_status", "profiles", "order_packages",
         "iter_sent_bookings", "iter_booked_returns", "list_webhooks", "webhook_filters",
         "tracking_number", "stats", "waited_seconds", "close", "effective_status", "shape"}


def public_methods(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls) if not name.startswith("_")} - {"system"}


@pytest.mark.parametrize(("base", "writes"), [(BillbeeClient, BILLBEE_WRITES), (WemaloClient, WEMALO_WRITES)])
def test_every_public_client_method_is_known_as_a_read_or_a_write(base: type, writes: dict[str, Any]) -> None:
    assert public_methods(base) - READS == set(writes), "a new client method: add it to READS or to the writes"


@pytest.mark.parametrize(("client", "writes", "system"), [
    (lambda planned: DryRunBillbeeClient(planned=planned, **BILLBEE), BILLBEE_WRITES, "Billbee"),
    (lambda planned: DryRunWemaloClient(planned=planned, **WEMALO), WEMALO_WRITES, "wemalo"),
])
def test_a_dry_run_client_records_every_write_and_sends_none(client: Any, writes: dict[str, Any], system: str) -> None:
    planned = PlannedWrites()
    dry = client(planned)
    for name, args in writes.items():
        getattr(dry, name)(*args)  # the port is closed: a request would fail, not pass silently
    assert len(planned.items) == len(writes)
    assert {item.system for item in planned.items} == {system}


def test_a_write_that_reaches_a_dry_run_session_fails_loudly() -> None:
    dry = DryRunBillbeeClient(planned=PlannedWrites(), **BILLBEE)
    with pytest.raises(DryRunViolation, match=re.escape("POST /orders/{id}/tags")):
        BillbeeClient.add_tags(dry, 1, ["x"])  # the real method, as if the override were missing


def test_a_dry_run_cancellation_reads_back_as_cancelled() -> None:
    dry = DryRunWemaloClient(planned=PlannedWrites(), **WEMALO)
    dry.cancel_order("42")
    assert dry.order_status("42") == {"externalId": "42", "statusName": "CANCELLED"}


def test_the_report_of_a_dry_run_marks_writes_and_lists_the_planned_calls() -> None:
    planned = PlannedWrites()
    planned.record("Billbee", "PUT /orders/{id}/orderstate", 7)
    report = RunReport("target-x", logging.getLogger("t"), planned=planned)
    report.add("orders", 7, "updated", "state set to 4")
    report.add("orders", 8, "unchanged")
    report.add("shipments", 9, "written")
    assert [(o.outcome, o.reason) for o in report.outcomes] == [
        ("updated", "state set to 4, dry run"), ("unchanged", ""), ("written", "dry run")]
    assert report.as_dict()["dry_run"] == {"would_write": {"Billbee PUT /orders/{id}/orderstate": 1}}
    assert "dry_run" not in RunReport("target-x", logging.getLogger("t")).as_dict()
