"""Per-record outcomes of a target run and the summary a merchant reads (log lines and a JSON file).

tap-billbee writes the same summary with counters only (the acknowledgements it wrote to Billbee, the records it
extracted).

Every record a target receives ends in exactly one outcome (`created`, `updated`, `unchanged`, `rejected`,
`skipped`, ...), with a reason where it is not a success. Outcomes carry ids, never names or addresses. A plain
`unchanged` (no reason: target-wemalo's unchanged products, 100,000 on an everyday run of a full catalogue) is
kept as its record id only (`add_unchanged`): the report and the log say the same of it as of any outcome.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from billbee_wemalo.dry_run import PlannedWrites

SUCCESS = frozenset({"created", "updated", "unchanged", "written", "cancelled"})
WRITES = SUCCESS - {"unchanged"}  # the outcomes a dry run marks: written only as far as a dry run writes


@dataclass(slots=True)  # one per record: 100,000 at a full catalogue
class Outcome:
    stream: str
    record_id: str
    outcome: str
    reason: str = ""


@dataclass
class RunReport:
    plugin: str
    logger: logging.Logger
    started: float = field(default_factory=time.time)
    outcomes: list[Outcome] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)  # free-form tallies, e.g. "tracking_numbers_written"
    planned: PlannedWrites | None = None  # a dry run's: the writes not made (billbee_wemalo.dry_run)
    # stream -> record ids of its outcomes `unchanged` without a reason (add_unchanged): one reference each, where
    # an Outcome costs ~70 bytes (7 MB at 100,000 unchanged products).
    unchanged: dict[str, list[str]] = field(default_factory=dict)
    _seen: dict[tuple[str, str], None] = field(default_factory=dict, init=False, repr=False)  # first reported first

    def add(self, stream: str, record_id: object, outcome: str, reason: str = "") -> Outcome:
        if self.planned is not None and outcome in WRITES:
            reason = f"{reason}, dry run" if reason else "dry run"
        item = Outcome(stream, str(record_id), str(outcome), reason)  # str: an AckOutcome is written as its value
        self.outcomes.append(item)
        self._seen[stream, item.outcome] = None
        self._log(stream, item.record_id, outcome, reason)
        return item

    def add_unchanged(self, stream: str, record_id: object) -> None:
        """The outcome `unchanged` without a reason, as `add(stream, record_id, "unchanged")` reports it (counted,
        logged, in :meth:`records`), but kept as the record id only (the caller's string object, not a copy)."""
        rid = record_id if isinstance(record_id, str) else str(record_id)
        self.unchanged.setdefault(stream, []).append(rid)
        self._seen[stream, "unchanged"] = None
        self._log(stream, rid, "unchanged", "")

    def _log(self, stream: str, record_id: str, outcome: str, reason: str) -> None:
        # The same facts as fields, for structured logging (SINGER_SDK_LOG_CONFIG, see logging/README.md).
        extra = {"stream_name": stream, "record_id": record_id, "outcome": outcome, "reason": reason}
        if outcome in SUCCESS:
            self.logger.debug("%s %s: %s", stream, record_id, outcome, extra=extra)
        else:
            self.logger.warning("%s %s: %s%s", stream, record_id, outcome, f" - {reason}" if reason else "",
                                extra=extra)

    def records(self) -> Iterator[Outcome]:
        """Every record's outcome: those of :attr:`outcomes`, then those of :meth:`add_unchanged` (made anew)."""
        yield from self.outcomes
        for stream, ids in self.unchanged.items():
            for record_id in ids:
                yield Outcome(stream, record_id, "unchanged")

    def tally(self) -> dict[str, dict[str, int]]:
        """Outcomes per stream, streams and their outcomes in the order first reported."""
        counts: Counter[tuple[str, str]] = Counter((item.stream, item.outcome) for item in self.outcomes)
        for stream, ids in self.unchanged.items():
            counts[stream, "unchanged"] += len(ids)
        out: dict[str, dict[str, int]] = {}
        for stream, outcome in dict.fromkeys([*self._seen, *counts]):  # then any appended to `outcomes` directly
            if counts[stream, outcome]:
                out.setdefault(stream, {})[outcome] = counts[stream, outcome]
        return out

    def problems(self) -> dict[str, dict[str, list[str]]]:
        """Non-success outcomes grouped by stream and reason, with the record ids."""
        out: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for item in self.outcomes:
            if item.outcome not in SUCCESS and item.outcome != "skipped":
                out[item.stream][item.reason or item.outcome].append(item.record_id)
        return {s: dict(r) for s, r in out.items()}

    def as_dict(self) -> dict[str, Any]:
        return {
            "plugin": self.plugin,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "duration_seconds": round(time.time() - self.started, 2),
            "outcomes": self.tally(),
            "counters": dict(self.counters),
            "problems": self.problems(),
            "skipped": {item.record_id: item.reason for item in self.outcomes if item.outcome == "skipped"},
            **({"dry_run": {"would_write": self.planned.counts()}} if self.planned is not None else {}),
        }

    def log_summary(self) -> None:
        for stream, counts in sorted(self.tally().items()):
            self.logger.info("Summary %s: %s", stream, ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
                             extra={"stream_name": stream, "summary": counts})
        for key, value in sorted(self.counters.items()):
            self.logger.info("Summary: %s %s", key, value, extra={"counter": key, "value": value})
        for stream, reasons in sorted(self.problems().items()):
            for reason, ids in sorted(reasons.items()):
                shown = ", ".join(ids[:10]) + (f" (+{len(ids) - 10} more)" if len(ids) > 10 else "")
                self.logger.warning("Problem %s (%d): %s [%s]", stream, len(ids), reason, shown,
                                    extra={"stream_name": stream, "reason": reason, "record_ids": ids})
        if self.planned is not None:
            planned = self.planned.counts()
            self.logger.info("Dry run: nothing written; would have written %s", ", ".join(
                f"{call} x{n}" for call, n in sorted(planned.items())) or "nothing", extra={"would_write": planned})

    def finish(self, folder: str | None) -> None:
        """The end of a run: the summary in the log, and the report file when `folder` is set."""
        self.log_summary()
        path = self.write(folder)
        if path:
            self.logger.info("Run report written to %s", path)

    def write(self, folder: str | None) -> Path | None:
        """Write the report as JSON under `folder` (one file per run); None when no folder is configured."""
        if not folder:
            return None
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self.started))
        target = path / f"{self.plugin}-{stamp}-{os.getpid()}.json"
        target.write_text(json.dumps(self.as_dict(), indent=2, ensure_ascii=False, default=str))
        return target
