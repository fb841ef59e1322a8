"""The Billbee client of a dry run: real reads, writes recorded in `PlannedWrites` (see billbee_wemalo.dry_run)."""

from __future__ import annotations

from typing import Any

from typing_extensions import override

from billbee_wemalo.billbee.client import BillbeeClient
from billbee_wemalo.dry_run import PlannedWrites


class DryRunBillbeeClient(BillbeeClient):
    def __init__(self, *, planned: PlannedWrites, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)
        self.planned = planned

    def _plan(self, call: str, record_id: object) -> None:
        self.planned.record("Billbee", call, record_id)

    @override
    def add_tags(self, order_id: int, tags: list[str]) -> None:
        self._plan("POST /orders/{id}/tags", order_id)

    @override
    def replace_tags(self, order_id: int, tags: list[str]) -> None:
        self._plan("PUT /orders/{id}/tags", order_id)

    @override
    def set_order_state(self, order_id: int, state_id: int) -> None:
        self._plan("PUT /orders/{id}/orderstate", order_id)

    @override
    def add_shipment(self, order_id: int, shipment: dict[str, Any]) -> None:
        self._plan("POST /orders/{id}/shipment", order_id)

    @override
    def add_message(self, order_id: int, text: str, sender: str = "billbee-wemalo-connector") -> None:
        self._plan("POST /orders/{id}/message", order_id)

    @override
    def update_stock_multiple(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in items:
            self._plan("POST /products/updatestockmultiple", item.get("Sku"))
        return []  # no per-item results: every item counts as written

    @override
    def create_webhook(self, hook: dict[str, Any]) -> dict[str, Any]:
        self._plan("POST /webhooks", hook.get("WebHookUri"))
        return {}

    @override
    def update_webhook(self, hook_id: str, hook: dict[str, Any]) -> dict[str, Any]:
        self._plan("PUT /webhooks/{id}", hook_id)
        return {}

    @override
    def delete_webhook(self, hook_id: str) -> None:
        self._plan("DELETE /webhooks/{id}", hook_id)
