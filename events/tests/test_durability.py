"""The receiver as it runs in production (uvicorn, a subprocess): an event answered 2xx survives a SIGKILL right
after the answer, and after a restart it is handled exactly once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from billbee_wemalo_events.event_queue import EventQueue
from events.tests.conftest import TOKEN, sign

FAKE_MELTANO = """#!{python}
import json, os, sys
with open({log!r}, "a") as log:
    log.write(json.dumps({{"args": sys.argv[1:], "ids": os.environ.get("TAP_BILLBEE_ORDER_IDS"),
                          "wemalo_ids": os.environ.get("TAP_WEMALO_SHIPMENTS_ORDER_IDS")}}) + "\\n")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    def __init__(self, env: dict[str, str], tmp_path: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env, "BILLBEE_WEMALO_EVENTS_PORT": str(self.port)}
        self.log = tmp_path / "receiver.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, coalesce: float) -> None:
        env = {**self.env, "BILLBEE_WEMALO_EVENTS_COALESCE_SECONDS": str(coalesce)}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "billbee_wemalo_events", "serve"], env=env,
                                            stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("receiver did not start: " + self.log.read_text()[-2000:])

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@pytest.fixture
def receiver(env: dict[str, str], tmp_path: Path) -> Iterator[Receiver]:
    fake = tmp_path / "fake-meltano"
    fake.write_text(FAKE_MELTANO.format(python=sys.executable, log=str(tmp_path / "runs.jsonl")))
    fake.chmod(0o755)
    running = Receiver({**env, "BILLBEE_WEMALO_EVENTS_MELTANO_EXECUTABLE": str(fake)}, tmp_path)
    yield running
    running.stop()


def runs(tmp_path: Path) -> list[dict[str, object]]:
    path = tmp_path / "runs.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_receiver_killed_right_after_answering_loses_nothing_and_handles_each_event_once(
        receiver: Receiver, env: dict[str, str], tmp_path: Path) -> None:
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
