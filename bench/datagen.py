"""Benchmark data: the demo shop (``sandbox.demo_data``) at catalogue scale, plus the changes between runs.

``sandbox.demo_data.generate`` is fast enough (about 2 s for 20,000 articles) but builds SKUs from 28 titles
and 9 variants, so at scale most articles share a SKU and wemalo would refuse them. :func:`generate` keeps
everything else of the demo data (special cases, address mix, bundles, order states and tags) and

* gives every normal article a unique SKU (``<prefix>-<6 digits>``) and rewrites it in bundle BOMs and order
  lines (found by ``BillbeeId``);
* moves the order timestamps so that the newest is ``age`` before now: the demo data is dated from 2026-11-02
  on and would otherwise lie in the future, which keeps every order inside each run's incremental window;
  article creation times are spread over the three years before that.
"""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox import demo_data
from sandbox.billbee.store import format_time

ORDER_TIMES = ("CreatedAt", "PayedAt", "LastModifiedAt", "ShippedAt")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _shift(scenario: dict[str, Any], delta: timedelta) -> None:
    def move(obj: dict[str, Any], key: str) -> None:
        if obj.get(key):
            obj[key] = format_time(_parse(obj[key]) + delta)

    for order in scenario["orders"]:
        for key in ORDER_TIMES:
            move(order, key)
        for entry in order.get("History") or []:
            move(entry, "Created")
        for shipment in order.get("ShippingIds") or []:
            move(shipment, "Created")


def _newest(scenario: dict[str, Any]) -> datetime:
    stamps = [_parse(o[k]) for o in scenario["orders"] for k in ORDER_TIMES if o.get(k)]
    stamps += [_parse(e["Created"]) for o in scenario["orders"] for e in o.get("History") or [] if e.get("Created")]
    return max(stamps)


def generate(seed: int, n_products: int, n_orders: int, *, age: timedelta = timedelta(hours=3)) -> dict[str, Any]:
    """``{"billbee": ..., "wemalo": ...}`` like ``demo_data.generate``, unique SKUs, newest timestamp = now - age."""
    scenario = demo_data.generate(seed=seed, n_products=max(n_products, demo_data.MIN_PRODUCTS),
                                  n_orders=max(n_orders, demo_data.MIN_ORDERS))
    billbee = scenario["billbee"]
    sku_by_id: dict[int, str] = {}
    for index, product in enumerate(billbee["products"]):
        if product["Type"] == 1 and product.get("SKU"):
            prefix = product["SKU"].split("-")[0]
            product["SKU"] = sku_by_id[product["Id"]] = f"{prefix}-{index + 1:06d}"
    for product in billbee["products"]:
        for line in product.get("BillOfMaterial") or []:
            line["SKU"] = sku_by_id.get(line["ArticleId"], line["SKU"])
    for order in billbee["orders"]:
        for item in order["OrderItems"]:
            sold = item.get("Product") or {}
            if sold.get("BillbeeId") in sku_by_id:
                sold["SKU"] = item["InvoiceSKU"] = sku_by_id[sold["BillbeeId"]]
    newest = _now() - age
    _shift(billbee, newest - _newest(billbee))
    # The demo dates articles 1-9 days apart, which at 100,000 articles reaches past year 9999: spread them
    # over the last three years instead (only GET /products?minCreatedAt reads this; the connector does not).
    step = timedelta(days=3 * 365) / max(1, len(billbee["products"]))
    for index, product in enumerate(reversed(billbee["products"])):
        product["_CreatedAt"] = format_time(newest - step * index)
    return scenario


def sendable(product: dict[str, Any]) -> bool:
    """An article the connector sends to wemalo (normal, SKU and EAN, active)."""
    return product["Type"] == 1 and bool(product.get("SKU")) and bool(product.get("EAN")) \
        and not product.get("IsDeactivated")


def changed_products(products: list[dict[str, Any]], share: float, rng: random.Random) -> list[dict[str, Any]]:
    """`share` of the catalogue with a new title (a change wemalo gets: product name), as full articles."""
    pool = [p for p in products if sendable(p)]
    chosen = rng.sample(pool, max(1, round(len(products) * share)))
    out = []
    for product in chosen:
        changed = copy.deepcopy(product)
        changed["Title"] = [{"Text": f"{changed['Title'][0]['Text']} (Neuauflage)", "LanguageCode": "DE"}]
        changed["Price"] = round(float(changed.get("Price") or 0) * 1.05, 2)
        out.append(changed)
    return out


def new_orders(orders: list[dict[str, Any]], products: list[dict[str, Any]], count: int,
               rng: random.Random) -> list[dict[str, Any]]:
    """`count` new paid orders with the orders tag, arriving now, modelled on existing plain orders."""
    ok_ids = {p["Id"] for p in products if sendable(p)}
    templates = [o for o in orders if o["State"] == 3 and o["Tags"] == [demo_data.ORDERS_TAG]
                 and not o.get("IsCancelationFor")
                 and all((i.get("Product") or {}).get("BillbeeId") in ok_ids for i in o["OrderItems"])]
    next_id = max(o["BillBeeOrderId"] for o in orders) + 1000
    now = _now()
    out = []
    for n in range(count):
        order = copy.deepcopy(rng.choice(templates))
        order.pop("ShippingIds", None)
        order.pop("ShippedAt", None)
        order["BillBeeOrderId"] = next_id + n
        order["Id"] = str(900000 + n)
        order["OrderNumber"] = f"#{900000 + n}"
        created = now - timedelta(minutes=rng.randint(5, 55))
        order["CreatedAt"] = format_time(created.replace(microsecond=0))
        order["PayedAt"] = format_time((created + timedelta(minutes=1)).replace(microsecond=0))
        order["LastModifiedAt"] = format_time(now)  # after the last run's bookmark, as a new order's would be
        for entry in order.get("History") or []:
            entry["Created"] = format_time(created)
        out.append(order)
    return out
