"""One HTTP session per API account: `ApiSession` composes the parts of sending a request.

The parts, each in its own module: the base URL rule (`base_url`), when a request left, for the caller's rate
limiter (`send_timing`), the retry rules and the attempts (`retry`: read its docstring for which failures repeat
a request), JSON answers, whole or streamed (`json_parse`), error messages without secrets (`redaction`), and
the log lines and counters (`request_log`). Throttling is the caller's: `throttle` runs before every attempt
(Billbee's client hands in its `RateLimiter`).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from billbee_wemalo.http.base_url import API_URL_PATTERN, check_base_url
from billbee_wemalo.http.errors import (
    AmbiguousWriteError,
    ApiError,
    AuthError,
    ClientError,
    DryRunViolation,
    NotFoundError,
    ResponseFormatError,
    TransientError,
)
from billbee_wemalo.http.json_parse import UNREADABLE, ItemsHook, content_type, parse_json, parse_stream
from billbee_wemalo.http.redaction import Redactor, error_reason
from billbee_wemalo.http.request_log import RequestStats, log_answer, log_retry
from billbee_wemalo.http.retry import IDEMPOTENT_METHODS, Failure, Retry, RetryPolicy, retrying, transport_failure
from billbee_wemalo.http.send_timing import SendTimingAdapter, clear_sent_at, last_sent_at

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class ApiResponse:
    status: int
    data: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Call:
    method: str
    url: str
    endpoint: str  # the route template: throttling, stats and messages
    params: Any
    json_body: Any
    idempotent: bool
    items: ItemsHook | None


class ApiSession:
    """Sends requests for one API account. Subclass hooks: `effective_status`, `error_reason`."""

    def __init__(
        self,
        *,
        system: str,
        base_url: str,
        auth: Any = None,
        headers: dict[str, str] | None = None,
        secrets: list[str] | None = None,
        auth_hint: str = "",
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        throttle: Callable[[str], None] | None = None,
        on_throttled: Callable[[str], None] | None = None,
        on_answer: Callable[[str, float | None], None] | None = None,
        logger: logging.Logger | None = None,
        sleep: Callable[[float], None] = time.sleep,
        verify_tls: bool = True,
        read_only: bool = False,
    ) -> None:
        self.system = system
        self.read_only = read_only  # a dry run's session: any write that reaches it is a bug, not a write
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.throttle = throttle  # called with the endpoint before every attempt (the client's limiter)
        self.on_throttled = on_throttled  # called with the endpoint after a 429
        self.on_answer = on_answer  # called with the endpoint and when the request was written, once answered
        self.auth_hint = auth_hint
        self.log = logger or logging.getLogger(f"{system}.http")
        self._sleep = sleep
        self.redact = Redactor(secrets or [])
        self._http = requests.Session()
        self._adapter = SendTimingAdapter()
        for prefix in ("https://", "http://"):
            self._http.mount(prefix, self._adapter)
        self._http.auth = auth
        self._http.verify = verify_tls  # never switched off for real hosts; see check_base_url
        self._http.headers.update({"Accept": "application/json", "User-Agent": "billbee-wemalo-connector"})
        self._http.headers.update(headers or {})
        self.stats = RequestStats()  # "requests", "429", "retries", "<METHOD endpoint>"
        self._rng = random.Random()
        self._send = retrying(self._attempt, max_attempts=lambda: self.retry.max_attempts, failed=self._failed,
                              pause=self._pause)

    # -- hooks ---------------------------------------------------------------------------------------
    def effective_status(self, http_status: int, data: Any) -> int:
        """The status that decides success. wemalo overrides this with the body-level `status`."""
        return http_status

    def error_reason(self, data: Any) -> str:
        """A short, PII-free reason from an error body."""
        return error_reason(data)

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, *, endpoint: str | None = None, params: Any = None,
                json_body: Any = None, idempotent: bool | None = None,
                items: ItemsHook | None = None) -> ApiResponse:
        """Send `method path`; `endpoint` is the route template used for throttling, stats and messages.

        `items=(key, shrink)`: the answer is parsed while it arrives, and each item of the list under the answer's
        top-level `key` is replaced by `shrink(item)` as soon as it closes, so a large list never exists as full
        dicts (wemalo's product/getAll)."""
        endpoint = endpoint or f"{method} {path}"
        if self.read_only and method not in READ_METHODS:
            raise DryRunViolation(f"{self.system} {endpoint}: a write reached the read-only session of a dry run "
                                  "(a client write method without its dry-run counterpart)")
        call = _Call(method, f"{self.base_url}{path}", endpoint, params, json_body,
                     method in IDEMPOTENT_METHODS if idempotent is None else idempotent, items)
        try:
            return self._send(call)
        except Retry as retry:
            raise self._error(retry.final, endpoint, f"gave up after {retry.attempts} attempts: {retry}") from None

    # -- one attempt ---------------------------------------------------------------------------------
    def _attempt(self, call: _Call) -> ApiResponse:
        if self.throttle:
            self.throttle(call.endpoint)
        self.stats.count("requests", call.endpoint)
        started = time.monotonic()
        clear_sent_at()
        stream = call.items is not None  # a large answer: parsed while it arrives (parse_stream)
        try:
            resp = self._http.request(call.method, call.url, params=call.params, json=call.json_body,
                                      timeout=self.timeout, stream=stream)
        except requests.RequestException as exc:
            failure = transport_failure(exc, self.timeout)
            if failure is None:
                raise
            raise self._failure(call, failure) from None
        elapsed_ms = (time.monotonic() - started) * 1000
        if self.on_answer:
            self.on_answer(call.endpoint, last_sent_at())
        log_answer(self.log, self.system, call.endpoint, resp.status_code, elapsed_ms)

        if resp.status_code == 429:
            self.stats.count("429")
            resp.close()
            raise Retry("throttled (429)", self.retry.retry_after(resp.headers), throttled=True)
        if stream:
            try:
                data = parse_stream(resp, call.items)
            except requests.RequestException:
                dropped = "connection dropped in the answer"
                raise self._failure(call, Failure(dropped, ambiguous=dropped)) from None
        else:
            data = parse_json(resp)
        status = self.effective_status(resp.status_code, data)
        if status == 429:  # body-level throttle signal (wemalo)
            self.stats.count("429")
            raise Retry("throttled", self.retry.retry_after(resp.headers), throttled=True)
        if status >= 500 or data is UNREADABLE:
            what = f"HTTP {status}" if status >= 500 else f"unreadable answer ({content_type(resp)})"
            raise self._failure(call, Failure(what, ambiguous=what, status=status,
                                              final=ResponseFormatError if data is UNREADABLE else TransientError))
        if status in (401, 403):
            raise self._error(AuthError, call.endpoint,
                              f"credentials refused (HTTP {status}); check {self.auth_hint}", status)
        if status == 404:
            raise self._error(NotFoundError, call.endpoint, self.error_reason(data) or "not found", status, data)
        if status >= 400:
            raise self._error(ClientError, call.endpoint,
                              f"refused (HTTP {status}): {self.error_reason(data) or 'no reason given'}", status, data)
        return ApiResponse(status=status, data=data, headers=dict(resp.headers))

    def _failure(self, call: _Call, failure: Failure) -> Exception:
        """Retry, unless a non-idempotent write may have been applied: then it is ambiguous, never repeated."""
        if failure.ambiguous is not None and not call.idempotent:
            return self._error(AmbiguousWriteError, call.endpoint, failure.ambiguous, failure.status)
        return Retry(failure.reason, final=failure.final)

    def _error(self, cls: type[ApiError], endpoint: str, reason: str, status: int | None = None,
               body: Any = None) -> ApiError:
        msg = self.redact(f"{self.system} {endpoint}: {reason}")
        return cls(msg, system=self.system, endpoint=endpoint, status=status, body=body)

    # -- between attempts (called by `retrying`) -----------------------------------------------------
    def _failed(self, call: _Call, retry: Retry) -> None:
        self.stats.count("retries")
        if retry.throttled and self.on_throttled:
            self.on_throttled(call.endpoint)

    def _pause(self, call: _Call, retry: Retry, failures: int) -> None:
        delay = self.retry.wait(retry, failures, self._rng)
        log_retry(self.log, self.system, call.endpoint, retry, failures, delay)
        self._sleep(delay)


__all__ = ["API_URL_PATTERN", "ApiResponse", "ApiSession", "ResponseFormatError", "RetryPolicy", "check_base_url"]
