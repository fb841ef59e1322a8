"""Fixtures for the client tests. `serve_http` starts a local HTTP server for a hand-written handler: answers the
simulators cannot give (a body dropped mid-stream, an HTTP 200 around a body status 419). A fixture, not a helper
module: this directory is not a package (as one, pytest imported it as `tests`, which the top-level `tests/`
shadows), so its modules cannot import each other."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

ServeHttp = Callable[[type[BaseHTTPRequestHandler]], str]


@pytest.fixture(scope="module")
def serve_http() -> Iterator[ServeHttp]:
    """`serve_http(Handler)` -> the base URL of a server on a free loopback port; all stop after the module."""
    servers: list[ThreadingHTTPServer] = []

    def serve(handler: type[BaseHTTPRequestHandler]) -> str:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield serve
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()
