"""singer-sdk standard target tests for target-wemalo against the sandbox.

The SDK's generic streams are not products or orders: the target skips them by design (IgnoredStreamSink), so
the tests check that it reads every message without a crash, and that nothing was written to wemalo. The class
needs its config when it is defined, so the sandbox starts at import (stopped atexit).
"""

from __future__ import annotations

import atexit
from typing import Any

from singer_sdk.testing import SuiteConfig, get_target_test_class

from sandbox.runner import Sandbox, credentials
from target_wemalo.target import TargetWemalo

SANDBOX = Sandbox(billbee_port=0, wemalo_port=0).start()
atexit.register(SANDBOX.stop)

CONFIG: dict[str, Any] = {
    "api_url": f"{SANDBOX.wemalo_url}/v1",
    "token": credentials()["TARGET_WEMALO_TOKEN"],
    "max_attempts": 2,
}

TestTargetWemalo = get_target_test_class(target_class=TargetWemalo, config=CONFIG, suite_config=SuiteConfig())


def test_zz_unknown_streams_wrote_nothing_to_wemalo() -> None:
    """Runs after the standard tests (module order): the generic streams made no wemalo writes."""
    rows = SANDBOX.control.requests("wemalo")
    assert {r["method"] for r in rows} <= {"GET"}
    assert SANDBOX.control.violations()["wemalo"] == []
