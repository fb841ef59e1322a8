"""Sink parts both targets use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from singer_sdk import Target
from singer_sdk.sinks import RecordSink
from typing_extensions import override

from billbee_wemalo.sdk.run import TargetRun, run_of


class RuleCheckedSink:
    """Mixin: no JSON Schema validation. Business rules are checked per record, with a reason in the run report;
    a schema failure must not stop the run or lose the record."""

    def get_validator(self) -> None:
        return None


class IgnoredStreamSink(RecordSink):
    """Streams a target does not load (e.g. Meltano's `meltano_test_stream`): counted, never written."""

    def __init__(self, target: Target, stream_name: str, schema: dict[str, Any],
                 key_properties: Sequence[str] | None) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.report = run_of(target, TargetRun).report
        self.logger.warning("Stream %r is not one %s loads; its records are ignored", stream_name, target.name)

    @override
    def process_record(self, record: dict[str, Any], context: dict[str, Any]) -> None:
        self.report.counters[f"ignored records of unknown stream {self.stream_name}"] += 1
