"""When a request left: connection pools whose connections note the moment a request was written to its socket.

That moment (after any wait for a pooled connection or a TCP/TLS handshake) is what the caller's rate limiter
counts from (``RateLimiter.answered``). It is kept per thread: each thread sends one request at a time.
"""

from __future__ import annotations

import threading
import time
from typing import Any, TypeVar

from requests.adapters import HTTPAdapter
from typing_extensions import override
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class _SentAt(threading.local):
    at: float | None = None  # when this thread's last request was written to its socket (monotonic clock)


_SENT = _SentAt()


def clear_sent_at() -> None:
    """Forget this thread's last write, before sending (behind a proxy it stays unknown: its pools are not timed)."""
    _SENT.at = None


def last_sent_at() -> float | None:
    """When this thread's last request was written (time.monotonic), or None if not known."""
    return _SENT.at


_Connection = TypeVar("_Connection", bound=HTTPConnection)


def _timed(base: type[_Connection]) -> type[_Connection]:
    # mypy takes no variable as a base class (valid-type, misc); the subclass is one of `base` all the same
    class Timed(base):  # type: ignore[valid-type, misc]
        def request(self, *args: Any, **kwargs: Any) -> None:
            super().request(*args, **kwargs)  # connects first if needed (handshakes), then writes headers and body
            _SENT.at = time.monotonic()

    return Timed


class _TimedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _timed(HTTPConnection)


class _TimedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _timed(HTTPSConnection)


class SendTimingAdapter(HTTPAdapter):
    """An HTTPAdapter whose connections note when a request has been written (see `last_sent_at`)."""

    @override
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _TimedHTTPPool, "https": _TimedHTTPSPool}
