"""`billbee-wemalo-events serve` as it runs in production: a subprocess (uvicorn) on a free loopback port, started,
stopped and killed by the tests (only the process they started, by its id)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ReceiverProcess:
    """`command` (default: this interpreter's `-m billbee_wemalo_events serve`) with `env`, on its own port."""

    def __init__(self, env: dict[str, str], log: Path, command: Sequence[str] | None = None,
                 cwd: Path | None = None) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env, "BILLBEE_WEMALO_EVENTS_PORT": str(self.port)}
        self.log = log
        self.command = list(command or [sys.executable, "-m", "billbee_wemalo_events", "serve"])
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, coalesce: float, timeout: float = 60.0, **extra: str) -> None:
        env = {**self.env, "BILLBEE_WEMALO_EVENTS_COALESCE_SECONDS": str(coalesce), **extra}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.command, env=env, cwd=self.cwd, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("receiver did not start: " + self.log.read_text()[-3000:])

    def kill(self) -> None:
        """SIGKILL to the receiver's process group (this process and what it started, e.g. `meltano invoke`'s
        child), at once: no shutdown, no cleanup."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(45)
            except subprocess.TimeoutExpired:
                self.kill()
