"""Returns: announced returns (returns/announce), returned parcels the warehouse books in (admin ``return``) with
one booking per returned unit and its effect on stock, the feeds returns/booked (not synchronised yet) and
returns/getBookings (all) with their paging, and the synchronisation flag (PUT returns/booked/:bookingId).

Readings (settings, docs/api-contract.md "wemalo: returns"): returns_fields, returns_external_product_key,
returns_ids, returns_page_size (with page_base, page_param_ignored), returns_date_filter,
returns_unknown_booking, returns_repeat_sync, returns_stock, announce_required, duplicate_announce.

Modelling choices *(choice)*: a booking row has no quantity field, so each returned unit is one booking; booking
ids come from the same counter as the sent bookings' history ids ("wemalo booking history id" in both); a
returned parcel linked to an announcement takes the announcement's id as its returns id, an unannounced one gets
a new id; goodsReceiptOrderNumber is `RE-<returns id>`. The tracking number of the returned parcel is kept (admin
view) but appears in no API answer: no returns row field names it.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sandbox.wemalo.store.base import AccountBase
from sandbox.wemalo.store.model import (
    BERLIN,
    DEFAULT_ATTRIBUTE_CODE,
    EXAMPLE_RETURN_FIELDS,
    RETURN_FIELDS,
    WemaloError,
    fmt,
    is_blank,
    missing,
)

# returns/announce sender: the field list's keys; the parameter example writes three of them differently.
SENDER_FIELDS = ("name1", "name2", "name3", "street", "house_no", "zip", "city", "country", "addressAddition",
                 "state", "mail", "phone")
SENDER_REQUIRED = ("name1", "street", "zip", "city", "country")
SENDER_EXAMPLE_KEYS = {"streetNumber": "house_no", "countryCode2Letter": "country", "email": "mail"}
ANNOUNCE_TEXT_FIELDS = ("deliveryNumber", "trackingNumber", "orderNumberCustomer", "externalId",
                        "goodsOrderExternalId", "picking_notice")
ADMIN_ITEM_FIELDS = frozenset({"sku", "externalId", "quantity", "reasonCode", "attributeCode", "attributeDefault",
                               "attributePackagingCode", "serialNumber", "readyForShipment"})


class ReturnsMixin(AccountBase):
    # -- returns/announce ------------------------------------------------------------------------------------
    def _check_sender(self, raw: Any, example: bool) -> dict[str, Any]:
        # Typed Object[] in the field list, an object in the example: both are taken (the first address of a list).
        sender = raw[0] if isinstance(raw, list) and raw else raw
        if not isinstance(sender, dict):
            raise missing("sender")
        out = {k: sender[k] for k in SENDER_FIELDS if k in sender}
        if example:  # the example's spellings count as the list's fields
            for alias, name in SENDER_EXAMPLE_KEYS.items():
                if is_blank(out.get(name)) and not is_blank(sender.get(alias)):
                    out[name] = sender[alias]
        for name in SENDER_REQUIRED:
            if is_blank(out.get(name)):
                raise missing(f"sender.{name}")
        return out

    def _announced_items(self, raw: Any) -> list[dict[str, Any]]:
        if not isinstance(raw, list) or not raw:
            raise missing("items")
        out, not_found = [], []
        for index, item in enumerate(raw, start=1):
            if not isinstance(item, dict):
                raise missing("items.externalId")
            if item.get("quantity") is None:
                raise missing("items.quantity")
            quantity = item["quantity"]
            if isinstance(quantity, bool) or not isinstance(quantity, (int, float)) or quantity <= 0 \
                    or quantity != int(quantity):
                raise WemaloError(400, f"item {index}: quantity {quantity!r} is not a positive whole number",
                                  field="quantity", code="INVALID")
            if is_blank(item.get("id")) and is_blank(item.get("externalId")):
                raise missing("items.externalId")  # "either this id or the external identifier has to be set"
            rec = None
            if not is_blank(item.get("id")):
                rec = self._index.by_id.get(int(item["id"])) if str(item["id"]).isdigit() else None
                key = str(item["id"])
            else:
                key = str(item["externalId"])  # "You may also use your sku as identifier"
                rec = self.products.get(key) or self._find_product(key, "sku")
            if rec is None:
                not_found.append(key)
                continue
            out.append({"productId": rec["id"], "externalId": rec["data"]["externalId"], "sku": rec["data"]["sku"],
                        "quantity": int(quantity), "returnReason": item.get("returnReason")})
        if not_found:
            raise WemaloError(404, f"no product with extId '{not_found[0]}' found", field="extId", code="NOT_FOUND",
                              externalId=not_found[0], notFound=not_found)
        return out

    def announce_return(self, body: Any) -> dict[str, Any]:
        with self.ctx.lock:
            if not isinstance(body, dict):
                raise missing("deliveryNumber")
            example = self.ctx.settings.get("announce_required") == "example"
            if not example and is_blank(body.get("deliveryNumber")):
                raise missing("deliveryNumber")
            sender = self._check_sender(body.get("sender"), example)
            items = self._announced_items(body.get("items"))
            ext = "" if is_blank(body.get("externalId")) else str(body["externalId"])
            if ext and self.ctx.settings.get("duplicate_announce") == "reject":
                known = next((a for a in self.announcements if a["externalId"] == ext), None)
                if known is not None:
                    raise WemaloError(409, f"a return with externalId '{ext}' is already announced",
                                      field="externalId", id=known["id"])
            announcement: dict[str, Any] = {
                "id": self.next_return_id, **{k: str(body.get(k) or "") for k in ANNOUNCE_TEXT_FIELDS},
                "skipSerialNumberCheck": bool(body.get("skipSerialNumberCheck")), "sender": sender, "items": items,
                "createdAt": fmt(self.now()), "bookingIds": []}
            self.next_return_id += 1
            self.announcements.append(announcement)
            return {"id": announcement["id"], "Success": True, "status": 200}

    # -- the warehouse books a returned parcel in (admin) --------------------------------------------------------
    def _admin_return_items(self, raw: Any) -> list[dict[str, Any]]:
        """Validated items of an admin return; raises ValueError naming the first problem."""
        if not isinstance(raw, list) or not raw:
            raise ValueError("'items' must be a non-empty list")
        out = []
        for index, item in enumerate(raw, start=1):
            if not isinstance(item, dict):
                raise ValueError(f"item {index} is not an object")
            unknown = set(item) - ADMIN_ITEM_FIELDS
            if unknown:
                raise ValueError(f"item {index}: unknown fields {sorted(unknown)}")
            key = str(item.get("sku") or item.get("externalId") or "")
            rec = (self._find_product(key, "sku") or self.products.get(key)) if key else None
            if rec is None:
                raise ValueError(f"item {index}: no product with sku or externalId '{key}'")
            quantity = item.get("quantity", 1)
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                raise ValueError(f"item {index}: quantity must be a whole number >= 1")
            code = str(item.get("attributeCode") or DEFAULT_ATTRIBUTE_CODE)
            default = item.get("attributeDefault", code == DEFAULT_ATTRIBUTE_CODE)
            ready = item.get("readyForShipment", True)
            if not isinstance(default, bool) or not isinstance(ready, bool):
                raise ValueError(f"item {index}: attributeDefault and readyForShipment must be true or false")
            if item.get("serialNumber") and quantity > 1:
                raise ValueError(f"item {index}: quantity must be 1 with a serial number")
            out.append({"rec": rec, "quantity": quantity, "attributeCode": code, "attributeDefault": default,
                        "attributePackagingCode": str(item.get("attributePackagingCode") or ""),
                        "reasonCode": str(item.get("reasonCode") or ""),
                        "serialNumber": str(item.get("serialNumber") or ""), "readyForShipment": ready})
        return out

    def _stock_target(self, item: dict[str, Any]) -> str | None:
        """Where a returned unit is booked (setting returns_stock): "default", "b_stock" or nowhere."""
        mode = self.ctx.settings.get("returns_stock")
        if mode == "none":
            return None
        if mode == "default_attribute":
            return "default"
        if not item["readyForShipment"]:
            return None
        return "default" if item["attributeDefault"] else "b_stock"

    def book_return(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Admin: a returned parcel booked in: `{"externalId": <goods order> | null, "items": [...],
        "trackingNumber", "announcementId", "at"}` -> `{"ok", "bookingIds", "returnsId"}`."""
        with self.ctx.lock:
            ext = spec.get("externalId")
            order = None
            if ext is not None:
                order = self.orders.get(str(ext))
                if order is None:
                    return {"ok": False, "error": f"unknown goods order '{ext}'"}
            at = self.now()
            try:
                items = self._admin_return_items(spec.get("items"))
                if spec.get("at"):
                    at = datetime.fromisoformat(str(spec["at"]))
                    at = at if at.tzinfo else at.replace(tzinfo=BERLIN)
            except ValueError as exc:
                return {"ok": False, "error": str(exc)}
            wanted = spec.get("announcementId")
            if wanted is not None:
                announcement = next((a for a in self.announcements if str(a["id"]) == str(wanted)), None)
                if announcement is None:
                    return {"ok": False, "error": f"unknown announcement {wanted}"}
            else:  # the oldest announcement of this order not booked in yet *(choice)*
                announcement = next((a for a in self.announcements if ext is not None and not a["bookingIds"]
                                     and a["goodsOrderExternalId"] == str(ext)), None)
            if announcement is not None:
                returns_id = announcement["id"]
            else:
                returns_id = self.next_return_id
                self.next_return_id += 1
            receipt = {"returnsId": returns_id, "goodsOrderExternalId": "" if ext is None else str(ext),
                       "goodsOrderNumber": (order["meta"].get("orderNumber") or order["externalId"]) if order else "",
                       "goodsReceiptExternalId": announcement["externalId"] if announcement else "",
                       "goodsReceiptDeliveryNumber": announcement["deliveryNumber"] if announcement else "",
                       "goodsReceiptOrderNumber": f"RE-{returns_id}",
                       "trackingNumber": str(spec.get("trackingNumber") or
                                             (announcement["trackingNumber"] if announcement else "")),
                       "bookedAt": fmt(at), "bookingIds": []}
            touched = set()
            for item in items:
                rec = item.pop("rec")
                for _ in range(item["quantity"]):
                    booking_id = self.next_history_id
                    self.next_history_id += 1
                    target = self._stock_target(item)
                    if target == "default":
                        self.stock[rec["id"]] += 1
                    elif target == "b_stock":
                        self.b_stock[rec["id"]] = self.b_stock.get(rec["id"], 0) + 1
                    touched.add(rec["id"])
                    self.returns.append({
                        "id": booking_id, "productId": rec["id"], "externalProductId": rec["data"]["externalId"],
                        "sku": rec["data"]["sku"], "productName": rec["data"]["name"], "bookingDate": at,
                        **{k: item[k] for k in ("attributeCode", "attributeDefault", "attributePackagingCode",
                                                 "reasonCode", "serialNumber", "readyForShipment")},
                        **{k: v for k, v in receipt.items() if k not in ("bookedAt", "bookingIds")},
                        "stock": target, "synchronisedAt": None})
                    receipt["bookingIds"].append(booking_id)
            self.return_receipts.append(receipt)
            if announcement is not None:
                announcement["bookingIds"] += receipt["bookingIds"]
            self._touch_stock(touched)
            promoted = self._recheck_partial()
            return {"ok": True, "bookingIds": receipt["bookingIds"], "returnsId": returns_id, "promoted": promoted}

    # -- the API's rows and feeds ---------------------------------------------------------------------------------
    def _full_return_row(self, booking: dict[str, Any], as_text: bool) -> dict[str, Any]:
        ident: Any = str if as_text else int
        return {"externalProductId": booking["externalProductId"], "productId": ident(booking["productId"]),
                "productName": booking["productName"], "id": ident(booking["id"]),
                "bookingDate": fmt(booking["bookingDate"]),
                **{k: booking[k] for k in RETURN_FIELDS[5:]}}

    def return_row(self, booking: dict[str, Any]) -> dict[str, Any]:
        """A booking as returns/booked and getBookings show it (settings returns_fields, returns_ids,
        returns_external_product_key)."""
        settings = self.ctx.settings
        full = self._full_return_row(booking, settings.get("returns_ids") == "string")
        if settings.get("returns_fields") == "field_list":
            return full
        key = str(settings.get("returns_external_product_key") or "externalProductId")
        return {(key if k == "externalProductId" else k): full[k] for k in EXAMPLE_RETURN_FIELDS}

    def returns_feed(self, *, unsynchronised: bool, filters: dict[str, str | None], date_from: datetime | None,
                     date_to: datetime | None, page: int | None) -> dict[str, Any]:
        """returns/booked (`unsynchronised`) or getBookings: filtered, one page (base `page_base`, size
        `returns_page_size`; the answer echoes the page served, a number below the base is the first page)."""
        with self.ctx.lock:
            settings = self.ctx.settings
            if settings.get("returns_date_filter") == "ignored":
                date_from = date_to = None
            wanted = {"externalGoodsOrderId": "goodsOrderExternalId", "externalReturnsId": "goodsReceiptExternalId",
                      "returnsId": "returnsId"}
            rows = [b for b in self.returns
                    if not (unsynchronised and b["synchronisedAt"] is not None)
                    and all(not filters.get(q) or str(b[f]) == filters[q] for q, f in wanted.items())
                    and (date_from is None or b["bookingDate"] >= date_from)
                    and (date_to is None or b["bookingDate"] <= date_to)]
            size = max(1, int(settings.get("returns_page_size") or 50))
            base = int(settings.get("page_base") or 0)
            if page is None or page < base or settings.get("page_param_ignored"):
                page = base
            index = page - base
            chosen = rows[index * size:(index + 1) * size]
            return {"page": page, "additionalPage": len(rows) > (index + 1) * size,
                    "bookings": [self.return_row(b) for b in chosen], "Success": True, "status": 200}

    def sync_return(self, booking_id: str) -> dict[str, Any]:
        """PUT returns/booked/:bookingId: the synch date is set once (settings returns_unknown_booking,
        returns_repeat_sync)."""
        with self.ctx.lock:
            booking = next((b for b in self.returns if str(b["id"]) == booking_id), None)
            if booking is None:
                answer = self.ctx.settings.get("returns_unknown_booking")
                if answer == "ok":
                    return {"Success": True, "status": 200}
                raise WemaloError(404 if answer == "404" else 400, f"no return booking with id '{booking_id}'",
                                  field="bookingId")
            if booking["synchronisedAt"] is not None:
                if self.ctx.settings.get("returns_repeat_sync") == "refuse":
                    raise WemaloError(400, f"return booking '{booking_id}' is already synchronised",
                                      field="bookingId")
                return {"Success": True, "status": 200}
            booking["synchronisedAt"] = self.now()
            return {"Success": True, "status": 200}

    def returns_state(self) -> dict[str, Any]:
        """Admin view: every booking with all listed fields (ids as numbers, whatever the readings), whether it
        is synchronised, its returns id, SKU, the parcel's tracking number and where it went in stock; the
        announcements as stored."""
        with self.ctx.lock:
            bookings = [{**self._full_return_row(b, as_text=False), "synchronised": b["synchronisedAt"] is not None,
                         "synchronisedAt": fmt(b["synchronisedAt"]), "returnsId": b["returnsId"], "sku": b["sku"],
                         "trackingNumber": b["trackingNumber"], "stock": b["stock"]} for b in self.returns]
            return {"bookings": bookings, "announcements": copy.deepcopy(self.announcements),
                    "receipts": copy.deepcopy(self.return_receipts)}
