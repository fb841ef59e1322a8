"""The reconciliation lists the orders wemalo holds, and why (pure function; the stuck check's judgement is the
same: billbee_wemalo.wemalo.holds)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from billbee_wemalo.billbee import ConnectorTags
from billbee_wemalo_reconcile.checks import BundleIndex, WemaloCatalogue, order_findings

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def order(order_id: int, paid_hours_ago: float) -> dict[str, Any]:
    paid = (NOW - timedelta(hours=paid_hours_ago)).replace(tzinfo=None).isoformat()
    return {"BillBeeOrderId": order_id, "OrderNumber": f"#{order_id}", "PayedAt": paid,
            "Tags": ["wemalo", "order_received_by_wemalo"], "OrderItems": []}


def status(name: str, **extra: Any) -> dict[str, Any]:
    return {"statusName": name, **extra}


def test_orders_held_for_their_address_or_blocked_are_found_with_their_reason_and_the_others_are_not() -> None:
    orders = [order(1, 1), order(2, 1), order(3, 30), order(4, 2), order(5, 30)]
    statuses = {"1": status("PARTIAL", reasonPartiallyReserved="ADDRESS"), "2": status("BLOCKEDPACKED"),
                "3": status("PARTIAL", reasonPartiallyReserved="STOCK"), "4": status("PARTIAL"),
                "5": status("OPEN")}
    counts: Counter[str] = Counter()
    found = order_findings(orders, statuses, tags=ConnectorTags("wemalo"), wemalo=WemaloCatalogue([]),
                           bundles=BundleIndex([]), now=NOW, older_than=timedelta(hours=2), zone=ZoneInfo("UTC"),
                           counts=counts)
    held = {f.key["order_id"]: f for f in found if f.kind == "held_in_wemalo"}
    # 3 and 4: PARTIAL for stock or no reason; since when is in target-wemalo's state only (it flags them in
    # Billbee after stuck_partial_hours), not in either API: not listed here. 5: moving on.
    assert set(held) == {"1", "2"}
    assert "Lieferadresse" in held["1"].reason
    assert "BLOCKEDPACKED" in held["2"].reason
    assert all(f.attention for f in held.values())
    assert counts["orders_held_in_wemalo"] == 2
