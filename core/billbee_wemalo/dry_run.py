"""Dry runs as clients, not as branches (the setting `dry_run` of both targets).

A target in a dry run gets a dry-run client (`billbee.DryRunBillbeeClient`, `wemalo.DryRunWemaloClient`): it
reads from the real service as a normal run does, and each write method records the write in `PlannedWrites`
instead of sending it. The sinks run their normal code; the run report lists what would have been written.
The clients' sessions are read-only as well, so a write method added later without its dry-run counterpart
fails the dry run (`DryRunViolation`) instead of writing.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class PlannedWrite:
    system: str  # "Billbee" or "wemalo"
    call: str  # the route, e.g. "POST /orders/{id}/tags"
    record_id: str  # what it would have written: an order id, a SKU


class PlannedWrites:
    """The writes a dry run would have made, in order. Thread-safe: target-billbee writes from worker threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[PlannedWrite] = []

    def record(self, system: str, call: str, record_id: object) -> None:
        with self._lock:
            self._items.append(PlannedWrite(system, call, str(record_id)))

    @property
    def items(self) -> list[PlannedWrite]:
        with self._lock:
            return list(self._items)

    def counts(self) -> dict[str, int]:
        """Writes per system and route, e.g. {"Billbee POST /orders/{id}/shipment": 12}."""
        return dict(Counter(f"{item.system} {item.call}" for item in self.items))
