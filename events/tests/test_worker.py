"""The worker: coalescing, the narrowest job with the right order ids, handled only after success, retries."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from billbee_wemalo_events.event_queue import EventQueue, now
from billbee_wemalo_events.events import BILLBEE_TO_WEMALO, WEMALO_TO_BILLBEE, Event
from billbee_wemalo_events.jobs import Job, JobResult, MeltanoRunner
from billbee_wemalo_events.settings import Merchant, Settings
from billbee_wemalo_events.worker import Worker


class FakeRunner:
    def __init__(self, ok: bool = True) -> None:
        self.ok = ok
        self.jobs: list[tuple[Job, str]] = []

    def __call__(self, job: Job, merchant: Merchant) -> JobResult:
        self.jobs.append((job, merchant.name))
        return JobResult(self.ok, "fake")


class Clock:
    def __init__(self) -> None:
        self.at = now()

    def __call__(self) -> datetime:
        return self.at


def billbee(order: str | None, delivery: str = "d") -> tuple[Event, object]:
    return Event("billbee", "order.updated", BILLBEE_TO_WEMALO, order, delivery), {"OrderId": order}


def wemalo(order: str | None) -> tuple[Event, object]:
    return Event("wemalo", "status_update", WEMALO_TO_BILLBEE, order), {"externalId": order}


def worker(queue: EventQueue, settings: Settings, runner: FakeRunner) -> tuple[Worker, Clock]:
    clock = Clock()
    return Worker(queue, settings, runner, clock=lambda: clock() + timedelta(seconds=0)), clock


def test_events_are_coalesced_for_the_window_then_run_as_one_restricted_job(queue: EventQueue,
                                                                           settings: Settings) -> None:
    runner = FakeRunner()
    w, clock = worker(queue, settings, runner)
    queue.add("default", [billbee("5")])
    queue.add("default", [billbee("12"), billbee("7")])
    assert w.run_once() == []  # inside the window: nothing runs yet
    assert runner.jobs == []
    clock.at += timedelta(seconds=settings.coalesce_seconds + 0.1)
    [(_job, result)] = w.run_once()
    assert result.ok
    assert runner.jobs == [(Job("default", BILLBEE_TO_WEMALO, ("5", "7", "12")), "default")]
    assert queue.counts() == {"received": 3, "handled": 3, "failed": 0, "pending": 0}
    clock.at += timedelta(minutes=1)
    assert w.run_once() == []  # handled events never run again


def test_one_job_per_merchant_and_direction_and_full_when_an_event_names_no_order(queue: EventQueue,
                                                                                 settings: Settings) -> None:
    runner = FakeRunner()
    w, clock = worker(queue, settings, runner)
    queue.add("default", [billbee("5"), billbee(None, "d2")])
    queue.add("default", [wemalo("5")])
    queue.add("shop-b", [billbee("9")])
    clock.at += timedelta(seconds=60)
    w.run_once()
    assert sorted((job.merchant, job.direction, job.order_ids, name) for job, name in runner.jobs) == [
        ("default", BILLBEE_TO_WEMALO, (), "default"),
        ("default", WEMALO_TO_BILLBEE, ("5",), "default"),
        ("shop-b", BILLBEE_TO_WEMALO, ("9",), "shop-b"),
    ]


def test_more_order_ids_than_the_limit_make_one_full_run(queue: EventQueue, env: dict[str, str]) -> None:
    settings = Settings.from_env({**env, "BILLBEE_WEMALO_EVENTS_MAX_ORDER_IDS": "2"})
    runner = FakeRunner()
    w, clock = worker(queue, settings, runner)
    queue.add("default", [billbee(str(i)) for i in range(3)])
    clock.at += timedelta(seconds=60)
    w.run_once()
    assert [job.order_ids for job, _ in runner.jobs] == [()]


def test_a_failed_job_keeps_its_events_and_retries_them_with_backoff(queue: EventQueue, settings: Settings) -> None:
    runner = FakeRunner(ok=False)
    w, clock = worker(queue, settings, runner)
    queue.add("default", [billbee("5")])
    clock.at += timedelta(seconds=60)
    w.run_once()
    assert queue.counts()["pending"] == 1
    assert queue.counts()["handled"] == 0
    assert w.run_once() == []  # not due before the backoff
    clock.at += timedelta(seconds=settings.retry_seconds + 1)
    runner.ok = True
    w.run_once()
    assert len(runner.jobs) == 2
    assert queue.counts()["handled"] == 1
    assert w.backoff(1) == 2 * w.backoff(0)
    assert w.backoff(30) == timedelta(minutes=15)


def test_after_max_attempts_events_are_failed(queue: EventQueue, env: dict[str, str]) -> None:
    settings = Settings.from_env({**env, "BILLBEE_WEMALO_EVENTS_MAX_ATTEMPTS": "2"})
    runner = FakeRunner(ok=False)
    w, clock = worker(queue, settings, runner)
    queue.add("default", [billbee("5")])
    for _ in range(3):
        clock.at += timedelta(hours=1)
        w.run_once()
    assert len(runner.jobs) == 2
    assert queue.counts() == {"received": 1, "handled": 0, "failed": 1, "pending": 0}


def test_an_event_arriving_while_its_twin_runs_is_queued_again(queue: EventQueue, settings: Settings) -> None:
    """A duplicate of a pending event is dropped; one that arrives while the first one's job runs may report a
    later change, so it is queued and handled by the next job."""
    assert queue.add("default", [billbee("5")]) == (1, 0)
    assert queue.add("default", [billbee("5")]) == (0, 1)
    [event] = queue.due()
    queue.claim([event.id])
    assert queue.add("default", [billbee("5")]) == (1, 0)


def test_events_left_running_by_a_killed_worker_are_pending_again(queue: EventQueue) -> None:
    queue.add("default", [billbee("5")])
    queue.claim([queue.due()[0].id])
    assert queue.due() == []
    assert queue.recover() == 1
    assert [e.order_id for e in queue.due()] == ["5"]


def test_the_meltano_runner_runs_the_projects_job_with_the_order_ids_and_the_merchants_suffix(
        settings: Settings) -> None:
    runner = MeltanoRunner("meltano")
    default, shop_b = settings.merchants["default"], settings.merchants["shop-b"]
    job = Job("default", BILLBEE_TO_WEMALO, ("5", "12"))
    assert runner.command(job, default)[1:] == ["run", "billbee-to-wemalo"]
    assert runner.environment(job, default)["TAP_BILLBEE_ORDER_IDS"] == "[5, 12]"
    full = Job("shop-b", WEMALO_TO_BILLBEE, ())
    assert runner.command(full, shop_b)[1:] == ["run", "--state-id-suffix=shop-b", "wemalo-to-billbee"]
    env = runner.environment(full, shop_b)
    assert env["TAP_WEMALO_SHIPMENTS_ORDER_IDS"] == "[]"
    # Another merchant's job never sees the default merchant's account variables.
    assert env["TAP_BILLBEE_USERNAME"] == "b@shop-b.example"
    assert "BILLBEE_WEMALO_EVENTS_WEMALO_HOOK_TOKEN" in env  # its own, from its env file
    assert env["BILLBEE_WEMALO_EVENTS_WEMALO_HOOK_TOKEN"] != default.env["BILLBEE_WEMALO_EVENTS_WEMALO_HOOK_TOKEN"]


def test_the_billbee_events_hints_reach_tap_billbee_per_order_and_a_full_run_gets_none(
        queue: EventQueue, settings: Settings) -> None:
    """Each event's State/Tags hint (billbee_payloads.hint) goes to the job as `order_hints`; an event without one
    adds null, so tap-billbee reads that order (tap_billbee/hints.py)."""
    runner = FakeRunner()
    w, clock = worker(queue, settings, runner)
    echo = {"State": 3, "Tags": ["wemalo", "order_received_by_wemalo"]}
    with_hint = Event("billbee", "order.tagschanged", BILLBEE_TO_WEMALO, "5", "d1", {"order_id": "5", "hint": echo})
    queue.add("default", [(with_hint, {"a": 1}), billbee("7", "d2")])
    queue.add("default", [(Event("billbee", "order.updated", BILLBEE_TO_WEMALO, "5", "d3",
                                 {"order_id": "5", "hint": {**echo, "State": 4}}), {"a": 2})])
    clock.at += timedelta(seconds=60)
    w.run_once()
    [(job, _)] = runner.jobs
    assert job.order_ids == ("5", "7")
    assert json.loads(job.hints) == {"5": [echo, {**echo, "State": 4}], "7": [None]}
    env = MeltanoRunner("meltano").environment(job, settings.merchants["default"])
    assert json.loads(env["TAP_BILLBEE_ORDER_HINTS"]) == json.loads(job.hints)

    queue.add("default", [(with_hint, {"a": 3}), billbee(None, "d4")])  # one event names no order: a full run
    clock.at += timedelta(seconds=60)
    w.run_once()
    full = runner.jobs[-1][0]
    assert full.order_ids == ()
    assert full.hints == "{}"
    env = MeltanoRunner("meltano").environment(full, settings.merchants["default"])
    assert env["TAP_BILLBEE_ORDER_HINTS"] == "{}"
    wemalo_job = Job("default", WEMALO_TO_BILLBEE, ("5",))
    assert "TAP_BILLBEE_ORDER_HINTS" not in MeltanoRunner("meltano").environment(wemalo_job,
                                                                                 settings.merchants["default"])
