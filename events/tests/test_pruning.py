"""Pruning the queue: handled events and order links after `retention_days`, failed events after three times as
long, pending and running never; about once an hour from the worker loop; the indexes it reads by, also on a
database made before pruning; `status` says how far back its counts go. On SQLite and PostgreSQL (`queue`)."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import inspect, text, update

from billbee_wemalo_events import accounts, cli, registration
from billbee_wemalo_events.event_queue import (
    FAILED,
    HANDLED,
    PENDING,
    RUNNING,
    EventQueue,
    Pruned,
    Retention,
    events_table,
    links_table,
    now,
    prune_statements,
)
from billbee_wemalo_events.events import BILLBEE_TO_WEMALO, Event
from billbee_wemalo_events.settings import Settings, SettingsError
from billbee_wemalo_events.worker import PRUNE_EVERY, Worker
from events.tests.test_worker import Clock, FakeRunner

DAY = timedelta(days=1)


def add(queue: EventQueue, order: str) -> int:
    queue.add("default", [(Event("billbee", "order.updated", BILLBEE_TO_WEMALO, order, f"d-{order}"),
                           {"OrderId": order})])
    return max(r["id"] for r in queue.rows())


def put(queue: EventQueue, ident: int, status: str, at: datetime, **values: Any) -> None:
    """A row as the worker would have left it `at` (received then; handled, or failed at its last attempt)."""
    stamps: dict[str, Any] = {"received_at": at, "next_attempt_at": at}
    if status == HANDLED:
        stamps["handled_at"] = at
    with queue.engine.begin() as conn:
        conn.execute(update(events_table).where(events_table.c.id == ident)
                     .values(status=status, **{**stamps, **values}))


def orders_left(queue: EventQueue) -> dict[str, str]:
    return {r["order_id"]: r["status"] for r in queue.rows()}


def learned(queue: EventQueue, wemalo_order_id: str, at: datetime) -> None:
    with queue.engine.begin() as conn:
        conn.execute(update(links_table).where(links_table.c.wemalo_order_id == wemalo_order_id)
                     .values(learned_at=at))


def test_old_handled_and_long_failed_events_go_the_rest_stays(queue: EventQueue) -> None:
    at = now()
    ages = {"handled-old": (HANDLED, 31), "handled-recent": (HANDLED, 29),
            "failed-old": (FAILED, 91), "failed-recent": (FAILED, 60),  # kept 3 x 30 days, by the last attempt
            "pending-old": (PENDING, 400), "running-old": (RUNNING, 400)}
    for order, (status, days) in ages.items():
        put(queue, add(queue, order), status, at - days * DAY)
    add(queue, "pending-new")

    assert queue.prune(Retention(30), at) == Pruned(events=2, links=0)
    assert orders_left(queue) == {"handled-recent": HANDLED, "failed-recent": FAILED, "pending-old": PENDING,
                                  "running-old": RUNNING, "pending-new": PENDING}
    assert queue.prune(Retention(30), at) == Pruned(0, 0)  # nothing more to do


def test_a_handled_event_goes_by_when_it_was_handled_not_when_it_arrived(queue: EventQueue) -> None:
    at = now()
    ident = add(queue, "late")
    put(queue, ident, HANDLED, at - 40 * DAY, handled_at=at - 2 * DAY)  # waited long, handled lately
    assert queue.prune(Retention(30), at) == Pruned(0, 0)
    assert orders_left(queue) == {"late": HANDLED}


def test_old_links_go_a_link_named_again_stays(queue: EventQueue) -> None:
    at = now()
    queue.add("default", [], links=[("W-old", "1"), ("W-again", "2"), ("W-recent", "3")])
    queue.add("shop-b", [], links=[("W-old", "4")])
    for wemalo_order_id in ("W-old", "W-again"):
        learned(queue, wemalo_order_id, at - 31 * DAY)
    learned(queue, "W-recent", at - 29 * DAY)
    queue.add("default", [], links=[("W-again", "2")])  # named again by a delivery: learnt anew

    assert queue.prune(Retention(30), at + timedelta(seconds=1)) == Pruned(events=0, links=2)
    assert queue.linked_orders("default", ["W-old", "W-again", "W-recent"]) == {"W-again": "2", "W-recent": "3"}
    assert queue.linked_orders("shop-b", ["W-old"]) == {}


def test_retention_zero_keeps_everything(queue: EventQueue) -> None:
    at = now()
    put(queue, add(queue, "ancient"), HANDLED, at - 3000 * DAY)
    queue.add("default", [], links=[("W-1", "1")])
    learned(queue, "W-1", at - 3000 * DAY)
    assert queue.prune(Retention(0), at) == Pruned(0, 0)
    assert orders_left(queue) == {"ancient": HANDLED}
    assert queue.linked_orders("default", ["W-1"]) == {"W-1": "1"}


def test_the_worker_prunes_at_most_once_an_hour_and_not_per_event(queue: EventQueue, settings: Settings) -> None:
    clock = Clock()
    w = Worker(queue, settings, FakeRunner(), clock=clock)
    assert settings.retention_days == 30
    put(queue, add(queue, "first"), HANDLED, clock.at - 31 * DAY)
    assert w.maybe_prune() == Pruned(1, 0)  # the first round prunes
    assert orders_left(queue) == {}

    put(queue, add(queue, "second"), HANDLED, clock.at - 31 * DAY)
    add(queue, "fresh")
    clock.at += timedelta(seconds=settings.coalesce_seconds + 1)
    assert w.run_once()  # a round that handles events prunes nothing
    assert w.maybe_prune() is None
    clock.at += PRUNE_EVERY - timedelta(minutes=1)
    assert w.maybe_prune() is None
    assert orders_left(queue) == {"second": HANDLED, "fresh": HANDLED}
    clock.at += timedelta(minutes=1)
    assert w.maybe_prune() == Pruned(1, 0)  # an hour after the last
    assert orders_left(queue) == {"fresh": HANDLED}
    assert w.maybe_prune() is None


def test_a_failing_prune_is_tried_again_an_hour_later_not_every_round(queue: EventQueue, settings: Settings,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    w = Worker(queue, settings, FakeRunner(), clock=clock)
    calls = []

    def broken(retention: Retention, at: datetime) -> Pruned:
        calls.append(at)
        raise RuntimeError("database away")

    monkeypatch.setattr(queue, "prune", broken)
    with pytest.raises(RuntimeError):
        w.maybe_prune()
    assert w.maybe_prune() is None
    clock.at += PRUNE_EVERY
    with pytest.raises(RuntimeError):
        w.maybe_prune()
    assert len(calls) == 2


def test_the_worker_loop_prunes(queue: EventQueue, settings: Settings) -> None:
    put(queue, add(queue, "old"), HANDLED, now() - 31 * DAY)
    w = Worker(queue, settings, FakeRunner())
    w.start()
    try:
        deadline = time.monotonic() + 10
        while orders_left(queue) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        w.stop()
    assert orders_left(queue) == {}


def test_a_database_made_before_pruning_gets_its_indexes(queue: EventQueue) -> None:
    at = now()
    put(queue, add(queue, "old"), HANDLED, at - 31 * DAY)
    with queue.engine.begin() as conn:  # the schema as deployed before pruning
        conn.execute(text("DROP INDEX billbee_wemalo_events_done"))
        conn.execute(text("DROP INDEX billbee_wemalo_order_links_learned"))
    queue.close()
    for _ in range(2):  # opening it again (the receiver, then `status`) changes nothing more
        reopened = EventQueue(queue.url)
        indexes = inspect(reopened.engine)
        assert {"billbee_wemalo_events_done", "billbee_wemalo_events_due"} <= {
            i["name"] for i in indexes.get_indexes("billbee_wemalo_events")}
        assert "billbee_wemalo_order_links_learned" in {i["name"] for i in indexes.get_indexes(
            "billbee_wemalo_order_links")}
        assert [r["order_id"] for r in reopened.rows()] == ["old"]
        reopened.close()
    reopened = EventQueue(queue.url)
    assert reopened.prune(Retention(30), at) == Pruned(1, 0)
    reopened.close()


def test_sqlite_prunes_on_the_indexes(env: dict[str, str]) -> None:
    """SQLite's query plan (PostgreSQL's planner scans a table this small whatever the indexes)."""
    queue = EventQueue(env["BILLBEE_WEMALO_EVENTS_DATABASE_URL"])
    with queue.engine.connect() as conn:
        plans = []
        for statement in prune_statements(Retention(30), now()):
            compiled = statement.compile(dialect=queue.engine.dialect)
            params = tuple("2000-01-01" if isinstance(v, datetime) else v
                           for v in (compiled.params[k] for k in compiled.positiontup or ()))
            plans.append(" ".join(row[-1] for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + compiled.string, params).all()))
    queue.close()
    events_plan, links_plan = plans
    assert "USING INDEX billbee_wemalo_events_done" in events_plan
    assert "USING INDEX billbee_wemalo_events_due" in events_plan
    assert "SCAN" not in events_plan
    assert "USING INDEX billbee_wemalo_order_links_learned" in links_plan


def test_retention_days_setting(env: dict[str, str]) -> None:
    assert Settings.from_env(env).retention_days == 30
    assert Settings.from_env({**env, "BILLBEE_WEMALO_EVENTS_RETENTION_DAYS": "7"}).retention_days == 7
    assert Settings.from_env({**env, "BILLBEE_WEMALO_EVENTS_RETENTION_DAYS": "0"}).retention_days == 0
    for wrong in ("-1", "1.5", "a week"):
        with pytest.raises(SettingsError, match="retention_days"):
            Settings.from_env({**env, "BILLBEE_WEMALO_EVENTS_RETENTION_DAYS": wrong})
    assert Retention(30).failed_days == 90


class NoClient:
    def close(self) -> None:
        pass


def test_status_says_how_far_back_its_counts_go(queue: EventQueue, settings: Settings,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(accounts, "billbee_client", lambda _env: NoClient())
    monkeypatch.setattr(accounts, "wemalo_client", lambda _env: NoClient())
    monkeypatch.setattr(registration, "billbee_hooks", lambda *_args: [])
    monkeypatch.setattr(registration, "wemalo_hooks", lambda *_args: [])
    at = now()
    put(queue, add(queue, "handled"), HANDLED, at - 2 * DAY)
    add(queue, "pending")
    merchant = settings.merchants["default"]

    code, report = cli.status(settings, merchant, queue, as_json=False)
    out = capsys.readouterr().out
    assert code == cli.OK
    assert "events: received 2, handled 1, failed 0, pending 1" in out
    assert ("the queue keeps handled events and order links of the last 30 days, failed events of the last 90 "
            f"days, pending ones however old; oldest kept received {at - 2 * DAY:%Y-%m-%d %H:%M} UTC") in out
    assert report["retention"] == {"handled_days": 30, "failed_days": 90, "links_days": 30}
    assert report["oldest_received"].startswith(f"{at - 2 * DAY:%Y-%m-%d}")
    json.dumps(report, default=str)

    forever = replace(settings, retention_days=0)
    _code, report = cli.status(forever, forever.merchants["default"], queue, as_json=False)
    assert "every event and order link (retention_days 0: nothing is pruned)" in capsys.readouterr().out
    assert report["retention"] == {"handled_days": None, "failed_days": None, "links_days": None}
