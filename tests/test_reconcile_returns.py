"""The reconciliation's returns check (pure function; the CLI against the sandbox: tests/e2e/test_reconcile.py)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from billbee_wemalo.protocol import return_marker
from billbee_wemalo_reconcile.checks import return_findings

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=BERLIN)


def booking(ident: int, order: str | None, at: str = "04.12.2026 08:00:00") -> dict[str, object]:
    return {"id": ident, "goodsOrderExternalId": order, "bookingDate": at}


def test_unsynchronised_returns_are_told_apart_by_what_billbee_has() -> None:
    orders = {"1": {"OrderNumber": "#1", "Comments": [{"Text": f"Retoure ({return_marker([10, 11])}):"}]},
              "2": {"OrderNumber": "#2", "Comments": []}, "3": None}
    counts: Counter[str] = Counter()
    found = return_findings([booking(10, "1"), booking(11, "1"), booking(20, "2"), booking(30, "3"),
                             booking(40, None), booking(50, "2", at="04.12.2026 11:30:00")],
                            orders, now=NOW, older_than=timedelta(hours=2), zone=BERLIN, counts=counts)
    kinds = {(f.key["order_id"], f.kind, tuple(f.key["booking_ids"])) for f in found}
    assert kinds == {("1", "not_marked", ("10", "11")), ("2", "not_written", ("20",)),
                     ("3", "order_unknown", ("30",)), (None, "order_unknown", ("40",))}
    assert counts == {"returns_booked": 6, "returns_too_recent": 1}
