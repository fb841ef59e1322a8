"""The returns sink: what wemalo booked back into the warehouse, on the Billbee order, exactly once.

For each return record (tap-wemalo-shipments' `returns` stream: the not yet synchronised return bookings of one
order) the order gets one internal message listing the returned items, the returns tag, a return shipment
(`ShipmentType` 1, "Retoure") when wemalo names the return parcel's tracking number, and a state only when
`returns_state_id` is set. Then the bookings are listed for tap-wemalo-shipments to mark synchronised in wemalo
(protocol.PENDING_RETURN_ACKS_KEY): wemalo forgets a return only after Billbee has it.

Exactly once: every message names its wemalo booking ids (`wemalo-Buchungen 1, 2`). Before writing, the order's
`Comments` ("all messages / comments of the order") are read back and bookings already named there are not
written again: a run killed between the Billbee write and the state commit replays without a second message.
Whether Billbee lists messages added through the API in `Comments` is not documented beyond that sentence
(docs/api-contract.md, "Billbee: order messages"); where it does not, such a replay can repeat a message once.
A booking without a known Billbee order is reported every run and never marked, so it is not lost.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import override

from billbee_wemalo.billbee import has_tag
from billbee_wemalo.http import AmbiguousWriteError, ClientError, NotFoundError, TransientError
from billbee_wemalo.protocol import bookings_named, return_marker
from target_billbee.worker_sink import WorkerSink


def item_skus(order: dict[str, Any]) -> dict[str, str]:
    """Billbee article id -> SKU of the order's lines (wemalo's externalProductId is the Billbee article id)."""
    out: dict[str, str] = {}
    for line in order.get("OrderItems") or []:
        product = (line or {}).get("Product") or {}
        if product.get("BillbeeId") is not None and product.get("SKU"):
            out[str(product["BillbeeId"])] = str(product["SKU"])
    return out


def return_message(items: list[dict[str, Any]], skus: dict[str, str]) -> str:
    """The merchant's text: one line per returned item; the booking ids make it recognisable on a replay."""
    lines = [f"Retoure bei wemalo eingebucht ({return_marker([i['booking_id'] for i in items])}):"]
    for item in items:
        sku = (item.get("sku") or skus.get(str(item.get("external_product_id")))
               or item.get("product_name") or f"wemalo-Artikel {item.get('product_id') or '?'}")
        parts = [f"{item.get('quantity') or 1}x {sku}"]
        if item.get("reason_code"):
            parts.append(f"Grund: {item['reason_code']}")
        if item.get("condition"):
            parts.append(f"Zustand: {item['condition']}")
        if item.get("serial_number"):
            parts.append(f"Seriennummer: {item['serial_number']}")
        if item.get("ready_for_shipment") is not None:
            parts.append("wieder versandfähig" if item["ready_for_shipment"] else "nicht versandfähig")
        lines.append("- " + ", ".join(parts))
    return "\n".join(lines)


class ReturnsSink(WorkerSink):
    """Returns, written in the shipments' worker thread (the same order endpoints, one after the other)."""

    max_size = 200
    worker = "shipments"

    @override
    def _process(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            try:
                self._write(record)
            except TransientError as exc:  # not listed for marking: wemalo keeps it, the next run reads it again
                self.run.report.add("returns", record.get("return_id"), "failed", f"will retry next run: {exc}")

    def _held(self, record: dict[str, Any], reason: str) -> None:
        self.run.report.add("returns", record.get("return_id"), "rejected",
                            f"{reason}; wemalo bookings {', '.join(record.get('booking_ids') or [])} are kept "
                            "in wemalo (not marked synchronised) and reported every run")
        self.run.report.counters["returns_without_order"] += 1

    def _write(self, record: dict[str, Any]) -> None:
        report, client = self.run.report, self.run.client
        order_id = str(record.get("order_external_id") or "")
        if not order_id.isdigit():
            self._held(record, "return booked in wemalo without a Billbee order" if not order_id
                       else f"wemalo order {order_id!r} is not a Billbee order id")
            return
        try:
            order = client.get_order(int(order_id))
        except NotFoundError:
            self._held(record, f"Billbee order {order_id} not found")
            return
        items = [i for i in record.get("items") or [] if str(i.get("booking_id")) not in bookings_named(order)]
        try:
            if items:
                client.add_message(int(order_id), return_message(items, item_skus(order)))
                report.counters["return_messages_written"] += 1
                self._check_read_back(int(order_id), items)
            if not has_tag(order.get("Tags"), self.run.returns_tag):
                client.add_tags(int(order_id), [self.run.returns_tag])
            self._return_shipment(int(order_id), order, record.get("tracking_number"))
            self._state(int(order_id), order)
        except (ClientError, NotFoundError) as exc:
            report.add("returns", record.get("return_id"), "rejected", f"Billbee refused: {exc}")
            return
        report.add("returns", record.get("return_id"), "written" if items else "unchanged",
                   f"{len(items)} of {len(record.get('items') or [])} items written"
                   if items else "already on the Billbee order")
        report.counters["returned_items"] += sum(int(i.get("quantity") or 1) for i in items)
        self.run.acknowledge_returns(record.get("booking_ids") or [], order_id)

    def _check_read_back(self, order_id: int, items: list[dict[str, Any]]) -> None:
        """Ask Billbee once per run whether the message just written is listed in the order's Comments: that
        is what makes a replay write nothing twice; where it is not, say so instead of assuming."""
        if self.run.comments_listed is not None:
            return
        listed = {str(i["booking_id"]) for i in items} <= bookings_named(self.run.client.get_order(order_id))
        self.run.comments_listed = listed
        if not listed:
            self.run.report.counters["returns_message_not_read_back"] += 1
            self.logger.warning("Billbee does not list the message just written in order %s's Comments: a run "
                                "killed between writing a return and storing its state can write that return's "
                                "message once more (docs/api-contract.md, \"Billbee: order messages\")", order_id)

    def _return_shipment(self, order_id: int, order: dict[str, Any], tracking: str | None) -> None:
        if not tracking or tracking in {str(s.get("ShippingId")) for s in order.get("ShippingIds") or []}:
            return
        try:
            self.run.client.add_shipment(order_id, {"ShippingId": tracking, "ShipmentType": 1,
                                                    "Comment": "wemalo Retoure"})
        except AmbiguousWriteError:
            refreshed = self.run.client.get_order(order_id)
            if tracking not in {str(s.get("ShippingId")) for s in refreshed.get("ShippingIds") or []}:
                raise

    def _state(self, order_id: int, order: dict[str, Any]) -> None:
        state = self.run.returns_state_id
        if state is not None and order.get("State") != state:
            self.run.client.set_order_state(order_id, state)
