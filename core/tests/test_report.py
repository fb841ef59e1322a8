"""RunReport: an outcome `unchanged` kept as its record id only (add_unchanged) is reported exactly as one given
to add(): counts (in the same order), problems, the report file, the log, and the records."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from billbee_wemalo.report import Outcome, RunReport

CALLS: list[tuple[str, Any, str, str]] = [  # (stream, record id, outcome, reason); "" for unchanged: no reason
    ("products", "B-1", "unchanged", ""),
    ("products", "A-1", "created", ""),
    ("orders", 7, "rejected", "article X-1 is not in wemalo"),
    ("products", "C-1", "unchanged", ""),
    ("products", "D-1 (Billbee id 4)", "skipped", "bundle: only its components are sent to wemalo"),
    ("return_requests", "501", "unchanged", "handled in an earlier run"),
    ("warehouse", 9, "unchanged", ""),
    ("products", "E-1", "failed", "wemalo unreachable"),
    ("orders", 8, "created", ""),
]


def reports(caplog: pytest.LogCaptureFixture) -> tuple[RunReport, RunReport, list[Any], list[Any]]:
    """The same outcomes given to add() only, and with add_unchanged for every unchanged without a reason; and
    the log records of each."""
    logs = []
    made = []
    for cheap in (False, True):
        caplog.clear()
        report = RunReport("target-x", logging.getLogger("report-test"), started=1_700_000_000.0)
        with caplog.at_level(logging.DEBUG, logger="report-test"):
            for stream, record_id, outcome, reason in CALLS:
                if cheap and outcome == "unchanged" and not reason:
                    report.add_unchanged(stream, record_id)
                else:
                    report.add(stream, record_id, outcome, reason)
            report.log_summary()
        made.append(report)
        logs.append([(r.levelname, r.getMessage(), r.__dict__.get("record_id"), r.__dict__.get("reason"))
                     for r in caplog.records])
    return made[0], made[1], logs[0], logs[1]


def test_add_unchanged_reports_what_add_reports(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    listed, cheap, listed_log, cheap_log = reports(caplog)
    assert len(cheap.outcomes) == len(listed.outcomes) - 3  # no Outcome object for those three
    assert list(cheap.tally().items()) == list(listed.tally().items())
    assert [list(c) for c in cheap.tally().values()] == [list(c) for c in listed.tally().values()]  # key order
    assert cheap.tally()["products"] == {"unchanged": 2, "created": 1, "skipped": 1, "failed": 1}
    assert cheap.problems() == listed.problems()
    assert cheap_log == listed_log  # every record's line, then the summary
    files = []
    for report, name in ((listed, "listed"), (cheap, "cheap")):
        path = report.write(str(tmp_path / name))
        assert path is not None
        data = json.loads(path.read_text())
        data.pop("duration_seconds")
        files.append(data)
    assert json.dumps(files[0]) == json.dumps(files[1])  # the same file, key order included
    assert sorted(cheap.records(), key=repr) == sorted(listed.records(), key=repr)
    assert Outcome("products", "C-1", "unchanged") in list(cheap.records())


def test_add_unchanged_keeps_the_callers_string() -> None:
    report = RunReport("target-x", logging.getLogger("report-test"))
    sku = "".join(["KH-", "000123"])
    report.add_unchanged("products", sku)
    report.add_unchanged("products", 17)
    assert report.unchanged["products"][0] is sku
    assert report.unchanged["products"][1] == "17"
    assert report.tally() == {"products": {"unchanged": 2}}


def test_outcomes_appended_directly_are_still_counted() -> None:
    report = RunReport("target-x", logging.getLogger("report-test"))
    report.add_unchanged("products", "A")
    report.outcomes.append(Outcome("orders", "1", "created"))
    assert report.tally() == {"products": {"unchanged": 1}, "orders": {"created": 1}}
