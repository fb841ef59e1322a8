"""Client-side sliding-window rate limiter, keyed (one window per Billbee endpoint, one per user).

Hand-written on purpose: pyrate-limiter (what tap-stackexchange uses) routes every key into one bucket
unless given a custom bucket factory, and its blocking acquire serialises all threads behind one lock,
so independent endpoints could not proceed concurrently. This is the whole of what we need.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class RateLimiter:
    """At most `limit` acquisitions per key within any `window` seconds; `acquire` blocks until allowed.

    Windows are measured on the client; `window` is set a little above the server's (see callers), so that
    network jitter cannot make two requests arrive closer together than they were sent.
    """

    def __init__(self, limit: int, window: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self.waited_seconds = 0.0  # total time spent waiting, for the run report

    def _reserve(self, key: str) -> float:
        """Take a slot if one is free (returns 0) or say how long until one frees."""
        with self._lock:
            now = self._clock()
            hits = self._hits[key]
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if len(hits) < self.limit:
                hits.append(now)
                return 0.0
            # at least 1 ms, so that float rounding can never leave a wait too small to advance the clock
            return max(self.window - (now - hits[0]), 0.001)

    def acquire(self, key: str) -> float:
        """Block until `key` has a free slot; returns the seconds waited."""
        waited = 0.0
        while (delay := self._reserve(key)) > 0:
            self._sleep(delay)
            waited += delay
        if waited:
            with self._lock:
                self.waited_seconds += waited
        return waited

    def penalise(self, key: str, seconds: float) -> None:
        """After a 429, keep `key` closed for `seconds` (fill its window with future-dated hits)."""
        with self._lock:
            until = self._clock() + seconds - self.window
            self._hits[key] = deque([until] * self.limit)
