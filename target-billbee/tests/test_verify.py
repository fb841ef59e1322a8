"""Which stock values equal to the last written are compared with Billbee (verify.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from target_billbee.verify import StockMemory, to_check, verify_due

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_verify_due() -> None:
    assert verify_due(None, 24, NOW)
    assert verify_due((NOW - timedelta(hours=1)).isoformat(), 0, NOW)  # 0 = every run
    assert not verify_due((NOW - timedelta(hours=23)).isoformat(), 24, NOW)
    assert verify_due((NOW - timedelta(hours=23, minutes=55)).isoformat(), 24, NOW)  # the hourly run started early
    assert verify_due("not a time", 24, NOW)


def test_to_check_only_what_may_have_moved() -> None:
    memory = StockMemory(verified_at=NOW.isoformat(), held={"a": 2, "b": 1}, unsettled={"c"}, cancelled_seen=set())
    equal = ["A", "B", "C", "D", "E"]
    # A: held quantity moved; B: same; C: unsettled; D: on a new cancelled order (or one the run ships); E: nothing
    assert to_check(equal, memory, {"a": 1, "b": 1}, {"d"}) == ["A", "C", "D"]
    assert to_check(equal, memory, None, set()) == ["C"]  # on-hand figures: no held quantities read
    assert to_check(equal, memory, {"a": 2}, None) == equal  # orders that left unknown: everything
    assert to_check(equal, StockMemory(), {"a": 2}, set()) == equal  # no held quantities recorded last time


def test_memory_from_state() -> None:
    memory = StockMemory.from_state({"verified_at": "x", "held": {"a": "2"}, "unsettled": ["S"], "cancelled_seen": [5]})
    assert memory == StockMemory(verified_at="x", held={"a": 2}, unsettled={"s"}, cancelled_seen={5})  # casefolded
    assert StockMemory.from_state({}) == StockMemory()
