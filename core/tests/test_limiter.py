"""The client-side limiter keeps Billbee's per-endpoint and per-user windows."""

from __future__ import annotations

import threading

import pytest

from billbee_wemalo.http import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


E = ("endpoint", "GET /orders")
USER = ("user", "")


def limiter_with(clock: FakeClock, window: float = 1.0, **kwargs: float) -> RateLimiter:
    return RateLimiter({"endpoint": 2, "user": 3}, window, clock=clock, sleep=clock.sleep, **kwargs)


def test_allows_limit_per_window_then_waits_for_the_oldest_slot() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock)
    assert limiter.acquire(E) == 0
    assert limiter.acquire(E) == 0
    waited = limiter.acquire(E)
    assert waited == 1.0
    assert clock.now == 1.0
    assert limiter.waited_seconds == 1.0


def test_keys_are_independent() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock)
    for _ in range(2):
        limiter.acquire(E)
    assert limiter.acquire(("endpoint", "POST /orders/{id}/tags")) == 0
    assert clock.now == 0


def test_never_more_than_limit_in_any_window() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock, 1.05)
    stamps = []
    for _ in range(20):
        limiter.acquire(E)
        stamps.append(clock.now)
        clock.now += 0.1  # the caller does some work between requests
    for i in range(len(stamps) - 2):
        assert stamps[i + 2] - stamps[i] >= 1.05 - 1e-6


def test_a_request_is_counted_under_all_its_keys_at_the_instant_it_may_go() -> None:
    """Waiting for the user's limit must not leave the endpoint's slot stamped earlier than the request."""
    clock = FakeClock()
    limiter = limiter_with(clock)
    for name in ("a", "b", "c"):  # the user's 3 slots, taken by other endpoints at t=0
        limiter.acquire(("endpoint", name), USER)
    clock.now = 0.4
    assert limiter.acquire(E, USER) == 0.6  # waits for the user's window
    assert limiter.acquire(E) == 0  # the endpoint's second slot
    assert limiter.acquire(E) == 1.0  # third: one window after the first request *was sent* (t=1.0), not t=0.4
    assert clock.now == 2.0


def test_a_key_that_waits_takes_no_slot_from_the_others() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock)
    for _ in range(2):
        limiter.acquire(E)
    limiter.acquire(E, USER)  # waits 1 s for E; the user slot is taken only then
    for name in ("a", "b"):
        limiter.acquire(("endpoint", name), USER)
    assert clock.now == 1.0  # the user's 3 slots were all taken at t=1.0, none at t=0


def test_widen_lengthens_only_the_throttled_keys_up_to_the_maximum() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock, 1.05, max_window=1.15, step=0.05)
    assert limiter.widen(E) == {E: 1.1}
    assert limiter.widen(E) == {E: 1.15}
    assert limiter.widen(E) == {E: 1.15}
    other = ("endpoint", "GET /products")
    assert limiter.window_of(other) == 1.05
    limiter.acquire(E)
    limiter.acquire(E)
    assert limiter.acquire(E) == 1.15


def test_a_request_counts_from_when_it_was_written_if_that_was_later() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock, slack=0.05)  # the first answer's latency (50 ms) within the slack
    limiter.acquire(E, USER)
    clock.now = 0.3  # answered at 0.3; written at 0.25 (a handshake, a busy thread)
    limiter.answered(sent_at=0.25)
    limiter.acquire(E, USER)
    assert limiter.acquire(E, USER) == pytest.approx(0.95)  # one window after 0.25, not after 0
    assert clock.now == pytest.approx(1.25)


def test_latency_beyond_the_fastest_plus_slack_moves_the_count_later() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock, 1.05, slack=0.05)
    for _ in range(2):  # two quick answers (20 ms): the fastest is 20 ms
        limiter.acquire(E)
        clock.now += 0.02
        limiter.answered()
    clock.now = 1.1
    limiter.acquire(E)
    clock.now = 1.1 + 0.04  # 20 ms slower than the fastest: within the slack, the count stays at 1.1
    limiter.answered()
    stamp = clock.now
    limiter.acquire(E)
    clock.now = stamp + 0.32  # 300 ms slower than the fastest: it may have arrived up to 250 ms late
    limiter.answered()
    answered_at = clock.now
    assert limiter.acquire(E) == pytest.approx(1.1 + 1.05 - answered_at)  # counted from 1.1: waits until 2.15
    waited = limiter.acquire(E)  # next: one window after (stamp + 0.25), the latest it can have arrived
    assert clock.now == pytest.approx(stamp + 0.25 + 1.05)
    assert waited > 0


def test_the_first_answer_counts_from_when_it_came_less_the_slack() -> None:
    """Nothing to compare its latency with: it may have arrived as late as its answer (a run's first request,
    held up on the way; the bench saw one arrive 250 ms after it was written and the third request draw a 429)."""
    clock = FakeClock()
    limiter = limiter_with(clock, 1.05, slack=0.05)
    limiter.acquire(E)
    clock.now = 0.3  # written at 0, answered at 0.3
    limiter.answered(sent_at=0.0)
    limiter.acquire(E)
    clock.now = 0.32  # the second answer: 20 ms, the fastest from now on, so it keeps its count
    limiter.answered(sent_at=0.3)
    assert limiter.acquire(E) == pytest.approx(0.25 + 1.05 - 0.32)  # one window after 0.3 - 0.05, not after 0
    clock.now += 0.02
    limiter.answered()
    before = clock.now
    assert limiter.acquire(E) == pytest.approx(0.3 + 1.05 - before)  # the second counts from when it was written


def test_answered_is_per_thread_and_once() -> None:
    clock = FakeClock()
    limiter = limiter_with(clock)
    limiter.acquire(E)
    clock.now = 0.5
    other = threading.Thread(target=lambda: limiter.answered(sent_at=0.5))  # nothing reserved there
    other.start()
    other.join()
    limiter.acquire(E)
    assert limiter.acquire(E) == pytest.approx(0.5)  # the first request still counts from 0
