"""The receiver as it runs in production (uvicorn, a subprocess): an event answered 2xx survives a SIGKILL right
after the answer, and after a restart it is handled exactly once."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from billbee_wemalo_events.event_queue import EventQueue
from events.tests.conftest import TOKEN, sign
from events.tests.receiver_process import ReceiverProcess

FAKE_MELTANO = """#!{python}
import json, os, sys
with open({log!r}, "a") as log:
    log.write(json.dumps({{"args": sys.argv[1:], "ids": os.environ.get("TAP_BILLBEE_ORDER_IDS"),
                          "wemalo_ids": os.environ.get("TAP_WEMALO_SHIPMENTS_ORDER_IDS")}}) + "\\n")
"""


@pytest.fixture
def receiver(env: dict[str, str], tmp_path: Path) -> Iterator[ReceiverProcess]:
    fake = tmp_path / "fake-meltano"
    fake.write_text(FAKE_MELTANO.format(python=sys.executable, log=str(tmp_path / "runs.jsonl")))
    fake.chmod(0o755)
    running = ReceiverProcess({**env, "BILLBEE_WEMALO_EVENTS_MELTANO_EXECUTABLE": str(fake)},
                              tmp_path / "receiver.log")
    yield running
    running.stop()


def runs(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "runs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_receiver_killed_right_after_answering_loses_nothing_and_handles_each_event_once(
        receiver: ReceiverProcess, env: dict[str, str], tmp_path: Path) -> None:
    receiver.start(coalesce=600)  # the worker must not run before the kill
    raw = json.dumps({"Id": "k1", "Attempt": 1, "Notifications": [{"Action": "order.created", "OrderId": 31},
                                                                   {"Action": "order.created", "OrderId": 32}]})
    answer = requests.post(f"{receiver.url}/hooks/billbee", data=raw, headers=sign(raw.encode()), timeout=10)
    assert answer.status_code == 200
    answer = requests.post(f"{receiver.url}/hooks/wemalo?event=status_update",
                           json={"token": TOKEN, "externalId": "31"}, timeout=10)
    assert answer.status_code == 200
    receiver.kill()  # at once after the 2xx

    queue = EventQueue(env["BILLBEE_WEMALO_EVENTS_DATABASE_URL"])
    assert queue.counts() == {"received": 3, "handled": 0, "failed": 0, "pending": 3}
    assert runs(tmp_path) == []

    receiver.start(coalesce=0.2)
    deadline = time.monotonic() + 30
    while queue.counts()["handled"] < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert queue.counts() == {"received": 3, "handled": 3, "failed": 0, "pending": 0}
    receiver.stop()
    receiver.start(coalesce=0.2)  # once more: nothing is run again
    time.sleep(1.5)
    receiver.stop()
    jobs = sorted((r["args"][-1], r["ids"], r["wemalo_ids"]) for r in runs(tmp_path))  # type: ignore[index]
    assert jobs == [("billbee-to-wemalo", "[31, 32]", None), ("wemalo-to-billbee", None, '["31"]')]
    assert TOKEN not in receiver.log.read_text()
    queue.close()
