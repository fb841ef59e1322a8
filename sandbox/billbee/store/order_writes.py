"""The API's writes to an existing order: tags (add, replace), the state (which may move stock), shipments
and messages. Every write moves ``LastModifiedAt`` on (tag writes only with setting
``writes_bump_modified``). A message is kept twice: as the request gave it (``messages``, the admin state) and as
the CommentApiModel that ``Order.Comments`` lists (``message_comments``; setting ``messages_in_comments``)."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.billbee.store.base import AccountBase
from sandbox.billbee.store.values import dedupe_tags


class OrderWritesMixin(AccountBase):
    def add_tags(self, order_id: int | str, tags: list[str], bump: bool) -> bool:
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return False
            before = list(order["Tags"])
            order["Tags"] = dedupe_tags([*order["Tags"], *tags])
            if bump:
                self._bump(order)
            if order["Tags"] != before:
                self._order_event(["order.tagschanged"], order)
            return True

    def replace_tags(self, order_id: int | str, tags: list[str], bump: bool) -> bool:
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return False
            before = list(order["Tags"])
            order["Tags"] = dedupe_tags(tags)
            if bump:
                self._bump(order)
            if order["Tags"] != before:
                self._order_event(["order.tagschanged"], order)
            return True

    def set_state(self, order_id: int | str, state: int) -> bool:
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return False
            self._reserve(order, -1)
            before = order["State"]
            order["State"] = state
            self._bump(order)
            self._sync_stock(order)
            self._reserve(order, 1)
            if state != before:
                self._order_event(["order.statechanged"], order)
            return True

    def add_shipment(self, order_id: int | str, body: dict[str, Any]) -> dict[str, Any] | None:
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return None
            pid, ppid = body.get("ShippingProviderId"), body.get("ShippingProviderProductId")
            provider = next((p for p in self.providers if p["id"] == pid), None)
            product = None
            for prov in self.providers:
                for prod in prov["products"]:
                    if prod["id"] == ppid:
                        product, provider = prod, provider or prov
            carrier = body.get("CarrierId")
            if carrier is None and product is not None:
                carrier = product.get("_carrierId")
            shipment = {"BillbeeId": self._new_id("shipment"), "ShippingId": body.get("ShippingId"),
                        "Shipper": provider["name"] if provider else None, "Created": self.now(),
                        "TrackingUrl": "-", "ShippingProviderId": provider["id"] if provider else pid,
                        "ShippingProviderProductId": ppid, "ShippingCarrier": carrier,
                        "ShipmentType": body.get("ShipmentType") or 0}
            order["ShippingIds"].append(shipment)
            self.shipment_requests.append({"Time": shipment["Created"], "BillBeeOrderId": order["BillBeeOrderId"],
                                           "Body": copy.deepcopy(body)})
            self._bump(order)
            self._order_event(["order.updated"], order)
            return copy.deepcopy(shipment)

    def add_message(self, order_id: int | str, body: dict[str, Any]) -> bool:
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return False
            created = self.now()
            self.messages.setdefault(order["BillBeeOrderId"], []).append(
                {"Created": created, "IsInternal": body.get("IsInternal"), "SenderName": body.get("SenderName"),
                 "Text": body.get("Text")})
            # The message as a CommentApiModel of Order.Comments, listed there or not by `messages_in_comments`
            # at read time. Name: the SenderName ("The name of the entity ... creating this message"); FromCustomer
            # false: the API partner wrote it. IsInternal has no field in CommentApiModel and leaves no trace here.
            self.message_comments.setdefault(order["BillBeeOrderId"], []).append(
                {"Id": self._new_id("comment"), "FromCustomer": False, "Text": body.get("Text"),
                 "Name": body.get("SenderName"), "Created": created})
            self._bump(order)
            self._order_event(["order.updated"], order)
            return True
