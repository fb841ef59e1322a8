"""What the warehouse says of the orders it holds: which are stuck there, and why (issue 18).

wemalo has no call that lists goods orders by status, so target-wemalo watches the orders it handed over: their
ids stay in its state (`bookmarks.orders.watched_orders`) until wemalo shipped or cancelled them, and at the end
of every run getStatus is asked for each. An order is stuck when wemalo holds it in PARTIAL for its address
(`reasonPartiallyReserved` ADDRESS) or in BLOCKEDPACKED, at once, and when it has been PARTIAL for another reason
longer than `stuck_partial_hours`. A change of the verdict becomes an entry of the warehouse flags
(billbee_wemalo.protocol.WAREHOUSE_FLAGS_KEY) that tap-billbee turns into the stuck tag and a message, or removes.

getStatus's example shows neither `reasonPartiallyReserved` nor `blockReason` (docs/api-contract.md, "wemalo:
order status"): without a reason, a PARTIAL order counts as held for an unnamed reason (flagged after the time),
a BLOCKEDPACKED one is flagged at once with "no reason given" (the judgement: billbee_wemalo.wemalo.holds).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from billbee_wemalo.http import ApiError
from billbee_wemalo.wemalo import WemaloClient
from billbee_wemalo.wemalo.holds import judge, stage_of

# order id -> {"partial_since": ISO time or None, "flag": reason text or None, "stage": the stage last reported}
WATCH_KEY = "watched_orders"
WATCH_CHECKED_KEY = "watched_orders_checked_at"  # when wemalo was last asked (setting stuck_check_minutes)
FINISHED = frozenset({"SHIPPED", "CANCELLED"})
@dataclass
class CheckResult:
    flags: dict[str, dict[str, Any]]  # the entries for tap-billbee (protocol.WAREHOUSE_FLAGS_KEY)
    watched: dict[str, dict[str, Any]]  # the watch list for the next run
    asked: int = 0
    failed: int = 0


class WarehouseWatch:
    """Asks wemalo about each watched order and says which verdicts changed."""

    def __init__(self, client: WemaloClient, logger: logging.Logger, *, partial_hours: float) -> None:
        self.client = client
        self.log = logger
        self.partial_hours = partial_hours

    def check(self, watched: Mapping[str, Mapping[str, Any]], now: datetime) -> CheckResult:
        result = CheckResult(flags={}, watched={})
        for order_id, entry in watched.items():
            try:
                status = self.client.order_status(order_id)
            except ApiError as exc:  # asked again next run; the verdict stays as it was
                result.failed += 1
                result.watched[order_id] = dict(entry)
                self.log.warning("wemalo order %s: status not read, checked again next run: %s", order_id, exc)
                continue
            result.asked += 1
            flagged = entry.get("flag")
            if status is None or str(status.get("statusName") or "") in FINISHED:
                if flagged:
                    result.flags[order_id] = {"stuck": False, "reason": "", "resend_on_change": False}
                continue  # shipped, cancelled or unknown to wemalo: no longer watched
            since = _parse(entry.get("partial_since"))
            verdict, since = judge(status, since, now, self.partial_hours)
            change: dict[str, Any] = {}
            if verdict.stuck and verdict.reason != flagged:
                change = {"stuck": True, "reason": verdict.reason, "resend_on_change": verdict.resend_on_change}
            elif not verdict.stuck and flagged:
                change = {"stuck": False, "reason": "", "resend_on_change": False}
            stage = stage_of(str(status.get("statusName") or ""))
            if stage != entry.get("stage"):
                change["stage"] = stage
            if change:
                result.flags[order_id] = change
            result.watched[order_id] = {"partial_since": since.isoformat() if since else None,
                                        "flag": verdict.reason if verdict.stuck else None, "stage": stage}
        return result


SEED_DAYS = 14  # the first run with the check watches the orders sent in these last days, not all 120 kept


def watch_list(known: Mapping[str, Any] | None, sent: Mapping[str, list[str]],
               today: date) -> dict[str, dict[str, Any]]:
    """The incoming watch list; before this state key existed, the orders the target sent lately
    (sent_positions: order id -> [fingerprint, date sent])."""
    if known is not None:
        return {str(k): dict(v) for k, v in known.items()}
    oldest = (today - timedelta(days=SEED_DAYS)).isoformat()
    return {str(order_id): {"partial_since": None, "flag": None} for order_id, entry in sent.items()
            if len(entry) > 1 and str(entry[1]) >= oldest}


def _parse(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None
