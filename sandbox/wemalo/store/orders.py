"""Goods orders: add (and addConditional), duplicates, positions resolved to products, status and its
history, getStatus, meta updates and cancellation."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sandbox.wemalo.spec import RECEIVER_REQUIRED
from sandbox.wemalo.store.base import AccountBase
from sandbox.wemalo.store.model import (
    CANCELLABLE,
    CHANGEABLE,
    CLOSED,
    EXAMPLE_STATUS_FIELDS,
    STATUS_IDS,
    WemaloError,
    fmt,
    is_blank,
    missing,
)


class OrdersMixin(AccountBase):
    def _set_status(self, order: dict[str, Any], status: str, at: datetime | None = None) -> None:
        at = at or self.now()
        before = order["status"]
        order["status"] = status
        order["statusChangedAt"] = at
        order["history"].append({"status": status, "at": fmt(at)})
        if status != before and (before or self.ctx.settings.get("webhook_status_on_create", False)):
            self._webhook_event("status_update", {
                "orderId": order["id"], "externalId": order["externalId"],
                "orderNumber": order["meta"].get("orderNumber") or order["externalId"], "statusName": status,
                "blockReason": order["blockReason"], "reasonPartiallyReserved": order["reasonPartiallyReserved"]})

    def status_of(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"statusId": STATUS_IDS[order["status"]], "statusName": order["status"],
                "reasonPartiallyReserved": order["reasonPartiallyReserved"], "blockReason": order["blockReason"],
                "id": order["id"], "orderNumber": order["meta"].get("orderNumber") or order["externalId"],
                "deliveryDate": order["meta"].get("expectedDeliveryDate") or ""}

    def _order(self, external_id: str) -> dict[str, Any]:
        order = self.orders.get(external_id)
        if order is None:
            raise WemaloError(404, f"no goods order with externalId '{external_id}'", field="externalId")
        return order

    @staticmethod
    def _check_meta(meta: Any) -> dict[str, Any]:
        if not isinstance(meta, dict):
            raise missing("meta")
        if is_blank(meta.get("externalId")):
            raise missing("meta.externalId")
        receivers = meta.get("receiver")
        if not isinstance(receivers, list) or not receivers:
            raise missing("meta.receiver")
        for receiver in receivers:
            if not isinstance(receiver, dict):
                raise missing("meta.receiver")
            for name in RECEIVER_REQUIRED:
                if is_blank(receiver.get(name)):
                    raise missing(f"meta.receiver.{name}")
        return copy.deepcopy(meta)

    def _resolve_positions(self, positions: Any, match: str) -> list[dict[str, Any]]:
        if not isinstance(positions, list) or not positions:
            raise missing("positions")
        out, not_found = [], []
        for index, pos in enumerate(positions, start=1):
            if not isinstance(pos, dict) or is_blank(pos.get("externalId")):
                raise missing("positions.externalId")
            key = str(pos["externalId"])
            raw_qty = pos.get("quantity", 1)
            try:
                quantity = float(raw_qty)
            except (TypeError, ValueError):
                quantity = -1
            if quantity <= 0 or quantity != int(quantity):
                raise WemaloError(400, f"position {index} ({key}): quantity {raw_qty!r} is not a positive whole "
                                       "number", field="quantity", code="INVALID")
            if pos.get("serialNumber") and quantity > 1:
                raise WemaloError(400, f"position {index} ({key}): quantity must be 1 with a serial number",
                                  field="quantity", code="INVALID")
            rec = self._find_product(key, match)
            if rec is None:
                not_found.append(key)
                continue
            out.append({"externalId": key, "productId": rec["id"], "productExternalId": rec["data"]["externalId"],
                        "sku": rec["data"]["sku"], "name": rec["data"]["name"], "quantity": int(quantity),
                        "shipped": 0, "serialNumber": pos.get("serialNumber") or "",
                        "externalPositionIdentifier": pos.get("externalPositionIdentifier") or "",
                        "total": pos.get("total"), "tax": pos.get("tax")})
        if not_found:
            raise WemaloError(404, f"no product with {match} '{not_found[0]}' found (position externalId "
                                   f"'{not_found[0]}')", field="extId", code="NOT_FOUND", externalId=not_found[0],
                              notFound=not_found)
        return out

    def add_order(self, body: Any, *, conditional: bool = False) -> dict[str, Any]:
        with self.ctx.lock:
            if not isinstance(body, dict):
                raise missing("meta")
            meta_in = body.get("meta")
            if isinstance(meta_in, dict) and not is_blank(meta_in.get("externalId")):
                existing = self.orders.get(str(meta_in["externalId"]))
                if existing is not None:
                    return self._duplicate(existing, conditional)
            meta = self._check_meta(meta_in)
            match = "sku" if meta.get("externalIdMatch") == "sku" else "externalId"
            positions = self._resolve_positions(body.get("positions"), match)
            order = {"id": self.next_order_id, "externalId": str(meta["externalId"]), "meta": meta,
                     "positions": positions, "status": "", "reasonPartiallyReserved": "", "blockReason": "",
                     "reserved": False, "createdAt": self.now(), "statusChangedAt": None, "history": [],
                     "parcels": [], "cancelReason": "", "shop": body.get("shop") or ""}
            self.next_order_id += 1
            if not self.ctx.settings.get("reserve_stock", True) or self._fits(positions):
                order["reserved"] = True
                self._set_status(order, "OPEN")
            else:
                order["reasonPartiallyReserved"] = "STOCK"
                self._set_status(order, "PARTIAL")
            self.orders[order["externalId"]] = order
            self._touch_stock({p["productId"] for p in positions})
            out = {"Success": True, "status": 200, "id": order["id"]}
            if conditional:
                out.update(self._conditional_status(order))
            return out

    def _conditional_status(self, order: dict[str, Any]) -> dict[str, Any]:
        # WP reads `orderStatus` as a status name *(inference)*.
        status = self.status_of(order)
        return {"orderStatus": status["statusName"], **status}

    def _duplicate(self, existing: dict[str, Any], conditional: bool) -> dict[str, Any]:
        if conditional:  # addConditional: keep the order as it is, report its status *(inference)*
            return {"Success": True, "status": 200, **self._conditional_status(existing)}
        if self.ctx.settings.get("duplicate_order") == "return_existing":
            return {"Success": True, "status": 200, "id": existing["id"]}
        raise WemaloError(409, f"a goods order with externalId '{existing['externalId']}' already exists",
                          field="externalId", id=existing["id"])

    def order_status(self, external_id: str) -> dict[str, Any]:
        with self.ctx.lock:
            order = self.orders.get(external_id)
            if order is None:
                return self._no_order_status(external_id)
            status = self.status_of(order)
            if self.ctx.settings.get("status_fields") != "field_list":  # the example's fields, statusId as text
                status = {k: status[k] for k in EXAMPLE_STATUS_FIELDS}
            return {**status, "Success": True, "status": 200}

    def _no_order_status(self, external_id: str) -> dict[str, Any]:
        """getStatus of an unknown externalId: not documented (setting missing_order). The literal default, 400,
        follows the apidoc's one documented miss of an externalId in a GET path ("Error 400: Product external
        identifier not found", product/stock/:externalId)."""
        answer = self.ctx.settings.get("missing_order")
        if answer == "empty":
            return {"Success": False}
        raise WemaloError(404 if answer == "404" else 400, f"no goods order with externalId '{external_id}'",
                          field="externalId")

    def update_meta(self, external_id: str, body: Any) -> dict[str, Any]:
        with self.ctx.lock:
            order = self._order(external_id)
            if order["status"] not in CHANGEABLE:
                raise WemaloError(400, f"order '{external_id}' is {order['status']}; its meta data can only be "
                                       "changed while PARTIAL or OPEN", statusName=order["status"])
            meta = self._check_meta(body.get("meta") if isinstance(body, dict) else None)
            if str(meta["externalId"]) != external_id:
                raise WemaloError(400, f"meta.externalId '{meta['externalId']}' differs from '{external_id}'",
                                  field="meta.externalId")
            receiver_changed = meta.get("receiver") != order["meta"].get("receiver")
            order["meta"] = meta
            if order["status"] == "PARTIAL" and order["reasonPartiallyReserved"] == "ADDRESS" and receiver_changed \
                    and self.ctx.settings.get("address_recheck") == "on_update":
                self._release_partial(order)  # the corrected address is re-checked (setting address_recheck)
            return {"Success": True, "status": 200, "id": order["id"]}

    def cancel(self, external_id: str, reason: str, *, admin: bool = False) -> dict[str, Any]:
        with self.ctx.lock:
            order = self._order(external_id)
            if order["status"] == "CANCELLED":  # repeated cancel answers like the first *(choice)*
                return {"Success": True, "status": 200, "id": order["id"], "statusName": "CANCELLED"}
            if admin:  # the warehouse can cancel anything not handed over yet
                handed_over = any(self.parcels[p]["isHandedOver"] for p in order["parcels"])
                allowed = order["status"] not in CLOSED and not handed_over
            else:
                allowed = order["status"] in CANCELLABLE
            if not allowed:
                if self.ctx.settings.get("late_cancel") == "ignore":  # accepted, nothing happens
                    return {"Success": True, "status": 200, "id": order["id"]}
                raise WemaloError(400, f"order '{external_id}' cannot be cancelled: already picked/packed "
                                       f"(status {order['status']})", statusName=order["status"])
            order["reserved"] = False
            order["cancelReason"] = reason or ""
            self._set_status(order, "CANCELLED")
            self._touch_stock({p["productId"] for p in order["positions"]})
            self._recheck_partial()
            return {"Success": True, "status": 200, "id": order["id"], "statusName": "CANCELLED"}
