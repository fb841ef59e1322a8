"""What target-billbee writes as a Billbee stock value, and the circuit breaker in front of the write.

Billbee lowers an article's stock itself when it imports an order and counts every order not fulfilled yet as
the article's unfulfilled amount (docs/api-contract.md, "Billbee: stock"). An absolute write of wemalo's figure
would add back every order wemalo does not hold yet (paid since the last run, unpaid, refused). So each value
is written with `AutosubtractReservedAmount` ("Automatically reduce the NewQuantity by the currently not
fulfilled amount"), and `NewQuantity` is what Billbee must subtract its unfulfilled amount from:

* wemalo's figure is on-hand (`on_hand`): the figure itself;
* wemalo's figure is net of its open orders (`available`): the figure plus what the orders wemalo holds and has
  not shipped yet ask for (`held`, read from Billbee: orders with the received tag in `held_order_state_ids`),
  because Billbee counts those in its unfulfilled amount too and would subtract them a second time.

Never negative: wemalo reports oversold stock below 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from billbee_wemalo.billbee import BUNDLE_TYPE


def new_quantity(available: int, semantics: str, held: Mapping[str, int], sku: str) -> int:
    base = available + (held.get(sku.casefold(), 0) if semantics == "available" else 0)
    return max(0, base)


def held_quantities(orders: Iterable[dict[str, Any]]) -> tuple[Counter[str], int]:
    """Quantities per SKU (casefolded) of the given orders' lines, and how many bundle lines were left out
    (how Billbee counts a bundle's unfulfilled components is not documented: leaving them out can only make
    the written stock lower, never higher)."""
    held: Counter[str] = Counter()
    bundles = 0
    for order in orders:
        for item in order.get("OrderItems") or []:
            product = item.get("Product") or {}
            sku = str(product.get("SKU") or "").strip()
            if not sku:
                continue
            if product.get("Type") == BUNDLE_TYPE:
                bundles += 1
                continue
            try:
                quantity = Decimal(str(item.get("Quantity")))
            except InvalidOperation:
                continue
            if quantity > 0:  # a credit line (cancellation order) ships nothing
                held[sku.casefold()] += int(quantity)
    return held, bundles


@dataclass(frozen=True)
class BreakerLimits:
    zero_share: float  # more than this share of the merchant's SKUs set to 0 in one run trips
    drop_share: float  # total stock of the written SKUs falling by more than this share trips
    min_skus: int  # fewer SKUs set to 0 than this never trips (a few articles selling out is normal)


def breaker_verdict(planned: Mapping[str, int], known: Mapping[str, int], limits: BreakerLimits) -> str:
    """Why this run's stock write must not happen without an operator's confirmation ('' when it may).

    `planned`: SKU -> value to write; `known`: SKU -> value written by earlier runs (what Billbee has). Only SKUs
    with a value written before count: the first write of a SKU (onboarding, when wemalo has received no goods
    yet) is not judged, as there is nothing it would take away that the connector had written."""
    merchant_skus = len(set(known) | set(planned))
    zeroed = [sku for sku, value in planned.items() if value == 0 and known.get(sku) not in (None, 0)]
    if len(zeroed) >= max(1, limits.min_skus) and len(zeroed) > limits.zero_share * merchant_skus:
        return (f"{len(zeroed)} of {merchant_skus} SKUs would be set to 0 in one run (limit "
                f"{limits.zero_share:.0%}), e.g. {', '.join(sorted(zeroed)[:5])}")
    before = sum(known[sku] for sku in planned if sku in known)
    after = sum(value for sku, value in planned.items() if sku in known)
    if before >= 10 * max(1, limits.min_skus) and before - after > limits.drop_share * before:
        return (f"the stock of {sum(1 for sku in planned if sku in known)} SKUs would fall from {before} to "
                f"{after} units in one run (more than {limits.drop_share:.0%})")
    return ""


def billbee_has(entry: Mapping[str, Any] | None, new_quantity: int) -> bool:
    """Whether a write of `new_quantity` with AutosubtractReservedAmount would leave Billbee's stock entry
    (`StockArticleApiModel`: StockCurrent, UnfulfilledAmount) as it is. Billbee stores NewQuantity less the
    unfulfilled amount; whether it floors a negative result at 0 is not documented, so both count. A missing
    or non-numeric figure is never "the same": the value is written."""
    if not entry:
        return False
    try:
        current = Decimal(str(entry["StockCurrent"]))
        unfulfilled = Decimal(str(entry["UnfulfilledAmount"]))
    except (KeyError, InvalidOperation):
        return False
    result = Decimal(new_quantity) - unfulfilled
    return current == result or (result < 0 and current == 0)


def stock_entry(article: Mapping[str, Any], stock_id: int | None) -> Mapping[str, Any] | None:
    """The article's entry of Billbee stock `stock_id`; with None (no stock marked as standard), its only entry."""
    entries = article.get("Stocks") or []
    if stock_id is None:
        return entries[0] if len(entries) == 1 else None
    return next((e for e in entries if e.get("StockId") == stock_id), None)
