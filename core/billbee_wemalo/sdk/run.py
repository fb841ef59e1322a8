"""The run context of a target: what its sinks share, built once by the target and handed to each sink.

Each target subclasses `TargetRun` with its own services (client, caches, the state it contributes). A sink
finds its run with `run_of(target, KindOfRun)` once, when it is made, and uses nothing else of the target.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from typing_extensions import override

from billbee_wemalo.dry_run import PlannedWrites
from billbee_wemalo.report import RunReport
from billbee_wemalo.sdk.hooks import StateHookedTarget
from billbee_wemalo.state import HeldBookmarks


class TargetRun:
    """The report of the run, the bookmarks it holds back and, in a dry run (setting `dry_run`), the writes
    that were not made."""

    def __init__(self, plugin: str, config: Mapping[str, Any], logger: logging.Logger) -> None:
        self.config = config
        self.logger = logger
        self.planned = PlannedWrites() if config.get("dry_run") else None
        self.report = RunReport(plugin, logger, planned=self.planned)
        self.held = HeldBookmarks()

    @property
    def dry_run(self) -> bool:
        return self.planned is not None

    def read_state(self, state: Mapping[str, Any]) -> None:
        """Called with the value of every STATE message from the tap."""

    def add_to_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """The state the target emits, made from the tap's latest (a copy: change it freely)."""
        return state

    def before_last_state(self) -> None:
        """Called once after the tap's last message, before the sinks are drained and the last state emitted:
        work the run does at its end whose result belongs in that state."""

    def finish(self) -> None:
        """Log the summary and write the report file (setting `report_dir`)."""
        self.report.finish(self.config.get("report_dir"))


class RunTarget(StateHookedTarget):
    """A target whose run context (`run`, a TargetRun) reads the tap's state, adds to the state the target
    emits, does its end-of-run work before the last state, and finishes the run after the last message."""

    @property
    def run(self) -> TargetRun:
        raise NotImplementedError

    @override
    def incoming_state(self, state: dict[str, Any]) -> None:
        self.run.read_state(state)

    @override
    def outgoing_state(self, state: dict[str, Any]) -> dict[str, Any]:
        return self.run.add_to_state(state)

    @override
    def process_endofpipe(self) -> None:
        self.run.before_last_state()
        super().process_endofpipe()
        self.run.finish()


R = TypeVar("R", bound=TargetRun)


def run_of(target: object, kind: type[R]) -> R:
    """The run context of `target` (its attribute `run`), checked to be of the kind a sink needs."""
    run = getattr(target, "run", None)
    if not isinstance(run, kind):
        raise TypeError(f"{type(target).__name__} has no {kind.__name__}: this sink works only in its own target")
    return run
