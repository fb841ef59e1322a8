"""wemalo deliveries, whatever their shape (undocumented; docs/api-contract.md, "wemalo: webhooks").

Accepted: JSON or form-encoded (PHP-style nested names `eventData[orderId]=...` too); the event's fields flat (the
apidoc's `orderId, externalId, orderNumber`) or under `eventData` / `data` (what wemalo's own shop plugin reads),
with the token at the top. The event name comes from the body (`event`) or, when the body does not say, from the
URL the hook was registered with (`?event=...` or the path segment after `/wemalo/`): `register` gives each event
its own URL.

`status_update` names wemalo's goods order id and its externalId (the Billbee order id), `trackingnumber_added` as
documented only wemalo's ids: `links` gives the queue the pairs to remember, `goods_order_id` the id the worker looks
up for an event that names no Billbee order. `stock_change` is left out of both: its `orderId`/`externalId` name
the booking's goods receipt or return, not a goods order.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

from billbee_wemalo_events.auth import Refused
from billbee_wemalo_events.events import WEMALO_TO_BILLBEE, Event

ORDER_EVENTS = ("status_update", "trackingnumber_added")
STOCK_EVENTS = ("stock_change",)
IGNORED_EVENTS = ("refurbishment_action",)  # nothing the connector moves
KNOWN_EVENTS = (*ORDER_EVENTS, *STOCK_EVENTS, *IGNORED_EVENTS)
EXTERNAL_ID_KEYS = ("externalId", "goodsOrderExternalId", "externalGoodsOrderId", "extGoodsOrderId",
                    "externalOrderId")
WEMALO_ID_KEYS = ("orderId", "goodsOrderId")
BRACKETS = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])+)")
SEGMENT = re.compile(r"\[([^\[\]]*)\]")


def decode(body: bytes, content_type: str) -> Any:
    """JSON, else form fields (a field holding JSON, e.g. `eventData`, is decoded too)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "wemalo delivery is not UTF-8") from None
    if not text.strip():
        raise Refused(400, "wemalo delivery with an empty body")
    try:
        return json.loads(text)
    except ValueError:
        if "json" in content_type.lower() or "=" not in text:
            raise Refused(400, "wemalo delivery is neither JSON nor form fields") from None
    fields: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        decoded: Any = value
        if value[:1] in "{[":
            with contextlib.suppress(ValueError):
                decoded = json.loads(value)
        _put(fields, key, decoded)
    return fields


def _put(fields: dict[str, Any], key: str, value: Any) -> None:
    """A form field into `fields`; PHP-style names nest (`eventData[orderId]=1` -> {"eventData": {"orderId":
    "1"}}), as a PHP sender such as wemalo's encodes an array; an empty value is null (PHP sends null as "")."""
    match = BRACKETS.fullmatch(key)
    if match is None:
        fields[key] = value
        return
    path = [match.group(1), *SEGMENT.findall(match.group(2))]
    node = fields
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value if value != "" else None


def body_token(data: Any) -> object:
    return data.get("token") if isinstance(data, dict) else None


def _event_name(item: dict[str, Any], hint: str | None) -> str:
    for key in ("event", "eventName", "type_event", "hook"):
        value = item.get(key)
        if isinstance(value, str) and value.strip().lower() in KNOWN_EVENTS:
            return value.strip().lower()
    return (hint or "unknown").strip().lower()[:64] or "unknown"


def _first(data: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:64]
    return None


def parse(data: Any, hint: str | None) -> Iterator[tuple[Event, Any]]:
    """(event, content for its duplicate key) per event the delivery carries; none for ignored event names."""
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(i, dict) for i in items):
        raise Refused(400, "wemalo delivery is not a JSON object (or a list of them)")
    for item in items:
        fields = item.get("eventData") or item.get("data") or item
        if not isinstance(fields, dict):
            raise Refused(400, "wemalo delivery whose eventData is not an object")
        name = _event_name(item, hint)
        if name in IGNORED_EVENTS:
            continue
        content = {k: v for k, v in fields.items() if k != "token"}
        detail = {"wemalo_order_id": _first(fields, WEMALO_ID_KEYS),
                  "parcel_id": _first(fields, ("goodsOrderParcelId", "parcelId", "packageId"))}
        external = _first(fields, EXTERNAL_ID_KEYS) if name not in STOCK_EVENTS else None
        delivery = _first(item, ("eventId", "deliveryId", "id")) if fields is not item else None
        yield Event("wemalo", name, WEMALO_TO_BILLBEE, external, delivery,
                    {k: v for k, v in {**detail, "order_id": external}.items() if v is not None}), content


def goods_order_id(source: str, kind: str, detail: Mapping[str, Any]) -> str | None:
    """wemalo's own goods order id an event names (`orderId`, `goodsOrderId`), for order events only."""
    value = detail.get("wemalo_order_id") if source == "wemalo" and kind in ORDER_EVENTS else None
    return str(value) if value else None


def links(events: Iterable[Event]) -> list[tuple[str, str]]:
    """(wemalo goods order id, Billbee order id) of each order event that names both."""
    return [(wemalo_id, ev.order_id) for ev in events
            if ev.order_id and (wemalo_id := goods_order_id(ev.source, ev.kind, ev.detail))]
