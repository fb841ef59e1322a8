"""What every part of the wemalo store builds on: the account's data containers, the id counters and the
clock. The resource mixins (products, stock, orders, warehouse, parcels, bookings, returns) derive from
:class:`AccountBase` and call each other through ``self``; :class:`WemaloStore`
(sandbox.wemalo.store.account) combines them."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sandbox.core import SimContext
from sandbox.wemalo.store.model import BERLIN
from sandbox.wemalo.store.product_index import ProductIndex


class AccountBase:
    """The data of one simulated wemalo account, its id counters and clock. All methods take `ctx.lock`."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.reset()

    def reset(self) -> None:
        with self.ctx.lock:
            self.products: dict[str, dict[str, Any]] = {}  # by externalId
            self._index = ProductIndex()
            self.stock: Counter[int] = Counter()  # physical stock of the default attribute by product id
            self.b_stock: dict[int, int] = {}  # B-stock by product id; only products that were given one
            self.orders: dict[str, dict[str, Any]] = {}  # by externalId, in creation order
            self.parcels: dict[int, dict[str, Any]] = {}
            self.bookings: list[dict[str, Any]] = []
            self.profiles: list[dict[str, Any]] = []
            self.returns: list[dict[str, Any]] = []  # return bookings (one per returned unit), by id
            self.announcements: list[dict[str, Any]] = []  # returns/announce
            self.return_receipts: list[dict[str, Any]] = []  # returned parcels booked in (admin `return`)
            self.next_product_id = 45001
            self.next_order_id = 1001
            self.next_parcel_id = 7001
            self.next_history_id = 880001
            self.tracking_counter = 1
            self.next_return_id = 4711  # announcements and returned parcels: wemalo's "returns id"

    def _webhook_event(self, event: str, data: dict[str, Any]) -> None:
        """Something a webhook reports happened (sandbox.wemalo.store.webhooks sends it). Called under ctx.lock."""

    def now(self) -> datetime:
        frozen = self.ctx.settings.get("now")
        if frozen:
            value = datetime.fromisoformat(str(frozen))
            return value if value.tzinfo else value.replace(tzinfo=BERLIN)
        return datetime.now(BERLIN)
