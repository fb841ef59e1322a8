"""Unfulfilled ("reserved") amounts of the articles, computed from the orders (settings ``unfulfilled_states``,
``dont_adjust_stock_reserves``, ``unfulfilled_from_orders``) and kept up to date per order change; shown in
the default stock's ``Stocks[].UnfulfilledAmount``, in the ``updatestock`` answer and by
``GET /products/reservedamount``."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from sandbox.billbee.store.base import AccountBase
from sandbox.billbee.store.model import UNFULFILLED_STATES
from sandbox.billbee.store.values import stock_figure


class ReservationsMixin(AccountBase):
    def _reserve_key(self) -> tuple[Any, ...]:
        states = self._setting("unfulfilled_states", UNFULFILLED_STATES)
        return tuple(sorted(int(x) for x in states or ())), bool(self._setting("dont_adjust_stock_reserves", True))

    def _order_reservation(self, order: dict[str, Any], key: tuple[Any, ...]) -> Iterator[tuple[int, Decimal]]:
        states, dont_adjust_reserves = key
        if order.get("State") not in states:
            return
        for item in order.get("OrderItems") or []:
            if item.get("DontAdjustStock") and not dont_adjust_reserves:
                continue
            quantity = item.get("Quantity")
            if not isinstance(quantity, Decimal) or quantity <= 0:  # a credit line ships nothing
                continue
            for article, units in self._item_units(item, bundle_itself=True):
                yield article["Id"], units

    def _reserve(self, order: dict[str, Any], sign: int) -> None:
        """Add (`sign` 1) or remove (-1) the order's share of the unfulfilled amounts; call it around every change of
        an order. The amounts are rebuilt from all orders when the settings they depend on have changed."""
        if self._reserved is None or self._reserved_key != self._reserve_key():
            self._reserved = None
            return
        for article_id, units in self._order_reservation(order, self._reserved_key):
            self._reserved[article_id] = self._reserved.get(article_id, Decimal(0)) + sign * units

    def _reserved_amounts(self) -> dict[int, Decimal]:
        key = self._reserve_key()
        if self._reserved is None or self._reserved_key != key:
            self._reserved, self._reserved_key = {}, key
            for order in self.orders.values():
                self._reserve(order, 1)
        return self._reserved

    def _unfulfilled(self, article: dict[str, Any], entry: dict[str, Any]) -> Decimal | None:
        """UnfulfilledAmount of one stock entry. Orders reserve in the default stock location; other locations, and
        all of them with `unfulfilled_from_orders` False, show the figure the scenario gave."""
        if not self._setting("unfulfilled_from_orders", True) or article.get("Type") == 2:
            return entry.get("UnfulfilledAmount")
        default = self._default_entry(article)
        if default is None or entry.get("StockId") != default.get("StockId"):
            return entry.get("UnfulfilledAmount")
        return stock_figure(self._reserved_amounts().get(article["Id"], Decimal(0)))

    def reserved_amount(self, key: str, lookup_by: str, stock_id: int | None) -> tuple[Decimal | None, str | None]:
        """GET /products/reservedamount: (ReservedAmount, None) or (None, why not). A bundle keeps no stock: its
        amount is its own open quantity (its components carry theirs)."""
        with self.ctx.lock:
            article = self._lookup(key, lookup_by)
            if article is None:
                return None, f"Article not found ({lookup_by} '{key}')"
            if stock_id not in (None, 0) and all(s["Id"] != stock_id for s in self.stocks):
                return None, f"unknown stockId {stock_id}"
            if article.get("Type") == 2:
                amount = self._reserved_amounts().get(article["Id"], Decimal(0)) \
                    if self._setting("unfulfilled_from_orders", True) else Decimal(0)
                return stock_figure(amount), None
            wanted = self.default_stock_id() if stock_id in (None, 0) else stock_id
            entry = next((e for e in article["Stocks"] if e["StockId"] == wanted), None)
            amount = self._unfulfilled(article, entry) if entry is not None else None
            return stock_figure(amount if amount is not None else Decimal(0)), None
