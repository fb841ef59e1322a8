"""The Billbee API's order routes: lists, lookups, and the writes (tags, state, shipment, message)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request

from sandbox.billbee import spec
from sandbox.billbee.request_args import body_json, int_arg, int_list, page_args, time_arg
from sandbox.billbee.responses import empty_ok, envelope, order_missing
from sandbox.billbee.settings import setting
from sandbox.billbee.store import INVALID_DATA, BillbeeStore, OrderFilter


def register(app: Flask, store: BillbeeStore) -> None:
    """The order routes, added to `app`."""

    @app.get("/api/v1/orders")
    def orders_list() -> Response:
        flt = OrderFilter(
            min_order_date=time_arg("minOrderDate", store), max_order_date=time_arg("maxOrderDate", store),
            shop_ids=int_list("shopId"), state_ids=int_list("orderStateId"), tags=spec.query_list("tag"),
            exclude_tags=(request.args.get("excludeTags") or "").strip().lower() == "true",
            tag_mode=str(setting("tag_filter")), tag_case_insensitive=bool(setting("tag_case_insensitive")),
            minimum_order_id=int_arg("minimumBillBeeOrderId", None),
            modified_min=time_arg("modifiedAtMin", store), modified_max=time_arg("modifiedAtMax", store))
        paged = page_args(store.list_orders(flt, int_arg("articleTitleSource", 0)))
        if isinstance(paged, Response):
            return paged
        return envelope(paged[0], paging=paged[1])

    @app.get("/api/v1/orders/<id>")
    def orders_get(id: str) -> Response:
        order = store.get_order(id, int_arg("articleTitleSource", 0))
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
        if problem is None and isinstance(body, dict) and setting("unknown_shipping_product") == "refuse":
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
