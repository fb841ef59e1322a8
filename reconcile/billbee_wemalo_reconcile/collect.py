"""Reads both systems (read-only: nothing is ever written) and runs the checks of `checks.py`.

Cost per run: Billbee `/products` and `/orders` pages, plus one `GET /orders/{id}` per order with a parcel in
the window that neither order list held; wemalo one `product/getAll`, one `getStatus` per paid, tagged
order, the `sentPackages` pages of the parcel window and the `returns/booked` pages (plus one Billbee
`GET /orders/{id}` per order with an unsynchronised return that no list held). The shared clients keep to
both APIs' limits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from billbee_wemalo.billbee import BillbeeClient, ConnectorTags, OrderState, format_query_time, has_tag
from billbee_wemalo.http import NotFoundError
from billbee_wemalo.wemalo import WemaloClient
from billbee_wemalo_reconcile import checks


@dataclass
class Options:
    orders_tag: str = "wemalo"
    order_state_ids: tuple[int, ...] = (int(OrderState.PAID),)
    older_than: timedelta = timedelta(hours=2)
    parcel_days: float = 7.0
    returns: bool = False  # also the returns booked in wemalo (the tap's sync_returns)
    billbee_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    wemalo_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Berlin"))


def reconcile(billbee: BillbeeClient, wemalo: WemaloClient, options: Options,
              now: datetime | None = None) -> checks.Result:
    now = now or datetime.now(UTC)
    tags = ConnectorTags(options.orders_tag)
    counts: Counter[str] = Counter()
    result = checks.Result(checked_at=now, older_than=options.older_than, counts=counts)

    articles = list(billbee.iter_products())
    counts["articles"] = len(articles)
    catalogue = checks.WemaloCatalogue(wemalo.list_products())
    result.articles = checks.article_findings(articles, catalogue)

    paid = [o for o in billbee.iter_orders(state_ids=list(options.order_state_ids) or None, tags=[tags.orders_tag])
            if has_tag(o.get("Tags"), tags.orders_tag) and not o.get("IsCancelationFor")]
    statuses = {str(o["BillBeeOrderId"]): wemalo.order_status(str(o["BillBeeOrderId"])) for o in paid}
    result.orders = checks.order_findings(paid, statuses, tags=tags, wemalo=catalogue,
                                          bundles=checks.BundleIndex(articles), now=now,
                                          older_than=options.older_than, zone=options.billbee_zone, counts=counts)
    result.held = [f for f in result.orders if f.kind == "held_in_wemalo"]
    result.orders = [f for f in result.orders if f.kind != "held_in_wemalo"]

    window_start = now - timedelta(days=options.parcel_days)
    local = now.astimezone(options.wemalo_zone).replace(tzinfo=None)
    bookings = list(wemalo.iter_sent_bookings(window_start.astimezone(options.wemalo_zone).replace(tzinfo=None),
                                              local + timedelta(minutes=1)))
    parcels = checks.group_parcels(bookings, options.wemalo_zone)
    billbee_orders: dict[str, dict[str, Any] | None] = {str(o["BillBeeOrderId"]): o for o in paid}
    if parcels:  # shipped orders have left the paid state: one list query for the window, then single reads
        since = format_query_time(window_start.astimezone(options.billbee_zone))
        for order in billbee.iter_orders(tags=[tags.orders_tag], modified_after=since):
            billbee_orders.setdefault(str(order["BillBeeOrderId"]), order)
    for order_id in sorted({p.order_id for p in parcels} - set(billbee_orders)):
        billbee_orders[order_id] = _get_order(billbee, order_id)
    result.parcels = checks.parcel_findings(parcels, billbee_orders, now=now, older_than=options.older_than,
                                            counts=counts)

    if not options.returns:
        return result
    returns = list(wemalo.iter_booked_returns())
    for order_id in sorted({checks.clean(r.get("goodsOrderExternalId")) for r in returns} - set(billbee_orders)):
        billbee_orders[order_id] = _get_order(billbee, order_id) if order_id else None
    result.returns = checks.return_findings(returns, billbee_orders, now=now, older_than=options.older_than,
                                            zone=options.wemalo_zone, counts=counts)
    return result


def _get_order(billbee: BillbeeClient, order_id: str) -> dict[str, Any] | None:
    if not order_id.isdigit():
        return None
    try:
        return billbee.get_order(int(order_id))
    except NotFoundError:
        return None
