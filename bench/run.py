"""Benchmark of the connector against the sandbox with Billbee's real throttles on (`make bench`).

    python -m bench.run [--quick] [--sizes 2000/200,8000/800,20000/2000] [--memory | --skip-memory]

Every scenario is a real `meltano run` (the project's jobs) against the sandbox, each size with its own Meltano
state database. The two simulators run in processes of their own (`Sandbox(processes=True)`): in one process
with the bench they shared an interpreter lock, and the Billbee simulator's answers slowed down while the
wemalo simulator took the orders. For the largest size (the "main" catalogue, default 20,000 articles / 2,000
orders), in this order:

  first_sync          `run billbee-to-wemalo` on a fresh state: all products and orders to wemalo
  tag_run             the same job again: tap-billbee writes the acknowledgement tags of the first sync at its
                      start (ack phase), then reads everything again
  steady_b2w          the job once more, nothing changed
  w2b_initial         `run wemalo-to-billbee` after wemalo got stock for every product (first stock sync)
  steady_sync_every_run
                      `run sync` (the hourly schedule), nothing changed anywhere, with the full product scan and the
                      full stock comparison every run (products_full_scan_hours 0, stock_verify_hours 0: the
                      behaviour before these intervals)
  steady_sync         the same with the stock comparison's default (stock_verify_hours 24; the product scan every
                      run, as in the dev environment)
  changes_sync        `run sync` after 1 % of the articles got a new title and 50 new paid, tagged orders came
  changes_ack_sync    `run sync` again: the tags of those 50 orders
  steady_sync_defaults
                      `run sync` with the project's defaults (products_full_scan_hours 6, stock_verify_hours 24),
                      after one such run that did the full scan: only new articles are asked for and stock values
                      equal to the last written are trusted (the hourly cost between scans and comparisons)
  w2b_shipments       `run wemalo-to-billbee` after the warehouse shipped 500 orders (20 % in two parcels) and
                      5,000 stock levels changed
  standalone_tap      tap-billbee alone (its executable, no Meltano, no catalog: every stream), right after the
                      data is loaded: GET /products against the bound from the process's start, start-up
                      included, and from its first page
  memory (separate)   `run billbee-to-wemalo` twice (first sync, then the everyday run) with 100,000 articles
                      and 200 orders, the simulator's throttle off (the connector's own limiter cannot be
                      switched off: it still paces itself at 2/s)

The smaller sizes run first_sync, tag_run and steady_b2w only (the scaling plot, bench/scaling.png).
`--latency` adds, after them, the webhook latency scenario (bench/latency.py: order -> goods order in wemalo and
parcel -> tracking number in Billbee through the receiver and its worker); `--latency-only` runs it alone and
writes bench/results/latency.json.
Results: a table per scenario on stdout and everything in bench/results/latest.json. Definitions of calls,
busy seconds, utilisation and peak RSS: bench/measure.py. The simulators index their catalogues (SKU, EAN,
id) and copy only the page a list request asks for, so their time per request stays small at 100,000 articles.

Monthly Billbee calls per merchant profile (P articles, O orders a day, hourly runs = 24 x 30 = 720 a month):

    per run   = k_p * ceil(P / 250) / H_p            tap-billbee's full product scan every H_p hours
                                                     (products_full_scan_hours, default 6; k_p = measured pages
                                                     / expected pages, steady_sync)
              + n * (1 - 1 / H_p)                    the new-articles call of the runs in between (measured,
                                                     steady_sync_defaults)
              + k_v * ceil(P / 250) / H_v            target-billbee's full stock comparison every H_v hours
                                                     (stock_verify_hours, default 24; k_v = its product pages /
                                                     expected pages, steady_sync_every_run)
              + ceil(max(1, m) / 250)                incremental orders query, m = 2 * O/24 * 70/60 orders
                                                     modified in its window (new ones, then tagged ones)
              + c * ceil(max(1, w) / 250)            eligibility check, w = O * WAIT_DAYS paid tagged orders;
                                                     c = 1 if the steady run made it, else 1/24 (the daily
                                                     safety net once tag writes are seen to bump LastModifiedAt)
              + f + ceil(max(1, w) / 250)            other Billbee reads of a quiet run: f measured
                                                     (steady_sync_defaults: target-billbee's cancelled orders
                                                     query, the stock locations) without target-billbee's query of
                                                     the orders wemalo holds, counted for the profile's w held
                                                     orders (the bench's main size holds h of them; h recorded)
              + p / H_s                              shipping providers, read once per H_s hours
                                                     (shipping_providers_cache_hours, default 24) in runs with
                                                     parcels (p = their reads in w2b_shipments)
              + ceil(s_c * min(P, O/24 * lines))     stock writes (s_c = calls per changed stock value,
                                                     lines = order lines per order in the demo data)
    month     = 720 * per run + 30 * O * (a + s)     a = ack calls per new order (changes_ack_sync),
                                                     s = Billbee calls per shipped order (w2b_shipments)

The column "every run" sets H_p = H_v = 1 (both intervals 0: the behaviour before them).

With webhooks (`billbee-wemalo-events serve`; the hourly runs stay):

    month     + 30 * O * e                           e = the latency scenario's Billbee calls per order beyond
                                                     what the hourly path spends on it anyway: (its calls - N *
                                                     (a + 3)) / N for N orders of one parcel each (ack tag; the
                                                     order read, shipment and state); the hooks' registration
                                                     (once per receiver) not counted
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import datagen, latency
from bench.measure import (
    ENDPOINT_RATE,
    MIN_CALLS_FOR_UTILISATION,
    PLUGINS,
    TreeSampler,
    analyse,
    attribute,
    endpoint_of,
    orders_queries,
    phase,
    plugin_spans,
)
from billbee_wemalo.billbee import ConnectorTags, OrderState
from sandbox.runner import ROOT, Sandbox

BENCH = Path(__file__).resolve().parent
PAGE = 250  # Billbee's largest page, which the client always asks for
STOCK_CHUNK = 100
WAIT_DAYS = 1.0  # assumption: a paid order waits about a day in state 3 (with its tag) until it is shipped
GOAL_RSS_MB = 150  # issue 17 (issue 6: 200)
GOAL_UTILISATION = 0.9
PROFILES = ((1_000, 50), (20_000, 500), (100_000, 5_000))
# Installed plugins are shared with the project; run files (catalog, state.json, configs) are private per work
# directory, because `.meltano/run/<plugin>/` is not per run and other `meltano run`s (tests) may run meanwhile.
SHARED_SYS_DIRS = ("extractors", "loaders", "utilities", "mappers", "orchestrators", "transformers", "files")
ACK_ENDPOINTS = {"POST /orders/<id>/tags", "PUT /orders/<id>/tags", "POST /orders/<id>/message",
                 "GET /orders/<id>"}
SHIP_ENDPOINTS = {"GET /orders/<id>", "POST /orders/<id>/shipment", "PUT /orders/<id>/orderstate"}
STEADY_RUNS = ("steady_b2w", "steady_sync_every_run", "steady_sync", "steady_sync_defaults")
# The project's defaults (meltano.yml); the bench runs the dev environment, which scans the products every run.
DEFAULT_SCAN_HOURS = 6  # tap-billbee products_full_scan_hours
DEFAULT_PROVIDER_HOURS = 24  # target-billbee shipping_providers_cache_hours
DEFAULT_VERIFY_HOURS = 24  # target-billbee stock_verify_hours
DEFAULTS_ENV = {"TAP_BILLBEE_PRODUCTS_FULL_SCAN_HOURS": str(DEFAULT_SCAN_HOURS),
                "TARGET_BILLBEE_STOCK_VERIFY_HOURS": str(DEFAULT_VERIFY_HOURS)}
EVERY_RUN_ENV = {"TAP_BILLBEE_PRODUCTS_FULL_SCAN_HOURS": "0", "TARGET_BILLBEE_STOCK_VERIFY_HOURS": "0"}
FULL = {"sizes": "2000/200,8000/800,20000/2000", "shipped": 500, "stock_changes": 5000, "changed_orders": 50,
        "latency_events": 100, "latency_size": "2000/200"}
QUICK = {"sizes": "300/40,1000/100", "shipped": 25, "stock_changes": 250, "changed_orders": 10,
         "latency_events": 20, "latency_size": "300/40"}


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# -- running meltano --------------------------------------------------------------------------------------


class Project:
    """One Meltano state database (a work directory) against the running sandbox."""

    def __init__(self, sandbox: Sandbox, workdir: Path) -> None:
        self.sandbox, self.workdir = sandbox, workdir
        sys_dir = workdir / ".meltano"
        sys_dir.mkdir(parents=True, exist_ok=True)
        for kind in SHARED_SYS_DIRS:
            (ROOT / ".meltano" / kind).mkdir(parents=True, exist_ok=True)
            if not (sys_dir / kind).exists():
                (sys_dir / kind).symlink_to(ROOT / ".meltano" / kind, target_is_directory=True)
        self.env = {**sandbox.meltano_env(workdir), "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                    "MELTANO_SYS_DIR_ROOT": str(sys_dir)}

    def run(self, label: str, job: str, n_products: int, env: dict[str, str] | None = None) -> dict[str, Any]:
        control = self.sandbox.control
        for system in ("billbee", "wemalo"):
            getattr(control, system)("DELETE", "/requests")
        meltano = Path(sys.executable).with_name("meltano")
        log(f"{label}: meltano run {job}")
        started = time.time()
        sim_cpu = self.sandbox.cpu_seconds()
        with (self.workdir / "meltano.log").open("a") as out:
            out.write(f"\n===== {label}: meltano run {job}\n")
            out.flush()
            proc = subprocess.Popen([str(meltano), "run", job], cwd=ROOT, env={**self.env, **(env or {})},
                                    stdout=out, stderr=subprocess.STDOUT)
            sampler = TreeSampler(proc.pid)
            sampler.start()
            code = proc.wait(timeout=3 * 3600)
            sampler.stop()
        wall = time.time() - started
        cpu = {**sampler.cpu_s(), "sandbox": round(self.sandbox.cpu_seconds() - sim_cpu, 1)}
        requests = {s: control.requests(s) for s in ("billbee", "wemalo")}
        result = {
            "label": label, "job": job, "exit_code": code, "wall_s": round(wall, 1), "products": n_products,
            "peak_rss_mb": sampler.peak_mb(),
            "plugin_s": {p: round(w[1] - w[0], 1) for p, w in sampler.windows.items() if p in PLUGINS},
            "rss_samples": sampler.samples,
            # CPU seconds per process group, and their sum as a share of all cores over the wall time: near
            # 100 % the machine, not the rate limits, set the pace (the simulators' CPU is not there in reality)
            "cpu_s": cpu, "cpu_busy": round(sum(cpu.values()) / (wall * (os.cpu_count() or 1)), 3),
            "systems": analyse(requests, sampler.windows),
            "orders_queries": orders_queries([e for e in requests["billbee"]  # the tap's, not target-billbee's
                                              if attribute(e["ts"], sampler.windows, "billbee") == "tap-billbee"]),
            "plugin_spans": plugin_spans(requests["billbee"], sampler.windows),
            "env": env or {},
            "product_pages_expected": math.ceil(n_products / PAGE),
            "ack_phase": phase([e for e in requests["billbee"]
                                if attribute(e["ts"], sampler.windows, "billbee") == "tap-billbee"], ACK_ENDPOINTS),
            "violations": sum(len(v) for v in control.violations().values()),
        }
        result["stock_values_written"] = sum(len(e["body"] or []) for e in requests["billbee"]
                                             if endpoint_of(e) == "POST /products/updatestockmultiple")
        if code != 0:
            log(f"  !! exit code {code}; see {self.workdir / 'meltano.log'}")
        bb, wm = result["systems"]["billbee"], result["systems"]["wemalo"]
        log(f"  {wall:.0f} s; Billbee {bb['calls']} calls ({bb['429']} x 429), wemalo {wm['calls']} calls; "
            f"peak RSS {result['peak_rss_mb']}; CPU s {cpu} ({result['cpu_busy']:.0%} of {os.cpu_count()} cores)")
        return result


def load(sandbox: Sandbox, seed: int, n_products: int, n_orders: int) -> tuple[dict[str, Any], float]:
    """Generate and load a scenario. Billbee's data goes straight into the simulator's store: through the admin
    route, 100,000 articles take longer than SandboxControl's 30 s timeout."""
    started = time.time()
    scenario = datagen.generate(seed, n_products, n_orders)
    sandbox.control.reset()
    sandbox.load_store("billbee", scenario["billbee"])
    sandbox.control.wemalo("POST", "/scenario", scenario["wemalo"])
    return scenario, round(time.time() - started, 1)


# -- scenarios --------------------------------------------------------------------------------------------


def first_syncs(project: Project, n_products: int) -> list[dict[str, Any]]:
    return [project.run("first_sync", "billbee-to-wemalo", n_products),
            project.run("tag_run", "billbee-to-wemalo", n_products),
            project.run("steady_b2w", "billbee-to-wemalo", n_products)]


def main_size(sandbox: Sandbox, args: argparse.Namespace, n_products: int, n_orders: int,
              workdir: Path) -> dict[str, Any]:
    control, rng = sandbox.control, random.Random(args.seed)
    scenario, load_s = load(sandbox, args.seed, n_products, n_orders)
    log(f"main size {n_products}/{n_orders}: data loaded in {load_s} s")
    alone = standalone_tap(sandbox, workdir / "standalone")
    project = Project(sandbox, workdir / f"main-{n_products}")
    runs = first_syncs(project, n_products)

    wemalo = control.wemalo_state()
    control.wemalo("POST", "/stock", {p["sku"]: rng.randint(20, 200) for p in wemalo["products"]})
    runs.append(project.run("w2b_initial", "wemalo-to-billbee", n_products))
    runs.append(project.run("steady_sync_every_run", "sync", n_products, env=EVERY_RUN_ENV))
    runs.append(project.run("steady_sync", "sync", n_products))

    billbee = scenario["billbee"]
    changed = datagen.changed_products(billbee["products"], args.changed_share, rng)
    control.billbee("POST", "/products", {"products": changed})
    fresh = datagen.new_orders(billbee["orders"], billbee["products"], args.changed_orders, rng)
    control.billbee("POST", "/orders", {"orders": fresh})
    runs.append(project.run("changes_sync", "sync", n_products))
    runs.append(project.run("changes_ack_sync", "sync", n_products))

    # The hourly run with the project's defaults: the first one scans and records the highest Id, the next reads
    # only new articles (none here) and trusts the stock values it wrote.
    project.run("defaults_scan", "sync", n_products, env=DEFAULTS_ENV)
    held = held_orders(control.billbee_state()["orders"])
    runs.append(project.run("steady_sync_defaults", "sync", n_products, env=DEFAULTS_ENV))

    wemalo = control.wemalo_state()
    open_ids = sorted(o["externalId"] for o in wemalo["orders"] if o["status"] == "OPEN")
    ship = open_ids[:args.shipped]
    two = ship[:round(len(ship) * args.two_parcel_share)]
    if two:
        control.advance("SHIPPED", two, parcels=2)
    if ship[len(two):]:
        control.advance("SHIPPED", ship[len(two):])
    products = control.wemalo_state()["products"]
    moved = rng.sample(products, min(args.stock_changes, len(products)))
    control.wemalo("POST", "/stock", {p["sku"]: p["stock"]["physical"] + rng.randint(5, 60) for p in moved})
    runs.append(project.run("w2b_shipments", "wemalo-to-billbee", n_products))
    lines = sum(len({(i.get("Product") or {}).get("SKU") for i in o["OrderItems"]}) for o in billbee["orders"])
    return {"runs": runs, "load_s": load_s, "shipped_orders": len(ship), "two_parcel_orders": len(two),
            "stock_changes": len(moved), "changed_products": len(changed), "new_orders": len(fresh),
            "skus_per_order": round(lines / len(billbee["orders"]), 2), "open_orders_before_shipping": len(open_ids),
            "held_orders_quiet": held, "standalone_tap": alone}


def standalone_tap(sandbox: Sandbox, workdir: Path) -> dict[str, Any]:
    """tap-billbee's executable on its own (products first, then every other stream): how close its product
    pages come to Billbee's bound (2/s), counted from the process's start (its start-up included) and from the
    first page. The last page's slot (0.5 s) belongs to the bound, so a run at exactly 2/s shows 100 %."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "config.json"
    config.write_text(json.dumps({**sandbox.billbee_config(), "report_dir": str(workdir / "reports")}))
    tap = ROOT / ".meltano" / "extractors" / "tap-billbee" / "venv" / "bin" / "tap-billbee"
    sandbox.control.billbee("DELETE", "/requests")
    log("standalone_tap: tap-billbee --config (no Meltano)")
    started = time.time()
    done = subprocess.run([str(tap), "--config", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False, timeout=3600)
    wall = time.time() - started
    calls = sandbox.control.requests("billbee")
    pages = sorted(r["ts"] for r in calls if r["method"] == "GET" and r["route"].endswith("/products"))
    slot = 1 / ENDPOINT_RATE
    result: dict[str, Any] = {"exit_code": done.returncode, "wall_s": round(wall, 1), "pages": len(pages),
                              "429": sum(r["status"] == 429 for r in calls)}
    if pages:
        result.update({
            "first_page_after_s": round(pages[0] - started, 2), "last_page_after_s": round(pages[-1] - started, 2),
            "utilisation_with_startup": round(len(pages) * slot / (pages[-1] - started + slot), 3),
            "utilisation_from_first_page": round(len(pages) * slot / (pages[-1] - pages[0] + slot), 3)})
    if done.returncode:
        result["stderr_tail"] = done.stderr[-500:]
    return result


def held_orders(orders: list[dict[str, Any]]) -> int:
    """Orders target-billbee's held query finds (state 3 with the received tag: the project's defaults)."""
    received = ConnectorTags("wemalo").received
    return sum(1 for o in orders if o.get("State") == OrderState.PAID and received in (o.get("Tags") or []))


def scaling_point(sandbox: Sandbox, args: argparse.Namespace, n_products: int, n_orders: int,
                  workdir: Path) -> dict[str, Any]:
    _, load_s = load(sandbox, args.seed, n_products, n_orders)
    log(f"scaling size {n_products}/{n_orders}: data loaded in {load_s} s")
    return {"runs": first_syncs(Project(sandbox, workdir / f"scale-{n_products}"), n_products), "load_s": load_s}


def memory_scenario(sandbox: Sandbox, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    n_products, n_orders = args.memory_products, args.memory_orders
    control = sandbox.control
    control.billbee_settings(throttle=False)
    try:
        _, load_s = load(sandbox, args.seed, n_products, n_orders)
        log(f"memory: {n_products}/{n_orders} loaded in {load_s} s; Billbee simulator throttle OFF")
        project = Project(sandbox, workdir / f"memory-{n_products}")
        first = project.run("memory_first_sync", "billbee-to-wemalo", n_products)
        second = project.run("memory_second_run", "billbee-to-wemalo", n_products)
    finally:
        control.billbee_settings(throttle=True)
    note = ("Billbee simulator throttle off; the connector's own limiter still paces each endpoint at 2/s (it has "
            "no setting to switch it off)")
    first["note"] = second["note"] = note
    return {"run": first, "second_run": second, "load_s": load_s, "orders": n_orders}


# -- analysis -----------------------------------------------------------------------------------------------


def _phases(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Sequential phases that use several endpoints per record; their bound is their busiest endpoint at 2/s."""
    phases = []
    ack = run.get("ack_phase")
    if ack:
        phases.append({"name": "ack phase (tap-billbee: tags, messages, order reads)", "calls": ack["calls"],
                       "busy_s": ack["seconds"], "rate_per_s": ack["rate_per_s"], "utilisation": ack["utilisation"],
                       "members": {ep for ep in ack["by_endpoint"] if ep in ACK_ENDPOINTS}})
    eps = run["systems"]["billbee"]["endpoints"]
    ship = {ep: eps[ep] for ep in SHIP_ENDPOINTS if ep in eps and eps[ep]["by_plugin"].get("target-billbee")}
    if ship:
        busiest = max(st["calls"] - st["429"] for st in ship.values())
        seconds = max(st["busy_s"] for st in ship.values())
        phases.append({"name": "shipments phase (target-billbee: order read, shipments, state)",
                       "calls": sum(st["calls"] for st in ship.values()), "busy_s": seconds,
                       "rate_per_s": round(sum(st["calls"] for st in ship.values()) / seconds, 2),
                       "utilisation": round(busiest / ENDPOINT_RATE / seconds, 3), "members": set(ship)})
    return phases


def bottlenecks(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Billbee endpoints (and multi-endpoint phases) below GOAL_UTILISATION of their rate-limit bound.

    An endpoint of a phase that reaches the goal is not listed: it is paced by the phase's busiest endpoint
    (e.g. GET /orders/<id> and PUT orderstate once per order behind 1.2 shipment POSTs per order)."""
    found = []
    for run in runs:
        phases = _phases(run)
        paced = {ep for ph in phases if ph["utilisation"] >= GOAL_UTILISATION for ep in ph["members"]}
        for endpoint, st in run["systems"]["billbee"]["endpoints"].items():
            ok = st["calls"] - st["429"]
            if ok >= MIN_CALLS_FOR_UTILISATION and st["utilisation"] is not None \
                    and st["utilisation"] < GOAL_UTILISATION and endpoint not in paced:
                found.append({"scenario": run["label"], "endpoint": endpoint, "calls": st["calls"],
                              "busy_s": st["busy_s"], "rate_per_s": st["rate_per_s"],
                              "utilisation": st["utilisation"], "server_s": st["server_s"]})
        for ph in phases:
            if ph["calls"] >= MIN_CALLS_FOR_UTILISATION and ph["utilisation"] < GOAL_UTILISATION:
                found.append({"scenario": run["label"], "endpoint": ph["name"], "calls": ph["calls"],
                              "busy_s": ph["busy_s"], "rate_per_s": ph["rate_per_s"],
                              "utilisation": ph["utilisation"], "server_s": None})
    return found


def steady_check(run: dict[str, Any]) -> dict[str, Any]:
    """Goal: no writes; Billbee reads = product pages + one orders query with its pages. Calls answered with
    429 (and so repeated) are not reads of the design: they are counted under `retried_429`."""
    bb = run["systems"]["billbee"]
    writes = {f"{system} {ep}": st["calls"] for system in ("billbee", "wemalo")
              for ep, st in run["systems"][system]["endpoints"].items() if not ep.startswith("GET ")}
    reads = {ep: st["calls"] - st["429"] for ep, st in bb["endpoints"].items() if ep.startswith("GET ")}
    q = run["orders_queries"]
    allowed = run["product_pages_expected"] + max(1, q.get("incremental_pages", 0))
    extra = {ep: n for ep, n in reads.items() if ep not in ("GET /products", "GET /orders")}
    if reads.get("GET /products", 0) > run["product_pages_expected"]:
        extra["GET /products (beyond one scan)"] = reads["GET /products"] - run["product_pages_expected"]
    if q.get("check_pages"):
        extra["GET /orders eligibility check (2nd query)"] = q["check_pages"]
    if q.get("incremental_queries", 0) > 1:
        extra["GET /orders incremental (repeated)"] = q["incremental_queries"] - 1
    return {"scenario": run["label"], "writes": writes, "billbee_reads": sum(reads.values()),
            "allowed_reads": allowed, "excess_reads": sum(reads.values()) - allowed, "extra": extra,
            "orders_queries": q, "retried_429": bb["429"], "ok": not writes and sum(reads.values()) <= allowed}


def _by_plugin(run: dict[str, Any] | None, endpoint: str, plugin: str) -> int:
    """Calls of `plugin` to a Billbee endpoint in a run (all of them when the log has no attribution)."""
    if run is None:
        return 0
    st = run["systems"]["billbee"]["endpoints"].get(endpoint, {})
    by_plugin = st.get("by_plugin") or {}
    return int(by_plugin.get(plugin, 0) if by_plugin else st.get("calls", 0))


def estimate(main: dict[str, Any], n_products: int) -> dict[str, Any]:
    """The monthly Billbee calls of PROFILES at the hourly schedule, from the main size's runs (see module doc)."""
    runs = {r["label"]: r for r in main["runs"]}
    steady, ack, w2b = runs["steady_sync"], runs["changes_ack_sync"], runs["w2b_shipments"]
    every, defaults = runs.get("steady_sync_every_run"), runs.get("steady_sync_defaults")
    quiet = defaults or steady
    expected = max(1, math.ceil(n_products / PAGE))
    k_p = _by_plugin(steady, "GET /products", "tap-billbee") / expected
    k_v = _by_plugin(every, "GET /products", "target-billbee") / expected
    new_article_calls = _by_plugin(defaults, "GET /products", "tap-billbee") if defaults else 1
    eps = quiet["systems"]["billbee"]["endpoints"]
    tap_orders = _by_plugin(quiet, "GET /orders", "tap-billbee")
    fixed = quiet["systems"]["billbee"]["calls"] - eps.get("GET /products", {}).get("calls", 0) - tap_orders
    held = main.get("held_orders_quiet")  # None in results before it was recorded: f kept whole
    if held is not None:
        fixed -= math.ceil(max(1, held) / PAGE)
    checks = 1.0 if steady["orders_queries"].get("check_queries") else 1 / 24
    ack_calls = (ack["ack_phase"] or {}).get("calls", 0) / max(1, main["new_orders"])
    w_eps = w2b["systems"]["billbee"]["endpoints"]
    ship_calls = sum(w_eps.get(ep, {}).get("calls", 0) for ep in SHIP_ENDPOINTS) / max(1, main["shipped_orders"])
    ship_bound = max(w_eps.get(ep, {}).get("calls", 0) for ep in SHIP_ENDPOINTS) / max(1, main["shipped_orders"])
    providers = w_eps.get("GET /shipment/shippingproviders", {}).get("calls", 0)
    stock_calls = w_eps.get("POST /products/updatestockmultiple", {}).get("calls", 0)
    per_value = stock_calls / max(1, w2b["stock_values_written"])
    lines = main["skus_per_order"]
    coeff = {"k_p": round(k_p, 3), "n": new_article_calls, "k_v": round(k_v, 3), "H_p": DEFAULT_SCAN_HOURS,
             "H_v": DEFAULT_VERIFY_HOURS, "c": round(checks, 3), "f": fixed, "h": held, "p": providers,
             "H_s": DEFAULT_PROVIDER_HOURS,
             "s_c": round(per_value, 4), "lines": lines, "a": round(ack_calls, 2), "s": round(ship_calls, 2),
             "WAIT_DAYS": WAIT_DAYS, "ship_busiest_endpoint_per_order": round(ship_bound, 2)}

    def product_calls(pages: int, scan_hours: float, verify_hours: float) -> float:
        return (k_p * pages / scan_hours + new_article_calls * (1 - 1 / scan_hours)
                + k_v * pages / verify_hours)

    rows = []
    for products, orders in PROFILES:
        m = 2 * orders / 24 * 70 / 60
        w = orders * WAIT_DAYS
        stock_values = min(products, orders / 24 * lines)
        pages = math.ceil(products / PAGE)
        w_pages = math.ceil(max(1, w) / PAGE)  # the eligibility check's, and target-billbee's held orders query
        held_pages = w_pages if held is not None else 0
        rest = (math.ceil(max(1, m) / PAGE) + checks * w_pages + fixed + held_pages
                + providers / DEFAULT_PROVIDER_HOURS + math.ceil(stock_values * per_value))
        per_day = orders * (ack_calls + ship_calls)
        per_run = product_calls(pages, DEFAULT_SCAN_HOURS, DEFAULT_VERIFY_HOURS) + rest
        per_run_every = product_calls(pages, 1, 1) + rest
        # Billbee time of one hourly run at the limits: the phases run one after the other, each bound by its
        # busiest endpoint at 2/s (pages, acks, shipments: per order its busiest endpoint)
        run_seconds = (per_run + orders / 24 * (ack_calls + ship_bound)) / ENDPOINT_RATE
        rows.append({"products": products, "orders_per_day": orders, "calls_per_run": round(per_run, 1),
                     "order_calls_per_day": round(per_day), "calls_per_month": round(720 * per_run + 30 * per_day),
                     "calls_per_month_every_run": round(720 * per_run_every + 30 * per_day),
                     "billbee_s_per_run": round(run_seconds)})
    return {"coefficients": coeff, "profiles": rows, "formula": __doc__.split("Monthly Billbee calls")[1].strip()}


# -- output -------------------------------------------------------------------------------------------------


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def print_run(run: dict[str, Any]) -> None:
    bb, wm = run["systems"]["billbee"], run["systems"]["wemalo"]
    rss = ", ".join(f"{k} {v:.0f}" for k, v in run["peak_rss_mb"].items())
    print(f"\n### {run['label']} (meltano run {run['job']}, {run['products']} products): {run['wall_s']:.0f} s, "
          f"exit {run['exit_code']}; Billbee {bb['calls']} calls / {bb['429']} x 429 / user-level "
          f"{pct(bb.get('user_utilisation'))}; wemalo {wm['calls']} calls; peak RSS MB: {rss}")
    print(f"{'system':<7} {'endpoint':<44} {'calls':>6} {'429':>4} {'busy s':>7} {'req/s':>6} {'util':>5} "
          f"{'srv s':>6}  by plugin")
    for system, summary in (("billbee", bb), ("wemalo", wm)):
        for ep, st in summary["endpoints"].items():
            flag = " <" if (st.get("utilisation") is not None and st["calls"] >= MIN_CALLS_FOR_UTILISATION
                            and st["utilisation"] < GOAL_UTILISATION) else ""
            busy = f"{st['busy_s']:.0f}" if "busy_s" in st else "-"
            rate = f"{st['rate_per_s']:.2f}" if "rate_per_s" in st else "-"
            plugins = ", ".join(f"{k} {v}" for k, v in st["by_plugin"].items())
            print(f"{system:<7} {ep[:44]:<44} {st['calls']:>6} {st['429']:>4} {busy:>7} {rate:>6} "
                  f"{pct(st.get('utilisation')):>5} {st['server_s']:>6.1f}  {plugins}{flag}")
    for plugin, span in (run.get("plugin_spans") or {}).items():
        print(f"{plugin} Billbee calls: {span['calls']} in {span['span_s']:.0f} s, bound {span['bound_s']:.0f} s "
              f"({span['busiest_endpoint']} at 2/s or all at 10/s) = {pct(span['utilisation'])}")
    if run.get("ack_phase"):
        ack = run["ack_phase"]
        print(f"ack phase: {ack['calls']} calls in {ack['seconds']:.0f} s ({ack['rate_per_s']}/s; bound "
              f"{ack['bound_seconds']:.0f} s = {pct(ack['utilisation'])}) {ack['by_endpoint']}")


def print_summary(runs: list[dict[str, Any]]) -> None:
    """One markdown row per run (the README's scenario table)."""
    print("\n## Summary\n")
    print("| scenario | articles | wall s | Billbee calls | wemalo calls | 429s | busiest Billbee endpoint: share of "
          "2/s | Billbee calls of each plugin vs. bound | peak RSS MB | CPU busy |")
    print("|---|---:|---:|---:|---:|---:|---|---|---|---:|")
    for run in runs:
        bb, wm = run["systems"]["billbee"], run["systems"]["wemalo"]
        busiest = max(bb["endpoints"].items(), key=lambda kv: kv[1]["calls"], default=None)
        util = f"{busiest[0]} ({busiest[1]['calls']}): {pct(busiest[1]['utilisation'])}" if busiest else "-"
        spans = ", ".join(f"{p} {pct(s['utilisation'])}" for p, s in (run.get("plugin_spans") or {}).items()
                          if s["calls"] >= MIN_CALLS_FOR_UTILISATION) or "-"
        rss = ", ".join(f"{k} {v:.0f}" for k, v in run["peak_rss_mb"].items() if k in PLUGINS)
        print(f"| {run['label']} | {run['products']:,} | {run['wall_s']:.0f} | {bb['calls']:,} | {wm['calls']:,} | "
              f"{bb['429'] + wm['429']} | {util} | {spans} | {rss} | {pct(run.get('cpu_busy'))} |")


def webhook_estimate(results: dict[str, Any]) -> None:
    """Add the monthly calls with webhooks to `results["estimate"]` from the latency scenario (module doc)."""
    est, lat = results.get("estimate"), results.get("latency")
    if not est or not lat or not lat.get("events"):
        return
    orders = lat["events"]
    by_endpoint = lat.get("billbee_calls_by_endpoint", {})
    # `register` (list, filters, create) is made once per receiver, not per order
    calls = lat["billbee_calls"] - sum(n for ep, n in by_endpoint.items() if ep.split(" ")[-1].startswith("/webhooks"))
    hourly_path = orders * (est["coefficients"]["a"] + 3)
    extra = round((calls - hourly_path) / orders, 2)
    est["webhooks"] = {"orders": orders, "billbee_calls": calls, "hourly_path_calls": hourly_path,
                       "e": extra, "by_endpoint": by_endpoint}
    for row in est["profiles"]:
        row["calls_per_month_with_webhooks"] = round(row["calls_per_month"] + 30 * row["orders_per_day"] * extra)


def print_estimate(est: dict[str, Any]) -> None:
    print("\n## Monthly Billbee API calls, hourly schedule (720 runs/month)\n")
    print(f"coefficients (measured): {est['coefficients']}\n")
    print("| products | orders/day | calls per run | order-driven calls/day | calls/month | "
          "calls/month, product scan and stock comparison every run | Billbee time per run |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in est["profiles"]:
        print(f"| {row['products']:,} | {row['orders_per_day']:,} | {row['calls_per_run']:,} | "
              f"{row['order_calls_per_day']:,} | {row['calls_per_month']:,} | "
              f"{row.get('calls_per_month_every_run', 0):,} | {row['billbee_s_per_run']} s |")
    if "webhooks" in est:
        hooks = est["webhooks"]
        print(f"\nwith webhooks: e = {hooks['e']} Billbee calls per order beyond the hourly path's "
              f"({hooks['billbee_calls']} calls for {hooks['orders']} orders in the latency scenario, the hourly "
              f"path {hooks['hourly_path_calls']:.0f}); per month: "
              + ", ".join(f"{r['products']:,}/{r['orders_per_day']:,}: {r['calls_per_month_with_webhooks']:,}"
                          for r in est["profiles"]))


def plot(points: list[dict[str, Any]], path: Path) -> str | None:
    try:
        import matplotlib
    except ImportError:
        req = BENCH / "requirements.txt"
        log(f"matplotlib missing: pip install -r {req}")
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(req)], check=False)
        if done.returncode != 0:
            return "matplotlib could not be installed; no plot"
        import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [p["products"] for p in points]
    names = [f"{p['products'] // 1000 if p['products'] >= 1000 else p['products']}"
             f"{'k' if p['products'] >= 1000 else ''}/{p['orders']}" for p in points]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label in (("first_sync", "first sync"), ("tag_run", "2nd run (tags)"), ("steady_b2w", "steady run")):
        left.plot(xs, [p[key]["wall_s"] for p in points], marker="o", label=label)
        right.plot(xs, [p[key]["billbee_calls"] for p in points], marker="o", label=f"Billbee, {label}")
    right.plot(xs, [p["first_sync"]["wemalo_calls"] for p in points], marker="s", linestyle="--",
               label="wemalo, first sync")
    left.set_title("wall time of `meltano run billbee-to-wemalo`")
    left.set_ylabel("seconds")
    right.set_title("API calls per run")
    right.set_ylabel("calls")
    for ax in (left, right):
        ax.set_xlabel("articles / orders")
        ax.set_xticks(xs, names)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


# -- main -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"small sizes ({QUICK['sizes']}), about 3 minutes")
    ap.add_argument("--sizes", help=f"articles/orders, comma-separated; the largest is the main size "
                                    f"(default {FULL['sizes']})")
    ap.add_argument("--shipped", type=int, help="orders the warehouse ships before w2b_shipments (500)")
    ap.add_argument("--two-parcel-share", type=float, default=0.2, help="share of them in two parcels (0.2)")
    ap.add_argument("--stock-changes", type=int, help="stock levels changed before w2b_shipments (5000)")
    ap.add_argument("--changed-orders", type=int, help="new orders before changes_sync (50)")
    ap.add_argument("--changed-share", type=float, default=0.01, help="share of articles changed (0.01)")
    mem = ap.add_mutually_exclusive_group()
    mem.add_argument("--memory", action="store_true", help="run only the memory scenario")
    mem.add_argument("--skip-memory", action="store_true", help="no memory scenario (default with --quick)")
    ap.add_argument("--memory-products", type=int, default=100_000)
    ap.add_argument("--memory-orders", type=int, default=200)
    lat = ap.add_mutually_exclusive_group()
    lat.add_argument("--skip-latency", action="store_true",
                     help="no webhook latency scenario (bench/latency.py; by default after the main-size scenarios)")
    lat.add_argument("--latency-only", action="store_true", help="only the latency scenario (results: latency.json)")
    ap.add_argument("--latency-events", type=int, help="events per path (100; --quick 20)")
    ap.add_argument("--latency-size", help="articles/orders of the latency scenario's catalogue (2000/200)")
    ap.add_argument("--latency-pace", type=float, default=2.5, help="seconds between two events (2.5)")
    ap.add_argument("--latency-coalesce", type=float, default=latency.DEFAULT_COALESCE_S,
                    help=f"the receiver's coalescing window ({latency.DEFAULT_COALESCE_S}, the project's default)")
    ap.add_argument("--latency-timeout", type=float, default=900.0, help="an event not through by then is missed")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json")
    ap.add_argument("--plot", type=Path, default=BENCH / "scaling.png")
    ap.add_argument("--keep", action="store_true", help="keep the Meltano state databases (logs are always kept)")
    ap.add_argument("--report", type=Path, metavar="JSON", help="print the tables of an earlier results file again")
    ap.add_argument("--rederive", action="store_true",
                    help="with --report: also write the recomputed sections (steady state, estimate, ...) back")
    args = ap.parse_args(argv)
    preset = QUICK if args.quick else FULL
    for key, value in preset.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.memory and args.out == BENCH / "results" / "latest.json":
        args.out = BENCH / "results" / "memory.json"  # a memory-only run does not replace the full results
    if args.latency_only and args.out == BENCH / "results" / "latest.json":
        args.out = BENCH / "results" / "latency.json"
    args.latency_size_pair = tuple(int(x) for x in args.latency_size.split("/"))
    args.size_list = sorted((int(a), int(b)) for a, b in (s.split("/") for s in args.sizes.split(",")))
    return args


def derive(results: dict[str, Any], args: argparse.Namespace, points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fill the derived sections from what has run so far and write the JSON (after every group)."""
    if points:
        results["scaling"] = [
            {"products": p["products"], "orders": p["orders"],
             **{r["label"]: {"wall_s": r["wall_s"], "billbee_calls": r["systems"]["billbee"]["calls"],
                             "wemalo_calls": r["systems"]["wemalo"]["calls"], "peak_rss_mb": r["peak_rss_mb"]}
                for r in p["runs"]}} for p in sorted(points, key=lambda p: p["products"])]
    all_runs = results.get("scenarios", []) + results.get("scaling_runs", []) \
        + [results["memory"][k] for k in ("run", "second_run") if k in results.get("memory", {})]
    results["bottlenecks"] = bottlenecks([r for r in all_runs if not r["label"].startswith("memory_")])
    rss: Counter[str] = Counter()
    for run in all_runs:
        for plugin, mb in run["peak_rss_mb"].items():
            rss[plugin] = max(rss[plugin], mb)
    results["peak_rss_mb"] = dict(rss)
    results["over_rss_goal"] = {p: mb for p, mb in rss.items() if p in PLUGINS and mb > GOAL_RSS_MB}
    meta = results["meta"]
    meta.update({"finished": time.strftime("%Y-%m-%d %H:%M:%S"), "total_s": round(time.time() - meta["t0"]),
                 "loadavg_end": os.getloadavg()})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=str))
    return all_runs


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    for run in results.get("scenarios", []) + results.get("scaling_runs", []):
        print_run(run)
    if "memory" in results:
        print_run(results["memory"]["run"])
        if "second_run" in results["memory"]:
            print_run(results["memory"]["second_run"])
        print(f"({results['memory']['run']['note']})")
    if "scaling" in results:
        print("\n## Scaling (meltano run billbee-to-wemalo)\n")
        print("| articles/orders | first sync s | Billbee/wemalo calls | 2nd run (tags) s | Billbee calls | "
              "steady s | Billbee calls |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for p in results["scaling"]:
            a, b, c = p["first_sync"], p["tag_run"], p["steady_b2w"]
            print(f"| {p['products']}/{p['orders']} | {a['wall_s']:.0f} | {a['billbee_calls']}/{a['wemalo_calls']} | "
                  f"{b['wall_s']:.0f} | {b['billbee_calls']} | {c['wall_s']:.0f} | {c['billbee_calls']} |")
        problem = plot(results["scaling"], args.plot)
        results["plot"] = problem or str(args.plot.relative_to(ROOT) if args.plot.is_relative_to(ROOT) else args.plot)
        print(f"\nplot: {results['plot']}")
    if "steady_state" in results:
        print("\n## Steady state (goal: no writes; Billbee reads <= product pages + one orders query)\n")
        for check in results["steady_state"]:
            print(f"{check['scenario']}: writes {check['writes'] or 'none'}; Billbee reads {check['billbee_reads']} "
                  f"(allowed {check['allowed_reads']}, excess {check['excess_reads']}: {check['extra']}); "
                  f"orders queries {check['orders_queries']}")
    alone = results.get("main", {}).get("standalone_tap")
    if alone:
        print(f"\n## tap-billbee alone ({alone['pages']} product pages)\n")
        print(f"first page {alone.get('first_page_after_s')} s after the start, the last after "
              f"{alone.get('last_page_after_s')} s: GET /products at "
              f"{pct(alone.get('utilisation_with_startup'))} of the bound with the start-up, "
              f"{pct(alone.get('utilisation_from_first_page'))} from the first page; {alone['429']} x 429; "
              f"exit {alone['exit_code']}")
    if "estimate" in results:
        print_estimate(results["estimate"])
    print_summary(results.get("scenarios", []) + results.get("scaling_runs", [])
                  + [results["memory"][k] for k in ("run", "second_run") if k in results.get("memory", {})])
    print(f"\n## Below {pct(GOAL_UTILISATION)} of the rate-limit bound (>= {MIN_CALLS_FOR_UTILISATION} calls)\n")
    for b in results["bottlenecks"]:
        print(f"{b['scenario']:<18} {b['endpoint']:<40} {b['calls']:>5} calls, {b['rate_per_s']}/s over "
              f"{b['busy_s']} s busy = {pct(b['utilisation'])}" + (f", simulator {b['server_s']} s"
                                                                    if b["server_s"] is not None else ""))
    print(f"\npeak RSS MB per plugin: {results['peak_rss_mb']}; over {GOAL_RSS_MB} MB: "
          f"{results['over_rss_goal'] or 'none'}")
    if "latency" in results:
        latency.print_latency(results["latency"])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        results = json.loads(args.report.read_text())
        if "main" in results:
            runs = results["scenarios"]
            results["steady_state"] = [steady_check(r) for r in runs if r["label"] in STEADY_RUNS]
            results["estimate"] = estimate({**results["main"], "runs": runs}, results["main"]["products"])
            webhook_estimate(results)
        all_runs = results.get("scenarios", []) + results.get("scaling_runs", []) \
            + [results["memory"][k] for k in ("run", "second_run") if k in results.get("memory", {})]
        results["bottlenecks"] = bottlenecks([r for r in all_runs if not r["label"].startswith("memory_")])
        report(results, args)
        if args.rederive:
            args.report.write_text(json.dumps(results, indent=1, default=str))
        return 0
    meta = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "t0": time.time(), "argv": sys.argv[1:],
            "quick": args.quick, "cpus": os.cpu_count(), "loadavg_start": os.getloadavg(),
            "throttle": "Billbee simulator on (2/s per endpoint, 10/s per user); wemalo simulator without call limit",
            "simulator": "the sandbox as tests use it (indexed catalogues, one page copied per list request)"}
    results: dict[str, Any] = {"meta": meta}
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    points: list[dict[str, Any]] = []
    with Sandbox(billbee_port=0, wemalo_port=0, processes=True) as sandbox:
        log(f"sandbox: Billbee {sandbox.billbee_url}, wemalo {sandbox.wemalo_url}; work dir {workdir}")
        if args.latency_only:
            results["latency"] = latency.latency_scenario(sandbox, args, workdir, Project, load)
        elif not args.memory:
            *smaller, (n_products, n_orders) = args.size_list
            main_result = main_size(sandbox, args, n_products, n_orders, workdir)
            runs = main_result["runs"]
            results["main"] = {k: v for k, v in main_result.items() if k != "runs"}
            results["main"].update({"products": n_products, "orders": n_orders})
            results["scenarios"] = runs
            results["steady_state"] = [steady_check(r) for r in runs if r["label"] in STEADY_RUNS]
            results["estimate"] = estimate(main_result, n_products)
            points.append({"products": n_products, "orders": n_orders, "runs": runs[:3]})
            derive(results, args, points)
            results["scaling_runs"] = []
            for size in reversed(smaller):
                point = scaling_point(sandbox, args, size[0], size[1], workdir)
                points.append({"products": size[0], "orders": size[1], **point})
                results["scaling_runs"] += point["runs"]
                derive(results, args, points)
            if not args.skip_latency:
                results["latency"] = latency.latency_scenario(sandbox, args, workdir, Project, load)
                webhook_estimate(results)
                derive(results, args, points)
        if args.memory or not (args.skip_memory or args.quick or args.latency_only):
            results["memory"] = memory_scenario(sandbox, args, workdir)
    all_runs = derive(results, args, points)
    report(results, args)
    derive(results, args, points)  # again: the plot's path
    print(f"results: {args.out}; total {meta['total_s']} s; Meltano logs in {workdir}")
    if not args.keep:
        for db in workdir.rglob("meltano.db"):
            db.unlink()
    all_runs += results.get("latency", {}).get("runs", [])
    return 0 if all(r["exit_code"] == 0 for r in all_runs) else 1


if __name__ == "__main__":
    sys.exit(main())
