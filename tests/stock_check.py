"""What Billbee's stock must be after a stock sync, computed from both systems' raw state, independently of the
connector's formula: wemalo's physical stock less what wemalo's open orders need, less the open Billbee orders
wemalo does not have (paid since, unpaid, refused). Never more (no oversell); for articles that are no bundle
component exactly that (no double subtraction; how Billbee counts a bundle's components is not documented).
A negative Billbee stock (Billbee may store one when its unfulfilled amount exceeds the value written) counts as 0:
nothing to sell either way."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import Any


def sellable_stock_problems(billbee: dict[str, Any], wemalo: dict[str, Any],
                            unfulfilled: Collection[int]) -> tuple[int, list[str]]:
    """(SKUs checked, one line per SKU whose Billbee stock is wrong). `unfulfilled`: the order states Billbee
    counts as not fulfilled (the simulator's setting `unfulfilled_states`; not documented). A line without a
    positive quantity (a cancellation order's credit lines, `IsCancelationFor`) ships nothing and needs no stock."""
    in_wemalo = {o["externalId"] for o in wemalo["orders"] if o["status"] != "CANCELLED"}
    # The demo's and the chaos world's preloaded orders carry the received tag without an order in the wemalo
    # simulator: inconsistent by construction (wemalo would hold their stock), so their articles are not judged.
    preloaded = [o for o in billbee["orders"] if str(o["BillBeeOrderId"]) not in in_wemalo
                 and o["State"] in unfulfilled
                 and any(str(t).casefold() == "order_received_by_wemalo" for t in o.get("Tags") or [])]
    in_wemalo |= {str(o["BillBeeOrderId"]) for o in preloaded}
    articles = {p["Id"]: p for p in billbee["products"]}
    by_sku = {str(p["SKU"]).casefold(): p for p in sorted(billbee["products"], key=lambda p: -p["Id"]) if p.get("SKU")}
    components = {c["SKU"].casefold() for p in billbee["products"] for c in p.get("BillOfMaterial") or []}
    elsewhere: Counter[str] = Counter()
    for order in billbee["orders"]:
        if order["State"] not in unfulfilled or str(order["BillBeeOrderId"]) in in_wemalo:
            continue
        for item in order["OrderItems"]:
            if float(item.get("Quantity") or 0) <= 0:
                continue
            product = item.get("Product") or {}
            article = (articles.get(product.get("BillbeeId"))
                       or by_sku.get(str(product.get("SKU") or "").casefold()) or {})
            lines = article.get("BillOfMaterial") or [{"SKU": article.get("SKU"), "Amount": 1}]
            for line in lines:
                if line.get("SKU"):
                    elsewhere[line["SKU"].casefold()] += int(float(item["Quantity"]) * float(line.get("Amount") or 1))
    sellable = {p["sku"].casefold(): max(0, p["stock"]["virtual"] - elsewhere[p["sku"].casefold()])
                for p in wemalo["products"]}
    unjudged = {str((i.get("Product") or {}).get("SKU") or "").casefold() for o in preloaded for i in o["OrderItems"]}
    problems = []
    for product in billbee["products"]:
        entries = [e for e in product.get("Stocks") or [] if e.get("StockCurrent") is not None]
        sku = str(product.get("SKU") or "").casefold()
        if sku not in sellable or sku in unjudged or not entries:
            continue
        value = max(0, int(float(entries[0]["StockCurrent"])))
        if value > sellable[sku] or (sku not in components and value != sellable[sku]):
            problems.append(f"{product['SKU']}: Billbee {value}, sellable {sellable[sku]}")
    return len(sellable), problems
