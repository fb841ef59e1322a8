"""Orders: new ones (a scenario's or imported), their normalisation (addresses, items linked to articles,
shipments, seller), the list filter of ``GET /orders``, the orders as the API shows them, and the
merchant's edits through the admin routes."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.billbee.store.base import AccountBase
from sandbox.billbee.store.model import (
    ADDRESS_FIELDS,
    DEFAULT_SHOP_ID,
    ITEM_DECIMALS,
    ITEM_FIELDS,
    ORDER_DECIMALS,
    ORDER_FIELDS,
    ORDER_TIME_FIELDS,
    SELLER_FIELDS,
    SHIPMENT_FIELDS,
    SOLD_PRODUCT_FIELDS,
    WEB_URL,
)
from sandbox.billbee.store.values import (
    Rows,
    ScenarioError,
    dedupe_tags,
    parse_time,
    public,
    title_text,
    to_decimal,
    to_int,
)


@dataclass
class OrderFilter:
    min_order_date: datetime | None = None
    max_order_date: datetime | None = None
    shop_ids: list[int] = field(default_factory=list)
    state_ids: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    exclude_tags: bool = False
    tag_mode: str = "all"  # "all" | "any"
    tag_case_insensitive: bool = True
    minimum_order_id: int | None = None
    modified_min: datetime | None = None  # exclusive
    modified_max: datetime | None = None  # inclusive

    def matches(self, order: dict[str, Any]) -> bool:
        created = order.get("CreatedAt")
        if self.min_order_date and (created is None or created < self.min_order_date):
            return False
        if self.max_order_date and (created is None or created > self.max_order_date):
            return False
        if self.shop_ids and (order.get("Seller") or {}).get("BillbeeShopId") not in self.shop_ids:
            return False
        if self.state_ids and order.get("State") not in self.state_ids:
            return False
        if self.minimum_order_id is not None and order["BillBeeOrderId"] < self.minimum_order_id:
            return False
        modified = order.get("LastModifiedAt")
        if self.modified_min and (modified is None or modified <= self.modified_min):
            return False
        if self.modified_max and (modified is None or modified > self.modified_max):
            return False
        if self.tags:
            norm = (lambda t: t.casefold()) if self.tag_case_insensitive else (lambda t: t)
            have = {norm(t) for t in order.get("Tags") or []}
            wanted = [norm(t) for t in self.tags]
            if self.exclude_tags:
                return not any(t in have for t in wanted)
            hit = all if self.tag_mode != "any" else any
            return hit(t in have for t in wanted)
        return True


class OrdersMixin(AccountBase):
    def add_orders(self, raws: list[dict[str, Any]], *, imported: bool = True) -> list[dict[str, Any]]:
        """New orders. `imported` (an order arriving from a shop, the admin route): it lowers the stock of its
        articles (setting `deduct_stock_on_import`; not items with DontAdjustStock, not in state 14). Otherwise
        (a scenario's existing orders) the stock it holds is noted but the figures are taken as given."""
        if not isinstance(raws, list):
            raise ScenarioError("orders must be a list")
        with self.ctx.lock:
            out = []
            for raw in raws:
                order = self._normalise_order(raw)
                if order["BillBeeOrderId"] in self.orders:
                    raise ScenarioError(f"order {order['BillBeeOrderId']} exists already")
                self.orders[order["BillBeeOrderId"]] = order
                self._sync_stock(order, move=imported)
                self._reserve(order, 1)
                if imported:
                    self._order_event(["order.created"], order)
                out.append(order)
            return copy.deepcopy(out)

    def _normalise_order(self, raw: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise ScenarioError(f"order must be an object: {raw!r}")
        raw = copy.deepcopy(raw)
        unknown = set(raw) - set(ORDER_FIELDS)
        if unknown:
            raise ScenarioError(f"unknown order fields: {sorted(unknown)}")
        order: dict[str, Any] = dict.fromkeys(ORDER_FIELDS)
        order.update({"ShippingIds": [], "AcceptLossOfReturnRight": False, "State": 3, "VatMode": 0, "Comments": [],
                      "RebateDifference": 0, "ShippingCost": 0, "AdjustmentCost": 0, "Currency": "EUR",
                      "TaxRate1": 19, "TaxRate2": 7, "Tags": [], "PaidAmount": 0, "History": [], "Payments": [],
                      "IsFromBillbeeApi": False, "OrderItems": []})
        order.update(raw)
        order_id = to_int(raw.get("BillBeeOrderId"), "BillBeeOrderId")
        if order_id is None:
            order_id = self._new_id("order", self.orders)
        self._see_id("order", order_id)
        order["BillBeeOrderId"] = order_id
        order["State"] = to_int(order["State"], "State")
        for key in ORDER_TIME_FIELDS:
            order[key] = parse_time(order.get(key), self.zone)
        order["CreatedAt"] = order["CreatedAt"] or self.now()
        if order["State"] == 3 and "PayedAt" not in raw:
            order["PayedAt"] = order["CreatedAt"]
        order["LastModifiedAt"] = order["LastModifiedAt"] or order["CreatedAt"]
        order["Tags"] = dedupe_tags(str(t) for t in order.get("Tags") or [])
        order["ShippingAddress"] = self._normalise_address(order.get("ShippingAddress"))
        order["InvoiceAddress"] = (self._normalise_address(raw["InvoiceAddress"]) if raw.get("InvoiceAddress")
                                   else copy.deepcopy(order["ShippingAddress"]))
        order["OrderItems"] = [self._normalise_item(i) for i in order.get("OrderItems") or []]
        order["ShippingIds"] = [self._normalise_shipment(s) for s in order.get("ShippingIds") or []]
        seller = dict.fromkeys(SELLER_FIELDS)
        seller.update({"Platform": "Shopify", "BillbeeShopName": "Sandbox-Shop", "BillbeeShopId": DEFAULT_SHOP_ID})
        seller.update(order.get("Seller") or {})
        order["Seller"] = seller
        for user in (order["Seller"], order.get("Buyer")):
            if isinstance(user, dict) and user.get("FullName") is None:  # read-only: "firstname lastname"
                user["FullName"] = f"{user.get('FirstName') or ''} {user.get('LastName') or ''}".strip()
        if order.get("TotalCost") is None:
            # "The total cost excluding shipping cost"; setting `total_cost_includes_shipping` adds it
            total = sum((i["TotalPrice"] or Decimal(0) for i in order["OrderItems"]), Decimal(0))
            if self._setting("total_cost_includes_shipping", False):
                total += Decimal(str(order.get("ShippingCost") or 0))
            order["TotalCost"] = total
        if order.get("WebUrl") is None:
            order["WebUrl"] = WEB_URL.format(order_id)
        for key, scale in ORDER_DECIMALS.items():
            order[key] = to_decimal(order.get(key), scale)
        for entry in order["History"] + order["Comments"]:
            if isinstance(entry, dict) and "Created" in entry:
                entry["Created"] = parse_time(entry["Created"], self.zone)
        for entry in order["Comments"]:  # a scenario's comment ids are taken: an API message gets a new one
            if isinstance(entry, dict) and isinstance(entry.get("Id"), int) and not isinstance(entry["Id"], bool):
                self._see_id("comment", entry["Id"])
        if isinstance(order.get("Customer"), dict) and order["Customer"].get("Id") is None:
            order["Customer"]["Id"] = self._new_id("customer")
        order["_Taken"] = None  # the stock the order holds, set by `_sync_stock`
        return order

    def _normalise_address(self, raw: Any) -> dict[str, Any] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise ScenarioError(f"address must be an object: {raw!r}")
        address = dict.fromkeys(ADDRESS_FIELDS)
        address.update({k: v for k, v in raw.items() if k in ADDRESS_FIELDS})
        if address["BillbeeId"] is None:
            address["BillbeeId"] = self._new_id("address")
        else:
            self._see_id("address", int(address["BillbeeId"]))
        if address["Country"] is None:
            address["Country"] = address["CountryISO2"]
        return address

    def _normalise_item(self, raw: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise ScenarioError(f"order item must be an object: {raw!r}")
        item = dict.fromkeys(ITEM_FIELDS)
        item.update({"Quantity": 1, "TaxIndex": 1, "Discount": 0, "Attributes": [], "GetPriceFromArticleIfAny": False,
                     "IsCoupon": False, "DontAdjustStock": False})
        item.update(raw)
        if item["BillbeeId"] is None:
            item["BillbeeId"] = self._new_id("item")
        else:
            self._see_id("item", int(item["BillbeeId"]))
        product = dict.fromkeys(SOLD_PRODUCT_FIELDS)
        product.update({"IsDigital": False})
        product.update(raw.get("Product") or {})
        article = self._linked_article(product)
        if article is not None:
            given = raw.get("Product") or {}
            defaults = {"BillbeeId": article["Id"], "SKU": article.get("SKU"), "EAN": article.get("EAN"),
                        "Title": title_text(article.get("Title")), "Weight": article.get("Weight"),
                        "Type": article.get("Type"), "IsDigital": article.get("IsDigital")}
            for key, value in defaults.items():
                if key not in given:
                    product[key] = value
        if product.get("Type") is None and product.get("BillbeeId") is not None:
            product["Type"] = 1
        if product.get("SkuOrId") is None:
            product["SkuOrId"] = product.get("SKU") or product.get("Id")
        item["Product"] = product
        if item.get("TotalPrice") is None:
            price = Decimal(str(article["Price"])) if article and article.get("Price") is not None else Decimal(0)
            item["TotalPrice"] = price * Decimal(str(item["Quantity"]))
        if item.get("TaxAmount") is None:
            item["TaxAmount"] = Decimal(str(item["TotalPrice"])) * 19 / 119
        if item.get("UnrebatedTotalPrice") is None:
            item["UnrebatedTotalPrice"] = item["TotalPrice"]
        if item.get("InvoiceSKU") is None:
            item["InvoiceSKU"] = product.get("SKU")
        for key, scale in ITEM_DECIMALS.items():
            item[key] = to_decimal(item.get(key), scale)
        return item

    def _normalise_shipment(self, raw: dict[str, Any]) -> dict[str, Any]:
        shipment = dict.fromkeys(SHIPMENT_FIELDS)
        shipment.update({"TrackingUrl": "-", "ShipmentType": 0})
        shipment.update({k: v for k, v in raw.items() if k in SHIPMENT_FIELDS})
        if shipment["BillbeeId"] is None:
            shipment["BillbeeId"] = self._new_id("shipment")
        else:
            self._see_id("shipment", int(shipment["BillbeeId"]))
        shipment["Created"] = parse_time(shipment.get("Created"), self.zone) or self.now()
        return shipment

    def _order(self, order_id: int | str) -> dict[str, Any] | None:
        try:
            return self.orders.get(int(order_id))
        except (TypeError, ValueError):
            return None

    def has_order(self, order_id: int | str) -> bool:
        with self.ctx.lock:
            return self._order(order_id) is not None

    def _public_order(self, order: dict[str, Any], title_source: int) -> dict[str, Any]:
        out = public(order)
        if not self._setting("order_web_url", True):
            del out["WebUrl"]
        if self._setting("messages_in_comments", True):
            out["Comments"] = self._comments_with_messages(out.get("Comments"), order["BillBeeOrderId"])
        if title_source in (1, 2):
            for item in out["OrderItems"]:
                article = self.products.get(item["Product"].get("BillbeeId") or -1)
                if article is not None:
                    text = title_text(article.get("Title" if title_source == 1 else "InvoiceText"))
                    if text:
                        item["Product"]["Title"] = text
        return out

    def _comments_with_messages(self, comments: Any, order_id: int) -> Any:
        """The order's Comments with the messages added through the API (CommentApiModel), in the order of their
        `Created` (stable: a scenario's comments first at equal times); the spec does not say how Comments are
        sorted. Comments without a timestamp leave the list as given, the messages appended."""
        added = public(self.message_comments.get(order_id) or [])
        if not added:
            return comments
        merged = [*(comments or []), *added]
        if all(isinstance(c, dict) and isinstance(c.get("Created"), datetime) for c in merged):
            merged.sort(key=lambda c: c["Created"])
        return merged

    def get_order(self, order_id: int | str, title_source: int = 0) -> dict[str, Any] | None:
        with self.ctx.lock:
            order = self._order(order_id)
            return self._public_order(order, title_source) if order else None

    def list_orders(self, flt: OrderFilter, title_source: int = 0) -> Rows:
        with self.ctx.lock:
            rows = [self.orders[k] for k in sorted(self.orders) if flt.matches(self.orders[k])]
            return Rows(self.ctx.lock, rows, lambda order: self._public_order(order, title_source))

    # -- merchant edits (admin) ---------------------------------------------------------------------------
    def patch_order(self, order_id: int | str, changes: dict[str, Any]) -> dict[str, Any] | None:
        if not isinstance(changes, dict):
            raise ScenarioError("order changes must be an object")
        unknown = set(changes) - set(ORDER_FIELDS)
        if unknown:
            raise ScenarioError(f"unknown order fields: {sorted(unknown)}")
        if "BillBeeOrderId" in changes:
            raise ScenarioError("BillBeeOrderId cannot be changed")
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return None
            merged = public(order)  # renormalise through the same path as new orders
            for key, value in changes.items():
                if key in ("ShippingAddress", "InvoiceAddress") and isinstance(value, dict) and merged.get(key):
                    merged[key] = {**merged[key], **value}
                else:
                    merged[key] = value
            if "OrderItems" in changes:
                merged["TotalCost"] = changes.get("TotalCost")
            merged["LastModifiedAt"] = order["LastModifiedAt"]
            new = self._normalise_order(merged)
            if "LastModifiedAt" in changes and changes["LastModifiedAt"] is not None:
                new["LastModifiedAt"] = parse_time(changes["LastModifiedAt"], self.zone)
            else:
                self._bump(new)
            new["_Taken"] = order.get("_Taken")  # edited items move no stock; a state change does
            self._reserve(order, -1)
            self.orders[new["BillBeeOrderId"]] = new
            self._sync_stock(new)
            self._reserve(new, 1)
            actions = [a for a, key in (("order.statechanged", "State"), ("order.tagschanged", "Tags"))
                       if new.get(key) != order.get(key)]
            self._order_event(actions or ["order.updated"], new)
            return copy.deepcopy(new)

    def delete_order(self, order_id: int | str) -> bool:
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return False
            self._reserve(order, -1)
            del self.orders[order["BillBeeOrderId"]]
            self.messages.pop(order["BillBeeOrderId"], None)
            self.message_comments.pop(order["BillBeeOrderId"], None)
            return True
