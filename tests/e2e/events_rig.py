"""The event-driven sync end to end: the real receiver (`meltano invoke billbee-wemalo-events:serve`, a subprocess
on a free loopback port), its hooks registered with the simulators by `register`, its worker running the project's
jobs through `meltano run`."""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from billbee_wemalo_events.event_queue import EventQueue
from events.tests.receiver_process import ReceiverProcess, free_port
from sandbox.runner import ROOT, SandboxControl

SECRET = "e2e-billbee-hook-secret-0123456789abcdef"
TOKEN = "e2e-wemalo-hook-token"
MELTANO = str(Path(sys.executable).with_name("meltano"))
ORDER_TEMPLATE_FIELDS = ("ShippingAddress", "InvoiceAddress", "OrderItems", "Currency", "TotalCost", "Customer",
                         "ShippingCost", "PaymentMethod", "TaxRate1", "TaxRate2", "VatMode")


def hook_settings(tmp_path: Path, port: int, secret: str = SECRET, token: str = TOKEN) -> dict[str, str]:
    return {"BILLBEE_WEMALO_EVENTS_BILLBEE_SECRET": secret, "BILLBEE_WEMALO_EVENTS_WEMALO_HOOK_TOKEN": token,
            "BILLBEE_WEMALO_EVENTS_NOTIFY_EMAIL": "ops@shop.example",
            "BILLBEE_WEMALO_EVENTS_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "BILLBEE_WEMALO_EVENTS_DATABASE_URL": f"sqlite:///{tmp_path / 'events.db'}",
            "BILLBEE_WEMALO_EVENTS_RETRY_SECONDS": "2"}


def receiver(env: dict[str, str], tmp_path: Path) -> ReceiverProcess:
    """The receiver as an operator starts it (not started yet); `env`: the project's environment."""
    port = free_port()
    apis = {"BILLBEE_WEMALO_EVENTS_BILLBEE_API_URL": env["TAP_BILLBEE_API_URL"],  # the dev environment's are
            "BILLBEE_WEMALO_EVENTS_WEMALO_API_URL": env["TARGET_WEMALO_API_URL"]}  # the default sandbox ports
    running = ReceiverProcess({**env, **apis, **hook_settings(tmp_path, port)}, tmp_path / "receiver.log",
                              command=[MELTANO, "invoke", "billbee-wemalo-events:serve"], cwd=ROOT)
    running.port = port
    running.env["BILLBEE_WEMALO_EVENTS_PORT"] = str(port)
    return running


def queue_counts(running: ReceiverProcess) -> dict[str, int]:
    queue = EventQueue(running.env["BILLBEE_WEMALO_EVENTS_DATABASE_URL"])
    try:
        return queue.counts()
    finally:
        queue.close()


def queue_rows(running: ReceiverProcess) -> list[dict[str, Any]]:
    queue = EventQueue(running.env["BILLBEE_WEMALO_EVENTS_DATABASE_URL"])
    try:
        return queue.rows()
    finally:
        queue.close()


def wait_for(what: str, check: Callable[[], Any], timeout: float, log: Path | None = None) -> float:
    """Seconds until `check()` is truthy; AssertionError (with the receiver's log) after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.2)
    tail = log.read_text()[-4000:] if log is not None and log.exists() else ""
    raise AssertionError(f"{what}: not within {timeout:.0f} s\n{tail}")


def wait_idle(running: ReceiverProcess, quiet: float = 3.0, timeout: float = 180.0) -> None:
    """Until the queue has had nothing pending or running for `quiet` seconds (the jobs the connector's own
    writes trigger included)."""
    deadline = time.monotonic() + timeout
    calm_since: float | None = None
    while time.monotonic() < deadline:
        if queue_counts(running)["pending"] == 0:
            calm_since = calm_since or time.monotonic()
            if time.monotonic() - calm_since >= quiet:
                return
        else:
            calm_since = None
        time.sleep(0.2)
    raise AssertionError("the worker did not become idle:\n" + running.log.read_text()[-4000:])


def goods_orders(control: SandboxControl) -> Counter[str]:
    return Counter(str(o["externalId"]) for o in control.wemalo_state()["orders"])


def new_paid_tagged_order(control: SandboxControl, template: dict[str, Any], number: str,
                          tags: tuple[str, ...] = ("wemalo",)) -> str:
    """A paid order arriving in Billbee already tagged for the warehouse (Billbee notifies `order.created`), with
    the items and address of `template`; its id."""
    order = {k: template[k] for k in ORDER_TEMPLATE_FIELDS if k in template}
    order.update(State=3, Tags=list(tags), OrderNumber=number)
    created = control.billbee("POST", "/orders", {"orders": [order]})["orders"][0]
    return str(created["BillBeeOrderId"])


def template_order(control: SandboxControl) -> dict[str, Any]:
    """An order the first hourly run sent to wemalo: its items and address are fine for a goods order."""
    sent = goods_orders(control)
    return next(o for o in control.billbee_state()["orders"] if str(o["BillBeeOrderId"]) in sent)


def tracking_numbers(control: SandboxControl, order_id: str) -> list[str]:
    order = next(o for o in control.billbee_state()["orders"] if str(o["BillBeeOrderId"]) == order_id)
    return [s["ShippingId"] for s in order.get("ShippingIds") or []]


def parcels(control: SandboxControl, order_id: str) -> list[str]:
    return [p["trackingNumber"] for o in control.wemalo_state()["orders"] if str(o["externalId"]) == order_id
            for p in o["parcels"] if p.get("trackingNumber")]


def goods_order_id(control: SandboxControl, order_id: str) -> str:
    """wemalo's own id of the goods order of the Billbee order `order_id` (what trackingnumber_added names)."""
    return next(str(o["id"]) for o in control.wemalo_state()["orders"] if str(o["externalId"]) == order_id)


def log_size(running: ReceiverProcess) -> int:
    return len(running.log.read_text()) if running.log.exists() else 0


def job_scopes(running: ReceiverProcess, job: str, since: int = 0) -> list[str]:
    """The scope of each `job` the worker started after `since` (a log_size): "orders 1, 2" or "all orders"."""
    pattern = re.compile(rf"Running {re.escape(job)} for merchant \S+ \(([^)]*)\)")
    return pattern.findall(running.log.read_text()[since:])


@dataclass(frozen=True)
class Handover:
    goods_order: str  # wemalo's own id of the goods order
    mark: int  # the receiver log's size before the handover (for job_scopes)
    tracking: str
    seconds: float  # until the tracking number was on the Billbee order


def hand_over(control: SandboxControl, running: ReceiverProcess, order_id: str, timeout: float) -> Handover:
    """The simulated warehouse ships the order's one parcel; wait for its tracking number in Billbee and for the
    queue to be idle again."""
    goods_order = goods_order_id(control, order_id)
    mark = log_size(running)
    control.advance("SHIPPED", [order_id])
    [tracking] = parcels(control, order_id)
    seconds = wait_for("tracking number on the Billbee order",
                       lambda: tracking in tracking_numbers(control, order_id), timeout, running.log)
    wait_idle(running)
    return Handover(goods_order, mark, tracking, seconds)
