"""Client-side sliding-window rate limiter: several limits (per endpoint, per user) taken at one instant.

Hand-written on purpose: pyrate-limiter (what tap-stackexchange uses) routes every key into one bucket
unless given a custom bucket factory, and its blocking acquire serialises all threads behind one lock,
so independent endpoints could not proceed concurrently. This is the whole of what we need.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping

Key = tuple[str, str]
"""(scope, name): the scope names the limit (``"endpoint"``), the name the counted thing (``"GET /orders"``)."""


class RateLimiter:
    """At most ``limits[scope]`` acquisitions per key within any window; ``acquire`` blocks until allowed.

    A request is counted under all its keys at the same instant, only once every one of them has a free slot:
    a slot taken under one key while waiting for another would be stamped earlier than the request is sent.

    Windows are measured on the client, the server counts at arrival; ``window`` is set ``slack`` seconds above
    the server's so that a request held up on the way (a busy thread, the network) cannot arrive too close to
    the one two places before it. :meth:`answered` moves a request's count to when it was actually written,
    and later still when its latency shows it was held up on the way. Should a 429 come anyway,
    :meth:`widen` lengthens the windows of that request's keys for the rest of the run, by ``step`` up to
    ``max_window``.
    """

    def __init__(self, limits: Mapping[str, int], window: float, *, slack: float = 0.0,
                 max_window: float | None = None, step: float = 0.05, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limits = dict(limits)
        self.window = window
        self.slack = slack
        self.max_window = window if max_window is None else max_window
        self.step = step
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._hits: dict[Key, deque[float]] = defaultdict(deque)
        self._windows: dict[Key, float] = {}
        self._last = threading.local()  # this thread's last reservation: (keys, stamp)
        self._fastest: dict[tuple[Key, ...], float] = {}  # the lowest latency seen per set of keys
        self.waited_seconds = 0.0  # total time spent waiting, for the run report

    def window_of(self, key: Key) -> float:
        return self._windows.get(key, self.window)

    def _reserve(self, keys: tuple[Key, ...]) -> float:
        """Take a slot under every key if all are free (returns 0), or say how long until they could be."""
        with self._lock:
            now = self._clock()
            delay = 0.0
            for key in keys:
                hits, window = self._hits[key], self.window_of(key)
                while hits and now - hits[0] >= window:
                    hits.popleft()
                if len(hits) >= self.limits[key[0]]:
                    delay = max(delay, window - (now - hits[0]))
            if delay > 0:
                # at least 1 ms, so that float rounding can never leave a wait too small to advance the clock
                return max(delay, 0.001)
            for key in keys:
                self._hits[key].append(now)
            self._last.reservation = (keys, now)
            return 0.0

    def acquire(self, *keys: Key) -> float:
        """Block until every key has a free slot, then count the request under all of them; returns the wait."""
        waited = 0.0
        while (delay := self._reserve(keys)) > 0:
            self._sleep(delay)
            waited += delay
        if waited:
            with self._lock:
                self.waited_seconds += waited
        return waited

    def answered(self, *, sent_at: float | None = None) -> None:
        """This thread's last request has its answer, so it arrived at the server no later than now.

        ``sent_at`` (when it was written to its socket) moves the count there if that was later than the
        reservation: waits for a thread, TCP and TLS handshakes. Then its latency (from ``sent_at``) is compared
        with the fastest seen for the same keys; whatever exceeds that by more than ``slack`` may have been
        delay on the way there (which the window does not cover), so the count moves later by the excess. A
        slow answer for other reasons (the server working longer) only makes the next request wait a little.
        The first answer for a set of keys, with no fastest to compare with, counts from the answer less the
        slack (a run's first requests: the bench saw one such request arrive 250 ms after it was written)."""
        keys, stamp = getattr(self._last, "reservation", ((), None))
        if stamp is None:
            return
        self._last.reservation = ((), None)
        with self._lock:
            now = self._clock()
            left = max(stamp, sent_at) if sent_at is not None else stamp
            latency = now - left
            known = self._fastest.get(keys)
            self._fastest[keys] = latency if known is None else min(known, latency)
            # The first answer for these keys has nothing to compare with: it may have been held up on the way
            # for all of its latency (a fresh process's first request, a server slow to take a new connection),
            # so it counts from its answer, less the slack. Once per process and keys: one latency of throughput.
            at = max(left, now - (0.0 if known is None else self._fastest[keys]) - self.slack)
            if at <= stamp:
                return
            for key in keys:
                hits = self._hits[key]
                if stamp in hits:  # not yet out of its window
                    hits.remove(stamp)
                    bisect.insort(hits, at)

    def widen(self, *keys: Key) -> dict[Key, float]:
        """After a 429: lengthen these keys' windows by one step (up to ``max_window``); returns the new ones."""
        with self._lock:
            for key in keys:
                self._windows[key] = min(self.window_of(key) + self.step, self.max_window)
            return {key: self._windows[key] for key in keys}
