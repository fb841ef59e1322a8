"""Sent bookings (one per shipped position of a parcel): the sentPackages feed, the unsynched queue
(packages/sent) with its acknowledgement, and their paging."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.wemalo.store.base import AccountBase
from sandbox.wemalo.store.model import ORDER_INFO_FIELDS, STATUS_IDS, WemaloError, fmt


class BookingsMixin(AccountBase):
    def booking_out(self, booking: dict[str, Any], *, recipient: bool, queue: bool) -> dict[str, Any]:
        order = self.orders[booking["externalGoodsOrderId"]]
        parcel = self.parcels[booking["packageId"]]
        meta = order["meta"]
        row: dict[str, Any] = {
            # productId: the example writes 4711, the field list String (setting booking_product_id).
            "externalProductId": booking["externalProductId"],
            "productId": str(booking["productId"]) if self.ctx.settings.get("booking_product_id") == "string"
            else booking["productId"],
            "productName": booking["productName"], "sku": booking["sku"], "historyId": booking["historyId"],
            "goodsOrderId": order["id"], "orderNumberCustomer": meta.get("orderNumber") or order["externalId"],
            "externalGoodsOrderId": order["externalId"], "handoverDate": fmt(booking["handoverDate"]),
            "bookingDate": fmt(booking["bookingDate"]), "trackingNumber": parcel["trackingNumber"],
            "count": booking["count"], "serialNumber": booking["serialNumber"], "dispatcherName": parcel["carrier"],
            "dispatcherProduct": parcel["profileName"],
            "orderInfo": {k: meta.get(k) or "" for k in ORDER_INFO_FIELDS},
        }
        if queue:
            row["packageId"] = str(parcel["id"])
            row["orderStatusId"] = STATUS_IDS[order["status"]]
        if recipient:
            rec = next((r for r in meta.get("receiver") or [] if r.get("primary")), (meta.get("receiver") or [{}])[0])
            row["recipient"] = {
                "name1": rec.get("name1", ""), "name2": rec.get("name2", ""), "name3": rec.get("name3", ""),
                "street": rec.get("street", ""), "houseNumber": rec.get("streetNumber", ""),
                "addressAddition": rec.get("addressAddition", ""),
                "stateProvinceCountry": rec.get("stateProvinceCountry", ""), "zip": rec.get("zip", ""),
                "city": rec.get("city", ""), "countryCode": rec.get("countryCode2Letter", ""),
                "email": rec.get("email", ""), "phone": rec.get("phoneNumber", ""),
                "customerNumber": rec.get("customerNumber", "")}
        return row

    def _page(self, rows: list[dict[str, Any]], page: int | None, *, recipient: bool,
              queue: bool) -> dict[str, Any]:
        """One page; `page` None = the first. The base is `page_base` (0 as in the apidoc's examples); the answer
        echoes the page it served (a number below the base is the first page)."""
        size = max(1, int(self.ctx.settings.get("sent_page_size") or 50))
        base = int(self.ctx.settings.get("page_base") or 0)
        if page is None or page < base or self.ctx.settings.get("page_param_ignored"):
            page = base
        index = page - base
        chosen = rows[index * size:(index + 1) * size]
        return {"page": page, "additionalPage": len(rows) > (index + 1) * size,
                "bookings": [self.booking_out(b, recipient=recipient, queue=queue) for b in chosen],
                "Success": True, "status": 200}

    def sent_packages(self, external_id: str | None, date_from: datetime | None, date_to: datetime | None,
                      page: int | None, recipient: bool) -> dict[str, Any]:
        with self.ctx.lock:
            rows = [b for b in self.bookings
                    if (not external_id or b["externalGoodsOrderId"] == external_id)
                    and (date_from is None or b["handoverDate"] >= date_from)
                    and (date_to is None or b["handoverDate"] <= date_to)]
            return self._page(rows, page, recipient=recipient, queue=False)

    def unsynched(self, external_id: str | None, page: int | None, recipient: bool) -> dict[str, Any]:
        with self.ctx.lock:
            rows = [b for b in self.bookings if b["synchedAt"] is None
                    and (not external_id or b["externalGoodsOrderId"] == external_id)]
            return self._page(rows, page, recipient=recipient, queue=True)

    def ack_booking(self, booking_id: str) -> dict[str, Any]:
        with self.ctx.lock:
            booking = next((b for b in self.bookings if b["historyId"] == booking_id), None)
            if booking is None:
                raise WemaloError(404, f"no sent booking with id '{booking_id}'", field="bookingId")
            if booking["synchedAt"] is None:
                booking["synchedAt"] = self.now()
            return {"Success": True, "status": 200}
