"""Long streams log progress at a steady pace: records of the total, requests, throttling."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from billbee_wemalo.http import ProgressLog


def fake_client(requests: int, throttled: int, waited: float) -> SimpleNamespace:
    return SimpleNamespace(system="Billbee", stats={"requests": requests, "429": throttled}, waited_seconds=waited)


def test_progress_lines_name_records_total_requests_and_waits(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.progress")
    progress = ProgressLog("products", fake_client(12, 1, 3.5), logger, interval=0)
    progress.page({"Page": 1, "TotalPages": 80, "TotalRows": 20000, "PageSize": 250})
    with caplog.at_level(logging.INFO, logger="test.progress"):
        progress.record()
    assert caplog.messages[-1].startswith("products: 1 of 20000 records after")
    assert "12 Billbee requests, 1 throttled (429), 3.5 s waited for rate limits" in caplog.messages[-1]


def test_progress_is_not_logged_for_every_record(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.progress")
    progress = ProgressLog("orders", fake_client(1, 0, 0.0), logger, interval=3600)
    with caplog.at_level(logging.INFO, logger="test.progress"):
        for _ in range(1000):
            progress.record()
        progress.emit(final=True)
    assert len(caplog.messages) == 1
    assert caplog.messages[0].startswith("orders: done, 1000 records")
