"""The stock check the end-to-end and chaos tests judge Billbee's stock with (tests/stock_check.py)."""

from __future__ import annotations

from typing import Any

from tests.stock_check import sellable_stock_problems

UNFULFILLED = [1, 2, 3, 11, 12, 13, 15, 16]


def _world(billbee_stock: int, *orders: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    billbee = {"products": [{"Id": 1, "SKU": "A", "Stocks": [{"StockCurrent": billbee_stock}]}], "orders": list(orders)}
    wemalo = {"products": [{"sku": "A", "stock": {"virtual": 10}}], "orders": []}
    return billbee, wemalo


def _order(order_id: int, quantity: float, **extra: Any) -> dict[str, Any]:
    return {"BillBeeOrderId": order_id, "State": 3, "Tags": [],
            "OrderItems": [{"Product": {"SKU": "A"}, "Quantity": quantity}], **extra}


def test_an_open_order_outside_wemalo_lowers_the_sellable_stock() -> None:
    assert sellable_stock_problems(*_world(8, _order(1, 2)), UNFULFILLED) == (1, [])
    assert sellable_stock_problems(*_world(10, _order(1, 2)), UNFULFILLED) == (1, ["A: Billbee 10, sellable 8"])


def test_a_cancellation_orders_credit_lines_need_no_stock() -> None:
    world = _world(8, _order(1, 2), _order(2, -2, IsCancelationFor=1))
    assert sellable_stock_problems(*world, UNFULFILLED) == (1, [])


def test_a_negative_billbee_stock_counts_as_nothing_to_sell() -> None:
    assert sellable_stock_problems(*_world(-3, _order(1, 13)), UNFULFILLED) == (1, [])
