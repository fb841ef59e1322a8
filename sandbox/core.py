"""Infrastructure shared by both simulators: request log, spec checks, throttles, faults, admin routes.

Each simulator is a Flask app built by its own module (``sandbox.billbee.app``, ``sandbox.wemalo.app``)
around a :class:`SimContext`.  The context owns everything that is not business data:

* the request log (method, path, query, body, status) that tests read through ``GET /_admin/requests``;
* spec violations: every request is checked against the simulator's own schema of the vendor API
  (``sandbox/<system>/spec.py``); whatever the vendor spec does not allow is recorded, never silently accepted;
* throttles (sliding one-second windows) used by the Billbee simulator. They count a request at the instant it
  reached the app (a WSGI middleware stamps it before Flask or the spec checks run), as a gateway in front of
  the real API would; a request that waited for a busy simulator thread is still counted when it arrived;
* seeded fault injection (429 with and without ``Retry-After``, 5xx, HTML error pages, malformed JSON,
  slow answers, dropped connections) at a configurable rate.

Secrets never reach the log: the ``Authorization`` and ``X-Billbee-Api-Key`` headers are not recorded.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
import random
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from flask import Blueprint, Flask, Response, g, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

FAULT_KINDS = (
    "429",  # throttled, with a Retry-After header
    "429_no_retry_after",  # throttled, no header (happens at Billbee in reality)
    "500",
    "503",
    "html_error",  # 502 with an HTML body, as a proxy in front of the API sends it
    "malformed_json",  # 200 with a truncated JSON body
    "slow",  # the request is processed, the answer comes after `slow_seconds`
    "drop",  # the connection is closed without an answer (before processing)
)


@dataclass
class FaultConfig:
    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    slow_seconds: float = 3.0
    # Only requests whose path starts with one of these prefixes get faults (empty: all API paths).
    paths: tuple[str, ...] = ()


@dataclass
class SimContext:
    """Per-simulator infrastructure state. Thread-safe: Flask serves requests on threads."""

    system: str
    lock: threading.RLock = field(default_factory=threading.RLock)
    log: list[dict[str, Any]] = field(default_factory=list)
    faults: FaultConfig = field(default_factory=FaultConfig)
    rng: random.Random = field(default_factory=random.Random)
    throttle_windows: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # sorted
    settings: dict[str, Any] = field(default_factory=dict)
    profile: str = "literal"  # the named group of readings in force (see `admin_blueprint`'s /profile)
    next_log_id: int = 1

    def configure_faults(self, **kwargs: Any) -> FaultConfig:
        with self.lock:
            kinds = kwargs.pop("kinds", None)
            paths = kwargs.pop("paths", None)
            cfg = FaultConfig(**{k: v for k, v in kwargs.items() if k in FaultConfig.__annotations__})
            if kinds:
                unknown = set(kinds) - set(FAULT_KINDS)
                if unknown:
                    raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
                cfg.kinds = tuple(kinds)
            if paths:
                cfg.paths = tuple(paths)
            self.faults = cfg
            self.rng = random.Random(cfg.seed)
            return cfg

    def pick_fault(self, path: str) -> str | None:
        with self.lock:
            cfg = self.faults
            if cfg.rate <= 0 or (cfg.paths and not path.startswith(cfg.paths)):
                return None
            if self.rng.random() >= cfg.rate:
                return None
            return self.rng.choice(cfg.kinds)

    def throttle(self, key: str, limit: int, window: float = 1.0, arrived: float | None = None) -> float | None:
        """Sliding-window limiter: allowed unless `limit` accepted requests lie within `window` of this one's arrival
        together with it. Returns None when allowed (and counts it), else seconds until a slot frees.

        Requests are checked in the order the threads get to them, which may differ slightly from the order they
        arrived; the accepted arrivals are kept sorted, so each is judged among its true neighbours."""
        now = time.monotonic() if arrived is None else arrived
        with self.lock:
            hits = self.throttle_windows[key]
            del hits[:bisect.bisect_left(hits, now - window - 1.0)]  # 1 s slack for requests checked late
            pos = bisect.bisect(hits, now)
            run = [*hits[:pos], now, *hits[pos:]]
            for start in range(max(0, pos - limit), min(pos, len(run) - limit - 1) + 1):
                if run[start + limit] - run[start] < window:  # limit + 1 requests within one window
                    return max(window - (now - run[start]), 0.001)
            hits.insert(pos, now)
            return None

    def throttle_used(self, key: str, window: float, at: float) -> int:
        """Accepted requests in the `window` up to `at` (for "calls remaining" headers)."""
        with self.lock:
            hits = self.throttle_windows[key]
            return bisect.bisect(hits, at) - bisect.bisect(hits, at - window)

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            entry["id"] = self.next_log_id
            self.next_log_id += 1
            self.log.append(entry)
            return entry

    def reset_infrastructure(self) -> None:
        with self.lock:
            self.log.clear()
            self.throttle_windows.clear()
            self.configure_faults()


def schema_errors(instance: Any, schema: dict[str, Any], where: str) -> list[str]:
    """Every way `instance` breaks `schema`, as readable lines prefixed with `where`."""
    validator = jsonschema.Draft7Validator(schema)
    out = []
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        loc = "/".join(str(p) for p in err.absolute_path)
        out.append(f"{where}{'/' + loc if loc else ''}: {err.message}")
    return out


def query_as_lists() -> dict[str, list[str]]:
    return {k: request.args.getlist(k) for k in request.args}


def request_body() -> Any:
    raw = request.get_data(cache=True, as_text=True)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _drop_connection() -> None:
    """Close the client socket without an answer, as a crashing proxy would."""
    sock: socket.socket | None = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


ARRIVED = "sandbox.arrived"


class _StampArrival:
    """WSGI middleware: note when a request reached the app, before Flask builds its context (``ARRIVED``)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ.setdefault(ARRIVED, time.monotonic())  # preset only by tests (werkzeug's environ_overrides)
        return self.app(environ, start_response)


def arrived() -> float:
    """When the current request reached the app (monotonic clock)."""
    return float(request.environ.get(ARRIVED) or time.monotonic())


def install_request_hooks(
    app: Flask,
    ctx: SimContext,
    *,
    api_prefix: str,
    check: Callable[[], list[str]],
    fault_response: Callable[[str], Response],
) -> None:
    """Log every API request, check it against the spec, and inject faults.

    `check` returns the spec violations of the current request (it runs before the handler, so even a
    request the handler refuses is checked). `fault_response` renders a fault as this API would.
    """

    app.wsgi_app = _StampArrival(app.wsgi_app)  # type: ignore[method-assign]

    @app.before_request
    def _before() -> Response | None:
        g.started = arrived()
        g.fault = None
        g.violations = []
        if not request.path.startswith(api_prefix):
            return None
        g.violations = check()
        fault = ctx.pick_fault(request.path)
        g.fault = fault
        if fault == "drop":
            _drop_connection()
            return Response(status=499)  # never reaches the client
        if fault and fault != "slow":
            return fault_response(fault)
        return None

    @app.after_request
    def _after(response: Response) -> Response:
        if not request.path.startswith(api_prefix):
            return response
        if g.get("fault") == "slow":
            time.sleep(ctx.faults.slow_seconds)
        body = request_body()
        ctx.record(
            {
                "ts": time.time(),
                "arrived": g.started,  # monotonic, comparable with the clients' time.monotonic() on this machine
                "system": ctx.system,
                "method": request.method,
                "path": request.path,
                "route": request.url_rule.rule if request.url_rule else None,
                "query": query_as_lists(),
                "body": body,
                "status": response.status_code,
                "fault": g.get("fault"),
                "violations": g.get("violations", []),
                "duration_ms": round((time.monotonic() - g.started) * 1000, 1),
            }
        )
        return response


def profile_settings(defaults: dict[str, Any], profiles: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    """The settings of profile `name`: a simulator's defaults (the vendor document read literally) with the
    profile's overrides. Unknown names and overrides of unknown settings raise ValueError."""
    if name not in profiles:
        raise ValueError(f"unknown profile {name!r}; known: {sorted(profiles)}")
    unknown = set(profiles[name]) - set(defaults)
    if unknown:
        raise ValueError(f"profile {name!r} overrides unknown settings: {sorted(unknown)}")
    return {**defaults, **profiles[name]}


def admin_blueprint(ctx: SimContext, *, reset: Callable[[], None], load: Callable[[dict], dict],
                    state: Callable[[], dict], defaults: dict[str, Any] | None = None,
                    profiles: dict[str, dict[str, Any]] | None = None) -> Blueprint:
    """Operator routes under /_admin, shared by both simulators. System-specific ones are added by each app.

    `POST /_admin/profile {"name": "lenient"}` replaces every setting by that profile's (`profile_settings`);
    `GET` names the profile in force. A profile groups one plausible reading of each open question."""
    bp = Blueprint(f"{ctx.system}_admin", __name__, url_prefix="/_admin")

    @bp.route("/profile", methods=["GET", "POST"])
    def _profile():  # type: ignore[no-untyped-def]
        if request.method == "POST":
            name = str((request.get_json(force=True) or {}).get("name") or "")
            try:
                chosen = profile_settings(defaults or {}, profiles or {"literal": {}}, name)
            except ValueError as exc:
                return jsonify({"error": str(exc)}), 400
            with ctx.lock:
                ctx.settings.clear()
                ctx.settings.update(chosen)
                ctx.profile = name
        return jsonify({"profile": ctx.profile, "profiles": sorted(profiles or {"literal": {}})})

    @bp.post("/reset")
    def _reset():  # type: ignore[no-untyped-def]
        ctx.reset_infrastructure()
        reset()
        return jsonify({"ok": True})

    @bp.post("/scenario")
    def _scenario():  # type: ignore[no-untyped-def]
        return jsonify(load(request.get_json(force=True) or {}))

    @bp.get("/state")
    def _state():  # type: ignore[no-untyped-def]
        return jsonify(state())

    @bp.route("/faults", methods=["GET", "POST"])
    def _faults():  # type: ignore[no-untyped-def]
        if request.method == "POST":
            try:
                ctx.configure_faults(**(request.get_json(force=True) or {}))
            except (TypeError, ValueError) as exc:
                return jsonify({"error": str(exc)}), 400
        f = ctx.faults
        return jsonify({"rate": f.rate, "seed": f.seed, "kinds": list(f.kinds),
                        "slow_seconds": f.slow_seconds, "paths": list(f.paths)})

    @bp.route("/settings", methods=["GET", "POST"])
    def _settings():  # type: ignore[no-untyped-def]
        if request.method == "POST":
            new = request.get_json(force=True) or {}
            unknown = set(new) - set(ctx.settings)
            if unknown:
                return jsonify({"error": f"unknown settings: {sorted(unknown)}"}), 400
            with ctx.lock:
                ctx.settings.update(new)
        return jsonify(ctx.settings)

    @bp.route("/requests", methods=["GET", "DELETE"])
    def _requests():  # type: ignore[no-untyped-def]
        if request.method == "DELETE":
            with ctx.lock:
                ctx.log.clear()
            return jsonify({"ok": True})
        since = int(request.args.get("since_id", 0))
        with ctx.lock:
            return jsonify([e for e in ctx.log if e["id"] > since])

    @bp.get("/violations")
    def _violations():  # type: ignore[no-untyped-def]
        with ctx.lock:
            return jsonify([{"id": e["id"], "method": e["method"], "path": e["path"], "violations": e["violations"]}
                            for e in ctx.log if e["violations"]])

    return bp


class ServerThread(threading.Thread):
    """A threaded werkzeug server for one Flask app on loopback, stoppable from the owning process."""

    def __init__(self, app: Flask, host: str, port: int) -> None:
        super().__init__(daemon=True)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the request log is ours (GET /_admin/requests)
        self.app = app
        self.server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self.port = self.server.server_port

    def run(self) -> None:
        self.server.serve_forever()

    def stop(self) -> None:
        self.server.shutdown()
        for stop in self.app.extensions.get("sandbox_on_stop", []):  # e.g. the webhook deliverer
            stop()
