"""The base of the sinks whose batches are written in a worker thread of the run (BillbeeRun.submit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from singer_sdk import Target
from singer_sdk.sinks import BatchSink
from typing_extensions import override

from billbee_wemalo.sdk.run import run_of
from billbee_wemalo.sdk.sinks import RuleCheckedSink
from target_billbee.run import BillbeeRun


class WorkerSink(RuleCheckedSink, BatchSink):
    """Each batch goes to `_process` in the worker thread named `worker` (default: the stream's own), so that
    streams on different Billbee endpoints do not wait for each other and one worker keeps its batches in
    order."""

    worker = ""

    def __init__(self, target: Target, stream_name: str, schema: dict[str, Any],
                 key_properties: Sequence[str] | None) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.run = run_of(target, BillbeeRun)

    @override
    def process_batch(self, context: dict[str, Any]) -> None:
        self.run.submit(self.worker or self.stream_name, self._process, list(context.get("records", [])))

    def _process(self, records: list[dict[str, Any]]) -> None:
        raise NotImplementedError
