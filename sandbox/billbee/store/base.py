"""What every part of the Billbee store builds on: the account's data containers, its clock, the id counters
and the settings. The resource mixins (locations, articles, stock, reservations, orders, order writes)
derive from :class:`AccountBase` and call each other through ``self``; :class:`BillbeeStore`
(sandbox.billbee.store.account) combines them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.billbee.store.model import (
    ADDRESS_ID_BASE,
    ARTICLE_ID_BASE,
    COMMENT_ID_BASE,
    CUSTOMER_ID_BASE,
    ORDER_ID_BASE,
    ORDER_ITEM_ID_BASE,
    SHIPMENT_ID_BASE,
    error_description,
)
from sandbox.billbee.store.values import parse_time, sql_round
from sandbox.core import SimContext


class AccountBase:
    """The data of one simulated Billbee account, its clock and id counters. Every public method of the store
    takes ``ctx.lock`` and returns deep copies, so callers may serialise outside the lock."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.clear()

    def clear(self) -> None:
        with self.ctx.lock:
            self.products: dict[int, dict[str, Any]] = {}
            self._sku_ids: dict[str, int] | None = None  # casefolded SKU -> lowest Id; built when first needed
            self.orders: dict[int, dict[str, Any]] = {}
            self.stocks: list[dict[str, Any]] = []
            self.providers: list[dict[str, Any]] = []
            self.messages: dict[int, list[dict[str, Any]]] = {}
            # order id -> the CommentApiModel of each API message, shown in Comments (setting messages_in_comments)
            self.message_comments: dict[int, list[dict[str, Any]]] = {}
            self.stock_writes: list[dict[str, Any]] = []
            self.shipment_requests: list[dict[str, Any]] = []
            self.throttled = 0  # number of 429s answered, for the "alternate" Retry-After setting
            self.clock_frozen: datetime | None = None
            self.clock_offset = timedelta(0)
            self._reserved: dict[int, Decimal] | None = None  # article id -> unfulfilled amount; None: rebuild
            self._reserved_key: tuple[Any, ...] = ()  # the settings `_reserved` was computed with
            self._next = {"order": ORDER_ID_BASE, "item": ORDER_ITEM_ID_BASE, "address": ADDRESS_ID_BASE,
                          "shipment": SHIPMENT_ID_BASE, "article": ARTICLE_ID_BASE, "customer": CUSTOMER_ID_BASE,
                          "comment": COMMENT_ID_BASE}

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(str(self.ctx.settings.get("timezone") or "UTC"))

    def now(self) -> datetime:
        with self.ctx.lock:
            if self.clock_frozen is not None:
                return self.clock_frozen
            real = datetime.now(self.zone).replace(tzinfo=None) + self.clock_offset
            return sql_round(real)

    def set_clock(self, body: dict[str, Any]) -> dict[str, Any]:
        """{"now": ts} freezes the clock, {"now": null} unfreezes it, {"advance_seconds": n} moves it on."""
        with self.ctx.lock:
            if "now" in body:
                self.clock_frozen = parse_time(body["now"], self.zone)
                self.clock_offset = timedelta(0)
            if "advance_seconds" in body:
                step = timedelta(seconds=float(body["advance_seconds"]))
                if self.clock_frozen is not None:
                    self.clock_frozen += step
                else:
                    self.clock_offset += step
            return {"now": self.now(), "frozen": self.clock_frozen is not None}

    def _new_id(self, kind: str, taken: Iterable[int] = ()) -> int:
        taken = set(taken)
        value = self._next[kind]
        while value in taken:
            value += 1
        self._next[kind] = value + 1
        return value

    def _see_id(self, kind: str, value: int) -> None:
        if value >= self._next[kind]:
            self._next[kind] = value + 1

    def _bump(self, order: dict[str, Any]) -> None:
        """LastModifiedAt = now, but always later than before so the change is visible to modifiedAtMin."""
        now = self.now()
        old = order.get("LastModifiedAt")
        if old is not None and now <= old:
            now = sql_round(old + timedelta(microseconds=3334))
        order["LastModifiedAt"] = now

    def _order_event(self, actions: list[str], order: dict[str, Any]) -> None:
        """An order was written (`actions`: the webhook filter names of the change); the webhooks resource
        (sandbox.billbee.store.webhooks) notifies its hooks. Called under ctx.lock."""

    def _setting(self, name: str, literal: Any) -> Any:
        """A setting of the app (DEFAULT_SETTINGS); `literal` is its default for a store used without the app."""
        return self.ctx.settings.get(name, literal)

    def _describe(self, code: int) -> int | str:
        return error_description(code, self._setting("error_description", "number"))
