"""The worker: waits `coalesce_seconds` after the oldest due event, takes every due event, and runs one job per
merchant and direction: restricted to the events' orders, or unrestricted when one event named no order or
there are more than `max_order_ids`. Events are marked handled only after their job succeeded; a failed job's
events are tried again with exponential backoff (from `retry_seconds`, at most 15 minutes) and marked failed
after `max_attempts` (the scheduled run still catches up on them).

About once an hour (and when it starts) the worker loop prunes the queue of what is done (`EventQueue.prune`,
`retention_days`): not on every event, and one DELETE per table.

A wemalo event that names only wemalo's goods order id (`trackingnumber_added`) is looked up, when its job is
planned, in the links the queue learnt from the merchant's deliveries (a `status_update` names both ids): found, it
joins the restricted job of that Billbee order; not found, it makes the job unrestricted, as before."""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from billbee_wemalo_events import wemalo_payloads
from billbee_wemalo_events.event_queue import EventQueue, Pruned, QueuedEvent, Retention, now
from billbee_wemalo_events.events import Direction
from billbee_wemalo_events.jobs import Job, JobResult, JobRunner
from billbee_wemalo_events.settings import Settings

log = logging.getLogger("billbee_wemalo_events.worker")
MAX_BACKOFF = timedelta(minutes=15)
POLL_SECONDS = 0.5
PRUNE_EVERY = timedelta(hours=1)
LinkedOrders = Callable[[str, Iterable[str]], dict[str, str]]  # EventQueue.linked_orders


def resolve(events: list[QueuedEvent], linked_orders: LinkedOrders) -> list[QueuedEvent]:
    """The events, those that name only wemalo's goods order id with the Billbee order id linked to it (at planning
    time, not at receipt: the status_update that names both may arrive within the coalescing window)."""
    named = {ev.id: wemalo_id for ev in events
             if ev.order_id is None and (wemalo_id := wemalo_payloads.goods_order_id(ev.source, ev.kind, ev.detail))}
    if not named:
        return events
    wanted: dict[str, set[str]] = defaultdict(set)
    for ev in events:
        if ev.id in named:
            wanted[ev.merchant].add(named[ev.id])
    found = {merchant: linked_orders(merchant, ids) for merchant, ids in wanted.items()}
    out = []
    for ev in events:
        wemalo_id = named.get(ev.id)
        order_id = found[ev.merchant].get(wemalo_id) if wemalo_id else None
        if wemalo_id:
            log.info("%s for wemalo order %s (merchant %s): %s", ev.kind, wemalo_id, ev.merchant,
                     f"Billbee order {order_id}" if order_id else "no Billbee order known, a run for all orders")
        out.append(replace(ev, order_id=order_id) if order_id else ev)
    return out


def plan(events: list[QueuedEvent], max_order_ids: int) -> dict[Job, list[int]]:
    """The jobs for these events, each with the ids of the events it handles."""
    groups: dict[tuple[str, str], list[QueuedEvent]] = defaultdict(list)
    for ev in events:
        groups[(ev.merchant, ev.direction)].append(ev)
    jobs: dict[Job, list[int]] = {}
    for (merchant, direction), group in groups.items():
        ids = sorted({ev.order_id for ev in group if ev.order_id is not None}, key=lambda i: (len(i), i))
        full = any(ev.order_id is None for ev in group) or len(ids) > max_order_ids
        direction_: Direction = "billbee_to_wemalo" if direction == "billbee_to_wemalo" else "wemalo_to_billbee"
        hints = "{}" if full or direction_ != "billbee_to_wemalo" else order_hints(group)
        jobs[Job(merchant, direction_, () if full else tuple(ids), hints)] = [ev.id for ev in group]
    return jobs


def order_hints(group: list[QueuedEvent]) -> str:
    """tap-billbee's `order_hints` (JSON): per order, the State/Tags each of its events showed, null for an event
    that showed none, so the tap reads that order (tap_billbee/hints.py)."""
    hints: dict[str, list[Any]] = defaultdict(list)
    for ev in group:
        if ev.order_id is not None:
            hints[ev.order_id].append(ev.detail.get("hint"))
    return json.dumps(hints, sort_keys=True, separators=(",", ":"))


class Worker:
    def __init__(self, queue: EventQueue, settings: Settings, runner: JobRunner,
                 clock: Callable[[], datetime] = now) -> None:
        self.queue = queue
        self.settings = settings
        self.runner = runner
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pruned_at: datetime | None = None

    def maybe_prune(self) -> Pruned | None:
        """Prune the queue if it was not pruned in the last `PRUNE_EVERY` (the first call always prunes); None
        when it was not due. The time is taken first, so a failing prune is tried again an hour later, not on
        every round."""
        at = self.clock()
        if self._pruned_at is not None and at - self._pruned_at < PRUNE_EVERY:
            return None
        self._pruned_at = at
        retention = Retention(self.settings.retention_days)
        pruned = self.queue.prune(retention, at)
        if pruned.events or pruned.links:
            log.info("Pruned %d event(s) and %d order link(s): the queue keeps %s", pruned.events, pruned.links,
                     retention.describe())
        return pruned

    def backoff(self, attempts: int) -> timedelta:
        return min(timedelta(seconds=self.settings.retry_seconds * 2 ** max(attempts, 0)), MAX_BACKOFF)

    def run_once(self) -> list[tuple[Job, JobResult]]:
        """One round: the jobs run (none while the oldest due event is younger than the coalescing window)."""
        at = self.clock()
        due = self.queue.due(at)
        if not due:
            return []
        window = timedelta(seconds=self.settings.coalesce_seconds)
        if at - min(ev.received_at for ev in due) < window and all(ev.attempts == 0 for ev in due):
            return []
        due = resolve(due, self.queue.linked_orders)  # before the claim: a failed lookup leaves the rows pending
        claimed = set(self.queue.claim([ev.id for ev in due]))
        events = [ev for ev in due if ev.id in claimed]
        attempts = {ev.id: ev.attempts for ev in events}
        done: list[tuple[Job, JobResult]] = []
        for job, ids in plan(events, self.settings.max_order_ids).items():
            merchant = self.settings.merchants.get(job.merchant)
            if merchant is None:
                result = JobResult(False, f"merchant {job.merchant!r} is no longer configured")
            else:
                log.info("Running %s for %d event(s)", job.describe(), len(ids))
                try:
                    result = self.runner(job, merchant)
                except Exception as exc:  # a runner bug must not stop the worker; the events are retried
                    log.exception("Job %s raised", job.describe())
                    result = JobResult(False, f"{type(exc).__name__}")
            if result.ok:
                self.queue.handled(ids)
                log.info("%s: done (%s); %d event(s) handled", job.describe(), result.detail, len(ids))
            else:
                retry_in = self.backoff(max(attempts[i] for i in ids))
                self.queue.failed(ids, result.detail, retry_in, self.settings.max_attempts, at=self.clock())
                log.warning("%s failed (%s); its %d event(s) are tried again in %d s", job.describe(),
                            result.detail, len(ids), retry_in.total_seconds())
            done.append((job, result))
        return done

    def loop(self) -> None:
        recovered = self.queue.recover()
        if recovered:
            log.info("%d event(s) left running by a stopped worker are pending again", recovered)
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.maybe_prune()
            except Exception:  # a failed prune must not keep the events waiting; it is tried again in an hour
                log.exception("Pruning the queue failed; trying again in %s", PRUNE_EVERY)
            try:
                self.run_once()
            except Exception:  # e.g. the database away for a moment: log, keep going
                log.exception("Worker round failed; trying again")

    def start(self) -> None:
        self._thread = threading.Thread(target=self.loop, name="billbee-wemalo-events-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
