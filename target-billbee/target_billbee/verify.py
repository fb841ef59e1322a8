"""Which stock values equal to the last written are compared with Billbee's articles (setting `stock_verify_hours`).

A value equal to the one the last run wrote usually means Billbee has it: Billbee lowers its stock itself when it
imports an order and counts the order in its unfulfilled amount, which `AutosubtractReservedAmount` subtracts, so
neither moves what a write of the same `NewQuantity` would leave. What can make the same value need a write again
(docs/api-contract.md, "Billbee: stock"), and what the connector knows of it:

* an order that left Billbee's unfulfilled amount without lowering wemalo's figure by as much: a held order
  cancelled or shipped while goods came in (the SKU's held quantity differs from the last run's), or a cancelled
  or deleted order of any kind (Billbee may or may not give its stock back): the orders in states 6/8 created in
  the last `cancel_check_days` that the last run had not seen; an order this run ships (sets to "Versendet", or
  finds so with its last parcel): one sent to wemalo after a stock run and acknowledged and shipped before the
  next was never seen held, so its held quantity never moved;
* a write whose result the state does not hold: an ambiguous failure, or a run killed between its write and its
  last STATE (the STATE emitted before the write lists the SKUs about to be written as `unsettled`); likewise the
  SKUs of an order a run shipped, until a run compares them (wemalo may not report them in the shipping run, or
  the run may be killed before its stock work);
* anything the connector cannot see (an edit in Billbee, another app writing stock): found by the full comparison
  every `stock_verify_hours` (0 = every run, as before this setting).

Every other value equal to the last written is trusted without reading Billbee.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

# A run scheduled every N hours starts a little earlier or later each time: a comparison due "every 24 hours"
# must not slip to the 25th because the run 24 hours later started a minute early.
SCHEDULE_SLACK = timedelta(minutes=10)


def verify_due(verified_at: str | None, hours: float, now: datetime) -> bool:
    """Is the full comparison due: every run (`hours` 0), never done, or `hours` (less the slack) passed since."""
    if hours <= 0 or not verified_at:
        return True
    try:
        last = datetime.fromisoformat(verified_at)
    except ValueError:
        return True
    return now - last >= timedelta(hours=hours) - SCHEDULE_SLACK


def casefolded(skus: Iterable[str]) -> set[str]:
    return {sku.casefold() for sku in skus}


@dataclass
class StockMemory:
    """What the last runs left in `bookmarks.stock_levels` about Billbee's side (besides the written values)."""

    verified_at: str | None = None
    held: dict[str, int] | None = None  # SKU (casefolded) -> quantity of the orders wemalo held; None: not recorded
    unsettled: set[str] = field(default_factory=set)  # SKUs (casefolded) whose Billbee value the state does not know
    cancelled_seen: set[int] | None = None  # cancelled/deleted orders (ids) seen; None: not recorded

    @classmethod
    def from_state(cls, stock: Mapping[str, object]) -> StockMemory:
        held = stock.get("held")
        seen = stock.get("cancelled_seen")
        unsettled = stock.get("unsettled")
        verified = stock.get("verified_at")
        return cls(
            verified_at=verified if isinstance(verified, str) else None,
            held={str(k): int(v) for k, v in held.items()} if isinstance(held, dict) else None,
            unsettled=casefolded(str(s) for s in unsettled) if isinstance(unsettled, list) else set(),
            cancelled_seen={int(i) for i in seen} if isinstance(seen, list) else None,
        )


def to_check(equal: Collection[str], memory: StockMemory, held_now: Mapping[str, int] | None,
             left_skus: Collection[str] | None) -> list[str]:
    """The SKUs among `equal` (planned = last written) that must be compared with Billbee between full comparisons.

    `held_now`: this run's held quantities (None when not read: figures on-hand); `left_skus`: SKUs (casefolded) of
    the orders that left Billbee's unfulfilled amount otherwise than through the held quantities: cancelled or
    deleted since the last run, or shipped by this run (None when that is not known: then every SKU is checked)."""
    if left_skus is None or (held_now is not None and memory.held is None):
        return list(equal)
    before = memory.held or {}
    out = []
    for sku in equal:
        key = sku.casefold()
        moved = held_now is not None and held_now.get(key, 0) != before.get(key, 0)
        if moved or key in left_skus or key in memory.unsettled:
            out.append(sku)
    return out
