"""Stuck and blocked orders (target_wemalo.warehouse): the verdict on a getStatus answer, the flags that change,
the watch list, and the run context putting both into the state it emits."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from billbee_wemalo.http import TransientError
from billbee_wemalo.protocol import WAREHOUSE_FLAGS_KEY
from billbee_wemalo.wemalo.holds import judge
from target_wemalo.run import WemaloRun
from target_wemalo.warehouse import SEED_DAYS, WATCH_CHECKED_KEY, WATCH_KEY, WarehouseWatch, watch_list

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LOG = logging.getLogger("test")


def status(name: str, **extra: Any) -> dict[str, Any]:
    return {"statusId": "100", "statusName": name, "deliveryDate": "", "Success": True, **extra}


def test_an_address_hold_is_stuck_at_once_and_fixed_by_the_merchants_change() -> None:
    verdict, since = judge(status("PARTIAL", reasonPartiallyReserved="ADDRESS"), None, NOW, 24)
    assert verdict.stuck
    assert verdict.resend_on_change
    assert "Lieferadresse" in verdict.reason
    assert "ADDRESS" in verdict.reason
    assert since == NOW


@pytest.mark.parametrize(("reason", "shown"), [("LABEL_ERROR", "LABEL_ERROR"), (None, "keinen Grund")])
def test_blocked_after_packing_is_stuck_at_once_with_or_without_a_reason(reason: str | None, shown: str) -> None:
    verdict, since = judge(status("BLOCKEDPACKED", blockReason=reason), None, NOW, 24)
    assert verdict.stuck
    assert not verdict.resend_on_change
    assert shown in verdict.reason
    assert since is None


def test_partial_for_another_reason_is_stuck_only_after_the_hours() -> None:
    fresh, since = judge(status("PARTIAL", reasonPartiallyReserved="STOCK"), None, NOW, 24)
    assert not fresh.stuck
    assert since == NOW
    early, kept = judge(status("PARTIAL", reasonPartiallyReserved="STOCK"), NOW, NOW + timedelta(hours=23), 24)
    assert not early.stuck
    assert kept == NOW
    late, _ = judge(status("PARTIAL", reasonPartiallyReserved="STOCK"), NOW, NOW + timedelta(hours=24), 24)
    assert late.stuck
    assert "Bestand" in late.reason
    assert not late.resend_on_change


def test_the_literal_getstatus_without_a_reason_counts_as_an_unnamed_partial() -> None:
    """getStatus's example has no reasonPartiallyReserved: never taken for an address hold."""
    verdict, _ = judge(status("PARTIAL"), NOW - timedelta(hours=30), NOW, 24)
    assert verdict.stuck
    assert not verdict.resend_on_change
    assert "keinen Grund" in verdict.reason


@pytest.mark.parametrize("name", ["OPEN", "INPROCESS", "INPICKING", "READYFORSHIPMENT", "PACKED"])
def test_orders_moving_on_are_not_stuck_and_forget_their_partial_time(name: str) -> None:
    assert judge(status(name), NOW - timedelta(days=3), NOW, 24) == (judge(status("OPEN"), None, NOW, 24)[0], None)
    assert not judge(status(name), None, NOW, 24)[0].stuck


class Statuses:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def order_status(self, external_id: str) -> dict[str, Any] | None:
        self.asked.append(external_id)
        answer = self.answers[external_id]
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]


def check(answers: dict[str, Any], watched: dict[str, dict[str, Any]], now: datetime = NOW) -> Any:
    return WarehouseWatch(Statuses(answers), LOG, partial_hours=24).check(watched, now)  # type: ignore[arg-type]


def unflagged(stage: str | None = None) -> dict[str, Any]:
    return {"partial_since": None, "flag": None, **({"stage": stage} if stage else {})}


def stuck_flags(result: Any) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in result.flags.items() if "stuck" in v}


def test_a_flag_is_written_when_the_verdict_changes_and_not_again() -> None:
    answers = {"1": status("BLOCKEDPACKED", blockReason="X"), "2": status("OPEN")}
    first = check(answers, {"1": unflagged(), "2": unflagged()})
    assert set(stuck_flags(first)) == {"1"}
    assert first.flags["1"]["stuck"] is True
    assert first.watched["1"]["flag"] == first.flags["1"]["reason"]
    second = check(answers, first.watched)
    assert second.flags == {}  # same verdict: nothing for tap-billbee to write
    answers["1"] = status("BLOCKEDPACKED", blockReason="Y")
    assert check(answers, first.watched).flags["1"]["stuck"] is True  # a new reason: a new message


def test_a_flag_is_cleared_when_the_order_moves_on_ships_or_is_unknown() -> None:
    flagged = {"partial_since": None, "flag": "reason"}
    result = check({"1": status("PACKED"), "2": status("SHIPPED"), "3": None, "4": status("SHIPPED")},
                   {"1": {**flagged, "stage": "packed"}, "2": flagged, "3": flagged, "4": unflagged()})
    assert {k: v["stuck"] for k, v in result.flags.items()} == {"1": False, "2": False, "3": False}
    assert set(result.watched) == {"1"}  # shipped and unknown orders are no longer watched
    assert result.watched["1"] == unflagged("packed")


def test_a_status_wemalo_did_not_answer_keeps_the_order_as_it_was() -> None:
    entry = {"partial_since": NOW.isoformat(), "flag": "reason"}
    result = check({"1": TransientError("down", system="wemalo")}, {"1": entry})
    assert result.flags == {}
    assert result.watched == {"1": entry}
    assert result.failed == 1


def test_partial_time_is_carried_from_run_to_run() -> None:
    answers = {"1": status("PARTIAL", reasonPartiallyReserved="STOCK")}
    first = check(answers, {"1": unflagged()})
    assert first.flags == {"1": {"stage": "accepted"}}
    later = check(answers, first.watched, NOW + timedelta(hours=25))
    assert later.flags["1"]["stuck"] is True


def test_the_stage_is_reported_when_it_changes_for_the_status_mirror() -> None:
    answers = {"1": status("OPEN")}
    first = check(answers, {"1": unflagged()})
    assert first.flags == {"1": {"stage": "accepted"}}
    assert check(answers, first.watched).flags == {}  # the same stage: nothing
    answers["1"] = status("BLOCKEDPACKED")
    packed = check(answers, first.watched)
    assert packed.flags["1"]["stage"] == "packed"
    assert packed.flags["1"]["stuck"] is True
    answers["1"] = status("PACKED")
    assert check(answers, packed.watched).flags == {"1": {"stuck": False, "reason": "", "resend_on_change": False}}


def test_the_first_watch_list_is_seeded_with_the_orders_sent_lately() -> None:
    today = date(2026, 12, 6)
    sent = {"new": ["f", today.isoformat()], "old": ["f", (today - timedelta(days=SEED_DAYS + 1)).isoformat()]}
    assert set(watch_list(None, sent, today)) == {"new"}
    assert watch_list({"7": {"flag": None}}, sent, today) == {"7": {"flag": None}}  # known: no seeding


def make_run(answers: dict[str, Any], **config: Any) -> WemaloRun:
    run = WemaloRun("target-wemalo", config, LOG, flush_products=lambda: None)
    run.__dict__["client"] = Statuses(answers)  # the cached_property, filled
    return run


def test_the_run_checks_at_its_end_and_puts_the_flags_and_the_watch_list_into_the_state() -> None:
    run = make_run({"10": status("BLOCKEDPACKED", blockReason="X"), "11": status("OPEN")})
    run.read_state({"bookmarks": {"orders": {WATCH_KEY: {"10": unflagged()},
                                             WAREHOUSE_FLAGS_KEY: {"9": {"stuck": False}}}}})
    run.watch("11")
    run.before_last_state()
    state = run.add_to_state({"bookmarks": {"orders": {WAREHOUSE_FLAGS_KEY: {"9": {"stuck": False}}}}})
    orders = state["bookmarks"]["orders"]
    assert set(orders[WATCH_KEY]) == {"10", "11"}
    assert set(orders[WAREHOUSE_FLAGS_KEY]) == {"9", "10", "11"}  # the tap's unwritten entry kept, new ones added
    assert orders[WAREHOUSE_FLAGS_KEY]["11"] == {"stage": "accepted"}
    assert [o.outcome for o in run.report.outcomes] == ["flagged"]


def test_switched_off_or_in_a_dry_run_the_state_gets_nothing() -> None:
    off = make_run({"10": status("BLOCKEDPACKED")}, stuck_check=False)
    off.read_state({"bookmarks": {"orders": {WATCH_KEY: {"10": unflagged()}}}})
    off.before_last_state()
    assert off.client.asked == []  # type: ignore[attr-defined]
    dry = make_run({"10": status("BLOCKEDPACKED")}, dry_run=True)
    dry.read_state({"bookmarks": {"orders": {WATCH_KEY: {"10": unflagged()}}}})
    dry.before_last_state()
    assert WAREHOUSE_FLAGS_KEY not in dry.add_to_state({"bookmarks": {"orders": {}}})["bookmarks"]["orders"]
    assert [o.outcome for o in dry.report.outcomes] == ["flagged"]  # reported as it would be


def test_the_check_runs_at_most_every_stuck_check_minutes_and_new_orders_are_kept_meanwhile() -> None:
    recent = (datetime.now(UTC) - timedelta(minutes=10)).isoformat()
    run = make_run({"10": status("BLOCKEDPACKED")}, stuck_check_minutes=50)
    run.read_state({"bookmarks": {"orders": {WATCH_KEY: {"10": unflagged()}, WATCH_CHECKED_KEY: recent}}})
    run.watch("11")
    run.before_last_state()
    assert run.client.asked == []  # type: ignore[attr-defined]
    orders = run.add_to_state({"bookmarks": {"orders": {WATCH_CHECKED_KEY: recent}}})["bookmarks"]["orders"]
    assert set(orders[WATCH_KEY]) == {"10", "11"}
    assert orders[WATCH_CHECKED_KEY] == recent
    assert WAREHOUSE_FLAGS_KEY not in orders

    due = make_run({"10": status("BLOCKEDPACKED"), "11": status("OPEN")}, stuck_check_minutes=5)
    due.read_state({"bookmarks": {"orders": {WATCH_KEY: orders[WATCH_KEY], WATCH_CHECKED_KEY: recent}}})
    due.before_last_state()
    assert sorted(due.client.asked) == ["10", "11"]  # type: ignore[attr-defined]
    after = due.add_to_state({"bookmarks": {"orders": {}}})["bookmarks"]["orders"]
    assert after[WATCH_CHECKED_KEY] > recent
