"""Whether Billbee already has a stock value (target_billbee.stock.billbee_has, stock_entry)."""

from __future__ import annotations

from typing import Any

import pytest

from target_billbee.stock import billbee_has, stock_entry


@pytest.mark.parametrize(("entry", "new_quantity", "same"), [
    ({"StockCurrent": 12, "UnfulfilledAmount": 6}, 18, True),
    ({"StockCurrent": "12.0000", "UnfulfilledAmount": "6.0000"}, 18, True),  # decimals as text
    ({"StockCurrent": 11, "UnfulfilledAmount": 6}, 18, False),  # a cancellation without restock: one too low
    ({"StockCurrent": -2, "UnfulfilledAmount": 5}, 3, True),  # Billbee stores the negative result
    ({"StockCurrent": 0, "UnfulfilledAmount": 5}, 3, True),  # ... or floors it at 0 (not documented)
    ({"StockCurrent": 0, "UnfulfilledAmount": 5}, 5, True),
    ({"StockCurrent": 0, "UnfulfilledAmount": 5}, 6, False),
    ({"StockCurrent": None, "UnfulfilledAmount": 0}, 0, False),  # a missing figure is never "the same"
    ({"StockCurrent": 3}, 3, False),
    ({"StockCurrent": "n/a", "UnfulfilledAmount": 0}, 3, False),
    (None, 0, False),
])
def test_billbee_has(entry: dict[str, Any] | None, new_quantity: int, same: bool) -> None:
    assert billbee_has(entry, new_quantity) is same


def test_stock_entry_by_id_or_the_only_one() -> None:
    article = {"Stocks": [{"StockId": 1, "StockCurrent": 4}, {"StockId": 2, "StockCurrent": 7}]}
    assert stock_entry(article, 2) == {"StockId": 2, "StockCurrent": 7}
    assert stock_entry(article, 3) is None
    assert stock_entry(article, None) is None  # two entries, none known as the standard storage
    assert stock_entry({"Stocks": [{"StockId": 5, "StockCurrent": 1}]}, None) == {"StockId": 5, "StockCurrent": 1}
