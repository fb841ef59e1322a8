"""Client-side sliding-window rate limiter: several limits (per endpoint, per user) taken at one instant.

Hand-written on purpose: pyrate-limiter (what tap-stackexchange uses) routes every key into one bucket
unless given a custom bucket factory, and its blocking acquire serialises all threads behind one lock,
so independent endpoints could not proceed concurrently. This is the whole of what we need.
"""

from __future__ import annotations

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

    Windows are measured on the client, the server counts at arrival; ``window`` is set a little above the
    server's so that a request held up on the way (a busy thread, the network) cannot arrive too close to the
    one two places before it. A request that first had to open a connection (TCP and TLS handshakes) may
    arrive much later than it was counted: :meth:`recount_last` then counts it again at the caller's answer,
    the latest it can have arrived. Should the margin prove too small anyway (a 429), :meth:`widen` lengthens
    the windows of that request's keys for the rest of the run, by ``step`` up to ``max_window``.
    """

    def __init__(self, limits: Mapping[str, int], window: float, *, max_window: float | None = None,
                 step: float = 0.05, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limits = dict(limits)
        self.window = window
        self.max_window = window if max_window is None else max_window
        self.step = step
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._hits: dict[Key, deque[float]] = defaultdict(deque)
        self._windows: dict[Key, float] = {}
        self._last = threading.local()  # this thread's last reservation: (keys, stamp)
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

    def recount_last(self) -> None:
        """Move this thread's last reservation to now (no stamp is later than now: the deques stay sorted)."""
        keys, stamp = getattr(self._last, "reservation", ((), 0.0))
        with self._lock:
            now = self._clock()
            for key in keys:
                hits = self._hits[key]
                if stamp in hits:  # not yet out of its window
                    hits.remove(stamp)
                    hits.append(now)
            self._last.reservation = (keys, now)

    def widen(self, *keys: Key) -> dict[Key, float]:
        """After a 429: lengthen these keys' windows by one step (up to ``max_window``); returns the new ones."""
        with self._lock:
            for key in keys:
                self._windows[key] = min(self.window_of(key) + self.step, self.max_window)
            return {key: self._windows[key] for key in keys}
