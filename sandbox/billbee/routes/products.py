"""The Billbee API's article routes: lists, lookups, stock locations, reserved amounts, stock writes."""

from __future__ import annotations

from flask import Flask, Response, request

from sandbox.billbee.request_args import body_json, int_arg, page_args, time_arg
from sandbox.billbee.responses import envelope, raw_json
from sandbox.billbee.settings import setting
from sandbox.billbee.store import INVALID_DATA, BillbeeStore


def register(app: Flask, store: BillbeeStore) -> None:
    """The article routes, added to `app`."""

    @app.get("/api/v1/products")
    def products_list() -> Response:
        rows = store.list_products(min_created=time_arg("minCreatedAt", store),
                                   min_id=int_arg("minimumBillBeeArticleId", None),
                                   max_id=int_arg("maximumBillBeeArticleId", None))
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
        amount, problem = store.reserved_amount(key, lookup, int_arg("stockId", None))
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
