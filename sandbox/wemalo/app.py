"""Flask app simulating wemalo-connect v1 (`/v1/...`) plus operator routes under `/_admin`.

Answers carry wemalo's body fields `Success` and `status`; whether the HTTP status mirrors the body status is
unknown, so the setting `http_status` chooses ("mirror" or "always_200"). A success answer carries them only
where the route's apidoc example does (setting `success_envelope`: "example"; "uniform" puts both on every
answer): both on product/add, addMultiple and get; only `Success` on getStatus, availableStock, packages,
profiles, the tracking number and the sent feeds; neither on getAll (`{"products": [...]}`). Routes without a
success example keep both. Settings and their defaults: `store.settings.DEFAULT_SETTINGS`.

Admin routes besides core's (reset, scenario, state, faults, settings, requests, violations):

* `POST /_admin/advance` `{"externalIds": [...] | null, "to": "PARTIAL"|"OPEN"|"INPROCESS"|...|"SHIPPED"|"CANCELLED",
  "parcels": 1, "partial": false, "profile": null, "at": null, "blockReason": null, "reasonPartiallyReserved": null}`
  -> `{"ok", "changed": [...], "skipped"}`. "PARTIAL" holds an OPEN (or PARTIAL) order back with
  `reasonPartiallyReserved` (default "STOCK"; any text, e.g. "ADDRESS", "UNKNOWN"); "OPEN" releases a PARTIAL order
  held for another reason than STOCK (reserved if stock covers it, else PARTIAL/STOCK); "BLOCKEDPACKED" packs it
  with `blockReason` (default "LABEL_ERROR"); `"serialNumbers": {"<sku>": ["SN-1", ...]}` are scanned while packing
  (one parcel item, and one sent booking, per number)
* `POST /_admin/stock` `{"<sku>": qty | {"default": qty, "b_stock": qty}, ...}` -> `{"ok", "stock", "unknown",
  "promoted"}`: a plain number is the default attribute's physical stock; `b_stock` gives the product a B-stock
  attribute (listed by availableStock from then on, 0 included)
* `POST /_admin/return` `{"externalId": "<goods order externalId>" | null, "items": [{"sku", "quantity": 1,
  "reasonCode", "attributeCode", "attributeDefault", "attributePackagingCode", "serialNumber", "readyForShipment"},
  ...], "trackingNumber": null, "announcementId": null, "at": null}` -> `{"ok", "bookingIds": [...], "returnsId",
  "promoted"}`: a returned parcel booked in, one booking per returned unit (null: a parcel wemalo cannot link
  to an order); stock as the setting returns_stock says
* `GET /_admin/returns` -> `{"bookings": [{"id", "synchronised", "synchronisedAt", every listed field, "returnsId",
  "sku", "trackingNumber", "stock"}], "announcements": [...], "receipts": [...]}`
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request

from sandbox import webhook_admin
from sandbox.core import SimContext, admin_blueprint, arrived, install_request_hooks, profile_settings
from sandbox.wemalo import spec
from sandbox.wemalo.store import (
    DATETIME_FORMAT,
    DEFAULT_SETTINGS,
    HOUR_FORMAT,
    PROFILES,
    WemaloError,
    WemaloStore,
    missing,
    parse_local,
)

API_PREFIX = spec.API_PREFIX + "/"
LIMIT_KEY = "wemalo-calls"
ENVELOPE = ("Success", "status")
SUCCESS_ONLY = ("Success",)  # what most success examples show: `"Success": true` without a body status
HTML_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
            "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


def create_app(ctx: SimContext | None = None, **settings: Any) -> Flask:
    ctx = ctx or SimContext(system="wemalo")
    unknown = set(settings) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown wemalo settings: {sorted(unknown)}")
    defaults = {**DEFAULT_SETTINGS, **settings}
    with ctx.lock:
        ctx.settings.clear()
        ctx.settings.update(defaults)
    store = WemaloStore(ctx)

    app = Flask("sandbox.wemalo")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.strict_slashes = False  # Express (wemalo-connect) ignores trailing slashes
    app.extensions["wemalo_store"] = store
    app.extensions["wemalo_ctx"] = ctx

    def answer(body: dict[str, Any], status: int = 200, shown: tuple[str, ...] = ENVELOPE) -> Response:
        """`body` as wemalo's answer; `shown`: the envelope fields the route's success example carries."""
        body = dict(body)
        if body == {"Success": False}:  # an answer without any status field (getStatus, missing_order "empty")
            return jsonify(body)
        status = int(body.setdefault("status", status))
        body.setdefault("Success", status == 200)
        if body["Success"] is True and ctx.settings.get("success_envelope") != "uniform":
            for key in set(ENVELOPE) - set(shown):
                body.pop(key, None)
        resp = jsonify(body)
        resp.status_code = 200 if ctx.settings.get("http_status") == "always_200" else status
        return resp

    def render_fault(kind: str) -> Response:
        if kind in ("429", "429_no_retry_after"):
            # wemalo's plugin treats body status 419 as "rate limited"; 429 on the wire is our choice.
            resp = jsonify({"Success": False, "status": 419, "message": "call limit exceeded"})
            resp.status_code = 429
            if kind == "429":
                resp.headers["Retry-After"] = "2"
            return resp
        if kind == "500":
            resp = jsonify({"Success": False, "status": 500, "message": "internal server error"})
            resp.status_code = 500
            return resp
        if kind == "503":
            return Response("Service Unavailable", status=503, mimetype="text/plain")
        if kind == "html_error":
            return Response(HTML_502, status=502, mimetype="text/html")
        if kind == "malformed_json":
            return Response('{"Success": true, "status": 200, "id": 10', status=200, mimetype="application/json")
        raise ValueError(f"fault kind without rendering: {kind}")

    install_request_hooks(app, ctx, api_prefix=API_PREFIX, check=spec.check_request, fault_response=render_fault)

    @app.before_request
    def _auth_and_limit() -> Response | None:
        g.limit = None
        if not request.path.startswith(API_PREFIX):
            return None
        auth = request.headers.get("Authorization") or ""
        if auth != f"JWT {ctx.settings.get('token')}":
            return answer({"message": "unauthorized: missing or invalid JWT token"}, 401)
        limit = ctx.settings.get("call_limit")
        if limit:
            window = float(ctx.settings.get("call_limit_window") or 60)
            wait = ctx.throttle(LIMIT_KEY, int(limit), window, arrived=arrived())
            used = ctx.throttle_used(LIMIT_KEY, window, arrived())
            g.limit = (int(limit), max(0, int(limit) - used))
            if wait is not None:
                resp = answer({"message": "call limit exceeded"}, 419)
                if ctx.settings.get("http_status") != "always_200":
                    resp.status_code = 429
                return resp
        return None

    @app.after_request
    def _limit_headers(resp: Response) -> Response:
        if g.get("limit"):
            resp.headers["x-wemalo-limit-maxcall"] = str(g.limit[0])
            resp.headers["x-wemalo-limit-remainingcall"] = str(g.limit[1])
        return resp

    @app.errorhandler(WemaloError)
    def _wemalo_error(exc: WemaloError) -> Response:
        return answer(exc.body(), exc.status)

    def body() -> Any:
        return request.get_json(silent=True)  # like Express's json parser: only with Content-Type json

    def flag(name: str) -> bool:
        return (request.args.get(name) or "").lower() in ("true", "1")

    def page() -> int | None:
        raw = request.args.get("page")
        return int(raw) if raw and raw.isdigit() else None

    api = Blueprint("wemalo_api", __name__, url_prefix=spec.API_PREFIX)

    # -- products ------------------------------------------------------------------------------------
    @api.post("/product/add")
    def add_product() -> Response:
        return answer(store.add_product(body()))

    @api.post("/product/addMultiple")
    def add_multiple() -> Response:
        return answer(store.add_multiple(body()))

    @api.put("/product/update/<path:external_id>")
    def update_product(external_id: str) -> Response:
        return answer(store.update_product(external_id, body()))

    @api.get("/product/get/<path:external_id>")
    def get_product(external_id: str) -> Response:
        return answer(store.get_product(external_id))

    def from_date() -> Any:
        raw = request.args.get("fromDate")
        if not raw:
            raise missing("fromDate")
        return parse_local(raw, HOUR_FORMAT, "fromDate")

    @api.get("/product/getAll")
    def get_all() -> Response:
        return answer({"products": store.all_products(from_date())}, shown=())

    @api.get("/product/availableStock/")
    def available_stock() -> Response:
        return answer({"articles": store.available_stock(from_date())}, shown=SUCCESS_ONLY)

    # -- goods orders ----------------------------------------------------------------------------------
    @api.post("/goodsOrder/add")
    def add_order() -> Response:
        return answer(store.add_order(body()))

    @api.post("/goodsOrder/addConditional")
    def add_conditional() -> Response:
        return answer(store.add_order(body(), conditional=True))

    @api.get("/goodsOrder/getStatus/<path:order_id>")
    def get_status(order_id: str) -> Response:
        return answer(store.order_status(order_id), shown=SUCCESS_ONLY)

    @api.put("/goodsOrder/updateMeta/<path:order_id>")
    def update_meta(order_id: str) -> Response:
        return answer(store.update_meta(order_id, body()))

    @api.put("/goodsOrder/cancel/<path:order_id>")
    def cancel(order_id: str) -> Response:
        data = body()
        return answer(store.cancel(order_id, str((data or {}).get("reason") or "") if isinstance(data, dict) else ""))

    @api.get("/goodsOrder/packages")
    def packages() -> Response:
        return answer(store.packages(request.args.get("orderId"), request.args.get("externalOrderId")),
                      shown=SUCCESS_ONLY)

    @api.get("/goodsOrder/sentPackages/")
    def sent_packages() -> Response:
        date_from, date_to = request.args.get("dateFrom"), request.args.get("dateTo")
        return answer(store.sent_packages(
            request.args.get("externalId"),
            parse_local(date_from, DATETIME_FORMAT, "dateFrom") if date_from else None,
            parse_local(date_to, DATETIME_FORMAT, "dateTo") if date_to else None,
            page(), flag("addRecipient")), shown=SUCCESS_ONLY)

    @api.get("/goodsOrder/packages/sent/")
    def unsynched() -> Response:
        return answer(store.unsynched(request.args.get("externalId"), page(), flag("addRecipient")),
                      shown=SUCCESS_ONLY)

    @api.put("/goodsOrder/packages/sent/<booking_id>")
    def ack(booking_id: str) -> Response:
        return answer(store.ack_booking(booking_id))

    @api.get("/goodsOrder/package/<parcel_id>/trackingNumber")
    def tracking(parcel_id: str) -> Response:
        return answer(store.tracking(parcel_id), shown=SUCCESS_ONLY)

    @api.get("/goodsOrder/profiles")
    def profiles() -> Response:
        return answer(store.get_profiles(), shown=SUCCESS_ONLY)

    # -- returns -----------------------------------------------------------------------------------------------
    @api.post("/returns/announce")
    def announce_return() -> Response:
        return answer(store.announce_return(body()), shown=SUCCESS_ONLY)  # the example: {"id": 4711, "Success"}

    def returns_feed(unsynchronised: bool) -> Response:
        date_from, date_to = request.args.get("dateFrom"), request.args.get("dateTo")
        return answer(store.returns_feed(
            unsynchronised=unsynchronised,
            filters={k: request.args.get(k) for k in ("externalGoodsOrderId", "externalReturnsId", "returnsId")},
            date_from=parse_local(date_from, DATETIME_FORMAT, "dateFrom") if date_from else None,
            date_to=parse_local(date_to, DATETIME_FORMAT, "dateTo") if date_to else None,
            page=page()), shown=SUCCESS_ONLY)

    @api.get("/returns/booked")
    def booked_returns() -> Response:
        return returns_feed(unsynchronised=True)

    @api.get("/returns/getBookings")
    def return_bookings() -> Response:
        return returns_feed(unsynchronised=False)

    @api.put("/returns/booked/<path:booking_id>")
    def sync_return(booking_id: str) -> Response:
        return answer(store.sync_return(booking_id))

    # -- webhooks (sandbox.wemalo.store.webhooks) --------------------------------------------------------
    @api.post("/webhook/<event>")
    def register_webhook(event: str) -> Response:
        shown = SUCCESS_ONLY if ctx.settings.get("webhook_register_answer") == "success" else ()
        return answer(store.register_hook(event, body()), shown=shown)

    @api.get("/webhook")
    def get_webhooks() -> Response:
        return answer(store.list_hooks(), shown=())

    @api.delete("/webhook/<event>")
    def delete_webhook(event: str) -> Response:
        return answer(store.delete_hook(event), shown=SUCCESS_ONLY)

    @api.route("/<path:rest>", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    def not_served(rest: str) -> Response:
        if spec.is_unsimulated(request.method, "/" + rest):
            return answer({"message": f"{request.method} /{rest} is documented but not simulated"}, 501)
        return answer({"message": f"no route {request.method} /{rest}"}, 404)

    app.register_blueprint(api)

    # -- admin ---------------------------------------------------------------------------------------
    def reset() -> None:  # data and settings: back to the profile in force
        store.reset()
        store.reset_webhooks()
        with ctx.lock:
            ctx.settings.clear()
            ctx.settings.update(profile_settings(defaults, PROFILES, ctx.profile))

    app.register_blueprint(admin_blueprint(ctx, reset=reset, load=store.load, state=store.state, defaults=defaults,
                                           profiles=PROFILES))
    extra = Blueprint("wemalo_admin_extra", __name__, url_prefix="/_admin")

    @extra.post("/advance")
    def advance() -> tuple[Response, int]:
        result = store.advance(request.get_json(force=True) or {})
        return jsonify(result), 200 if result.get("ok") else 400

    @extra.post("/stock")
    def stock() -> tuple[Response, int]:
        levels = request.get_json(force=True) or {}
        if not isinstance(levels, dict):
            return jsonify({"ok": False, "error": "body must be {sku: quantity | {default, b_stock}}"}), 400
        result = store.set_stock(levels)
        return jsonify(result), 200 if result.get("ok") else 400

    @extra.post("/return")
    def book_return() -> tuple[Response, int]:
        spec_ = request.get_json(force=True) or {}
        if not isinstance(spec_, dict):
            return jsonify({"ok": False, "error": "body must be {externalId, items, trackingNumber}"}), 400
        result = store.book_return(spec_)
        return jsonify(result), 200 if result.get("ok") else 400

    @extra.get("/returns")
    def returns_state() -> Response:
        return jsonify(store.returns_state())

    @extra.post("/webhooks/trigger")
    def webhooks_trigger() -> tuple[Response, int]:
        data = request.get_json(force=True) or {}
        try:
            return jsonify(store.trigger(str(data.get("event") or ""), dict(data.get("data") or {}))), 200
        except WemaloError as exc:
            return jsonify(exc.body()), 400

    webhook_admin.register(extra, store.deliverer, store.webhooks_state)
    app.extensions.setdefault("sandbox_on_stop", []).append(store.deliverer.stop)
    app.register_blueprint(extra)
    return app
