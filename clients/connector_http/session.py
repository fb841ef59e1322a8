"""One HTTP session per API account: throttling, retries with backoff, error mapping, redaction.

Retry rules (the reason this is not a plain `urllib3.Retry`): a request is repeated only when repeating it
cannot double a write.

* 429 and connection failures before the request was sent: always retried (nothing was applied).
* 5xx, timeouts, dropped connections and unreadable answers: retried for reads and idempotent writes;
  for a non-idempotent write (``idempotent=False``) they raise :class:`AmbiguousWriteError` at once, and
  the caller re-reads the object before deciding (e.g. the shipments already on a Billbee order).
* ``Retry-After`` is honoured when present; Billbee often omits it, then exponential backoff with jitter.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from connector_http.base_url import API_URL_PATTERN, check_base_url
from connector_http.errors import (
    AmbiguousWriteError,
    ApiError,
    AuthError,
    ClientError,
    NotFoundError,
    ResponseFormatError,
    TransientError,
)
from connector_http.json_parse import UNREADABLE, ItemsHook, content_type, parse_json, parse_stream
from connector_http.send_timing import SendTimingAdapter, clear_sent_at, last_sent_at


@dataclass
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0


@dataclass
class ApiResponse:
    status: int
    data: Any
    headers: dict[str, str] = field(default_factory=dict)


class _Retry(Exception):
    def __init__(self, reason: str, delay: float | None = None, final: type[ApiError] = TransientError,
                 throttled: bool = False) -> None:
        super().__init__(reason)
        self.delay = delay
        self.final = final  # what to raise when the retries run out
        self.throttled = throttled  # a 429: the caller's limiter may need a wider margin (on_throttled)


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
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.throttle = throttle  # called with the endpoint before every attempt (the client's limiter)
        self.on_throttled = on_throttled  # called with the endpoint after a 429
        self.on_answer = on_answer  # called with the endpoint and when the request was written, once answered
        self.auth_hint = auth_hint
        self.log = logger or logging.getLogger(f"{system}.http")
        self._sleep = sleep
        self._secrets = [s for s in (secrets or []) if s]
        self._http = requests.Session()
        self._adapter = SendTimingAdapter()
        for prefix in ("https://", "http://"):
            self._http.mount(prefix, self._adapter)
        self._http.auth = auth
        self._http.verify = verify_tls  # never switched off for real hosts; see check_base_url
        self._http.headers.update({"Accept": "application/json", "User-Agent": "billbee-wemalo-connector"})
        self._http.headers.update(headers or {})
        self.stats: Counter[str] = Counter()  # "requests", "429", "retries", "<METHOD endpoint>"
        self._stats_lock = threading.Lock()  # plugins send from several threads (one per Billbee endpoint)
        self._rng = random.Random()

    # -- hooks ---------------------------------------------------------------------------------------
    def effective_status(self, http_status: int, data: Any) -> int:
        """The status that decides success. wemalo overrides this with the body-level `status`."""
        return http_status

    def error_reason(self, data: Any) -> str:
        """A short, PII-free reason from an error body."""
        if isinstance(data, dict):
            for key in ("ErrorMessage", "message", "Message", "error"):
                if data.get(key):
                    return str(data[key])[:200]
        return ""

    # -- helpers -------------------------------------------------------------------------------------
    def _count(self, *keys: str) -> None:
        with self._stats_lock:
            for key in keys:
                self.stats[key] += 1

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _backoff(self, attempt: int) -> float:
        delay = min(self.retry.max_delay, self.retry.base_delay * 2 ** (attempt - 1))
        return delay * (0.5 + self._rng.random() / 2)  # jitter keeps parallel clients apart

    def _error(self, cls: type[ApiError], endpoint: str, reason: str, status: int | None = None,
               body: Any = None) -> ApiError:
        msg = self.redact(f"{self.system} {endpoint}: {reason}")
        return cls(msg, system=self.system, endpoint=endpoint, status=status, body=body)

    def close(self) -> None:
        self._http.close()

    # -- the request loop ----------------------------------------------------------------------------
    def request(self, method: str, path: str, *, endpoint: str | None = None, params: Any = None,
                json_body: Any = None, idempotent: bool | None = None,
                items: ItemsHook | None = None) -> ApiResponse:
        """Send `method path`; `endpoint` is the route template used for throttling, stats and messages.

        `items=(key, shrink)`: the answer is parsed while it arrives, and each item of the list under the answer's
        top-level `key` is replaced by `shrink(item)` as soon as it closes, so a large list never exists as full
        dicts (wemalo's product/getAll)."""
        endpoint = endpoint or f"{method} {path}"
        if idempotent is None:
            idempotent = method in {"GET", "HEAD", "PUT", "DELETE"}
        url = f"{self.base_url}{path}"
        attempt = 0
        while True:
            attempt += 1
            if self.throttle:
                self.throttle(endpoint)
            self._count("requests", endpoint)
            try:
                return self._attempt(method, url, endpoint, params, json_body, idempotent, items)
            except _Retry as retry:
                self._count("retries")
                if retry.throttled and self.on_throttled:
                    self.on_throttled(endpoint)
                if attempt >= self.retry.max_attempts:
                    raise self._error(retry.final, endpoint, f"gave up after {attempt} attempts: {retry}") from None
                delay = retry.delay if retry.delay is not None else self._backoff(attempt)
                self.log.info("%s %s: %s; retry %d in %.1fs", self.system, endpoint, retry, attempt, delay,
                              extra={"system": self.system, "endpoint": endpoint, "attempt": attempt,
                                     "retry_in_seconds": round(delay, 3)})
                self._sleep(delay)

    def _attempt(self, method: str, url: str, endpoint: str, params: Any, json_body: Any,
                 idempotent: bool, items: ItemsHook | None = None) -> ApiResponse:
        started = time.monotonic()
        clear_sent_at()
        stream = items is not None  # a large answer: parsed while it arrives (parse_stream)
        try:
            resp = self._http.request(method, url, params=params, json=json_body, timeout=self.timeout,
                                      stream=stream)
        except requests.ConnectTimeout as exc:
            raise _Retry("connect timeout") from exc
        except requests.ConnectionError as exc:
            if _never_sent(exc):
                raise _Retry("connection refused") from exc
            if not idempotent:
                raise self._error(AmbiguousWriteError, endpoint, "connection dropped before an answer") from None
            raise _Retry("connection dropped") from exc
        except requests.Timeout:
            if not idempotent:
                raise self._error(AmbiguousWriteError, endpoint, f"no answer within {self.timeout:g}s") from None
            raise _Retry(f"no answer within {self.timeout:g}s") from None
        elapsed_ms = (time.monotonic() - started) * 1000
        if self.on_answer:
            self.on_answer(endpoint, last_sent_at())
        self.log.debug("%s %s -> %s (%.0f ms)", self.system, endpoint, resp.status_code, elapsed_ms)

        if resp.status_code == 429:
            self._count("429")
            resp.close()
            raise _Retry("throttled (429)", _retry_after(resp, self.retry.max_retry_after), throttled=True)
        if stream:
            try:
                data = parse_stream(resp, items)
            except requests.RequestException as exc:
                if not idempotent:
                    raise self._error(AmbiguousWriteError, endpoint, "connection dropped in the answer") from None
                raise _Retry("connection dropped in the answer") from exc
        else:
            data = parse_json(resp)
        status = self.effective_status(resp.status_code, data)
        if status == 429:  # body-level throttle signal (wemalo)
            self._count("429")
            raise _Retry("throttled", _retry_after(resp, self.retry.max_retry_after), throttled=True)
        if status >= 500 or data is UNREADABLE:
            what = f"HTTP {status}" if status >= 500 else f"unreadable answer ({content_type(resp)})"
            if not idempotent:
                raise self._error(AmbiguousWriteError, endpoint, what, status)
            raise _Retry(what, final=ResponseFormatError if data is UNREADABLE else TransientError)
        if status in (401, 403):
            raise self._error(AuthError, endpoint, f"credentials refused (HTTP {status}); check {self.auth_hint}",
                              status)
        if status == 404:
            raise self._error(NotFoundError, endpoint, self.error_reason(data) or "not found", status, data)
        if status >= 400:
            raise self._error(ClientError, endpoint,
                              f"refused (HTTP {status}): {self.error_reason(data) or 'no reason given'}", status, data)
        return ApiResponse(status=status, data=data, headers=dict(resp.headers))


def _retry_after(resp: requests.Response, cap: float) -> float | None:
    value = resp.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return min(cap, max(0.0, float(value)))
    except ValueError:
        return None


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection failed before the request left (refused, DNS): safe to repeat any request."""
    reason = exc.args[0] if exc.args else None
    inner = getattr(reason, "reason", None)
    return isinstance(inner, NewConnectionError) or isinstance(reason, NewConnectionError)


__all__ = ["API_URL_PATTERN", "ApiResponse", "ApiSession", "ResponseFormatError", "RetryPolicy", "check_base_url"]
