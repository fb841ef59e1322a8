"""The retry policy: which failures repeat a request, how long to wait between attempts, and the attempts
themselves, run by ``backoff``.

A request is repeated only when repeating it cannot double a write:

* 429 (HTTP, or an API's body-level status: wemalo's 419) and connection failures before the request was sent
  (refused, DNS, connect timeout): always retried (nothing was applied).
* 5xx, read timeouts, dropped connections and unreadable answers: retried for reads and idempotent writes; for a
  non-idempotent write (``idempotent=False``) they raise :class:`AmbiguousWriteError` at once, and the caller
  re-reads the object before deciding (e.g. the shipments already on a Billbee order).
* The wait: ``Retry-After`` when the answer has one (at most ``max_retry_after``); without it (Billbee often
  omits it) exponential backoff, ``base_delay * 2 ** (n - 1)`` after the n-th failed attempt, at most
  ``max_delay``, times a random 0.5 to 1 so that parallel clients drift apart.

Not ``urllib3.Retry``: it sees neither an API's body-level status nor a body that breaks off while it is parsed,
and its repeats would pass the caller's rate limiter by, which must count every attempt.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import backoff
import requests
from urllib3.exceptions import NewConnectionError

from billbee_wemalo.http.errors import ApiError, TransientError

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})  # the default when a call does not say

C = TypeVar("C")
T = TypeVar("T")


class Retry(Exception):
    """An attempt failed in a way that may be repeated; once the attempts run out, `final` is raised."""

    def __init__(self, reason: str, delay: float | None = None, final: type[ApiError] = TransientError,
                 throttled: bool = False) -> None:
        super().__init__(reason)
        self.delay = delay  # the answer's Retry-After; None: exponential backoff
        self.final = final
        self.throttled = throttled  # a 429: the caller's limiter may need a wider margin (on_throttled)
        self.attempts = 0  # set when the retries are given up


@dataclass(frozen=True)
class Failure:
    """An attempt's failure after the request may have left. `ambiguous`: the message when it may have been
    applied, for a non-idempotent write (None: it cannot have been, so it is retried whatever the call)."""

    reason: str
    ambiguous: str | None = None
    final: type[ApiError] = TransientError
    status: int | None = None


@dataclass
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def retry_after(self, headers: Mapping[str, str]) -> float | None:
        """The answer's Retry-After in seconds (0 to max_retry_after); None when absent or not a number."""
        value = headers.get("Retry-After")
        if value is None:
            return None
        try:
            return min(self.max_retry_after, max(0.0, float(value)))
        except ValueError:
            return None

    def wait(self, retry: Retry, failures: int, rng: random.Random) -> float:
        """How long to wait after the `failures`-th failed attempt."""
        if retry.delay is not None:
            return retry.delay
        delay = min(self.max_delay, self.base_delay * 2.0 ** (failures - 1))
        return delay * (0.5 + rng.random() / 2)


def transport_failure(exc: requests.RequestException, timeout: float) -> Failure | None:
    """What a requests exception from sending means for a retry; None for one these rules leave alone."""
    if isinstance(exc, requests.ConnectTimeout):
        return Failure("connect timeout")
    if isinstance(exc, requests.ConnectionError):
        if _never_sent(exc):
            return Failure("connection refused")
        return Failure("connection dropped", ambiguous="connection dropped before an answer")
    if isinstance(exc, requests.Timeout):
        return Failure(f"no answer within {timeout:g}s", ambiguous=f"no answer within {timeout:g}s")
    return None


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection failed before the request left (refused, DNS): safe to repeat any request."""
    reason = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", None)
    return isinstance(inner, NewConnectionError) or isinstance(reason, NewConnectionError)


def retrying(attempt: Callable[[C], T], *, max_attempts: Callable[[], int], failed: Callable[[C, Retry], Any],
             pause: Callable[[C, Retry, int], Any]) -> Callable[[C], T]:
    """`attempt(call)`, run again by backoff while it raises Retry, at most `max_attempts()` times in all (at
    least once); then the last Retry is raised with its `attempts`. `failed(call, retry)` is told of every failed
    attempt, the last included; `pause(call, retry, n)` waits after the n-th, when another follows.

    The waiting is `pause`'s, not backoff's: backoff can only call time.sleep, and the clients take a `sleep` of
    their own (which the tests replace, to record the waits instead). So backoff's own wait is 0 here."""

    def on_failure(details: Any) -> None:
        failed(details["args"][0], details["exception"])

    def on_backoff(details: Any) -> None:
        pause(details["args"][0], details["exception"], details["tries"])

    def on_giveup(details: Any) -> None:
        details["exception"].attempts = details["tries"]

    return backoff.on_exception(
        backoff.constant, Retry, interval=0, jitter=None, max_tries=lambda: max(1, max_attempts()),
        on_backoff=[on_failure, on_backoff], on_giveup=[on_failure, on_giveup], logger=None,
    )(attempt)
