"""Which figure of an availableStock article is the sellable quantity (docs/api-contract.md, "wemalo: stock")."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tap_wemalo_shipments.stock import sellable_quantity, whole_number

# The apidoc's example article, literally: stock in the default attribute, virtualQuantity 0.
EXAMPLE = {"ean": "", "id": 45330, "attributes": [{"id": 91, "isDefault": True, "external": "1", "quantity": 9}],
           "sku": "test-123", "externalId": "T_123", "virtualQuantity": 0}
B_STOCK = {"id": 92, "isDefault": False, "external": "2", "quantity": 4}


def test_the_example_reads_the_default_attribute_not_virtual_quantity() -> None:
    figure = sellable_quantity(EXAMPLE)
    assert (figure.quantity, figure.source) == (9, "attributes")


def test_b_stock_is_not_sellable_unless_named() -> None:
    article = {**EXAMPLE, "attributes": [*EXAMPLE["attributes"], B_STOCK]}
    assert sellable_quantity(article).quantity == 9
    assert sellable_quantity(article, {"1", "2"}).quantity == 13
    assert sellable_quantity(article, {"92"}).quantity == 4


def test_a_set_article_without_attributes_uses_virtual_quantity() -> None:
    figure = sellable_quantity({"sku": "SET", "attributes": [], "virtualQuantity": 3})
    assert (figure.quantity, figure.source) == (3, "virtualQuantity")


@pytest.mark.parametrize("article", [
    {"sku": "X"},
    {"sku": "X", "virtualQuantity": None},
    {"sku": "X", "attributes": [{"id": 91, "isDefault": True, "quantity": None}], "virtualQuantity": 0},
    {"sku": "X", "attributes": [{"id": 91, "isDefault": True, "quantity": "viele"}], "virtualQuantity": 0},
    {"sku": "X", "attributes": [{"id": 91, "isDefault": True, "quantity": 2.5}]},
    {"sku": "X", "attributes": [B_STOCK], "virtualQuantity": 0},
], ids=["nothing", "null-virtual", "null-quantity", "text", "fraction", "no-default-attribute"])
def test_missing_or_non_numeric_is_never_zero(article: dict[str, Any]) -> None:
    figure = sellable_quantity(article)
    assert figure.quantity is None
    assert figure.problem


@given(st.lists(st.integers(-50, 500), min_size=1, max_size=4), st.integers(-5, 5))
def test_sum_of_default_attributes_whatever_virtual_quantity(quantities: list[int], virtual: int) -> None:
    attributes = [{"id": 91 + i, "isDefault": i == 0, "external": str(i + 1), "quantity": q}
                  for i, q in enumerate(quantities)]
    article = {"sku": "S", "attributes": attributes, "virtualQuantity": virtual}
    assert sellable_quantity(article).quantity == quantities[0]
    assert sellable_quantity(article, {str(i + 1) for i in range(len(quantities))}).quantity == sum(quantities)


@pytest.mark.parametrize(("value", "expected"), [(3, 3), ("3", 3), ("-2", -2), (3.0, 3), ("", None), (True, None),
                                                 (None, None), ("NaN", None), (2.5, None)])
def test_whole_number(value: Any, expected: int | None) -> None:
    assert whole_number(value) == expected
