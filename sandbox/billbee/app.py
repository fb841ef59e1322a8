"""Billbee API v1 simulator (Flask), written from Billbee's OpenAPI spec (docs/api-contract.md): the app, its
authentication, throttles and error answers; the routes are in ``routes/`` (one module per resource), the
settings in ``settings``, the data in ``store/``.

Where Billbee's real behaviour is unknown it is a setting in ``ctx.settings`` (see ``DEFAULT_SETTINGS``),
changeable per test through ``POST /_admin/settings``. Fixed choices of the simulator:

* list results (``/orders``, ``/products``) are sorted by id ascending, a stable order for paging;
* ``minOrderDate``/``maxOrderDate`` compare ``CreatedAt``, both inclusive; article id bounds are inclusive;
* a query value of the wrong type is ignored as if absent (ASP.NET model binding leaves it null) and recorded
  as a violation; ``page`` < 1 counts as 1, ``pageSize`` < 1 as 50;
* an empty ``Tags`` list in ``PUT /orders/{id}/tags`` clears the tags;
* adding a shipment or changing the state sets no other field (no ``ShippedAt``); a state change moves stock only as
  sandbox.billbee.store.stock says (offers, settings ``restock_on_cancel``, ``unfulfilled_states``);
* throttles are sliding windows, checked in the order endpoint, user, api key, order (GET /orders/{id});
  the throttle that refuses a request does not count it, the ones checked before it do;
* a 429 body is a JSON string (its real shape is unknown).
"""

from __future__ import annotations

import hmac
import math
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from sandbox import webhook_admin
from sandbox.billbee import spec
from sandbox.billbee.json_format import BillbeeJSONProvider
from sandbox.billbee.responses import auth_failure, fault_response, raw_json
from sandbox.billbee.routes import admin, orders, products, reference_data, webhooks
from sandbox.billbee.settings import DEFAULT_SETTINGS, PROFILES, setting
from sandbox.billbee.store import BillbeeStore, ScenarioError
from sandbox.core import SimContext, admin_blueprint, arrived, install_request_hooks

__all__ = ["DEFAULT_SETTINGS", "PROFILES", "create_app"]


def create_app(ctx: SimContext | None = None, **settings: Any) -> Flask:
    """The Billbee simulator. Keyword arguments override ``DEFAULT_SETTINGS`` (unknown names raise)."""
    unknown = set(settings) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown Billbee simulator settings: {sorted(unknown)}")
    ctx = ctx or SimContext(system="billbee")
    initial = {**DEFAULT_SETTINGS, **settings}
    with ctx.lock:
        ctx.settings.clear()
        ctx.settings.update(initial)
    store = BillbeeStore(ctx)

    app = Flask("sandbox.billbee")
    app.json = BillbeeJSONProvider(app)
    app.extensions["billbee_ctx"] = ctx
    app.extensions["billbee_store"] = store

    install_request_hooks(app, ctx, api_prefix=spec.API_PREFIX, check=spec.check_request,
                          fault_response=fault_response)

    @app.before_request
    def _auth_and_throttle() -> Response | None:
        if not request.path.startswith(spec.API_PREFIX) or request.url_rule is None:
            return None  # unknown routes answer 404/405 before authentication, as routing comes first
        key = request.headers.get("X-Billbee-Api-Key", "")
        auth = request.authorization
        user = auth.username if auth and auth.type == "basic" else None
        password = auth.password if auth and auth.type == "basic" else None
        if not (_same(key, setting("api_key")) and _same(user, setting("username"))
                and _same(password, setting("password"))):
            return auth_failure(int(setting("auth_failure_status")), missing_basic=user is None)
        if not setting("throttle"):
            return None
        endpoint = f"{request.method} {request.url_rule.rule}"
        checks: list[tuple[str, int, float]] = [
            (f"endpoint|{key}|{user}|{endpoint}", int(setting("endpoint_rate")), 1.0),
            (f"user|{key}|{user}", int(setting("user_rate")), 1.0),
            (f"key|{key}", int(setting("key_rate")), 1.0),
        ]
        if request.method == "GET" and request.url_rule.rule == "/api/v1/orders/<id>":
            order_key = f"order|{key}|{user}|{(request.view_args or {}).get('id')}"
            checks.append((order_key, int(setting("order_get_per_minute")), 60.0))
        for name, limit, window in checks:
            wait = ctx.throttle(name, limit, window, arrived=arrived())
            if wait is not None:
                return throttled(limit, window, wait)
        return None

    def throttled(limit: int, window: float, wait: float) -> Response:
        mode = setting("retry_after")
        with ctx.lock:
            store.throttled += 1
            nth = store.throttled
        send_header = mode == "always" or (mode == "alternate" and nth % 2 == 1)
        headers = {"Retry-After": str(max(1, math.ceil(wait)))} if send_header else None
        per = "Second" if window <= 1 else "Minute"
        return raw_json(f"API calls quota exceeded! maximum admitted {limit} per {per}.", 429, headers)

    products.register(app, store)
    orders.register(app, store)
    reference_data.register(app, store)
    webhooks.register(app, store)

    # -- errors -----------------------------------------------------------------------------------------
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        if not request.path.startswith(spec.API_PREFIX):
            return jsonify({"error": exc.description}), exc.code or 500  # type: ignore[return-value]
        if exc.code == 405:
            return raw_json({"Message": f"The resource does not support the HTTP method {request.method}."}, 405)
        if exc.code == 404:
            return raw_json({"Message": f"No resource matches the request URI '{request.url}'."}, 404)
        return raw_json({"Message": exc.description}, exc.code or 500)

    @app.errorhandler(ScenarioError)
    def _scenario_error(exc: ScenarioError) -> Response:
        return jsonify({"error": str(exc)}), 400  # type: ignore[return-value]

    # -- admin ------------------------------------------------------------------------------------------
    # Reset clears data, log, throttles and faults but keeps the settings (the runner sets them before loading).
    def reset() -> None:
        store.clear()
        store.reset_webhooks()

    bp = admin_blueprint(ctx, reset=reset, load=store.load, state=store.state, defaults=initial,
                         profiles=PROFILES)
    admin.register(bp, store)
    webhook_admin.register(bp, store.deliverer, store.webhooks_state)
    app.extensions.setdefault("sandbox_on_stop", []).append(store.deliverer.stop)
    app.register_blueprint(bp)
    return app


def _same(given: str | None, expected: Any) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), str(expected).encode())

