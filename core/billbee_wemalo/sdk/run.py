"""The run context of a target: what its sinks share, built once by the target and handed to each sink.

Each target subclasses `TargetRun` with its own services (client, caches, the state it contributes). A sink
finds its run with `run_of(target, KindOfRun)` once, when it is made, and uses nothing else of the target.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, TypeVar

from billbee_wemalo.dry_run import PlannedWrites
from billbee_wemalo.report import RunReport
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

    def finish(self) -> None:
        """Log the summary and write the report file (setting `report_dir`)."""
        self.report.finish(self.config.get("report_dir"))


R = TypeVar("R", bound=TargetRun)


def run_of(target: object, kind: type[R]) -> R:
    """The run context of `target` (its attribute `run`), checked to be of the kind a sink needs."""
    run = getattr(target, "run", None)
    if not isinstance(run, kind):
        raise TypeError(f"{type(target).__name__} has no {kind.__name__}: this sink works only in its own target")
    return run
