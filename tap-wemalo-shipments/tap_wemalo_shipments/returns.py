"""The `returns` stream: return bookings wemalo has not marked as synchronised, one record per returned order.

wemalo keeps each booked return item in `returns/booked` until a client marks it synchronised (`PUT
returns/booked/:bookingId`; docs/api-contract.md, "wemalo: returns"). That is a queue, so this stream reads it
whole every run and has no time bookmark. The mark is set only once Billbee has the return: target-billbee
lists the bookings it wrote in the state it emits (protocol.PENDING_RETURN_ACKS_KEY), Meltano stores that state
after the target finished, and the next run of this tap marks them at its start and drops them from the state.
A booking whose mark failed transiently stays listed and is marked next run; until then it is not read again.

The apidoc names no quantity field for a booking (one row per booked item, like the sent bookings' `count`
would be): a row's `quantity` or `count` is used when wemalo sends one, else the row counts as one piece.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from singer_sdk import typing as th
from singer_sdk.helpers.types import Context
from typing_extensions import override

from billbee_wemalo.http import ClientError, NotFoundError, TransientError
from billbee_wemalo.protocol import PENDING_RETURN_ACKS_KEY
from billbee_wemalo.wemalo import parse_wemalo_datetime
from tap_wemalo_shipments.streams import WemaloStream

# The apidoc's example spells the external product id `externaProductlId`; the field list `externalProductId`.
EXTERNAL_PRODUCT_ID_FIELDS = ("externalProductId", "externaProductlId")
ITEM = th.ObjectType(
    th.Property("booking_id", th.StringType, required=True, description="wemalo booking history id"),
    th.Property("external_product_id", th.StringType, description="wemalo externalId: the Billbee article id"),
    th.Property("product_id", th.StringType, description="wemalo product id"),
    th.Property("product_name", th.StringType),
    th.Property("sku", th.StringType, description="only when wemalo sends one (the apidoc names none)"),
    th.Property("quantity", th.IntegerType, description="the row's quantity/count, else 1 (one row per item)"),
    th.Property("reason_code", th.StringType, description="wemalo's return reason (external code)"),
    th.Property("condition", th.StringType, description="attributeCode: the stock attribute it was booked to"),
    th.Property("condition_is_default", th.BooleanType, description="attributeDefault: booked as first choice"),
    th.Property("serial_number", th.StringType),
    th.Property("ready_for_shipment", th.BooleanType, description="wemalo can ship the item again"),
    th.Property("booked_at", th.DateTimeType),
)


def _text(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _quantity(row: dict[str, Any]) -> int:
    for name in ("quantity", "count"):
        value = row.get(name)
        if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
            return int(value)
    return 1


class ReturnsStream(WemaloStream):
    name = "returns"
    primary_keys = ("return_id",)
    schema = th.PropertiesList(
        th.Property("return_id", th.StringType, required=True,
                    description="`<order external id>/<first booking id>` (`no-order/...` without one)"),
        th.Property("order_external_id", th.StringType,
                    description="the Billbee order id (goodsOrderExternalId); null when wemalo links no order"),
        th.Property("order_number", th.StringType, description="wemalo goodsOrderNumber"),
        th.Property("delivery_number", th.StringType, description="goodsReceiptDeliveryNumber"),
        th.Property("tracking_number", th.StringType, description="the return parcel's, when wemalo sends one"),
        th.Property("booking_ids", th.ArrayType(th.StringType), required=True),
        th.Property("items", th.ArrayType(ITEM), required=True),
        th.Property("booked_at", th.DateTimeType, description="the latest booking of the record"),
    ).to_dict()

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        marked = self._mark_acknowledged()
        by_order: dict[str, list[dict[str, Any]]] = {}
        for row in self.client.iter_booked_returns():
            booking = _text(row.get("id"))
            if booking is None:
                self.logger.warning("Return booking without an id skipped: %s", sorted(row))
                continue
            if booking in marked or booking in self._pending():
                continue  # marked synchronised this run (wemalo's list may lag) or waiting to be marked
            order = _text(row.get("goodsOrderExternalId")) or ""
            by_order.setdefault(order, []).append(row)
        for order, rows in by_order.items():
            yield self._record(order, rows)

    def _pending(self) -> dict[str, Any]:
        pending: dict[str, Any] = self.stream_state.setdefault(PENDING_RETURN_ACKS_KEY, {})
        return pending

    def _mark_acknowledged(self) -> set[str]:
        """Mark the bookings Billbee has (the last run's target-billbee listed them) as synchronised."""
        pending = self._pending()
        marked: set[str] = set()
        for booking in sorted(pending):
            try:
                self.client.mark_return_synchronised(booking)
            except TransientError as exc:
                self.logger.warning("wemalo return booking %s: not marked synchronised, kept for the next run: %s",
                                    booking, exc)
                continue
            except NotFoundError:
                self.logger.warning("wemalo return booking %s: unknown to wemalo; dropped", booking)
            except ClientError as exc:  # e.g. marked already: it has left returns/booked either way
                self.logger.warning("wemalo return booking %s: mark refused (%s); dropped", booking, exc)
            marked.add(booking)
            del pending[booking]
        if marked:
            self.logger.info("wemalo: %d return bookings marked synchronised", len(marked))
        return marked

    def _aware(self, value: Any) -> str | None:
        text = _text(value)
        if text is None:
            return None
        try:
            return parse_wemalo_datetime(text).replace(tzinfo=self.run.zone).isoformat()
        except ValueError:
            return None

    def _record(self, order: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
        items = []
        for row in sorted(rows, key=lambda r: (len(str(r["id"]).strip()), str(r["id"]).strip())):
            external = next((_text(row.get(f)) for f in EXTERNAL_PRODUCT_ID_FIELDS if _text(row.get(f))), None)
            items.append({
                "booking_id": str(row["id"]).strip(),
                "external_product_id": external,
                "product_id": _text(row.get("productId")),
                "product_name": _text(row.get("productName")),
                "sku": _text(row.get("sku")),
                "quantity": _quantity(row),
                "reason_code": _text(row.get("reasonCode")),
                "condition": _text(row.get("attributeCode")),
                "condition_is_default": row.get("attributeDefault") if isinstance(row.get("attributeDefault"),
                                                                                  bool) else None,
                "serial_number": _text(row.get("serialNumber")),
                "ready_for_shipment": row.get("readyForShipment") if isinstance(row.get("readyForShipment"),
                                                                                bool) else None,
                "booked_at": self._aware(row.get("bookingDate")),
            })
        booked: list[str] = [str(i["booked_at"]) for i in items if i["booked_at"]]
        first = rows[0]
        return {
            "return_id": f"{order or 'no-order'}/{items[0]['booking_id']}",
            "order_external_id": order or None,
            "order_number": _text(first.get("goodsOrderNumber")),
            "delivery_number": next((_text(r.get("goodsReceiptDeliveryNumber")) for r in rows
                                     if _text(r.get("goodsReceiptDeliveryNumber"))), None),
            "tracking_number": next((_text(r.get("trackingNumber")) for r in rows if _text(r.get("trackingNumber"))),
                                    None),
            "booking_ids": [i["booking_id"] for i in items],
            "items": items,
            "booked_at": max(booked, key=datetime.fromisoformat) if booked else None,
        }
