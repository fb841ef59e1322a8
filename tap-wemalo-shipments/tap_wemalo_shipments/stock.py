"""The sellable quantity of one `product/availableStock` article (docs/api-contract.md, "wemalo: availableStock").

The apidoc's example carries the stock in `attributes[]` (one entry per stock attribute, e.g. "1. Wahl" with
`isDefault: true`) and `virtualQuantity: 0` on every article; its field list says only a set article "might
have a virtual quantity". So the quantity is the sum of the sellable attributes (by default the default
attribute; setting `sellable_attributes` names others by `external` code or `id`), and `virtualQuantity` counts
only for an article without attributes. A value that is missing or not a whole number is never read as 0.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass(frozen=True)
class Sellable:
    quantity: int | None  # None: no usable figure (see `problem`)
    source: str  # "attributes" | "virtualQuantity" | ""
    problem: str = ""


def whole_number(value: Any) -> int | None:
    """An int for 3, 3.0, "3", "-2"; None for anything else (None, "", "abc", 2.5, True)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or number != number.to_integral_value():
        return None
    return int(number)


def _is_sellable(attribute: dict[str, Any], named: Collection[str]) -> bool:
    if named:
        return str(attribute.get("external")) in named or str(attribute.get("id")) in named
    return attribute.get("isDefault") is True


def sellable_quantity(article: dict[str, Any], named: Collection[str] = ()) -> Sellable:
    attributes = article.get("attributes")
    if isinstance(attributes, list) and attributes:
        chosen = [a for a in attributes if isinstance(a, dict) and _is_sellable(a, named)]
        if not chosen:
            which = f"attributes {sorted(named)}" if named else "a default attribute (isDefault)"
            return Sellable(None, "", f"no stock attribute is sellable: the article has no {which}")
        total = 0
        for attribute in chosen:
            quantity = whole_number(attribute.get("quantity"))
            if quantity is None:
                return Sellable(None, "", f"attribute {attribute.get('external') or attribute.get('id')}: "
                                          f"quantity {attribute.get('quantity')!r} is not a whole number")
            total += quantity
        return Sellable(total, "attributes")
    virtual = whole_number(article.get("virtualQuantity"))
    if virtual is not None and (isinstance(attributes, list) or virtual != 0):
        return Sellable(virtual, "virtualQuantity")  # a set article, or an article with no stock rows at all
    return Sellable(None, "", f"no stock attributes and virtualQuantity {article.get('virtualQuantity')!r}")
