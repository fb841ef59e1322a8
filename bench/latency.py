"""Latency of the event-driven path (issue 17), the bench scenario `latency` (`python -m bench.run --latency-only`).

With Billbee's throttles on, after a catalogue's first hourly `sync` and a second one (its acknowledgements and
the stock; its wall time is "one sync" below), the webhook receiver runs as an operator starts it
(`meltano invoke billbee-wemalo-events:serve`, a free loopback port, the project's default coalescing window)
and `meltano invoke billbee-wemalo-events:register` registers its hooks with both simulators. Then:

  order path    N paid orders, already tagged for the warehouse, are created in the Billbee simulator at a steady
                pace (admin `POST /_admin/orders`: Billbee notifies `order.created`); for each, the seconds from
                just before its creation until its goods order is in the wemalo simulator's state
  parcel path   the same N orders are shipped in the wemalo simulator at the same pace (admin `POST
                /_admin/advance`, one parcel each: wemalo notifies `status_update` and `trackingnumber_added`); for
                each, the seconds until a tracking number is on its Billbee order

Both simulators' states are polled every `POLL_SECONDS`. Reported per path: count, missed (not there within
`--latency-timeout`), p50, p95 (linear interpolation between the order statistics), max, and the `meltano run`s
the worker started (from the receiver's log, split into restricted and unrestricted runs).

Without webhooks an order waits for the next hourly run and then for that run: the bound is the schedule interval
(60 minutes) plus one `sync`'s wall time measured here (the second sync, which has work: acknowledgements and
stock), the worst case of an event just after a run started.
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.measure import endpoint_of
from sandbox.runner import ROOT, Sandbox, SandboxControl

SCHEDULE_INTERVAL_S = 3600  # the hourly `sync` (meltano.yml schedules)
DEFAULT_COALESCE_S = 5.0  # billbee-wemalo-events coalesce_seconds, the project's default (meltano.yml)
POLL_SECONDS = 0.5
ORDER_TEMPLATE_FIELDS = ("ShippingAddress", "InvoiceAddress", "OrderItems", "Currency", "TotalCost", "Customer",
                         "ShippingCost", "PaymentMethod", "TaxRate1", "TaxRate2", "VatMode")
RUN_LINE = re.compile(r"Running (billbee-to-wemalo|wemalo-to-billbee) for merchant \S+ \((all orders|orders [^)]*)\)")


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) with linear interpolation between the order statistics; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summarise(seconds: Sequence[float], missed: int) -> dict[str, Any]:
    def rounded(x: float | None) -> float | None:
        return None if x is None else round(x, 1)

    return {"count": len(seconds), "missed": missed, "p50_s": rounded(percentile(seconds, 0.5)),
            "p95_s": rounded(percentile(seconds, 0.95)), "max_s": rounded(max(seconds, default=None)),
            "min_s": rounded(min(seconds, default=None)), "seconds": [round(s, 2) for s in seconds]}


def worker_runs(log_text: str) -> dict[str, dict[str, int]]:
    """The `meltano run`s the worker started, per job: restricted to orders, or unrestricted ("all orders")."""
    runs: dict[str, dict[str, int]] = {}
    for job, scope in RUN_LINE.findall(log_text):
        counts = runs.setdefault(job, {"restricted": 0, "unrestricted": 0})
        counts["unrestricted" if scope == "all orders" else "restricted"] += 1
    return runs


def paced(items: Sequence[str], pace: float, act: Callable[[str], None], arrived: Callable[[], set[str]],
          timeout: float) -> tuple[dict[str, float], list[str]]:
    """`act(item)` for each item, one every `pace` seconds, while polling `arrived()` (the items whose effect is
    visible) every POLL_SECONDS; the seconds from just before each act until its item was first seen, and the
    items not seen within `timeout` of their act."""
    started: dict[str, float] = {}
    seen: dict[str, float] = {}
    t0 = time.monotonic()
    nxt = 0
    while True:
        now = time.monotonic()
        while nxt < len(items) and now >= t0 + nxt * pace:
            started[items[nxt]] = time.monotonic()
            act(items[nxt])
            nxt += 1
        waiting = [i for i in started if i not in seen]
        if waiting:
            found = arrived()
            at = time.monotonic()
            for item in waiting:
                if item in found:
                    seen[item] = at - started[item]
        overdue = [i for i in started if i not in seen and time.monotonic() - started[i] > timeout]
        if nxt == len(items) and all(i in seen or i in overdue for i in items):
            return seen, overdue
        time.sleep(POLL_SECONDS)


class Orders:
    """Creates paid, tagged orders in the Billbee simulator (from a template that reached wemalo) and reads which
    of them are in wemalo / carry a tracking number in Billbee."""

    def __init__(self, control: SandboxControl) -> None:
        self.control = control
        sent = {str(o["externalId"]) for o in control.wemalo_state()["orders"]}
        template = next(o for o in control.billbee_state()["orders"] if str(o["BillBeeOrderId"]) in sent)
        self.template = {k: template[k] for k in ORDER_TEMPLATE_FIELDS if k in template}
        self.ids: dict[str, str] = {}  # order number -> Billbee id

    def create(self, number: str) -> None:
        order = {**self.template, "State": 3, "Tags": ["wemalo"], "OrderNumber": number}
        created = self.control.billbee("POST", "/orders", {"orders": [order]})["orders"][0]
        self.ids[number] = str(created["BillBeeOrderId"])

    def in_wemalo(self) -> set[str]:
        present = {str(o["externalId"]) for o in self.control.wemalo_state()["orders"]}
        return {number for number, oid in self.ids.items() if oid in present}

    def ship(self, number: str) -> None:
        self.control.advance("SHIPPED", [self.ids[number]])

    def tracked_in_billbee(self) -> set[str]:
        tracked = {str(o["BillBeeOrderId"]) for o in self.control.billbee_state()["orders"] if o.get("ShippingIds")}
        return {number for number, oid in self.ids.items() if oid in tracked}


def start_receiver(env: dict[str, str], workdir: Path, coalesce: float) -> Any:
    """The receiver as an operator starts it, on a free loopback port (events/tests/receiver_process.py), with a
    queue of its own; its hooks registered with both simulators."""
    from events.tests.receiver_process import ReceiverProcess, free_port

    port = free_port()
    meltano = str(Path(sys.executable).with_name("meltano"))
    settings = {"BILLBEE_WEMALO_EVENTS_BILLBEE_API_URL": env["TAP_BILLBEE_API_URL"],
                "BILLBEE_WEMALO_EVENTS_WEMALO_API_URL": env["TARGET_WEMALO_API_URL"],
                "BILLBEE_WEMALO_EVENTS_BILLBEE_SECRET": "bench-billbee-hook-secret-0123456789abcdef",
                "BILLBEE_WEMALO_EVENTS_WEMALO_HOOK_TOKEN": "bench-wemalo-hook-token",
                "BILLBEE_WEMALO_EVENTS_NOTIFY_EMAIL": "ops@shop.example",
                "BILLBEE_WEMALO_EVENTS_PUBLIC_URL": f"http://127.0.0.1:{port}",
                "BILLBEE_WEMALO_EVENTS_DATABASE_URL": f"sqlite:///{workdir / 'events.db'}"}
    running = ReceiverProcess({**env, **settings}, workdir / "receiver.log",
                              command=[meltano, "invoke", "billbee-wemalo-events:serve"], cwd=ROOT)
    running.port = port
    running.env["BILLBEE_WEMALO_EVENTS_PORT"] = str(port)
    running.start(coalesce=coalesce, timeout=120)
    with (workdir / "register.log").open("a") as out:
        subprocess.run([meltano, "invoke", "billbee-wemalo-events:register"], cwd=ROOT, env=running.env,
                       stdout=out, stderr=subprocess.STDOUT, check=True, timeout=180)
    return running


def queue_counts(database_url: str) -> dict[str, int]:
    from billbee_wemalo_events.event_queue import EventQueue

    queue = EventQueue(database_url)
    try:
        return dict(queue.counts())
    finally:
        queue.close()


def wait_idle(database_url: str, quiet: float = 5.0, timeout: float = 600.0) -> bool:
    """Until the queue had nothing pending for `quiet` s (the jobs of the connector's own writes included)."""
    deadline = time.monotonic() + timeout
    calm_since: float | None = None
    while time.monotonic() < deadline:
        if queue_counts(database_url)["pending"] == 0:
            calm_since = calm_since or time.monotonic()
            if time.monotonic() - calm_since >= quiet:
                return True
        else:
            calm_since = None
        time.sleep(POLL_SECONDS)
    return False


def latency_scenario(sandbox: Sandbox, args: argparse.Namespace, workdir: Path,
                     project_cls: Any, load: Callable[..., tuple[dict[str, Any], float]]) -> dict[str, Any]:
    """The scenario (module docstring); `project_cls`/`load`: bench.run's Project and load."""
    n_products, n_orders = args.latency_size_pair
    control = sandbox.control
    _, load_s = load(sandbox, args.seed, n_products, n_orders)
    log(f"latency: {n_products}/{n_orders} loaded in {load_s} s; {args.latency_events} events each way, one every "
        f"{args.latency_pace} s; coalescing window {args.latency_coalesce} s")
    lat_dir = workdir / f"latency-{n_products}"
    project = project_cls(sandbox, lat_dir)
    runs = [project.run("latency_first_sync", "sync", n_products)]
    control.wemalo("POST", "/stock", {p["sku"]: 10_000 for p in control.wemalo_state()["products"]})
    runs.append(project.run("latency_hourly_sync", "sync", n_products))
    sync_s = runs[-1]["wall_s"]

    for system in ("billbee", "wemalo"):
        getattr(control, system)("DELETE", "/requests")
    running = start_receiver(project.env, lat_dir, args.latency_coalesce)
    database_url = running.env["BILLBEE_WEMALO_EVENTS_DATABASE_URL"]
    result: dict[str, Any] = {"products": n_products, "orders": n_orders, "events": args.latency_events,
                              "pace_s": args.latency_pace, "coalesce_s": args.latency_coalesce,
                              "poll_s": POLL_SECONDS, "timeout_s": args.latency_timeout, "runs": runs}
    try:
        orders = Orders(control)
        numbers = [f"LAT-{i + 1:04d}" for i in range(args.latency_events)]
        t0 = time.monotonic()
        seen, missed = paced(numbers, args.latency_pace, orders.create, orders.in_wemalo, args.latency_timeout)
        result["order_to_wemalo"] = summarise([seen[n] for n in numbers if n in seen], len(missed))
        result["order_phase_s"] = round(time.monotonic() - t0, 1)
        idle = wait_idle(database_url)
        runs_orders = worker_runs(running.log.read_text())
        log(f"  order -> wemalo: {fmt(result['order_to_wemalo'])}; worker runs {runs_orders}; idle {idle}")

        shippable = [n for n in numbers if n in seen]
        t0 = time.monotonic()
        seen2, missed2 = paced(shippable, args.latency_pace, orders.ship, orders.tracked_in_billbee,
                               args.latency_timeout)
        result["parcel_to_billbee"] = summarise([seen2[n] for n in shippable if n in seen2], len(missed2))
        result["parcel_phase_s"] = round(time.monotonic() - t0, 1)
        wait_idle(database_url)
        runs_all = worker_runs(running.log.read_text())
        log(f"  parcel -> Billbee: {fmt(result['parcel_to_billbee'])}; worker runs {runs_all}")
        result["worker_runs"] = {"order_phase": runs_orders, "total": runs_all,
                                 "count": sum(sum(c.values()) for c in runs_all.values())}
        result["queue"] = queue_counts(database_url)
    finally:
        running.stop()
    requests = {s: control.requests(s) for s in ("billbee", "wemalo")}
    result["billbee_calls"] = len(requests["billbee"])
    # What the webhooks cost in Billbee calls, per endpoint: the event phases only (the log was cleared before
    # the receiver started). README "Monthly Billbee calls" prices the webhook mode from these.
    result["billbee_calls_by_endpoint"] = dict(Counter(endpoint_of(e) for e in requests["billbee"]).most_common())
    result["billbee_429"] = sum(1 for e in requests["billbee"] if e["status"] == 429)
    result["billbee_429_detail"] = throttled_detail(requests["billbee"])
    result["wemalo_calls"] = len(requests["wemalo"])
    result["violations"] = sum(len(v) for v in control.violations().values())
    result["sync_s"] = sync_s
    result["schedule_interval_s"] = SCHEDULE_INTERVAL_S
    result["without_webhooks_bound_s"] = round(SCHEDULE_INTERVAL_S + sync_s, 1)
    result["receiver_log"] = str(running.log)
    return result


def fmt(stats: dict[str, Any]) -> str:
    return (f"{stats['count']} events ({stats['missed']} missed), p50 {stats['p50_s']} s, p95 {stats['p95_s']} s, "
            f"max {stats['max_s']} s")


def throttled_detail(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each 429 with what came before it: the same endpoint's requests in the second before (the 2/s limit) and
    the same path's in the minute before (Billbee's per-order limit of GET /orders/{id})."""
    out = []
    for entry in (e for e in log if e["status"] == 429):
        ts = entry["ts"]
        endpoint = endpoint_of(entry)
        out.append({"endpoint": endpoint, "path": entry["path"], "ts": ts,
                    "same_endpoint_1s": [(round(e["ts"] - ts, 3), e["path"], e["status"]) for e in log
                                         if e is not entry and endpoint_of(e) == endpoint and 0 <= ts - e["ts"] <= 1.1],
                    "same_path_60s": [(round(e["ts"] - ts, 3), e["status"]) for e in log
                                      if e is not entry and e["path"] == entry["path"] and 0 <= ts - e["ts"] <= 60]})
    return out


def print_latency(result: dict[str, Any]) -> None:
    print(f"\n## Latency with webhooks ({result['products']:,} articles; one event every {result['pace_s']} s; "
          f"coalescing {result['coalesce_s']} s; Billbee throttled)\n")
    print("| path | events | missed | p50 s | p95 s | max s |")
    print("|---|---:|---:|---:|---:|---:|")
    for key, name in (("order_to_wemalo", "order paid and tagged -> goods order in wemalo"),
                      ("parcel_to_billbee", "parcel handed over -> tracking number on the Billbee order")):
        if key in result:
            s = result[key]
            print(f"| {name} | {s['count']} | {s['missed']} | {s['p50_s']} | {s['p95_s']} | {s['max_s']} |")
    print(f"| without webhooks (bound): schedule interval {result['schedule_interval_s']} s + one `sync` "
          f"{result['sync_s']:.0f} s | | | | {result['without_webhooks_bound_s']:.0f} | |")
    runs = result.get("worker_runs", {})
    print(f"\nmeltano runs started by the worker: {runs.get('count')} ({runs.get('total')}); "
          f"queue {result.get('queue')}; "
          f"Billbee calls {result.get('billbee_calls')} ({result.get('billbee_429')} x 429), wemalo calls "
          f"{result.get('wemalo_calls')}")
    for endpoint, calls in (result.get("billbee_calls_by_endpoint") or {}).items():
        print(f"  Billbee {endpoint}: {calls}")
