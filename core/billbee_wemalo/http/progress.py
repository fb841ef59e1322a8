"""Progress lines for long streams, at a steady pace (every `interval` seconds, not every page).

Works with any client that has `system` (a label), `stats` (request counters of its session) and
`waited_seconds` (time spent waiting for rate limits): BillbeeClient and WemaloClient.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol


class MeteredClient(Protocol):
    system: str

    @property
    def stats(self) -> dict[str, int]: ...

    @property
    def waited_seconds(self) -> float: ...


class ProgressLog:
    def __init__(self, stream: str, client: MeteredClient, logger: logging.Logger, interval: float = 15.0) -> None:
        self.stream = stream
        self.client = client
        self.log = logger
        self.interval = interval
        self.records = 0
        self.total: int | None = None
        self._started = self._last = time.monotonic()

    def page(self, paging: dict[str, Any]) -> None:
        """Called by the client after each page: remembers the total where the API tells it (Billbee)."""
        if isinstance(paging.get("TotalRows"), int):
            self.total = paging["TotalRows"]

    def record(self) -> None:
        self.records += 1
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self.emit()

    def emit(self, final: bool = False) -> None:
        stats = self.client.stats
        waited = self.client.waited_seconds
        of_total = f" of {self.total}" if self.total is not None else ""
        elapsed = time.monotonic() - self._started
        self.log.info("%s: %s%d%s records after %.0f s; %d %s requests, %d throttled (429), %.1f s waited "
                      "for rate limits", self.stream, "done, " if final else "", self.records, of_total,
                      elapsed, stats.get("requests", 0), self.client.system, stats.get("429", 0), waited,
                      extra={"stream_name": self.stream, "progress": {
                          "final": final, "records": self.records, "total": self.total, "seconds": round(elapsed, 1),
                          "requests": stats.get("requests", 0), "throttled": stats.get("429", 0),
                          "waited_seconds": round(waited, 1)}})
