"""Stock of the wemalo account: physical stock per product (the default attribute) and B-stock, the
quantities open orders reserve, availableStock's rows, the admin's stock levels, and promoting PARTIAL
orders when stock allows."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sandbox.wemalo.store.base import AccountBase
from sandbox.wemalo.store.model import B_STOCK_ATTRIBUTE, CLOSED, DEFAULT_ATTRIBUTE


class StockMixin(AccountBase):
    def _open_quantities(self, reserved_only: bool) -> Counter[int]:
        out: Counter[int] = Counter()
        for order in self.orders.values():
            if order["status"] in CLOSED or (reserved_only and not order["reserved"]):
                continue
            for pos in order["positions"]:
                out[pos["productId"]] += pos["quantity"] - pos["shipped"]
        return out

    def _touch_stock(self, product_ids: set[int]) -> None:
        now = self.now()
        for pid in product_ids:
            if pid in self._index.by_id:
                self._index.by_id[pid]["stockChangedAt"] = now

    def available_stock(self, since: datetime) -> list[dict[str, Any]]:
        with self.ctx.lock:
            demand = self._open_quantities(reserved_only=False)
            return [self._stock_row(rec, demand) for rec in self.products.values() if rec["stockChangedAt"] >= since]

    def _stock_row(self, rec: dict[str, Any], demand: Counter[int]) -> dict[str, Any]:
        """One article as the example shows it: the stock per attribute, `virtualQuantity` 0 ("if it's a set
        article, the product might have a virtual quantity": every simulated article is a non-set article).
        Orders reserve and ship from the default attribute; whether its figure is net of the open orders is not
        documented (setting stock_quantity). B-stock is listed only for products that were given one.
        `externalId` is text as in the example (the field list types it Number)."""
        pid, data = rec["id"], rec["data"]
        physical = self.stock[pid]
        quantity = physical if self.ctx.settings.get("stock_quantity") == "on_hand" else physical - demand[pid]
        attributes = [{**DEFAULT_ATTRIBUTE, "quantity": quantity}]
        if pid in self.b_stock:
            attributes.append({**B_STOCK_ATTRIBUTE, "quantity": self.b_stock[pid]})
        return {"ean": data["ean"], "id": pid, "attributes": attributes, "sku": data["sku"],
                "externalId": data["externalId"], "virtualQuantity": 0}

    @staticmethod
    def _stock_levels(value: Any) -> dict[str, int] | None:
        """`n` (the default attribute) or `{"default": n, "b_stock": m}` (either key) -> levels; None if bad."""
        levels = value if isinstance(value, dict) else {"default": value}
        if not levels or set(levels) - {"default", "b_stock"}:
            return None
        if any(isinstance(v, bool) or not isinstance(v, int) for v in levels.values()):
            return None
        return levels

    def set_stock(self, levels: dict[str, Any]) -> dict[str, Any]:
        """Admin: physical stock by SKU (or externalId): a whole number for the default attribute, or
        `{"default": n, "b_stock": m}`; re-checks PARTIAL orders."""
        with self.ctx.lock:
            parsed = {k: self._stock_levels(v) for k, v in levels.items()}
            bad = [k for k, v in parsed.items() if v is None]
            if bad:
                return {"ok": False, "error": "quantities must be whole numbers or {\"default\": n, \"b_stock\": m}: "
                                              f"{bad}", "stock": {}, "unknown": [], "promoted": []}
            unknown, changed, ids, incoming = [], {}, set(), []
            for key, wanted in parsed.items():
                rec = self._find_product(key, "sku") or self.products.get(key)
                if rec is None:
                    unknown.append(key)
                    continue
                if "default" in wanted:
                    if wanted["default"] > self.stock[rec["id"]]:
                        incoming.append(rec["data"].get("externalId"))
                    self.stock[rec["id"]] = wanted["default"]
                if "b_stock" in wanted:
                    self.b_stock[rec["id"]] = wanted["b_stock"]
                changed[rec["data"]["sku"]] = levels[key]
                ids.add(rec["id"])
            self._touch_stock(ids)
            if incoming:  # one stock booking; it belongs to no goods receipt (orderId/externalId null)
                self._webhook_event("stock_change", {"type": "INCOMING_STOCK", "orderId": None, "externalId": None,
                                                     "products": incoming})
            promoted = self._recheck_partial()
            return {"ok": not unknown, "stock": changed, "unknown": unknown, "promoted": promoted}

    def _fits(self, positions: list[dict[str, Any]]) -> bool:
        reserved = self._open_quantities(reserved_only=True)
        need: Counter[int] = Counter()
        for pos in positions:
            need[pos["productId"]] += pos["quantity"] - pos["shipped"]
        return all(self.stock[pid] - reserved[pid] >= qty for pid, qty in need.items())

    def _recheck_partial(self, skip: str | None = None) -> list[str]:
        """PARTIAL orders waiting for stock (reason STOCK), oldest first, reserved and OPEN when stock covers them;
        `skip`: an order left as it is. Other reasons (ADDRESS, ...) wait for their own cause."""
        promoted = []
        for order in self.orders.values():
            if order["status"] == "PARTIAL" and order["reasonPartiallyReserved"] == "STOCK" \
                    and order["externalId"] != skip and self._fits(order["positions"]):
                order["reserved"] = True
                order["reasonPartiallyReserved"] = ""
                self._set_status(order, "OPEN")
                promoted.append(order["externalId"])
        return promoted

    def _release_partial(self, order: dict[str, Any]) -> None:
        """A PARTIAL order whose own cause (ADDRESS, ...) is gone: from now on it waits only for stock, and is
        re-checked with the others at once (OPEN when stock covers it, else PARTIAL with reason STOCK)."""
        order["reasonPartiallyReserved"] = "STOCK"
        self._recheck_partial()
