"""Billbee order -> wemalo goods order (`goodsOrder/add` body).

Positions are matched by SKU (`meta.externalIdMatch = "sku"`, as wemalo's own plugins do), so that products
created outside this connector work too. A bundle line is replaced by its components (the tap adds them as
`BundleComponents`); coupons, discounts and digital items have nothing to ship and are left out; lines for
the same SKU are merged. Money goes in cents (positions) and euros (meta), as the apidoc says.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from billbee_wemalo.billbee import BUNDLE_TYPE
from target_wemalo.address import MAX_LINE, AddressError, clean, map_receiver


class OrderError(ValueError):
    """The order cannot be sent; the message names the line or field and the reason."""


def _cents(value: Any) -> int:
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _money(*values: Any) -> Decimal | None:
    """The sum, or None when a value is missing or not a number: a price Billbee did not give is left out,
    never sent as 0."""
    try:
        return sum((Decimal(str(v)) for v in values), Decimal(0)) if all(v is not None for v in values) else None
    except InvalidOperation:
        return None


def _whole(quantity: Decimal, what: str) -> int:
    if quantity != quantity.to_integral_value():
        raise OrderError(f"{what}: quantity {quantity.normalize()} is not a whole number")
    return int(quantity)


def map_positions(order: dict[str, Any]) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    unpriced: set[tuple[str, str]] = set()  # (SKU, total|tax) left out of a position
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
        money = {"total": _money(item.get("TotalPrice")), "tax": _money(item.get("TaxAmount"))}
        for part_sku, part_qty, what in parts:
            if not part_sku:
                raise OrderError(f"{what}: no SKU, so wemalo cannot match the article")
            qty = _whole(part_qty, what)
            # wemalo matches SKUs case-insensitively: "abc" and "ABC" are one position
            pos = merged.setdefault(part_sku.casefold(), {"externalId": part_sku, "quantity": 0,
                                               "externalPositionIdentifier": str(item.get("BillbeeId") or index)})
            pos["quantity"] += qty
            if is_bundle:  # a bundle's price cannot be split over its components
                unpriced.update({(part_sku.casefold(), "total"), (part_sku.casefold(), "tax")})
                continue
            for key, value in money.items():
                if value is None:  # one line without a price: the merged sum would be wrong
                    unpriced.add((part_sku.casefold(), key))
                else:
                    pos[key] = pos.get(key, 0) + _cents(value)
    for sku_key, field in unpriced:
        merged[sku_key].pop(field, None)
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
                    profiles: dict[str, str] | None = None, line_limit: int = MAX_LINE) -> dict[str, Any]:
    """The goods order for `order`; raises OrderError (or AddressError) with a reason a merchant can act on."""
    order_id = order.get("BillBeeOrderId")
    if order_id is None:
        raise OrderError("record without BillBeeOrderId")
    try:
        receiver = map_receiver(order.get("ShippingAddress"), line_limit)
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
    # The order's total as the customer pays it: the lines plus shipping, added up here. Billbee's TotalCost is
    # "excluding shipping cost" in the spec and reported otherwise in practice (docs/api-contract.md,
    # "Billbee: order money"), so it is not used. Left out when a figure is missing.
    total = _money(*(i.get("TotalPrice") for i in order.get("OrderItems") or []), order.get("ShippingCost"))
    if total is not None and order.get("OrderItems"):
        meta["total"] = float(total)
    profile = dispatcher_profile(order, dispatcher_map or {}, profiles or {})
    if profile:
        meta["dispatcherProfile"] = profile
    return {"meta": meta, "positions": positions}
