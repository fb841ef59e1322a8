"""The wemalo client of a dry run: real reads, writes recorded in `PlannedWrites` (see billbee_wemalo.dry_run).

One read answers as if the writes had happened: the status of an order the dry run cancelled is CANCELLED,
because target-wemalo decides a cancellation's outcome from the status it reads afterwards.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import override

from billbee_wemalo.dry_run import PlannedWrites
from billbee_wemalo.wemalo.client import WemaloClient


class DryRunWemaloClient(WemaloClient):
    def __init__(self, *, planned: PlannedWrites, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)
        self.planned = planned
        self._cancelled: set[str] = set()

    def _plan(self, call: str, record_id: object) -> dict[str, Any]:
        self.planned.record("wemalo", call, record_id)
        return {}

    @override
    def add_products(self, products: list[dict[str, Any]]) -> dict[str, Any]:
        for product in products:
            self._plan("POST /product/addMultiple", product.get("externalId"))
        return {}

    @override
    def add_product(self, product: dict[str, Any]) -> dict[str, Any]:
        return self._plan("POST /product/add", product.get("externalId"))

    @override
    def update_product(self, external_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self._plan("PUT /product/update/:externalId", external_id)

    @override
    def add_order(self, order: dict[str, Any]) -> dict[str, Any]:
        return self._plan("POST /goodsOrder/add", order.get("externalId"))

    @override
    def update_order_meta(self, external_id: str, meta: dict[str, Any]) -> dict[str, Any]:
        return self._plan("PUT /goodsOrder/updateMeta/:id", external_id)

    @override
    def cancel_order(self, external_id: str, reason: str = "") -> dict[str, Any]:
        self._cancelled.add(external_id)
        return self._plan("PUT /goodsOrder/cancel/:id", external_id)

    @override
    def mark_return_synchronised(self, booking_id: int | str) -> None:
        self._plan("PUT /returns/booked/:bookingId", booking_id)

    @override
    def announce_return(self, announcement: dict[str, Any]) -> dict[str, Any]:
        return self._plan("POST /returns/announce", announcement.get("externalId"))

    @override
    def register_webhook(self, event: str, url: str, token: str, email: str = "") -> dict[str, Any]:
        return self._plan("POST /webhook/:event", event)

    @override
    def delete_webhook(self, event: str) -> None:
        self._plan("DELETE /webhook/:event", event)

    @override
    def order_status(self, external_id: str) -> dict[str, Any] | None:
        if external_id in self._cancelled:
            return {"externalId": external_id, "statusName": "CANCELLED"}
        return super().order_status(external_id)
