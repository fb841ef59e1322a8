"""Webhook delivery shared by both simulators: a bounded queue, one background thread, retries, injected faults.

Each simulator's store keeps its registrations (``sandbox/<system>/store/webhooks.py``) and hands the
:class:`Deliverer` one :class:`Delivery` per (event, hook). The deliverer

* sends only to loopback addresses (127.0.0.0/8, ``localhost``, ``[::1]``); a delivery to any other host is
  recorded as ``refused`` and logged, never sent;
* runs in one daemon thread, started with the first delivery (no hook registered: no thread, no traffic), and
  stopped with the sandbox (``stop``; ``ServerThread.stop`` calls it through ``app.extensions``);
* holds at most ``max_pending`` unfinished deliveries (more are recorded as ``overflow`` and not sent) and keeps
  the last ``max_log`` deliveries for ``GET /_admin/webhooks``;
* asks the simulator's :class:`DeliveryPolicy` for the timeout, what counts as success and when to retry;
* injects the faults of :class:`WebhookFaults` (``POST /_admin/webhooks/faults``), seeded:

  - ``delay``: the first attempt goes out ``delay_seconds`` late;
  - ``duplicate``: an attempt is sent twice (same body);
  - ``reorder``: the delivery is held back and released after the next delivery was sent (or by a flush, held
    ones last and newest first, or after ``hold_seconds``): it arrives out of order;
  - ``drop``: the delivery is lost (never sent, never retried), as if the vendor's queue lost it;
  - ``timeout``: the attempt is sent but its answer is taken as too late: a failed attempt, retried by the policy
    (the receiver sees the same event again).

Each fault is a probability per delivery (``timeout`` and ``duplicate``: per attempt); 1.0 makes it certain.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests

LOG = logging.getLogger("sandbox.webhooks")
FAULTS = ("delay", "duplicate", "reorder", "drop", "timeout")
# A delivery's states: pending (waiting for its due time), held (reorder fault), sending, delivered, failed
# (the policy gave up), refused (not a loopback address), dropped (fault), cancelled (its hook was removed),
# overflow (the queue was full).
FINAL = frozenset({"delivered", "failed", "refused", "dropped", "cancelled", "overflow"})


def is_loopback(url: str) -> bool:
    """Whether `url` is http(s) to 127.0.0.0/8, localhost or [::1]."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Request:
    """One HTTP request of an attempt: what the receiver gets."""

    url: str
    body: bytes
    headers: dict[str, str]
    method: str = "POST"


@dataclass
class Delivery:
    """One event for one hook, with its attempts. `render(attempt_number)` builds the request of an attempt."""

    hook: str  # the registration's key (Billbee: its Id; wemalo: the event name)
    event: str
    render: Callable[[int], Request]
    summary: dict[str, Any]  # what the admin view shows of the payload (JSON-able)
    generation: int = 0  # the registration's generation: a replaced or removed hook cancels older deliveries
    id: int = 0
    state: str = "pending"
    due: float = 0.0
    seq: int = 0
    attempts: list[dict[str, Any]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    error: str | None = None

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "hook": self.hook, "event": self.event, "state": self.state,
                "attempts": list(self.attempts), "faults": list(self.faults), "error": self.error,
                "payload": self.summary}


class DeliveryPolicy(Protocol):
    def timeout(self) -> float: ...

    def succeeded(self, status: int) -> bool: ...

    def retry_delay(self, delivery: Delivery) -> float | None:
        """Seconds until the next attempt after a failed one (`delivery.attempts` holds them all), None: give up."""

    def attempt_done(self, delivery: Delivery, result: dict[str, Any]) -> None:
        """Called after each attempt (`result`: its record, not yet in `delivery.attempts`), outside the
        deliverer's lock (wemalo counts failures here)."""


@dataclass
class WebhookFaults:
    seed: int = 0
    delay: float = 0.0
    delay_seconds: float = 1.0
    duplicate: float = 0.0
    reorder: float = 0.0
    hold_seconds: float = 5.0
    drop: float = 0.0
    timeout: float = 0.0

    def view(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Deliverer:
    """The bounded delivery queue of one simulator and its background thread."""

    def __init__(self, system: str, policy: DeliveryPolicy, *, max_pending: int = 1000, max_log: int = 2000) -> None:
        self.system = system
        self.policy = policy
        self.max_pending = max_pending
        self.cond = threading.Condition()
        self.log: deque[Delivery] = deque(maxlen=max_log)
        self.queue: list[Delivery] = []  # unfinished deliveries (pending, held, sending)
        self.faults = WebhookFaults()
        self.rng = random.Random(0)
        self.next_id = 1
        self.seq = 0
        self.thread: threading.Thread | None = None
        self.stopping = False
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy from the environment: deliveries stay on loopback

    # -- configuration ---------------------------------------------------------------------------------
    def configure_faults(self, body: dict[str, Any]) -> WebhookFaults:
        unknown = set(body) - set(WebhookFaults.__annotations__)
        if unknown:
            raise ValueError(f"unknown webhook fault settings: {sorted(unknown)}; known: "
                             f"{sorted(WebhookFaults.__annotations__)}")
        faults = WebhookFaults(**body)
        for name in FAULTS:
            value = getattr(faults, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a probability 0..1")
        with self.cond:
            self.faults = faults
            self.rng = random.Random(faults.seed)
        return faults

    def reset(self) -> None:
        """Forget every delivery and fault (admin reset); unfinished deliveries are cancelled."""
        with self.cond:
            for d in self.queue:
                d.state = "cancelled"
            self.queue.clear()
            self.log.clear()
            self.faults = WebhookFaults()
            self.rng = random.Random(0)
            self.cond.notify_all()

    # -- queueing --------------------------------------------------------------------------------------
    def enqueue(self, delivery: Delivery) -> Delivery:
        with self.cond:
            delivery.id = self.next_id
            self.next_id += 1
            self.seq += 1
            delivery.seq = self.seq
            delivery.due = time.monotonic()
            self.log.append(delivery)
            url = delivery.render(1).url
            if not is_loopback(url):
                delivery.state = "refused"
                delivery.error = f"not a loopback address: {url}"
                LOG.warning("%s webhook %s (%s) not delivered: %s", self.system, delivery.hook, delivery.event,
                            delivery.error)
                return delivery
            if len(self.queue) >= self.max_pending:
                delivery.state = "overflow"
                delivery.error = f"more than {self.max_pending} deliveries pending"
                LOG.warning("%s webhook queue full: delivery %s dropped", self.system, delivery.id)
                return delivery
            f = self.faults
            if self._chance(f.drop):
                delivery.faults.append("drop")
                delivery.state = "dropped"
                return delivery
            if self._chance(f.delay):
                delivery.faults.append("delay")
                delivery.due += f.delay_seconds
            if self._chance(f.reorder):
                delivery.faults.append("reorder")
                delivery.state = "held"
                delivery.due += f.hold_seconds
            self.queue.append(delivery)
            self._start()
            self.cond.notify_all()
            return delivery

    def cancel(self, hook: str, before_generation: int | None = None) -> int:
        """Cancel the unfinished deliveries of `hook` (of generations below `before_generation`, if given)."""
        with self.cond:
            gone = [d for d in self.queue if d.hook == hook and d.state != "sending"
                    and (before_generation is None or d.generation < before_generation)]
            for d in gone:
                d.state = "cancelled"
                self.queue.remove(d)
            return len(gone)

    def flush(self, wait: float = 30.0) -> dict[str, Any]:
        """Make every unfinished delivery due now (held ones last, newest first) and wait until those (and the
        attempt in flight) have had their attempt. Retries scheduled meanwhile stay scheduled."""
        with self.cond:
            now = time.monotonic()
            plain = sorted((d for d in self.queue if d.state == "pending"), key=lambda d: d.seq)
            held = sorted((d for d in self.queue if d.state == "held"), key=lambda d: -d.seq)
            for i, d in enumerate([*plain, *held]):
                d.state = "pending"
                d.due = now + i * 1e-6
            sending = [d for d in self.queue if d.state == "sending"]  # in flight: wait for its answer too
            targets = {d.id: len(d.attempts) for d in [*plain, *held, *sending]}
            if targets:
                self._start()
            self.cond.notify_all()
            deadline = time.monotonic() + wait
            while any(d.id in targets and (d.state == "sending" or len(d.attempts) <= targets[d.id])
                      for d in self.queue):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(min(left, 0.05))
            return {"flushed": len(targets), "pending": len(self.queue)}

    def view(self) -> dict[str, Any]:
        with self.cond:
            deliveries = [d.view() for d in self.log]
            return {"deliveries": deliveries, "pending": len(self.queue), "faults": self.faults.view(),
                    "failed_attempts": sum(1 for d in deliveries for a in d["attempts"] if not a["ok"]),
                    "refused": [d for d in deliveries if d["state"] == "refused"]}

    # -- the thread ------------------------------------------------------------------------------------
    def _chance(self, p: float) -> bool:
        return p > 0 and self.rng.random() < p

    def _start(self) -> None:
        if self.thread is None or not self.thread.is_alive():
            self.stopping = False
            self.thread = threading.Thread(target=self._run, name=f"{self.system}-webhooks", daemon=True)
            self.thread.start()

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
            thread = self.thread
        if thread is not None:
            thread.join(5)
        with contextlib.suppress(Exception):
            self.session.close()

    def _next_due(self) -> Delivery | None:
        """The earliest due delivery (held ones whose hold ran out are released); waits otherwise."""
        while not self.stopping:
            now = time.monotonic()
            ready = [d for d in self.queue if d.state in ("pending", "held") and d.due <= now]
            if ready:
                d = min(ready, key=lambda x: (x.due, x.seq))
                d.state = "sending"
                return d
            waiting = [d.due for d in self.queue if d.state in ("pending", "held")]
            self.cond.wait(min(waiting) - now if waiting else None)
        return None

    def _run(self) -> None:
        while True:
            with self.cond:
                delivery = self._next_due()
                if delivery is None:
                    return
                number = len(delivery.attempts) + 1
                duplicate = self._chance(self.faults.duplicate)
                late = self._chance(self.faults.timeout)
            result = self._attempt(delivery, number, duplicate, late)
            with contextlib.suppress(Exception):
                self.policy.attempt_done(delivery, result)
            with self.cond:
                delivery.attempts.append(result)
                if delivery.state == "sending":  # not cancelled meanwhile
                    self._after(delivery, result)
                for held in self.queue:  # a held delivery goes out after the next one that was sent
                    if held.state == "held" and held is not delivery:
                        held.state = "pending"
                        held.due = time.monotonic()
                        break
                self.cond.notify_all()

    def _after(self, delivery: Delivery, result: dict[str, Any]) -> None:
        if result["ok"]:
            delivery.state = "delivered"
        else:
            delay = self.policy.retry_delay(delivery)
            if delay is None:
                delivery.state = "failed"
                delivery.error = result.get("error")
            else:
                delivery.state = "pending"
                delivery.due = time.monotonic() + delay
                return
        with contextlib.suppress(ValueError):
            self.queue.remove(delivery)

    def _attempt(self, delivery: Delivery, number: int, duplicate: bool, late: bool) -> dict[str, Any]:
        req = delivery.render(number)
        result: dict[str, Any] = {"number": number, "at": time.time(), "ok": False, "status": None,
                                  "error": None, "faults": []}
        if not is_loopback(req.url):  # rendered URLs are checked again: never send elsewhere
            result["error"] = f"not a loopback address: {req.url}"
            return result
        for copy_no in range(2 if duplicate else 1):
            started = time.monotonic()
            try:
                resp = self.session.request(req.method, req.url, data=req.body, headers=req.headers,
                                            timeout=self.policy.timeout(), allow_redirects=False)
                result["status"] = resp.status_code
                result["ok"] = self.policy.succeeded(resp.status_code)
                result["error"] = None if result["ok"] else f"HTTP {resp.status_code}"
            except requests.RequestException as exc:
                result["ok"] = False
                result["error"] = f"{type(exc).__name__}: {exc}"
            result["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
            if copy_no == 1:
                result["faults"].append("duplicate")
        if late:
            result["faults"].append("timeout")
            result["ok"] = False
            result["error"] = "no answer within the timeout (injected)"
        return result
