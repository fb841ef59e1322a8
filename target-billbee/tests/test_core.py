"""singer-sdk standard target tests for target-billbee against the sandbox.

The SDK's generic streams are not shipments or stock_levels: the target skips them by design (IgnoredStreamSink), so
the tests check that it reads every message without a crash, and that nothing was written to Billbee. The class
needs its config when it is defined, so the sandbox starts at import (stopped atexit).
"""

from __future__ import annotations

import atexit
from typing import Any

from singer_sdk.testing import SuiteConfig, get_target_test_class

from sandbox.runner import Sandbox
from target_billbee.target import TargetBillbee

SANDBOX = Sandbox(billbee_port=0, wemalo_port=0).start()
atexit.register(SANDBOX.stop)

CONFIG: dict[str, Any] = {
    **SANDBOX.billbee_config(),
    "max_attempts": 2,
}

TestTargetBillbee = get_target_test_class(target_class=TargetBillbee, config=CONFIG, suite_config=SuiteConfig())


def test_zz_unknown_streams_wrote_nothing_to_billbee() -> None:
    """Runs after the standard tests (module order): the generic streams made no Billbee writes."""
    rows = SANDBOX.control.requests("billbee")
    assert {r["method"] for r in rows} <= {"GET"}
    assert SANDBOX.control.violations()["billbee"] == []
