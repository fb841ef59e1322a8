"""Start both simulators (in this process, or each in a process of its own), and drive them through their admin
routes."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import requests

from sandbox import demo_data
from sandbox.billbee.app import create_app as create_billbee
from sandbox.core import ServerThread
from sandbox.wemalo.app import create_app as create_wemalo

ROOT = Path(__file__).resolve().parents[1]
SIMULATORS: dict[str, Callable[[], Any]] = {"billbee": create_billbee, "wemalo": create_wemalo}


def credentials() -> dict[str, str]:
    """The sandbox's fake credentials (sandbox/sandbox.env) as plugin environment variables."""
    env = {}
    for line in (ROOT / "sandbox" / "sandbox.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


class SandboxControl:
    """Client for the operator routes under /_admin of both simulators."""

    def __init__(self, billbee_url: str, wemalo_url: str) -> None:
        self.billbee_url = billbee_url.rstrip("/")
        self.wemalo_url = wemalo_url.rstrip("/")
        self._http = requests.Session()

    def _call(self, base: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
        resp = self._http.request(method, f"{base}/_admin{path}", json=body, params=params or None, timeout=30)
        resp.raise_for_status()
        return resp.json()

    def billbee(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        return self._call(self.billbee_url, method, path, body, **params)

    def wemalo(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        return self._call(self.wemalo_url, method, path, body, **params)

    # -- both ----------------------------------------------------------------------------------------
    def reset(self) -> None:
        self.billbee("POST", "/reset")
        self.wemalo("POST", "/reset")

    def profile(self, name: str) -> None:
        """Both simulators answer with the readings of profile `name` ("literal", "lenient"); it stays in force
        across resets until another profile is chosen."""
        self.billbee("POST", "/profile", {"name": name})
        self.wemalo("POST", "/profile", {"name": name})

    def load(self, scenario: dict[str, Any]) -> None:
        """Load `{"billbee": {...}, "wemalo": {...}}` (the shape demo_data.generate returns)."""
        self.reset()
        if "billbee" in scenario:
            self.billbee("POST", "/scenario", scenario["billbee"])
        if "wemalo" in scenario:
            self.wemalo("POST", "/scenario", scenario["wemalo"])

    def load_demo(self, seed: int = 7, **sizes: int) -> dict[str, Any]:
        scenario = demo_data.generate(seed=seed, **sizes)
        self.load(scenario)
        return scenario

    def faults(self, **config: Any) -> None:
        self.billbee("POST", "/faults", config)
        self.wemalo("POST", "/faults", config)

    def requests(self, system: str) -> list[dict[str, Any]]:
        return self.billbee("GET", "/requests") if system == "billbee" else self.wemalo("GET", "/requests")

    def violations(self) -> dict[str, list[dict[str, Any]]]:
        return {"billbee": self.billbee("GET", "/violations"), "wemalo": self.wemalo("GET", "/violations")}

    # -- one side ------------------------------------------------------------------------------------
    def billbee_settings(self, **settings: Any) -> dict[str, Any]:
        return self.billbee("POST", "/settings", settings)

    def wemalo_settings(self, **settings: Any) -> dict[str, Any]:
        return self.wemalo("POST", "/settings", settings)

    def billbee_state(self) -> dict[str, Any]:
        return self.billbee("GET", "/state")

    def wemalo_state(self) -> dict[str, Any]:
        return self.wemalo("GET", "/state")

    def advance(self, to: str = "SHIPPED", external_ids: list[str] | None = None, **options: Any) -> Any:
        """Let the simulated warehouse move orders on (picking, packing, shipping with parcels)."""
        return self.wemalo("POST", "/advance", {"externalIds": external_ids, "to": to, **options})


def _serve_in_process(system: str, host: str, port: int, conn: Connection) -> None:
    """One simulator in a process of its own (`Sandbox(processes=True)`): serves HTTP, and answers its owner's
    commands on `conn` until told to stop."""
    app = SIMULATORS[system]()
    server = ServerThread(app, host, port)
    server.start()
    conn.send(server.port)
    while True:
        command, arg = conn.recv()
        if command == "load":
            conn.send(app.extensions[f"{system}_store"].load(arg))
        elif command == "cpu":
            conn.send(sum(os.times()[:2]))
        else:  # "stop"
            server.stop()
            conn.send(None)
            return


@dataclass
class Sandbox:
    """Both simulators on loopback threads of this process, or with `processes` each in a process of its own (the
    bench: like the real services, they share no interpreter lock with each other or with the caller; they are
    spawned, so a script that uses this needs the `if __name__ == "__main__":` guard). Port 0 picks free ports."""

    host: str = "127.0.0.1"
    billbee_port: int = 8301
    wemalo_port: int = 8302
    processes: bool = False
    profile: str = field(default_factory=lambda: os.environ.get("SANDBOX_PROFILE", "literal"))
    _servers: list[ServerThread] = field(default_factory=list)
    _children: dict[str, tuple[BaseProcess, Connection]] = field(default_factory=dict)

    def start(self) -> Sandbox:
        if self.processes:
            spawn = multiprocessing.get_context("spawn")  # no fork of a process that may run threads
            for system, port in (("billbee", self.billbee_port), ("wemalo", self.wemalo_port)):
                ours, theirs = spawn.Pipe()
                child = spawn.Process(target=_serve_in_process, args=(system, self.host, port, theirs),
                                      name=f"sandbox-{system}", daemon=True)
                child.start()
                self._children[system] = (child, ours)
            self.billbee_port, self.wemalo_port = (conn.recv() for _, conn in self._children.values())
            self.control.profile(self.profile)
            return self
        self._servers = [ServerThread(create_billbee(), self.host, self.billbee_port),
                         ServerThread(create_wemalo(), self.host, self.wemalo_port)]
        for server in self._servers:
            server.start()
        self.billbee_port, self.wemalo_port = (s.port for s in self._servers)
        self.control.profile(self.profile)
        return self

    def stop(self) -> None:
        for child, conn in self._children.values():
            conn.send(("stop", None))
            conn.recv()
            child.join(10)
        self._children = {}
        for server in self._servers:
            server.stop()

    def load_store(self, system: str, scenario: dict[str, Any]) -> Any:
        """Load `scenario` straight into a simulator's store (its admin route's shape), without HTTP: the route
        takes longer than SandboxControl's 30 s timeout for 100,000 articles."""
        if system in self._children:
            conn = self._children[system][1]
            conn.send(("load", scenario))
            return conn.recv()
        app = self._servers[list(SIMULATORS).index(system)].server.app
        return app.extensions[f"{system}_store"].load(scenario)

    def cpu_seconds(self) -> float:
        """CPU seconds the simulators have used so far (in-process: this whole process's)."""
        if self._children:
            total = 0.0
            for _, conn in self._children.values():
                conn.send(("cpu", None))
                total += conn.recv()
            return total
        return sum(os.times()[:2])

    @property
    def billbee_url(self) -> str:
        return f"http://{self.host}:{self.billbee_port}"

    @property
    def wemalo_url(self) -> str:
        return f"http://{self.host}:{self.wemalo_port}"

    @property
    def control(self) -> SandboxControl:
        return SandboxControl(self.billbee_url, self.wemalo_url)

    def billbee_config(self) -> dict[str, str]:
        """Billbee plugin settings for this sandbox: its URL and the fake credentials."""
        env = credentials()
        return {"api_url": f"{self.billbee_url}/api/v1", "username": env["TAP_BILLBEE_USERNAME"],
                "password": env["TAP_BILLBEE_PASSWORD"], "api_key": env["TAP_BILLBEE_API_KEY"]}

    def meltano_env(self, workdir: Path) -> dict[str, str]:
        """Environment for `meltano run` against `sandbox`: its fake credentials and URLs, a private state DB."""
        env = {**os.environ, **credentials()}
        billbee, wemalo = f"{self.billbee_url}/api/v1", f"{self.wemalo_url}/v1"
        env.update({
            "MELTANO_ENVIRONMENT": "dev",
            "MELTANO_DATABASE_URI": f"sqlite:///{workdir / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TAP_BILLBEE_API_URL": billbee,
            "TARGET_BILLBEE_API_URL": billbee,
            "TARGET_WEMALO_API_URL": wemalo,
            "TAP_WEMALO_SHIPMENTS_API_URL": wemalo,
            "TARGET_WEMALO_REPORT_DIR": str(workdir / "reports"),
            "TAP_BILLBEE_REPORT_DIR": str(workdir / "reports"),
            "TARGET_BILLBEE_REPORT_DIR": str(workdir / "reports"),
        })
        return env

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
