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

import ipaddress
import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import ijson
import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

from billbee_wemalo.http.errors import (
    AmbiguousWriteError,
    ApiError,
    AuthError,
    ClientError,
    ConfigError,
    NotFoundError,
    ResponseFormatError,
    TransientError,
)

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
STREAM_CHUNK = 256 * 1024
try:
    _ijson = ijson.get_backend("yajl2_c")  # the C parser, in ijson's wheels for the usual platforms
except ImportError:
    _ijson = ijson  # the best backend there is (pure Python at worst): the same events, slower

# The same rule as check_base_url, as a JSON Schema pattern for the plugins' `api_url` settings, so that the
# SDK's config validation names the setting in one line before anything runs.
API_URL_PATTERN = r"^(https://[^/\s]+|http://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?)(/\S*)?$"


def check_base_url(url: str, setting: str) -> str:
    """`url` must be https, except on loopback (the sandbox). Returns it without a trailing slash."""
    parts = urlsplit(url or "")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigError(f"setting {setting}: {url!r} is not an http(s) URL")
    host = parts.hostname
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host in LOOPBACK_NAMES
    if parts.scheme != "https" and not loopback:
        raise ConfigError(f"setting {setting}: {url!r} must use https (plain http is allowed only on loopback)")
    return url.rstrip("/")


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


class _SentAt(threading.local):
    at: float | None = None  # when this thread's last request was written to its socket (monotonic clock)


_SENT = _SentAt()

ItemsHook = tuple[str, Callable[[dict[str, Any]], Any]]  # (a top-level key of the answer, what keeps each item)


def _timed(base: type[HTTPConnection]) -> type[HTTPConnection]:
    class Timed(base):  # type: ignore[valid-type, misc]
        def request(self, *args: Any, **kwargs: Any) -> None:
            super().request(*args, **kwargs)  # connects first if needed (handshakes), then writes headers and body
            _SENT.at = time.monotonic()

    return Timed


class _TimedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _timed(HTTPConnection)


class _TimedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _timed(HTTPSConnection)  # type: ignore[assignment]


class _TimingAdapter(requests.adapters.HTTPAdapter):
    """Connection pools whose connections note when a request has been written (``_SENT``): the moment it
    left, after any wait for a thread or a handshake, which the caller's rate limiter counts from."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _TimedHTTPPool, "https": _TimedHTTPSPool}


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
        self._adapter = _TimingAdapter()
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
        _SENT.at = None  # (stays None behind a proxy: its pools are not timed)
        stream = items is not None  # a large answer: parsed while it arrives (_parse_stream)
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
            self.on_answer(endpoint, _SENT.at)
        self.log.debug("%s %s -> %s (%.0f ms)", self.system, endpoint, resp.status_code, elapsed_ms)

        if resp.status_code == 429:
            self._count("429")
            resp.close()
            raise _Retry("throttled (429)", _retry_after(resp, self.retry.max_retry_after), throttled=True)
        if stream:
            try:
                data = _parse_stream(resp, items)
            except requests.RequestException as exc:
                if not idempotent:
                    raise self._error(AmbiguousWriteError, endpoint, "connection dropped in the answer") from None
                raise _Retry("connection dropped in the answer") from exc
        else:
            data = _parse_json(resp)
        status = self.effective_status(resp.status_code, data)
        if status == 429:  # body-level throttle signal (wemalo)
            self._count("429")
            raise _Retry("throttled", _retry_after(resp, self.retry.max_retry_after), throttled=True)
        if status >= 500 or data is _UNREADABLE:
            what = f"HTTP {status}" if status >= 500 else f"unreadable answer ({_content_type(resp)})"
            if not idempotent:
                raise self._error(AmbiguousWriteError, endpoint, what, status)
            raise _Retry(what, final=ResponseFormatError if data is _UNREADABLE else TransientError)
        if status in (401, 403):
            raise self._error(AuthError, endpoint, f"credentials refused (HTTP {status}); check {self.auth_hint}",
                              status)
        if status == 404:
            raise self._error(NotFoundError, endpoint, self.error_reason(data) or "not found", status, data)
        if status >= 400:
            raise self._error(ClientError, endpoint,
                              f"refused (HTTP {status}): {self.error_reason(data) or 'no reason given'}", status, data)
        return ApiResponse(status=status, data=data, headers=dict(resp.headers))


_UNREADABLE = object()


def _content_type(resp: requests.Response) -> str:
    return resp.headers.get("Content-Type", "no content type").split(";")[0]


def _parse_json(resp: requests.Response) -> Any:
    if not resp.content.strip():
        return None
    try:
        return json.loads(resp.content, parse_float=Decimal)
    except ValueError:
        return _UNREADABLE


def _parse_stream(resp: requests.Response, items: ItemsHook | None = None) -> Any:
    """`json.loads(body, parse_float=Decimal)`, but the body is parsed by ijson while it arrives and never exists
    whole, and with `items=(key, shrink)` each item of the top-level `key` list is replaced by `shrink(item)` as
    soon as it closes, so a 100,000-product list is built of what `shrink` keeps. None for an empty body."""
    body = _Body(resp.iter_content(STREAM_CHUNK))
    try:
        return _build(_ijson.basic_parse(body), items)  # numbers: int, else Decimal (ijson's default)
    except (ijson.JSONError, ValueError):
        return None if body.blank else _UNREADABLE
    finally:
        resp.close()


class _Body:
    """The chunks as the file ijson reads. From iter_content, not resp.raw: requests turns urllib3's errors
    (a connection dropped in the body) into requests exceptions there, which the caller retries."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.blank = True  # only whitespace so far

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson's probe for bytes or text
            return b""
        for chunk in self._chunks:
            if chunk:
                self.blank = self.blank and chunk.isspace()
                return chunk
        return b""


def _build(events: Iterator[tuple[str, Any]], items: ItemsHook | None) -> Any:
    """The value of ijson's basic_parse events; with `items=(key, shrink)`, the items of the top-level object's
    `key` list are replaced by shrink(item) as each closes (a C parser's events, one Python step each: at
    100,000 products as fast as ijson.items, which could not also keep the answer's other keys, e.g. `status`)."""
    key, shrink = items if items is not None else (None, None)
    open_: list[Any] = [[]]  # the containers being filled; the outermost receives the document
    keys: list[str] = []  # the keys waiting for their values, innermost last
    for event, value in events:
        if event == "map_key":
            keys.append(value)
            continue
        if event == "start_map" or event == "start_array":
            open_.append({} if event == "start_map" else [])
            continue
        if event == "end_map" or event == "end_array":
            value = open_.pop()
        parent = open_[-1]
        if type(parent) is dict:
            parent[keys.pop()] = value
        else:
            # an item of document -> top-level object -> its `key` list (that list's key still waits in `keys`)
            if (shrink is not None and event == "end_map" and len(open_) == 3 and type(open_[1]) is dict
                    and keys[-1] == key):
                value = shrink(value)
            parent.append(value)
    return open_[0][0]


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


__all__ = ["ApiResponse", "ApiSession", "ResponseFormatError", "RetryPolicy", "check_base_url"]
