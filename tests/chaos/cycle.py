"""One `meltano run sync` of the chaos suite, optionally with one plugin process SIGKILLed at a chosen point.

The kill point is either a time after the plugin process appeared, or a number of API requests the plugin's
system (Billbee or wemalo) received since then, read from the sandbox's request log. In a `sync` run the
plugins talking to one system never run at the same time (tap-billbee and target-billbee are in different
blocks, so are target-wemalo and tap-wemalo-shipments), so those requests are the plugin's own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from sandbox.runner import ROOT, SandboxControl

PLUGINS = {"tap-billbee": ("extractors", "billbee"), "target-wemalo": ("loaders", "wemalo"),
           "tap-wemalo-shipments": ("extractors", "wemalo"), "target-billbee": ("loaders", "billbee")}
MELTANO = str(Path(sys.executable).with_name("meltano"))


@dataclass
class KillPlan:
    plugin: str
    trigger: str  # "requests": after `value` requests to its system; "time": `value` s after its first request;
    value: float  # "path": once a request to a path ending in `path` was answered
    fallback_seconds: float = 30.0  # a plugin that never gets there is killed this long after it started
    path: str = ""

    def describe(self) -> str:
        if self.trigger == "requests":
            return f"{self.plugin} after {self.value:g} requests"
        return f"{self.plugin} {self.value:g} s after its first request"


@dataclass
class RunResult:
    exit_code: int
    seconds: float
    killed: str | None = None  # what was killed and when, or None
    log: Path | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""


class RequestLog:
    """Incremental reader of both simulators' request logs (`since_id`), so polling stays cheap."""

    def __init__(self, control: SandboxControl) -> None:
        self.control = control
        self.last = {"billbee": 0, "wemalo": 0}
        self.entries: dict[str, list[dict[str, Any]]] = {"billbee": [], "wemalo": []}

    def poll(self, system: str) -> list[dict[str, Any]]:
        call = self.control.billbee if system == "billbee" else self.control.wemalo
        new = call("GET", "/requests", since_id=self.last[system])
        if new:
            self.last[system] = new[-1]["id"]
            self.entries[system].extend(new)
        return new

    def poll_all(self) -> None:
        for system in self.last:
            self.poll(system)


def plugin_process(root_pid: int, plugin: str) -> psutil.Process | None:
    kind, _ = PLUGINS[plugin]
    marker = f"/.meltano/{kind}/{plugin}/venv/"
    try:
        children = psutil.Process(root_pid).children(recursive=True)
    except psutil.Error:
        return None
    for child in children:
        try:
            if any(marker in part for part in child.cmdline()):
                return child
        except psutil.Error:
            continue
    return None


def run_sync(env: dict[str, str], log: Path, requests: RequestLog, kill: KillPlan | None = None, *,
             cwd: Path = ROOT, timeout: float = 300, args: tuple[str, ...] = ("run", "sync")) -> RunResult:
    """Run `meltano <args>` to the end; SIGKILL `kill.plugin` at its kill point. Hangs fail the test."""
    started = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen([MELTANO, *args], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    killed: str | None = None
    seen_at: float | None = None
    first_request_at: float | None = None
    path_seen = False
    count = 0
    system = PLUGINS[kill.plugin][1] if kill else ""
    try:
        while proc.poll() is None:
            now = time.monotonic()
            if now - started > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise AssertionError(f"meltano {' '.join(args)} did not end within {timeout:g} s (hang); see {log}")
            if kill and killed is None:
                child = plugin_process(proc.pid, kill.plugin)
                if child is not None:
                    if seen_at is None:
                        seen_at = now
                        requests.poll(system)  # requests before the plugin started are not its own
                    new = requests.poll(system)
                    count += len(new)
                    if count and first_request_at is None:
                        first_request_at = now
                    if kill.trigger == "path":
                        path_seen = path_seen or any(r["path"].endswith(kill.path) for r in new)
                    due = {"requests": count >= kill.value, "path": path_seen,
                           "time": first_request_at is not None and now - first_request_at >= kill.value}[kill.trigger]
                    if due or now - seen_at >= kill.fallback_seconds:
                        try:
                            child.send_signal(signal.SIGKILL)
                            killed = f"{kill.plugin} after {count} {system} requests, {now - seen_at:.1f} s"
                        except psutil.NoSuchProcess:
                            pass
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    requests.poll_all()
    return RunResult(proc.returncode, time.monotonic() - started, killed, log)
