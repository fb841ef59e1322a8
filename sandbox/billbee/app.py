"""Billbee API v1 simulator (Flask), written from Billbee's OpenAPI spec (docs/api-contract.md).

Where Billbee's real behaviour is unknown it is a setting in ``ctx.settings`` (see ``DEFAULT_SETTINGS``),
changeable per test through ``POST /_admin/settings``. Fixed choices of the simulator:

* list results (``/orders``, ``/products``) are sorted by id ascending, a stable order for paging;
* ``minOrderDate``/``maxOrderDate`` compare ``CreatedAt``, both inclusive; article id bounds are inclusive;
* a query value of the wrong type is ignored as if absent (ASP.NET model binding leaves it null) and recorded
  as a violation; ``page`` < 1 counts as 1, ``pageSize`` < 1 as 50;
* an empty ``Tags`` list in ``PUT /orders/{id}/tags`` clears the tags;
* adding a shipment or changing the state sets no other field (no ``ShippedAt``); a state change moves stock only as
  the store's docstring says (offers, settings ``restock_on_cancel``, ``unfulfilled_states``);
* throttles are sliding windows, checked in the order endpoint, user, api key, order (GET /orders/{id});
  the throttle that refuses a request does not count it, the ones checked before it do;
* a 429 body is a JSON string (its real shape is unknown).
"""

from __future__ import annotations

import hmac
import math
from datetime import datetime
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from sandbox.billbee import spec
from sandbox.billbee.json_format import JSON_TYPE, BillbeeJSONProvider, decode_body, encode
from sandbox.billbee.store import (
    INTERNAL_ERROR,
    INVALID_DATA,
    ORDER_NOT_FOUND,
    ORDER_STATES,
    UNFULFILLED_STATES,
    BillbeeStore,
    OrderFilter,
    ScenarioError,
    error_description,
    parse_time,
)
from sandbox.core import SimContext, admin_blueprint, arrived, install_request_hooks

DEFAULT_SETTINGS: dict[str, Any] = {
    "api_key": "sandbox-api-key",
    "username": "merchant@example.com",
    "password": "Sandbox-Api-Passw0rd",
    "auth_failure_status": 401,  # not documented: 401 | 403
    "throttle": True,  # False switches off every throttle below
    "endpoint_rate": 2,  # requests/s per endpoint (route rule + method) per (api key, user)
    "user_rate": 10,  # requests/s per (api key, user)
    "key_rate": 50,  # requests/s per api key
    "order_get_per_minute": 6,  # GET /orders/{id}: calls per order per minute
    "retry_after": "alternate",  # "always" | "never" | "alternate" (every other 429 carries Retry-After)
    "oversize_page": "clamp",  # pageSize > 250 ("max value is 250"): "clamp" to 250 | "error" = 400
    "tag_filter": "all",  # several `tag` values ("a list of tags the order must have attached"): "all" | "any"
    # The `tag` filter's case rule is not documented; Billbee's tag writes merge case-insensitively (one collation),
    # so the default compares case-insensitively and the lenient profile strictly (the connector runs under both).
    "tag_case_insensitive": True,
    "missing_order": "404",  # unknown order: "404" | "200_error" (HTTP 200, ErrorCode 2 OrderNotFound)
    "writes_bump_modified": True,  # a tag write is "the last update, the order got" | False: tags leave it alone
    "bom_stock_write": "error",  # stock write for a bundle SKU: "error" ApiResult | "ignore" (success, no change)
    "timezone": "UTC",  # frame of the naive timestamps; query values with an offset are converted into it
    "error_description": "number",  # ApiResult.ErrorDescription: the spec's int32 enum | "name" ("NoError")
    "extref_matches": "order_number",  # findbyextref ("by its external order number"): OrderNumber | "number_or_id"
    "total_cost_includes_shipping": False,  # computed TotalCost: "excluding shipping cost" | True: items + shipping
    "order_web_url": True,  # the Order model's WebUrl is in every order | False: left out
    # Stock (see the store's docstring). Documented: an order's import adjusts stock ("If true, the import of this
    # order won't adjust the stock level", OrderItem.DontAdjustStock); the rest is not.
    "deduct_stock_on_import": True,  # an imported order lowers its articles' stock | False: stock never moves
    "unfulfilled_from_orders": True,  # UnfulfilledAmount computed from the orders | False: as the scenario gave it
    "unfulfilled_states": list(UNFULFILLED_STATES),  # states counted as "not fulfilled" (store.UNFULFILLED_STATES)
    "dont_adjust_stock_reserves": True,  # a DontAdjustStock item still counts as unfulfilled | False: it does not
    "autosubtract_below_zero": True,  # AutosubtractReservedAmount may store a negative figure | False: floor at 0
    # An order moving to 6/8 gives its stock back: not documented. The documents name one stock effect, the import's;
    # a cancellation as a document of its own is an order (IsCancelationFor) whose negative lines add stock. | True
    "restock_on_cancel": False,
}

# Named groups of readings (`POST /_admin/profile`): "literal" is DEFAULT_SETTINGS, the vendor document read
# literally; "lenient" takes the other plausible reading of each setting it names.
PROFILES: dict[str, dict[str, Any]] = {
    "literal": {},
    "lenient": {"auth_failure_status": 403, "oversize_page": "error", "tag_case_insensitive": False,
                "tag_filter": "any", "missing_order": "200_error", "writes_bump_modified": False,
                "bom_stock_write": "ignore", "error_description": "name", "extref_matches": "number_or_id",
                "total_cost_includes_shipping": True, "order_web_url": False,
                "unfulfilled_states": [1, 2, 3, 13, 16], "dont_adjust_stock_reserves": False,
                "autosubtract_below_zero": False, "restock_on_cancel": True},
}
# Not in "lenient": the throttle settings (the project keeps throttling as it is); `timezone` (a property of the
# account the connector is configured with, not a reading); `deduct_stock_on_import` and `unfulfilled_from_orders`
# (switches back to the old simulator: that an import adjusts stock is documented, so "never" is no reading).

SHIPPING_CARRIERS = (
    (0, "other"), (1, "dhlExpress"), (2, "dhl"), (3, "hermes"), (4, "dpd"), (5, "ups"), (6, "gls"), (7, "dpag"),
    (8, "OePost"), (9, "fedex"), (10, "generalOvernight"), (11, "tnt"), (12, "liefery"), (13, "iloxx"),
    (14, "parcel_one"), (15, "cargo_international"), (16, "pin_mail"), (17, "usPostalService"),
    (18, "amazon_logistics"),
)


def raw_json(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(encode(obj), status=status, content_type=JSON_TYPE, headers=headers)


def envelope(data: Any = None, *, paging: dict[str, int] | None = None, code: int = 0, message: str | None = None,
             status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"Paging": paging} if paging is not None else {}
    body.update({"ErrorMessage": message, "ErrorCode": code, "ErrorDescription": describe(code), "Data": data})
    return raw_json(body, status, headers)


def describe(code: int) -> int | str:
    """ErrorDescription of `code` under the app's setting `error_description`."""
    ctx = current_app.extensions.get("billbee_ctx")
    mode = ctx.settings.get("error_description") if ctx is not None else None
    return error_description(code, mode or DEFAULT_SETTINGS["error_description"])


def empty_ok() -> Response:
    return Response(b"", status=200)


# -- the app ----------------------------------------------------------------------------------------------


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

    def setting(name: str) -> Any:
        return ctx.settings.get(name, DEFAULT_SETTINGS[name])

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

    def page_args(total: list[Any]) -> tuple[list[Any], dict[str, int]] | Response:
        page = _int_arg("page", 1)
        size = _int_arg("pageSize", 50)
        page = page if page >= 1 else 1
        size = size if size >= 1 else 50
        if size > 250:
            if setting("oversize_page") == "error":
                return envelope(None, code=INVALID_DATA, status=400,
                                message="pageSize must be between 1 and 250")
            size = 250
        rows = len(total)
        start = (page - 1) * size
        paging = {"Page": page, "TotalPages": math.ceil(rows / size), "TotalRows": rows, "PageSize": size}
        return total[start:start + size], paging

    def order_missing() -> Response:
        status = 200 if setting("missing_order") == "200_error" else 404
        return envelope(None, code=ORDER_NOT_FOUND, message="Order not found", status=status)

    def body_json() -> Any:
        return decode_body(request.get_data(cache=True, as_text=True))

    # -- products ---------------------------------------------------------------------------------------
    @app.get("/api/v1/products")
    def products_list() -> Response:
        rows = store.list_products(min_created=_time_arg("minCreatedAt", store),
                                   min_id=_int_arg("minimumBillBeeArticleId", None),
                                   max_id=_int_arg("maximumBillBeeArticleId", None))
        paged = page_args(rows)
        if isinstance(paged, Response):
            return paged
        return envelope(paged[0], paging=paged[1])

    @app.get("/api/v1/products/stocks")
    def products_stocks() -> Response:
        return envelope(store.list_stocks())

    @app.get("/api/v1/products/<id>")
    def products_get(id: str) -> Response:
        lookup = (request.args.get("lookupBy") or "id").lower()
        article = store.find_product(id, lookup)
        if article is None:
            return envelope(None, code=INVALID_DATA, message=f"Article not found ({lookup} '{id}')", status=404)
        return envelope(article)

    @app.get("/api/v1/products/reservedamount")
    def products_reservedamount() -> Response:
        key = request.args.get("id")
        if not key:
            return envelope(None, code=INVALID_DATA, message="id is required", status=400)
        lookup = (request.args.get("lookupBy") or "id").lower()
        amount, problem = store.reserved_amount(key, lookup, _int_arg("stockId", None))
        if amount is None:
            status = 404 if problem and problem.startswith("Article not found") else 400
            return envelope(None, code=INVALID_DATA, message=problem, status=status)
        return envelope({"ReservedAmount": amount})

    @app.post("/api/v1/products/updatestock")
    def products_updatestock() -> Response:
        body = body_json()
        if not isinstance(body, dict):
            return envelope(None, code=INVALID_DATA, message="Invalid request body", status=400)
        return raw_json(store.update_stock(body, "updatestock", setting("bom_stock_write")))

    @app.post("/api/v1/products/updatestockmultiple")
    def products_updatestockmultiple() -> Response:
        body = body_json()
        if not isinstance(body, list):
            return envelope(None, code=INVALID_DATA, message="Invalid request body", status=400)
        return raw_json([store.update_stock(m, "updatestockmultiple", setting("bom_stock_write")) for m in body])

    # -- orders -----------------------------------------------------------------------------------------
    @app.get("/api/v1/orders")
    def orders_list() -> Response:
        flt = OrderFilter(
            min_order_date=_time_arg("minOrderDate", store), max_order_date=_time_arg("maxOrderDate", store),
            shop_ids=_int_list("shopId"), state_ids=_int_list("orderStateId"), tags=spec.query_list("tag"),
            exclude_tags=(request.args.get("excludeTags") or "").strip().lower() == "true",
            tag_mode=str(setting("tag_filter")), tag_case_insensitive=bool(setting("tag_case_insensitive")),
            minimum_order_id=_int_arg("minimumBillBeeOrderId", None),
            modified_min=_time_arg("modifiedAtMin", store), modified_max=_time_arg("modifiedAtMax", store))
        paged = page_args(store.list_orders(flt, _int_arg("articleTitleSource", 0)))
        if isinstance(paged, Response):
            return paged
        return envelope(paged[0], paging=paged[1])

    @app.get("/api/v1/orders/<id>")
    def orders_get(id: str) -> Response:
        order = store.get_order(id, _int_arg("articleTitleSource", 0))
        return envelope(order) if order else order_missing()

    @app.get("/api/v1/orders/findbyextref/<extRef>")
    def orders_findbyextref(extRef: str) -> Response:
        fields = ("OrderNumber", "Id") if setting("extref_matches") == "number_or_id" else ("OrderNumber",)
        for order in store.list_orders(OrderFilter()):
            if extRef in (order.get(f) for f in fields):
                return envelope(order)
        return order_missing()

    def tags_write(order_id: str, replace: bool) -> Response:
        body = body_json()
        tags = body.get("Tags") if isinstance(body, dict) else None
        if not store.has_order(order_id):
            return order_missing()
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            return envelope(None, code=INVALID_DATA, message="Tags must be a list of strings", status=400)
        bump = bool(setting("writes_bump_modified"))
        (store.replace_tags if replace else store.add_tags)(order_id, tags, bump)
        return envelope(None)

    @app.post("/api/v1/orders/<id>/tags")
    def orders_tags_add(id: str) -> Response:
        return tags_write(id, replace=False)

    @app.put("/api/v1/orders/<id>/tags")
    def orders_tags_replace(id: str) -> Response:
        return tags_write(id, replace=True)

    @app.put("/api/v1/orders/<id>/orderstate")
    def orders_state(id: str) -> Response:
        body = body_json()
        if not store.has_order(id):
            return order_missing()
        state = body.get("NewStateId") if isinstance(body, dict) else None
        if not isinstance(state, int) or isinstance(state, bool) or not 1 <= state <= 17:
            return envelope(None, code=INVALID_DATA, message="NewStateId must be a state id 1..17", status=400)
        store.set_state(id, state)
        return empty_ok()

    @app.post("/api/v1/orders/<id>/shipment")
    def orders_shipment(id: str) -> Response:
        body = body_json()
        if not store.has_order(id):
            return order_missing()
        problem = _shipment_problem(body)
        if problem is None and isinstance(body, dict):
            problem = store.provider_problem(body)
        if problem is not None or not isinstance(body, dict):
            return envelope(None, code=INVALID_DATA, message=problem or "Invalid request body", status=400)
        store.add_shipment(id, body)
        return empty_ok()

    @app.post("/api/v1/orders/<id>/message")
    def orders_message(id: str) -> Response:
        body = body_json()
        if not store.has_order(id):
            return order_missing()
        if not isinstance(body, dict) or not isinstance(body.get("Text"), str):
            return envelope(None, code=INVALID_DATA, message="Text is required", status=400)
        store.add_message(id, body)
        return envelope(None)

    # -- shipping providers and enums -------------------------------------------------------------------
    @app.get("/api/v1/shipment/shippingproviders")
    def shipping_providers() -> Response:
        return raw_json(store.list_providers())

    @app.get("/api/v1/enums/orderstates")
    def enum_orderstates() -> Response:
        return raw_json([{"Id": i, "Name": n} for i, n in ORDER_STATES])

    @app.get("/api/v1/enums/shippingcarriers")
    def enum_shippingcarriers() -> Response:
        return raw_json([{"Id": i, "Name": n} for i, n in SHIPPING_CARRIERS])

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
    bp = admin_blueprint(ctx, reset=store.clear, load=store.load, state=store.state, defaults=initial,
                         profiles=PROFILES)

    @bp.post("/orders")
    def admin_add_orders() -> Response:
        body = request.get_json(force=True) or {}
        return jsonify({"orders": store.add_orders(body.get("orders") or [])})

    @bp.patch("/orders/<order_id>")
    def admin_patch_order(order_id: str) -> Response:
        order = store.patch_order(order_id, request.get_json(force=True) or {})
        if order is None:
            return jsonify({"error": f"no order {order_id}"}), 404  # type: ignore[return-value]
        return jsonify(order)

    @bp.delete("/orders/<order_id>")
    def admin_delete_order(order_id: str) -> Response:
        if not store.delete_order(order_id):
            return jsonify({"error": f"no order {order_id}"}), 404  # type: ignore[return-value]
        return jsonify({"ok": True})

    @bp.post("/products")
    def admin_put_products() -> Response:
        body = request.get_json(force=True) or {}
        return jsonify({"products": store.put_products(body.get("products") or [])})

    @bp.route("/clock", methods=["GET", "POST"])
    def admin_clock() -> Response:
        body = request.get_json(force=True) if request.method == "POST" else {}
        return jsonify(store.set_clock(body or {}))

    app.register_blueprint(bp)
    return app


# -- helpers ----------------------------------------------------------------------------------------------


def _same(given: str | None, expected: Any) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), str(expected).encode())


def auth_failure(status: int, *, missing_basic: bool) -> Response:
    text = "Authorization has been denied: API key, user name or API password missing or wrong."
    headers = {"WWW-Authenticate": 'Basic realm="Billbee API"'} if missing_basic and status == 401 else None
    return raw_json({"Message": text, "ErrorMessage": text, "ErrorCode": 1, "ErrorDescription": describe(1),
                     "Data": None}, status, headers)


def _int_arg(name: str, default: Any) -> Any:
    value, error = spec.parse_value("int64", request.args.get(name, ""))
    return default if error else value


def _int_list(name: str) -> list[int]:
    out = []
    for raw in spec.query_list(name):
        value, error = spec.parse_value("int64", raw)
        if not error:
            out.append(value)
    return out


def _time_arg(name: str, store: BillbeeStore) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return parse_time(raw, store.zone)
    except ScenarioError:
        return None


def _shipment_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "Invalid request body"
    for key in ("ShippingProviderId", "ShippingProviderProductId", "CarrierId", "ShipmentType"):
        value = body.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            return f"{key} must be an integer"
    if body.get("ShipmentType") not in (None, 0, 1):
        return "ShipmentType must be 0 (shipment) or 1 (return)"
    for key in ("ShippingId", "OrderId", "Comment"):
        if body.get(key) is not None and not isinstance(body[key], str):
            return f"{key} must be a string"
    return None


def fault_response(kind: str) -> Response:
    """An injected fault, rendered as Billbee or the proxy in front of it would send it."""
    if kind in ("429", "429_no_retry_after"):
        headers = {"Retry-After": "1"} if kind == "429" else None
        return raw_json("API calls quota exceeded! maximum admitted 2 per Second.", 429, headers)
    if kind in ("500", "503"):
        text = "An internal error occurred." if kind == "500" else "The service is temporarily unavailable."
        return envelope(None, code=INTERNAL_ERROR, message=text, status=int(kind))
    if kind == "html_error":
        page = ("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body>\n"
                "<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body></html>\n")
        return Response(page, status=502, content_type="text/html; charset=utf-8")
    if kind == "malformed_json":
        text = '{"Paging":{"Page":1,"TotalPages":3,"TotalRows":120,"PageSize":50},"ErrorMessage":null,' \
               f'"ErrorCode":0,"ErrorDescription":{encode(describe(0))},"Data":[{{"RebateDifference":0.0,' \
               '"ShippingIds":[],"Acc'
        return Response(text, status=200, content_type=JSON_TYPE)
    return Response(f"unexpected fault kind {kind}", status=500, content_type="text/plain")

