"""Fixtures of the sandbox's own tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sandbox.webhook_receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback for one test, closed after it (the webhook tests of both simulators)."""
    running = Receiver()
    yield running
    running.close()
