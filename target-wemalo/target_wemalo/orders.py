"""Billbee order -> wemalo goods order (`goodsOrder/add` body).

Positions are matched by SKU (`meta.externalIdMatch = "sku"`, as wemalo's own plugins do), so that products
created outside this connector work too. A bundle line is replaced by its components (the tap adds them as
`BundleComponents`); coupons, discounts and digital items have nothing to ship and are left out; lines for
the same SKU are merged. Money goes in cents (positions) and euros (meta), as the apidoc says.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from target_wemalo.address import AddressError, clean, map_receiver

BUNDLE_TYPE = 2


class OrderError(ValueError):
    """The order cannot be sent; the message names the line or field and the reason."""


def _cents(value: Any) -> int:
    return int((Decimal(str(value or 0)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _whole(quantity: Decimal, what: str) -> int:
    if quantity != quantity.to_integral_value():
        raise OrderError(f"{what}: quantity {quantity.normalize()} is not a whole number")
    return int(quantity)


def map_positions(order: dict[str, Any]) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(order.get("OrderItems") or [], start=1):
        sold = item.get("Product") or {}
        sku = clean(sold.get("SKU"))
        line = f"line {index} ({sku or 'no SKU'})"
        if item.get("IsCoupon") or item.get("IsDiscount") or sold.get("IsDigital"):
            continue
        quantity = Decimal(str(item.get("Quantity") or 0))
        if quantity <= 0:
            continue
        is_bundle = sold.get("Type") == BUNDLE_TYPE or item.get("BundleComponents") is not None
        if is_bundle:
            components = item.get("BundleComponents") or []
            if not components:
                raise OrderError(f"{line}: bundle without components in the Billbee catalogue")
            parts = [(clean(c.get("SKU")), Decimal(str(c.get("Quantity") or 0)), f"{line}, component {c.get('SKU')}")
                     for c in components]
        else:
            parts = [(sku, quantity, line)]
        for part_sku, part_qty, what in parts:
            if not part_sku:
                raise OrderError(f"{what}: no SKU, so wemalo cannot match the article")
            qty = _whole(part_qty, what)
            # wemalo matches SKUs case-insensitively: "abc" and "ABC" are one position
            pos = merged.setdefault(part_sku.casefold(), {"externalId": part_sku, "quantity": 0,
                                               "externalPositionIdentifier": str(item.get("BillbeeId") or index)})
            pos["quantity"] += qty
            if not is_bundle:  # a bundle's price cannot be split over its components
                pos["total"] = pos.get("total", 0) + _cents(item.get("TotalPrice"))
                pos["tax"] = pos.get("tax", 0) + _cents(item.get("TaxAmount"))
    return [p for p in merged.values() if p["quantity"] > 0]


def dispatcher_profile(order: dict[str, Any], mapping: dict[str, str], profiles: dict[str, str]) -> str | None:
    """wemalo matchId for the order's Billbee shipping profile: explicit mapping first, then equal names."""
    names = [n for n in (clean(order.get("ShippingProfileName")), clean(order.get("ShippingProviderProductName")))
             if n]
    for name in names:  # an explicit mapping of either name wins over an equal name
        if name in mapping:
            return mapping[name]
    for name in names:
        if name.casefold() in profiles:
            return profiles[name.casefold()]
    return None


def map_goods_order(order: dict[str, Any], *, dispatcher_map: dict[str, str] | None = None,
                    profiles: dict[str, str] | None = None) -> dict[str, Any]:
    """The goods order for `order`; raises OrderError (or AddressError) with a reason a merchant can act on."""
    order_id = order.get("BillBeeOrderId")
    if order_id is None:
        raise OrderError("record without BillBeeOrderId")
    try:
        receiver = map_receiver(order.get("ShippingAddress"))
    except AddressError as exc:
        raise OrderError(str(exc)) from None
    positions = map_positions(order)
    if not positions:
        raise OrderError("nothing to ship: the order has only coupons, discounts, digital or zero-quantity lines")
    meta: dict[str, Any] = {
        "externalId": str(order_id),
        "orderNumber": clean(order.get("OrderNumber")) or str(order_id),
        "externalIdMatch": "sku",
        "receiver": [receiver],
    }
    if order.get("Currency"):
        meta["currency"] = order["Currency"]
    if order.get("TotalCost") is not None:
        meta["total"] = float(Decimal(str(order["TotalCost"])))
    profile = dispatcher_profile(order, dispatcher_map or {}, profiles or {})
    if profile:
        meta["dispatcherProfile"] = profile
    return {"meta": meta, "positions": positions}
