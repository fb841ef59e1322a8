"""Billbee deliveries, whatever their shape (undocumented; docs/api-contract.md, "Billbee: webhooks").

Accepted: the Microsoft ASP.NET WebHooks envelope `{"Id", "Attempt", "Properties", "Notifications": [{"Action",
...}]}`, a list of notifications, or one bare event or order object. The order id is looked for in `OrderId`,
`BillBeeOrderId` (any case, also snake case), `OrderIds`, the `Id` of an order object (under `Order`, `Data`,
`Payload`, ... or an object that looks like an order), and in `Properties`. A notification without one becomes a
full-sync event: nothing is dropped. Where a notification of one order shows its `State` and `Tags`, the event
keeps them as a hint (`hint`): tags and a state, no names or addresses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from billbee_wemalo_events.auth import Refused
from billbee_wemalo_events.events import BILLBEE_TO_WEMALO, Event

ORDER_ID_KEYS = {"orderid", "billbeeorderid", "order_id", "billbee_order_id", "billbeeid"}
ORDER_ID_LIST_KEYS = {"orderids", "order_ids", "billbeeorderids"}
ORDER_CONTAINERS = {"order", "orders", "data", "payload", "entity", "object", "content", "value", "record"}
ORDER_MARKERS = {"OrderNumber", "OrderItems", "State", "LastModifiedAt", "Tags", "ShippingAddress", "InvoiceNumber"}
MAX_DEPTH = 5


def _as_id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return str(value)
    if isinstance(value, str) and value.strip().isdigit() and int(value) > 0:
        return str(int(value))
    return None


def _looks_like_order(obj: dict[str, Any]) -> bool:
    return len(ORDER_MARKERS & set(obj)) >= 2


def order_ids(obj: Any, depth: int = 0, in_order: bool = False) -> list[str]:
    """Every Billbee order id named in `obj`, in order of appearance, each once."""
    found: list[str] = []
    if depth > MAX_DEPTH:
        return found
    if isinstance(obj, list):
        for item in obj:
            found += order_ids(item, depth + 1, in_order)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            lowered = str(key).lower()
            if lowered in ORDER_ID_KEYS and (ident := _as_id(value)):
                found.append(ident)
            elif lowered in ORDER_ID_LIST_KEYS and isinstance(value, list):
                found += [ident for v in value if (ident := _as_id(v))]
            elif lowered == "id" and (in_order or _looks_like_order(obj)) and not _has_explicit(obj):
                if ident := _as_id(value):
                    found.append(ident)
            elif isinstance(value, dict | list) and (lowered in ORDER_CONTAINERS or lowered == "properties"):
                found += order_ids(value, depth + 1, in_order=lowered in {"order", "orders"})
    return list(dict.fromkeys(found))


def _has_explicit(obj: dict[str, Any]) -> bool:
    return any(str(k).lower() in ORDER_ID_KEYS for k in obj)


def _action(notification: dict[str, Any]) -> str:
    for key in ("Action", "action", "Event", "event", "EventType", "Type", "Filter"):
        value = notification.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:64]
    return "unknown"


def _notifications(data: Any) -> tuple[list[Any], dict[str, Any], str | None]:
    """(notifications, envelope properties, delivery id)."""
    if isinstance(data, dict) and isinstance(data.get("Notifications"), list):
        raw_props = data.get("Properties")
        props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
        delivery = data.get("Id")
        notifications: list[Any] = data["Notifications"] or [{}]
        return notifications, props, str(delivery)[:128] if delivery not in (None, "") else None
    if isinstance(data, list):
        return data or [{}], {}, None
    if isinstance(data, dict):
        return [data], {}, None
    raise Refused(400, "Billbee delivery is neither a JSON object nor a list")


def hint(item: dict[str, Any], order_id: str) -> dict[str, Any] | None:
    """The order's `State` and `Tags` as this notification shows them (beside `Action`, the library's merged
    reading, or in an `Order`/`Data`/... object with this order's id): tap-billbee then need not read an order
    whose every event shows nothing to do (tap_billbee/hints.py). None when the delivery does not show both."""
    candidates = [item] + [v for k, v in item.items() if str(k).lower() in ORDER_CONTAINERS and isinstance(v, dict)]
    for obj in candidates:
        if "State" not in obj or "Tags" not in obj:
            continue
        named = order_ids({k: v for k, v in obj.items() if str(k).lower() != "properties"}, in_order=obj is not item)
        if named == [order_id]:
            found = {"State": obj["State"], "Tags": obj["Tags"]}
            if obj.get("IsCancelationFor"):
                found["IsCancelationFor"] = obj["IsCancelationFor"]
            return found
    return None


def parse(body: bytes) -> Iterator[tuple[Event, Any]]:
    """(event, the content its duplicate key is made of) for each order a delivery names."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "Billbee delivery is not JSON") from None
    notifications, props, delivery = _notifications(data)
    for notification in notifications:
        item = notification if isinstance(notification, dict) else {"value": notification}
        action = _action(item)
        ids = order_ids(item) or order_ids({"Properties": props})
        if not ids:
            yield Event("billbee", action, BILLBEE_TO_WEMALO, None, delivery, {"order_id": None}), item
        for ident in ids:
            detail: dict[str, Any] = {"order_id": ident}
            if len(ids) == 1 and (shown := hint(item, ident)) is not None:
                detail["hint"] = shown
            yield Event("billbee", action, BILLBEE_TO_WEMALO, ident, delivery, detail), item
