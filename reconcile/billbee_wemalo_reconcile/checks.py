"""The comparison itself, on data already read from both systems (no HTTP here, see `collect.py`).

The article rules mirror target-wemalo's (`target_wemalo/products.py`): SKU and EAN are required, a bundle
(Type 2) is never a wemalo product, a SKU or EAN that another product already has is refused. The wemalo
`externalId` of a product is the Billbee article id; a wemalo product without one (created outside the
connector, or an account whose product list omits it) is matched by SKU, as order positions are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from billbee_wemalo.billbee import BUNDLE_TYPE, ConnectorTags, has_tag
from billbee_wemalo.protocol import bookings_named
from billbee_wemalo.wemalo import parse_wemalo_datetime
from billbee_wemalo.wemalo.holds import judge

EAN_FIELDS = ("ean", "ean2", "ean3", "ean4")


def clean(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def parse_billbee_time(value: str | None, zone: ZoneInfo) -> datetime | None:
    """Billbee's naive timestamps are in `zone` (the tap's `billbee_timezone`)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


@dataclass
class Finding:
    """One thing that did not move. `attention` False: listed for information only (bundles)."""

    check: str  # "order" | "parcel" | "article" | "return"
    kind: str
    reason: str
    key: dict[str, Any]
    attention: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {**self.key, "kind": self.kind, "reason": self.reason, "needs_attention": self.attention}


@dataclass
class Result:
    checked_at: datetime
    older_than: timedelta
    orders: list[Finding] = field(default_factory=list)
    parcels: list[Finding] = field(default_factory=list)
    articles: list[Finding] = field(default_factory=list)
    returns: list[Finding] = field(default_factory=list)
    held: list[Finding] = field(default_factory=list)  # orders wemalo holds (stuck), and why
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def attention(self) -> int:
        return sum(f.attention for f in (*self.orders, *self.held, *self.parcels, *self.articles, *self.returns))

    @property
    def ok(self) -> bool:
        return self.attention == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "needs_attention": self.attention,
            "checked_at": self.checked_at.isoformat(),
            "older_than_hours": self.older_than.total_seconds() / 3600,
            "orders_missing_in_wemalo": [f.as_dict() for f in self.orders],
            "orders_held_in_wemalo": [f.as_dict() for f in self.held],
            "parcels_missing_in_billbee": [f.as_dict() for f in self.parcels],
            "articles_not_in_wemalo": [f.as_dict() for f in self.articles],
            "returns_not_in_billbee": [f.as_dict() for f in self.returns],
            "checked": dict(self.counts),
        }


# -- articles ------------------------------------------------------------------------------------------------


class WemaloCatalogue:
    """wemalo's products, by externalId, SKU (case-insensitive, as wemalo matches) and EAN."""

    def __init__(self, products: list[dict[str, Any]]) -> None:
        self.by_ext: dict[str, dict[str, Any]] = {}
        self.by_sku: dict[str, dict[str, Any]] = {}
        self.by_ean: dict[str, dict[str, Any]] = {}
        for product in products:
            ext = clean(product.get("externalId") or product.get("extId"))
            if ext:
                self.by_ext[ext] = product
            if clean(product.get("sku")):
                self.by_sku[clean(product["sku"]).casefold()] = product
            for key in EAN_FIELDS:
                if clean(product.get(key)):
                    self.by_ean.setdefault(clean(product[key]), product)

    def has_sku(self, sku: str) -> bool:
        return sku.casefold() in self.by_sku


def _label(product: dict[str, Any]) -> str:
    ext = clean(product.get("externalId") or product.get("extId"))
    return f"{product.get('sku')}" + (f" (externalId {ext})" if ext else "")


def article_findings(articles: list[dict[str, Any]], wemalo: WemaloCatalogue) -> list[Finding]:
    billbee_ids = {str(a.get("Id")) for a in articles}
    sendable = [a for a in articles if a.get("Type") != BUNDLE_TYPE and clean(a.get("SKU")) and clean(a.get("EAN"))]
    users_of_ean: dict[str, list[dict[str, Any]]] = defaultdict(list)
    users_of_sku: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for article in sendable:
        users_of_ean[clean(article["EAN"])].append(article)
        users_of_sku[clean(article["SKU"]).casefold()].append(article)

    out = []
    for article in articles:
        ext, sku, ean = str(article.get("Id")), clean(article.get("SKU")), clean(article.get("EAN"))
        if ext in wemalo.by_ext:
            continue
        by_sku = wemalo.by_sku.get(sku.casefold()) if sku else None
        foreign_sku_owner = None
        if by_sku is not None:
            owner = clean(by_sku.get("externalId") or by_sku.get("extId"))
            if not owner or owner not in billbee_ids:
                continue  # a wemalo product with this SKU that is no other Billbee article's: orders match it
            foreign_sku_owner = by_sku

        kind, reason, attention = _why_not_in_wemalo(article, sku, ean, foreign_sku_owner, wemalo,
                                                     users_of_ean, users_of_sku)
        out.append(Finding("article", kind, reason, {"article_id": article.get("Id"), "sku": sku or None,
                                                     "ean": ean or None}, attention))
    return out


def _why_not_in_wemalo(article: dict[str, Any], sku: str, ean: str, foreign_sku_owner: dict[str, Any] | None,
                       wemalo: WemaloCatalogue, users_of_ean: dict[str, list[dict[str, Any]]],
                       users_of_sku: dict[str, list[dict[str, Any]]]) -> tuple[str, str, bool]:
    if article.get("Type") == BUNDLE_TYPE:
        return "bundle", "bundle (Stückliste): never a wemalo product, only its components are", False
    if not sku:
        return "no_sku", "no SKU (wemalo requires one)", True
    if not ean:
        return "no_ean", "no EAN (wemalo requires one)", True
    if foreign_sku_owner is not None:
        return "duplicate_sku", f"SKU {sku} already belongs to wemalo product {_label(foreign_sku_owner)}", True
    if ean in wemalo.by_ean:
        return "duplicate_ean", f"EAN {ean} already belongs to wemalo product {_label(wemalo.by_ean[ean])}", True
    if len(users_of_ean[ean]) > 1:
        others = ", ".join(f"{a.get('SKU')} (id {a.get('Id')})" for a in users_of_ean[ean] if a is not article)
        return "duplicate_ean", f"EAN {ean} is also the EAN of Billbee article {others}", True
    if len(users_of_sku[sku.casefold()]) > 1:
        others = ", ".join(f"id {a.get('Id')}" for a in users_of_sku[sku.casefold()] if a is not article)
        return "duplicate_sku", f"SKU {sku} is also the SKU of Billbee article {others}", True
    return "not_transferred", "has SKU and EAN but is not in wemalo: not transferred yet (did the last sync run?)", True


# -- orders --------------------------------------------------------------------------------------------------


class BundleIndex:
    """Bundle article -> component SKUs, from the Billbee catalogue (as the tap expands bundle lines)."""

    def __init__(self, articles: list[dict[str, Any]]) -> None:
        self.sku_by_id = {a.get("Id"): clean(a.get("SKU")) for a in articles}
        self.id_by_sku = {clean(a.get("SKU")).casefold(): a.get("Id") for a in articles if clean(a.get("SKU"))}
        self.bom = {a.get("Id"): list(a.get("BillOfMaterial") or []) for a in articles
                    if a.get("Type") == BUNDLE_TYPE}

    def skus_of_line(self, item: dict[str, Any]) -> list[str]:
        """The SKUs wemalo needs for an order line ("" for a line without SKU); [] for nothing to ship."""
        sold = item.get("Product") or {}
        if item.get("IsCoupon") or item.get("IsDiscount") or sold.get("IsDigital"):
            return []
        try:
            if float(item.get("Quantity") or 0) <= 0:
                return []
        except (TypeError, ValueError):
            return []
        article_id = sold.get("BillbeeId")
        if article_id not in self.bom:
            article_id = self.id_by_sku.get(clean(sold.get("SKU")).casefold(), article_id)
        if sold.get("Type") == BUNDLE_TYPE or article_id in self.bom:
            return [clean(part.get("SKU")) or self.sku_by_id.get(part.get("ArticleId"), "")
                    for part in self.bom.get(article_id, [])] or [""]
        return [clean(sold.get("SKU"))]


def _order_key(order: dict[str, Any]) -> dict[str, Any]:
    return {"order_id": str(order.get("BillBeeOrderId")), "order_number": order.get("OrderNumber")}


def _held(status: dict[str, Any], now: datetime) -> str:
    """Why wemalo holds the order at once (its address, blocked after packing: billbee_wemalo.wemalo.holds, as
    target-wemalo's stuck check judges it), or "". How long an order has been PARTIAL for another reason cannot be
    read from either API (target-wemalo's state knows it and flags it in Billbee), so it is not listed here."""
    verdict, _ = judge(status, None, now, partial_hours=1.0)  # since = now: a PARTIAL order is never "for long"
    return verdict.reason if verdict.stuck else ""


def order_findings(orders: list[dict[str, Any]], statuses: dict[str, dict[str, Any] | None], *,
                   tags: ConnectorTags, wemalo: WemaloCatalogue, bundles: BundleIndex, now: datetime,
                   older_than: timedelta, zone: ZoneInfo, counts: dict[str, int]) -> list[Finding]:
    """Paid (configured states), tagged orders that wemalo does not have although they are old enough, and
    those wemalo holds for their address or blocked after packing."""
    out = []
    for order in orders:
        order_id = str(order.get("BillBeeOrderId"))
        status = statuses.get(order_id)
        counts["orders"] += 1
        if status is not None:
            if status.get("statusName") == "CANCELLED":
                out.append(Finding("order", "cancelled_in_wemalo", "cancelled in wemalo but still paid and tagged "
                                   "in Billbee", _order_key(order)))
            held = _held(status, now)
            if held:
                counts["orders_held_in_wemalo"] += 1
                out.append(Finding("order", "held_in_wemalo", held, {**_order_key(order),
                                                                      "wemalo_status": status.get("statusName")}))
            continue
        since = parse_billbee_time(order.get("PayedAt") or order.get("CreatedAt"), zone)
        if since is not None and now - since < older_than:
            counts["orders_too_recent"] += 1
            continue
        order_tags = order.get("Tags") or []
        missing_skus = sorted({sku or "(line without SKU)"
                               for item in order.get("OrderItems") or [] for sku in bundles.skus_of_line(item)
                               if not sku or not wemalo.has_sku(sku)})
        cause = f"; articles not in wemalo: {', '.join(missing_skus)}" if missing_skus else ""
        if has_tag(order_tags, tags.received):
            kind, reason = "received_but_missing", (f"tagged {tags.received} in Billbee, but wemalo has no goods "
                                                    "order with this id")
        elif has_tag(order_tags, tags.error):
            kind, reason = "rejected", (f"refused (tag {tags.error}; the reason is in the order's internal "
                                        f"messages){cause}")
        else:
            kind, reason = "not_transferred", (f"not in wemalo: not sent yet, or refused by the last sync (the tag "
                                               f"{tags.error} follows with the next run){cause}")
        out.append(Finding("order", kind, reason, {**_order_key(order), "paid_at": order.get("PayedAt")}))
    return out


# -- parcels -------------------------------------------------------------------------------------------------


@dataclass
class Parcel:
    order_id: str
    tracking_number: str
    handed_over_at: datetime
    carrier: str | None = None


def group_parcels(bookings: list[dict[str, Any]], zone: ZoneInfo) -> list[Parcel]:
    """sentPackages rows (one per product line per parcel) -> parcels, as tap-wemalo-shipments groups them."""
    parcels: dict[tuple[str, str], Parcel] = {}
    for row in bookings:
        order_id, tracking = clean(row.get("externalGoodsOrderId")), clean(row.get("trackingNumber"))
        when = row.get("handoverDate") or row.get("bookingDate")
        if not order_id or not tracking or not when:
            continue
        handed = datetime.strptime(when, "%d.%m.%Y %H:%M:%S").replace(tzinfo=zone)
        parcels.setdefault((order_id, tracking), Parcel(order_id, tracking, handed, row.get("dispatcherName")))
    return list(parcels.values())


def parcel_findings(parcels: list[Parcel], billbee_orders: dict[str, dict[str, Any] | None], *, now: datetime,
                    older_than: timedelta, counts: dict[str, int]) -> list[Finding]:
    """Parcels wemalo handed to the carrier whose tracking number is not on the Billbee order."""
    out = []
    for parcel in parcels:
        counts["parcels"] += 1
        order = billbee_orders.get(parcel.order_id)
        if order is not None and parcel.tracking_number in {
                clean(s.get("ShippingId")) for s in order.get("ShippingIds") or []}:
            continue
        if now - parcel.handed_over_at < older_than:
            counts["parcels_too_recent"] += 1
            continue
        key = {"order_id": parcel.order_id, "order_number": (order or {}).get("OrderNumber"),
               "tracking_number": parcel.tracking_number, "handed_over_at": parcel.handed_over_at.isoformat()}
        if order is None:
            out.append(Finding("parcel", "order_unknown", "wemalo shipped it for an order Billbee does not have",
                               key))
        else:
            out.append(Finding("parcel", "tracking_missing", "handed to the carrier, but the tracking number is "
                               "not on the Billbee order", key))
    return out


# -- returns -------------------------------------------------------------------------------------------------

def return_findings(bookings: list[dict[str, Any]], billbee_orders: dict[str, dict[str, Any] | None], *,
                    now: datetime, older_than: timedelta, zone: ZoneInfo, counts: dict[str, int]) -> list[Finding]:
    """Return bookings wemalo still lists as not synchronised (`returns/booked`) although booked long enough
    ago: per order, whether the message is on the Billbee order (then only wemalo's mark is missing)."""
    by_order: dict[str, list[dict[str, Any]]] = {}
    for booking in bookings:
        counts["returns_booked"] += 1
        booked = parse_wemalo_time(booking.get("bookingDate"), zone)
        if booked is not None and now - booked < older_than:
            counts["returns_too_recent"] += 1
            continue
        by_order.setdefault(clean(booking.get("goodsOrderExternalId")), []).append(booking)
    out = []
    for order_id, rows in sorted(by_order.items()):
        ids = sorted(clean(r.get("id")) for r in rows)
        order = billbee_orders.get(order_id) if order_id else None
        key = {"order_id": order_id or None, "order_number": (order or {}).get("OrderNumber"), "booking_ids": ids}
        if order is None:
            out.append(Finding("return", "order_unknown", "wemalo booked a return for an order Billbee does not "
                               "have (or for none); it stays in wemalo's list", key))
        elif set(ids) <= bookings_named(order):
            out.append(Finding("return", "not_marked", "on the Billbee order, but not yet marked synchronised in "
                               "wemalo (the next wemalo-to-billbee run does)", key))
        else:
            out.append(Finding("return", "not_written", "booked in wemalo, not on the Billbee order", key))
    return out


def parse_wemalo_time(value: Any, zone: ZoneInfo) -> datetime | None:
    try:
        return parse_wemalo_datetime(str(value)).replace(tzinfo=zone) if value else None
    except ValueError:
        return None
