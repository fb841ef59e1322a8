"""The benchmark's analysis on a small synthetic request log, so that bench/ cannot rot unnoticed (`make bench`
itself is not part of the test suite). No timing assertions: the inputs are made-up timestamps."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bench import run
from bench.measure import analyse, busy_seconds, orders_queries, phase, plugin_spans

WINDOWS = {"tap-billbee": [0.0, 100.0], "target-billbee": [200.0, 400.0], "target-wemalo": [0.0, 100.0],
           "tap-wemalo-shipments": [200.0, 400.0]}


def call(ts: float, method: str, route: str, *, system: str = "billbee", status: int = 200,
         query: dict[str, list[str]] | None = None, body: Any = None) -> dict[str, Any]:
    prefix = "/api/v1" if system == "billbee" else "/v1"
    return {"system": system, "method": method, "route": prefix + route, "path": prefix + route, "ts": ts,
            "status": status, "duration_ms": 1.0, "query": query or {}, "body": body}


def at_rate(start: float, n: int, rate: float, method: str, route: str, **kw: Any) -> list[dict[str, Any]]:
    return [call(start + i / rate, method, route, **kw) for i in range(n)]


def test_busy_seconds_and_utilisation_at_exactly_the_limit() -> None:
    stamps = [i * 0.5 for i in range(10)]  # 2/s
    assert busy_seconds(stamps, 2.0) == pytest.approx(5.0)
    assert busy_seconds([0.0, 0.5, 100.0], 2.0) == pytest.approx(1.5)  # the idle gap is not busy time
    log = {"billbee": at_rate(0, 20, 2.0, "GET", "/products") + at_rate(0, 10, 1.0, "GET", "/orders")
           + [call(3.0, "GET", "/products", status=429)],
           "wemalo": [call(1.0, "GET", "/product/getAll", system="wemalo")]}
    out = analyse(log, WINDOWS)
    products = out["billbee"]["endpoints"]["GET /products"]
    assert products["calls"] == 21
    assert products["429"] == 1
    assert products["utilisation"] == pytest.approx(1.0)
    assert out["billbee"]["endpoints"]["GET /orders"]["utilisation"] == pytest.approx(0.5, abs=0.03)
    assert out["billbee"]["429"] == 1
    assert out["wemalo"]["calls"] == 1
    assert products["by_plugin"] == {"tap-billbee": 21}


def test_plugin_span_shows_endpoints_waiting_for_each_other() -> None:
    sequential = at_rate(0, 20, 2.0, "POST", "/orders/<id>/tags") + at_rate(10, 20, 2.0, "GET", "/products")
    parallel = at_rate(0, 20, 2.0, "POST", "/orders/<id>/tags") + at_rate(0, 20, 2.0, "GET", "/products")
    assert plugin_spans(sequential, WINDOWS)["tap-billbee"]["utilisation"] == pytest.approx(0.5, abs=0.02)
    assert plugin_spans(parallel, WINDOWS)["tap-billbee"]["utilisation"] == pytest.approx(1.0, abs=0.06)


def test_orders_queries_and_ack_phase() -> None:
    entries = [call(0, "GET", "/orders", query={"modifiedAtMin": ["x"], "page": ["1"]}),
               call(1, "GET", "/orders", query={"modifiedAtMin": ["x"], "page": ["2"]}),
               call(2, "GET", "/orders", query={"page": ["1"]})]
    assert orders_queries(entries) == {"incremental_pages": 2, "incremental_queries": 1, "check_pages": 1,
                                       "check_queries": 1}
    ack = phase(at_rate(0, 10, 2.0, "POST", "/orders/<id>/tags"), run.ACK_ENDPOINTS)
    assert ack is not None
    assert ack["calls"] == 10
    assert ack["utilisation"] == pytest.approx(1.0)


def scenario(label: str, billbee: list[dict[str, Any]], wemalo: list[dict[str, Any]] | None = None,
             products: int = 1000) -> dict[str, Any]:
    log = {"billbee": billbee, "wemalo": wemalo or []}
    return {"label": label, "job": "sync", "exit_code": 0, "wall_s": 1.0, "products": products,
            "peak_rss_mb": {"tap-billbee": 60.0}, "systems": analyse(log, WINDOWS),
            "orders_queries": orders_queries(billbee), "product_pages_expected": 4,
            "ack_phase": phase(billbee, run.ACK_ENDPOINTS), "plugin_spans": plugin_spans(billbee, WINDOWS),
            "stock_values_written": sum(len(e["body"] or []) for e in billbee
                                        if e["route"].endswith("updatestockmultiple"))}


def steady(label: str, check: bool) -> dict[str, Any]:
    calls = [*at_rate(0, 4, 2.0, "GET", "/products"), call(3, "GET", "/orders", query={"modifiedAtMin": ["x"]})]
    if check:
        calls.append(call(4, "GET", "/orders"))
    return scenario(label, calls)


def test_steady_state_check_estimate_and_bottlenecks() -> None:
    assert run.steady_check(steady("steady_sync", check=False))["ok"]
    with_check = run.steady_check(steady("steady_sync", check=True))
    assert not with_check["ok"]
    assert with_check["excess_reads"] == 1

    acks = scenario("changes_ack_sync", at_rate(0, 10, 2.0, "POST", "/orders/<id>/tags"))
    ship = scenario("w2b_shipments", [*at_rate(200, 12, 2.0, "POST", "/orders/<id>/shipment"),
                                      *at_rate(200, 10, 2.0, "GET", "/orders/<id>"),
                                      *at_rate(200, 10, 2.0, "PUT", "/orders/<id>/orderstate"),
                                      call(210, "GET", "/shipment/shippingproviders"),
                                      call(211, "POST", "/products/updatestockmultiple", body=[{}] * 100)])
    main = {"runs": [steady("steady_sync", check=False), acks, ship], "new_orders": 10, "shipped_orders": 10,
            "skus_per_order": 2.0}
    est = run.estimate(main, 1000)
    assert est["coefficients"]["a"] == 1.0
    assert est["coefficients"]["s"] == pytest.approx(3.2)
    assert est["coefficients"]["c"] == pytest.approx(1 / 24, abs=0.001)
    small, middle, large = est["profiles"]
    assert small["calls_per_month"] < middle["calls_per_month"] < large["calls_per_month"]
    # The intervals' saving scales with each profile's catalogue: the smallest profile too (the old formula
    # priced its daily-scan variant from the main size's stock comparison pages, above its hourly figure)
    assert all(row["calls_per_month"] < row["calls_per_month_every_run"] for row in est["profiles"])

    # The held orders query counted for each profile's held orders, not the bench's: 1,000 held (4 pages) in
    # the quiet run; the middle profile holds 500 (2 pages), so 2 calls less per run.
    quiet = scenario("steady_sync_defaults", [*at_rate(0, 4, 2.0, "GET", "/products"),
                                              call(3, "GET", "/orders", query={"modifiedAtMin": ["x"]}),
                                              *at_rate(300, 4, 2.0, "GET", "/orders")])  # target-billbee's
    kept = run.estimate({**main, "runs": [*main["runs"], quiet]}, 1000)
    held = run.estimate({**main, "runs": [*main["runs"], quiet], "held_orders_quiet": 1000}, 1000)
    assert (kept["coefficients"]["f"], held["coefficients"]["f"]) == (4, 0)
    assert kept["profiles"][1]["calls_per_run"] - held["profiles"][1]["calls_per_run"] == pytest.approx(2)

    slow = scenario("slow", at_rate(0, 20, 1.0, "GET", "/products"))
    found = run.bottlenecks([slow, ship])
    assert [(b["scenario"], b["endpoint"]) for b in found] == [("slow", "GET /products")]


def test_tree_sampler_attributes_cpu_time_and_memory_to_the_plugin(tmp_path: Any) -> None:
    """A child process named like a plugin burns CPU: the sampler puts its seconds and its RSS under that name."""
    pytest.importorskip("psutil")
    import os
    import subprocess
    import sys
    import time

    from bench.measure import TreeSampler

    plugin = tmp_path / "tap-billbee"
    plugin.symlink_to(sys.executable)
    burn = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass\ntime.sleep(0.5)"
    child = subprocess.Popen([str(plugin), "-c", burn])
    sampler = TreeSampler(os.getpid(), interval=0.05)
    sampler.start()
    child.wait(timeout=60)
    time.sleep(0.1)
    sampler.stop()
    assert 0.4 <= sampler.cpu_s()["tap-billbee"] <= 2.0
    assert sampler.peak_mb()["tap-billbee"] > 1


def test_latency_percentiles_worker_runs_and_paced_events(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import latency

    assert latency.percentile([], 0.5) is None
    assert latency.percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert latency.percentile([float(i) for i in range(1, 101)], 0.95) == pytest.approx(95.05)
    stats = latency.summarise([4.0, 6.0, 5.0, 30.0], missed=1)
    assert (stats["count"], stats["missed"], stats["p50_s"], stats["max_s"]) == (4, 1, 5.5, 30.0)
    text = ("INFO Running billbee-to-wemalo for merchant default (orders 11, 12) for 2 event(s)\n"
            "INFO billbee-to-wemalo for merchant default (orders 11, 12): done (ok); 2 event(s) handled\n"
            "INFO Running wemalo-to-billbee for merchant default (all orders) for 3 event(s)\n"
            "INFO Running billbee-to-wemalo for merchant default (orders 13) for 1 event(s)\n")
    assert latency.worker_runs(text) == {"billbee-to-wemalo": {"restricted": 2, "unrestricted": 0},
                                         "wemalo-to-billbee": {"restricted": 0, "unrestricted": 1}}

    monkeypatch.setattr(latency, "POLL_SECONDS", 0.01)
    acted: dict[str, float] = {}
    seen, missed = latency.paced(
        ["a", "b", "never"], 0.02, lambda i: acted.__setitem__(i, time.monotonic()),
        lambda: {i for i, at in acted.items() if i != "never" and time.monotonic() - at > 0.05}, timeout=0.3)
    assert set(seen) == {"a", "b"}
    assert missed == ["never"]
    assert all(0.05 <= s < 0.3 for s in seen.values())
    assert acted["b"] - acted["a"] >= 0.015  # paced, not all at once


def test_the_monthly_estimate_with_webhooks_adds_the_calls_per_order_beyond_the_hourly_path() -> None:
    from bench.run import webhook_estimate

    results = {"estimate": {"coefficients": {"a": 1.0},
                            "profiles": [{"products": 20_000, "orders_per_day": 500, "calls_per_month": 85_000}]},
               "latency": {"events": 100, "billbee_calls": 463,
                           "billbee_calls_by_endpoint": {"GET /orders/<id>": 160, "GET /webhooks": 1,
                                                         "GET /webhooks/filters": 1, "POST /webhooks": 1}}}
    webhook_estimate(results)
    hooks = results["estimate"]["webhooks"]
    assert hooks["hourly_path_calls"] == 400  # per order: its ack tag, the order read, shipment and state
    assert hooks["e"] == 0.6  # the registration's 3 calls are not per order
    assert results["estimate"]["profiles"][0]["calls_per_month_with_webhooks"] == 85_000 + 30 * 500 * 0.6
    without = {"estimate": {"coefficients": {"a": 1.0}, "profiles": [{"orders_per_day": 1, "calls_per_month": 1}]}}
    webhook_estimate(without)  # no latency scenario: nothing added
    assert "webhooks" not in without["estimate"]
