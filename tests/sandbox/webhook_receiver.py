"""A tiny webhook receiver on loopback for the sandbox's webhook tests: records every request (method, path, query,
headers, raw body) and answers as told (status per call, echo of ``?echo=``, a delay)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    status: int = 200  # answer of every POST (a list: one per call, then the last one again)
    statuses: list[int] = field(default_factory=list)
    echo: bool = True  # answer GET ?echo=v with v
    requests: list[Received] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                with receiver.cond:
                    receiver.requests.append(Received(self.command, parts.path, parse_qs(parts.query),
                                                      {k.lower(): v for k, v in self.headers.items()}, body))
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
                    receiver.cond.notify_all()
                text = b""
                if self.command == "GET" and receiver.echo:
                    text = (parse_qs(parts.query).get("echo") or [""])[0].encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            do_GET = do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def posts(self) -> list[Received]:
        with self.cond:
            return [r for r in self.requests if r.method == "POST"]

    def wait_posts(self, n: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len([r for r in self.requests if r.method == "POST"]) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
        return self.posts()

    def clear(self) -> None:
        with self.cond:
            self.requests.clear()
            self.statuses.clear()
            self.status = 200
            self.echo = True

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

