"""The whole simulated Billbee account: :class:`BillbeeStore` combines the resource mixins and adds loading a
scenario and the admin view of all data."""

from __future__ import annotations

import copy
from typing import Any

from sandbox.billbee.store.articles import ArticlesMixin
from sandbox.billbee.store.locations import LocationsMixin
from sandbox.billbee.store.order_writes import OrderWritesMixin
from sandbox.billbee.store.orders import OrdersMixin
from sandbox.billbee.store.reservations import ReservationsMixin
from sandbox.billbee.store.stock import StockMixin
from sandbox.billbee.store.values import ScenarioError
from sandbox.billbee.store.webhooks import WebhooksMixin


class BillbeeStore(WebhooksMixin, OrderWritesMixin, OrdersMixin, ReservationsMixin, StockMixin, ArticlesMixin,
                   LocationsMixin):
    """All data of one simulated Billbee account. Ids sort ascending, which is the simulator's list order."""

    def load(self, scenario: dict[str, Any]) -> dict[str, Any]:
        """Replace all business data by `scenario` (keys products, orders, stocks, shipping_providers). The orders
        are the account's existing ones, already reflected in the articles' stock; with `"import_orders": true`
        they arrive after the catalogue and lower its stock as the admin route POST /_admin/orders does."""
        if not isinstance(scenario, dict):
            raise ScenarioError("scenario must be an object")
        unknown = set(scenario) - {"products", "orders", "stocks", "shipping_providers", "import_orders"}
        if unknown:
            raise ScenarioError(f"unknown scenario keys: {sorted(unknown)}")
        with self.ctx.lock:
            frozen, offset = self.clock_frozen, self.clock_offset
            self.clear()
            self.clock_frozen, self.clock_offset = frozen, offset
            self.stocks = [self._normalise_location(s) for s in scenario.get("stocks") or []]
            if self.stocks and not any(s["IsDefault"] for s in self.stocks):
                self.stocks[0]["IsDefault"] = True
            self.providers = [self._normalise_provider(p) for p in scenario.get("shipping_providers") or []]
            self.put_products(scenario.get("products") or [])
            self.add_orders(scenario.get("orders") or [], imported=bool(scenario.get("import_orders")))
            return {"products": len(self.products), "orders": len(self.orders), "stocks": len(self.stocks),
                    "shipping_providers": len(self.providers)}

    def state(self) -> dict[str, Any]:
        """Everything, internal keys included: orders carry `_Taken` (the [article id, quantity] pairs of stock
        they hold, or null), products the unfulfilled amounts the API shows, `reserved` the amounts per article
        id (bundles: their own open quantity)."""
        with self.ctx.lock:
            products = copy.deepcopy([self.products[k] for k in sorted(self.products)])
            for article in products:
                self._show_unfulfilled(article)
            return copy.deepcopy({
                "products": products,
                "reserved": {str(k): v for k, v in sorted(self._reserved_amounts().items()) if v},
                "orders": [self.orders[k] for k in sorted(self.orders)],
                "stocks": self.stocks,
                "shipping_providers": self.providers,
                "messages": {str(k): v for k, v in self.messages.items()},
                "stock_writes": self.stock_writes,
                "shipment_requests": self.shipment_requests,
                "clock": {"now": self.now(), "frozen": self.clock_frozen is not None},
            })
