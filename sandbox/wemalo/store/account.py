"""The whole simulated wemalo account: :class:`WemaloStore` combines the resource mixins and adds loading a
scenario and the admin view of all data."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.wemalo.store.bookings import BookingsMixin
from sandbox.wemalo.store.model import WemaloError
from sandbox.wemalo.store.orders import OrdersMixin
from sandbox.wemalo.store.parcels import ParcelsMixin
from sandbox.wemalo.store.products import ProductsMixin
from sandbox.wemalo.store.returns import ReturnsMixin
from sandbox.wemalo.store.stock import StockMixin
from sandbox.wemalo.store.warehouse import WarehouseMixin
from sandbox.wemalo.store.webhooks import WebhooksMixin


class WemaloStore(ReturnsMixin, WebhooksMixin, BookingsMixin, ParcelsMixin, WarehouseMixin, OrdersMixin, StockMixin,
                  ProductsMixin):
    """All data of one simulated wemalo account."""

    def load(self, scenario: dict[str, Any]) -> dict[str, Any]:
        """Replace all data: {"products": [...], "profiles": [...], "stock": {sku: qty}, "orders": [...]}.

        An order may carry "status" (advance target, e.g. "SHIPPED") plus "parcels"/"profile" for it.
        """
        with self.ctx.lock, self.quiet_webhooks():  # a scenario's orders and stock fire no webhook
            self.reset()
            errors: list[str] = []
            self.profiles = copy.deepcopy(scenario.get("profiles") or [])
            for product in scenario.get("products") or []:
                try:
                    self.add_product(product)
                except WemaloError as exc:
                    errors.append(f"product {product.get('externalId')}: {exc.message}")
            stock = self.set_stock(scenario.get("stock") or {})
            errors += [f"stock: unknown sku {s}" for s in stock["unknown"]]
            if "error" in stock:
                errors.append(f"stock: {stock['error']}")
            for raw in scenario.get("orders") or []:
                body = {k: v for k, v in raw.items() if k not in ("status", "parcels", "profile", "partial")}
                ext = (body.get("meta") or {}).get("externalId")
                try:
                    self.add_order(body)
                except WemaloError as exc:
                    errors.append(f"order {ext}: {exc.message}")
                    continue
                if raw.get("status") and raw["status"] not in ("OPEN", "PARTIAL"):
                    done = self.advance({"externalIds": [ext], "to": raw["status"], "parcels": raw.get("parcels"),
                                         "profile": raw.get("profile"), "partial": raw.get("partial")})
                    errors += [f"order {s['externalId']}: {s['reason']}" for s in done.get("skipped", [])]
                    if not done.get("ok"):
                        errors.append(f"order {ext}: {done.get('error')}")
            return {"ok": not errors, "errors": errors, "products": len(self.products), "orders": len(self.orders),
                    "profiles": len(self.profiles)}

    def state(self) -> dict[str, Any]:
        with self.ctx.lock:
            demand = self._open_quantities(reserved_only=False)
            reserved = self._open_quantities(reserved_only=True)
            products = []
            for rec in self.products.values():
                pid = rec["id"]
                products.append({**rec["data"], "id": pid, "updatedAt": rec["updatedAt"].isoformat(),
                                 "stock": {"physical": self.stock[pid], "reserved": reserved[pid],
                                           "virtual": self.stock[pid] - demand[pid],
                                           "b_stock": self.b_stock.get(pid)}})
            orders = []
            for order in self.orders.values():
                orders.append({
                    "id": order["id"], "externalId": order["externalId"], **self.status_of(order),
                    "status": order["status"], "reserved": order["reserved"], "meta": order["meta"],
                    "receiver": order["meta"].get("receiver"), "positions": order["positions"],
                    "history": order["history"], "cancelReason": order["cancelReason"],
                    "parcels": [self._parcel_state(self.parcels[p]) for p in order["parcels"]]})
            # The admin view keeps one shape whatever the readings of the API answers.
            bookings = [{**self.booking_out(b, recipient=False, queue=True), "productId": str(b["productId"]),
                         "synched": b["synchedAt"] is not None} for b in self.bookings]
            stock = {rec["data"]["sku"]: self.stock[rec["id"]] for rec in self.products.values()}
            return {"products": products, "orders": orders, "bookings": bookings, "stock": stock,
                    "profiles": self.profiles}
