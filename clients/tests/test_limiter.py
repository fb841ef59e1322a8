"""The client-side limiter keeps Billbee's per-endpoint and per-user windows."""

from __future__ import annotations

import threading

from connector_http import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_allows_limit_per_window_then_waits_for_the_oldest_slot() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 1.0, clock=clock, sleep=clock.sleep)
    assert limiter.acquire("GET /orders") == 0
    assert limiter.acquire("GET /orders") == 0
    waited = limiter.acquire("GET /orders")
    assert waited == 1.0
    assert clock.now == 1.0
    assert limiter.waited_seconds == 1.0


def test_keys_are_independent() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 1.0, clock=clock, sleep=clock.sleep)
    for _ in range(2):
        limiter.acquire("GET /orders")
    assert limiter.acquire("POST /orders/{id}/tags") == 0
    assert clock.now == 0


def test_never_more_than_limit_in_any_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 1.05, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(20):
        limiter.acquire("k")
        stamps.append(clock.now)
        clock.now += 0.1  # the caller does some work between requests
    for i in range(len(stamps) - 2):
        assert stamps[i + 2] - stamps[i] >= 1.05 - 1e-6


def test_penalise_closes_the_key_for_the_given_time() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 1.0, clock=clock, sleep=clock.sleep)
    limiter.penalise("k", 5.0)
    limiter.acquire("k")
    assert clock.now == 5.0
