"""Billbee sends naive timestamps (docs/api-contract.md, "Billbee: timestamps"); the tap emits ISO 8601 with an offset.

The frame of Billbee's naive values is unknown, so it is a setting (`billbee_timezone`, default UTC). The
same setting converts bookmarks back for `modifiedAtMin`, so the query round-trips in Billbee's own frame
whether or not the setting is right; only the offsets in the emitted records depend on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from billbee_wemalo.billbee import format_query_time

ORDER_TIME_FIELDS = ("CreatedAt", "ShippedAt", "ConfirmedAt", "PayedAt", "InvoiceDate", "UpdatedAt",
                     "LastModifiedAt", "ArchivedAt", "RestoredAt")


def to_aware(value: str | None, zone: ZoneInfo) -> str | None:
    """'2023-04-29T13:31:59.317' -> '2023-04-29T13:31:59.317000+00:00' (values with an offset are kept)."""
    if not value:
        return value
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.isoformat()


def to_billbee_query(value: datetime, zone: ZoneInfo) -> str:
    """An aware datetime as the naive value Billbee compares against."""
    if value.tzinfo is not None:
        value = value.astimezone(zone)
    return format_query_time(value)


def normalise_order_times(order: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    for key in ORDER_TIME_FIELDS:
        if key in order:
            order[key] = to_aware(order[key], zone)
    for shipment in order.get("ShippingIds") or []:
        if "Created" in shipment:
            shipment["Created"] = to_aware(shipment["Created"], zone)
    return order
