"""The retry policy and the attempts backoff runs, against a local server with scripted answers: the wait after each
failure (Retry-After exactly, capped; otherwise exponential by the attempt's number, with jitter), what is counted
and reported per failed attempt, the attempt limit, and that backoff itself logs nothing."""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import requests

from billbee_wemalo.http import ApiSession, ClientError, RetryPolicy, TransientError
from billbee_wemalo.http.redaction import Redactor, error_reason
from billbee_wemalo.http.request_log import RequestStats
from billbee_wemalo.http.retry import Retry, transport_failure

Answer = tuple[int, dict[str, str], dict[str, Any]]  # status, headers, JSON body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    answers: list[Answer] = []  # the next answers, first first; the last one repeats

    def do_GET(self) -> None:
        status, headers, body = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def url(serve_http: Callable[[type[BaseHTTPRequestHandler]], str]) -> str:
    return serve_http(Handler)


def session(url: str, delays: list[float], attempts: int = 5, **kwargs: Any) -> ApiSession:
    return ApiSession(system="test", base_url=url, retry=RetryPolicy(max_attempts=attempts), sleep=delays.append,
                      **kwargs)


THROTTLED: Answer = (429, {}, {})
OK: Answer = (200, {}, {"ok": True})


def test_exponential_backoff_counts_attempts_not_waits_without_retry_after(url: str) -> None:
    """Billbee sends Retry-After only sometimes: a wait without it is the one for that attempt's number."""
    Handler.answers = [(429, {"Retry-After": "3"}, {}), THROTTLED, (503, {"Retry-After": "0.25"}, {}), THROTTLED, OK]
    delays: list[float] = []
    assert session(url, delays).request("GET", "/x").data == {"ok": True}
    assert delays[0] == 3.0
    assert 0.5 <= delays[1] <= 1.0  # 0.5 * 2 ** (2 - 1), jittered down to half
    assert 1.0 <= delays[2] <= 2.0  # a 503's Retry-After is not read: only a 429's is
    assert 2.0 <= delays[3] <= 4.0
    assert len(delays) == 4


@pytest.mark.parametrize(("header", "wait"), [("1000", 120.0), ("-5", 0.0), ("0", 0.0), ("2.5", 2.5)])
def test_retry_after_is_capped_and_never_negative(url: str, header: str, wait: float) -> None:
    Handler.answers = [(429, {"Retry-After": header}, {}), OK]
    delays: list[float] = []
    session(url, delays).request("GET", "/x")
    assert delays == [wait]


@pytest.mark.parametrize("header", ["soon", "Wed, 21 Oct 2037 07:28:00 GMT", ""])
def test_a_retry_after_that_is_not_seconds_means_backoff(url: str, header: str) -> None:
    Handler.answers = [(429, {"Retry-After": header}, {}), OK]
    delays: list[float] = []
    session(url, delays).request("GET", "/x")
    assert len(delays) == 1
    assert 0.25 <= delays[0] <= 0.5


def test_the_wait_is_capped_at_max_delay() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    rng = random.Random(7)
    waits = [policy.wait(Retry("x"), n, rng) for n in range(1, 12)]
    assert all(2.5 <= w <= 5.0 for w in waits[3:])
    assert policy.wait(Retry("x", delay=0.0), 3, rng) == 0.0


@pytest.mark.parametrize("attempts", [1, 0, -2])
def test_at_least_one_attempt(url: str, attempts: int) -> None:
    Handler.answers = [THROTTLED]
    delays: list[float] = []
    client = session(url, delays, attempts)
    with pytest.raises(TransientError, match="gave up after 1 attempts: throttled"):
        client.request("GET", "/x")
    assert delays == []
    assert client.stats["requests"] == 1


def test_every_failed_attempt_is_counted_and_reported_the_last_too(url: str) -> None:
    Handler.answers = [THROTTLED]
    throttled: list[str] = []
    tried: list[str] = []
    client = session(url, [], 3, on_throttled=throttled.append, throttle=tried.append)
    with pytest.raises(TransientError, match="gave up after 3 attempts"):
        client.request("GET", "/x", endpoint="GET /x")
    assert tried == throttled == ["GET /x"] * 3
    assert {k: client.stats[k] for k in ("requests", "GET /x", "429", "retries")} == {
        "requests": 3, "GET /x": 3, "429": 3, "retries": 3}


def test_a_refusal_is_neither_retried_nor_counted_as_one(url: str) -> None:
    Handler.answers = [(400, {}, {"message": "bad"}), OK]
    delays: list[float] = []
    client = session(url, delays)
    with pytest.raises(ClientError, match="bad"):
        client.request("GET", "/x")
    assert delays == []
    assert client.stats["retries"] == 0


def test_one_log_line_per_retry_and_none_from_backoff(url: str, caplog: pytest.LogCaptureFixture) -> None:
    Handler.answers = [(429, {"Retry-After": "1"}, {}), OK]
    with caplog.at_level(logging.DEBUG):
        session(url, [], logger=logging.getLogger("test.http")).request("GET", "/x", endpoint="GET /x")
    retries = [r for r in caplog.records if "retry" in r.getMessage()]
    assert [r.getMessage() for r in retries] == ["test GET /x: throttled (429); retry 1 in 1.0s"]
    assert {k: getattr(retries[0], k) for k in ("system", "endpoint", "attempt", "retry_in_seconds")} == {
        "system": "test", "endpoint": "GET /x", "attempt": 1, "retry_in_seconds": 1.0}
    assert not [r for r in caplog.records if r.name.startswith("backoff")]


def test_other_requests_errors_are_left_alone() -> None:
    assert transport_failure(requests.TooManyRedirects("loop"), 60.0) is None
    assert transport_failure(requests.exceptions.InvalidURL("x"), 60.0) is None


def test_redactor_and_reasons() -> None:
    redact = Redactor(["s3cret", "", None, "key-1"])
    assert redact("pw s3cret, key key-1, s3cret") == "pw ***, key ***, ***"
    assert error_reason({"Message": "x" * 300}) == "x" * 200
    assert error_reason({"ErrorMessage": "", "error": "e"}) == "e"
    assert error_reason(["not", "a", "dict"]) == ""


def test_request_stats_count_from_many_threads() -> None:
    stats = RequestStats()
    threads = [threading.Thread(target=lambda: [stats.count("requests", "GET /x") for _ in range(2000)])
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert dict(stats) == {"requests": 16000, "GET /x": 16000}
