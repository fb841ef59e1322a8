"""Request logging and counting: a debug line per answer, an info line per retry (its fields are listed in
logging/README.md), and the counters behind the progress lines and run reports."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any


class RequestStats(Counter[str]):
    """Counts of "requests" (attempts), "429", "retries" (failed attempts) and "<METHOD endpoint>" (attempts);
    safe to count from several threads (the plugins send from one per Billbee endpoint)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()

    def count(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self[key] += 1


def log_answer(log: logging.Logger, system: str, endpoint: str, status: int, elapsed_ms: float) -> None:
    log.debug("%s %s -> %s (%.0f ms)", system, endpoint, status, elapsed_ms)


def log_retry(log: logging.Logger, system: str, endpoint: str, reason: object, attempt: int, delay: float) -> None:
    log.info("%s %s: %s; retry %d in %.1fs", system, endpoint, reason, attempt, delay,
             extra={"system": system, "endpoint": endpoint, "attempt": attempt, "retry_in_seconds": round(delay, 3)})
