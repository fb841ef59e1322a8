"""Measuring one `meltano run`: the process tree's memory, and the sandbox's request log per endpoint.

Definitions (also in bench/README.md):

* **calls**: requests the simulator received in the run's time window, per ``METHOD route`` (route = the Flask
  rule), 429 answers included; **429** counts those answered with 429.
* **busy seconds** of an endpoint: its accepted calls split into segments wherever two calls are more than
  ``IDLE_GAP`` seconds apart; each segment counts ``last - first + 1/rate`` (one slot for its last call).
  **utilisation** = accepted calls / (rate x busy seconds), with rate = Billbee's 2 requests/s per endpoint;
  n calls sent exactly at the limit give 100 %. The user-level figure uses all Billbee calls and 10/s.
* **server s**: the simulator's own time answering (its ``duration_ms``), to tell simulator from connector.
* **plugin span** (:func:`plugin_spans`): all Billbee calls of one plugin process, first to last, against the
  fastest the limits allow for them (its busiest endpoint at 2/s, or all its calls at 10/s). Below 100 % means
  endpoints waited for each other (or for the plugin's other work, e.g. the orders query after the product scan).
* **peak RSS** per plugin: the largest of the resident set size sampled every ``interval`` seconds and the
  kernel's high-water mark (``VmHWM`` in /proc/<pid>/status) seen for any process of that plugin.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import Counter, defaultdict
from typing import Any

PLUGINS = ("tap-billbee", "target-wemalo", "tap-wemalo-shipments", "target-billbee")
ENDPOINT_RATE = 2.0
USER_RATE = 10.0
IDLE_GAP = 5.0
MIN_CALLS_FOR_UTILISATION = 10
PREFIXES = {"billbee": "/api/v1", "wemalo": "/v1"}


def _hwm_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _plugin_of(proc: Any) -> str:
    import psutil

    try:
        argv = proc.cmdline()
    except (psutil.Error, OSError):
        return "?"
    for arg in argv[:3]:
        base = os.path.basename(arg)
        if base in PLUGINS or base == "meltano":
            return base
    return "other:" + (os.path.basename(argv[0]) if argv else "?")


class TreeSampler(threading.Thread):
    """Samples the RSS and CPU time of a process and its descendants every `interval` s, keyed by plugin name."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        import psutil  # bench/requirements.txt; imported here so that the analysis works without it

        super().__init__(daemon=True)
        self._psutil = psutil
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak: dict[str, int] = defaultdict(int)
        self.windows: dict[str, list[float]] = {}  # plugin -> [first seen, last seen] (time.time())
        self.samples = 0
        self._cpu: dict[tuple[int, float], float] = {}  # process -> CPU seconds (user + system) when last seen
        self._names: dict[tuple[int, float], str] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval)

    def sample(self) -> None:
        psutil = self._psutil
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        now = time.time()
        self.samples += 1
        for proc in procs:
            try:
                key = (proc.pid, proc.create_time())
                name = self._names.get(key) or self._names.setdefault(key, _plugin_of(proc))
                rss = max(proc.memory_info().rss, _hwm_bytes(proc.pid))
                cpu = proc.cpu_times()
                self._cpu[key] = cpu.user + cpu.system
            except psutil.Error:
                continue
            self.peak[name] = max(self.peak[name], rss)
            window = self.windows.setdefault(name, [now, now])
            window[1] = now

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds per plugin (all its processes, as last sampled: up to `interval` s short each)."""
        total: dict[str, float] = defaultdict(float)
        for key, seconds in self._cpu.items():
            total[self._names[key]] += seconds
        return {name: round(value, 1) for name, value in sorted(total.items())
                if name in PLUGINS or name == "meltano"}

    def peak_mb(self) -> dict[str, float]:
        return {name: round(value / 2**20, 1) for name, value in sorted(self.peak.items())
                if name in PLUGINS or name == "meltano"}


def endpoint_of(entry: dict[str, Any]) -> str:
    route = entry.get("route") or entry.get("path") or "?"
    prefix = PREFIXES.get(entry.get("system", ""), "")
    if route.startswith(prefix):
        route = route[len(prefix):] or "/"
    return f"{entry['method']} {route}"


def busy_seconds(stamps: list[float], rate: float, gap: float = IDLE_GAP) -> float:
    """Sum over activity segments (split at gaps > `gap`) of span + 1/rate."""
    if not stamps:
        return 0.0
    stamps = sorted(stamps)
    total, start, last = 0.0, stamps[0], stamps[0]
    for ts in stamps[1:]:
        if ts - last > gap:
            total += last - start + 1 / rate
            start = ts
        last = ts
    return total + last - start + 1 / rate


def attribute(ts: float, windows: dict[str, list[float]], system: str) -> str:
    """The plugin whose process was alive at `ts` and talks to `system` (sequential tasks do not overlap)."""
    talks = {"billbee": ("tap-billbee", "target-billbee"), "wemalo": ("target-wemalo", "tap-wemalo-shipments")}
    for plugin in talks[system]:
        first, last = windows.get(plugin, (math.inf, -math.inf))
        if first - 0.5 <= ts <= last + 0.5:
            return plugin
    return "?"


def analyse(log: dict[str, list[dict[str, Any]]], windows: dict[str, list[float]]) -> dict[str, Any]:
    """Per system: calls, 429s, per-endpoint stats and (Billbee) utilisation of the rate limits."""
    out: dict[str, Any] = {}
    for system, entries in log.items():
        by_endpoint: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for entry in entries:
            by_endpoint[endpoint_of(entry)].append(entry)
        endpoints = {}
        for endpoint, rows in sorted(by_endpoint.items(), key=lambda kv: -len(kv[1])):
            ok = [r["ts"] for r in rows if r["status"] != 429]
            stats: dict[str, Any] = {
                "calls": len(rows),
                "429": sum(1 for r in rows if r["status"] == 429),
                "server_s": round(sum(r.get("duration_ms") or 0 for r in rows) / 1000, 1),
                "by_plugin": dict(Counter(attribute(r["ts"], windows, system) for r in rows)),
            }
            if system == "billbee":
                busy = busy_seconds(ok, ENDPOINT_RATE)
                stats["busy_s"] = round(busy, 1)
                stats["rate_per_s"] = round(len(ok) / busy, 2) if busy else 0.0
                stats["utilisation"] = round(len(ok) / (ENDPOINT_RATE * busy), 3) if busy else None
            endpoints[endpoint] = stats
        summary: dict[str, Any] = {
            "calls": len(entries),
            "429": sum(1 for e in entries if e["status"] == 429),
            "writes": sum(1 for e in entries if e["method"] != "GET"),
            "server_s": round(sum(e.get("duration_ms") or 0 for e in entries) / 1000, 1),
            "endpoints": endpoints,
        }
        if system == "billbee":
            ok = [e["ts"] for e in entries if e["status"] != 429]
            busy = busy_seconds(ok, USER_RATE)
            summary["busy_s"] = round(busy, 1)
            summary["user_utilisation"] = round(len(ok) / (USER_RATE * busy), 3) if busy else None
        out[system] = summary
    return out


def orders_queries(entries: list[dict[str, Any]]) -> dict[str, int]:
    """GET /orders pages split into the incremental query (modifiedAtMin) and the eligibility check."""
    out = Counter()
    for entry in entries:
        if entry["method"] == "GET" and endpoint_of(entry) == "GET /orders" and entry["status"] != 429:
            kind = "incremental" if entry.get("query", {}).get("modifiedAtMin") else "check"
            out[f"{kind}_pages"] += 1
            if str((entry.get("query", {}).get("page") or ["1"])[0]) == "1":
                out[f"{kind}_queries"] += 1
    return dict(out)


def phase(entries: list[dict[str, Any]], endpoints: set[str]) -> dict[str, Any] | None:
    """Span, calls and rate of the requests to `endpoints` (e.g. the acknowledgement writes of a run)."""
    rows = [e for e in entries if endpoint_of(e) in endpoints]
    if not rows:
        return None
    stamps = [r["ts"] for r in rows]
    span = max(stamps) - min(stamps)
    per_endpoint = Counter(endpoint_of(r) for r in rows)
    # The fastest the limits allow: the busiest endpoint at 2/s, or all calls at the user's 10/s.
    bound = max(max(per_endpoint.values()) / ENDPOINT_RATE, len(rows) / USER_RATE)
    return {"calls": len(rows), "seconds": round(span, 1), "by_endpoint": dict(per_endpoint),
            "rate_per_s": round(len(rows) / (span + 1 / ENDPOINT_RATE), 2), "bound_seconds": round(bound, 1),
            "utilisation": round(bound / (span + 1 / ENDPOINT_RATE), 3)}


def plugin_spans(entries: list[dict[str, Any]], windows: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    """Per plugin: its Billbee calls from first to last against the bound of the limits (module docstring)."""
    by_plugin: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        if entry["status"] != 429:
            by_plugin[attribute(entry["ts"], windows, "billbee")].append(entry)
    out = {}
    for plugin, rows in sorted(by_plugin.items()):
        stamps = [r["ts"] for r in rows]
        span = max(stamps) - min(stamps) + 1 / ENDPOINT_RATE
        busiest = Counter(endpoint_of(r) for r in rows).most_common(1)[0]
        bound = max(busiest[1] / ENDPOINT_RATE, len(rows) / USER_RATE)
        out[plugin] = {"calls": len(rows), "span_s": round(span, 1), "bound_s": round(bound, 1),
                       "busiest_endpoint": busiest[0], "utilisation": round(bound / span, 3)}
    return out
