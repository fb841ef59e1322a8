"""ApiSession's streamed parse (ijson): json.loads's result whatever the chunks, the items of the named top-level
list shrunk as each closes (and nothing else), and a connection dropped in the body still a requests error that
the session retries.

The parse runs on real `requests.Response` objects: a stand-in `raw` that hands out the body a few bytes at a
time, and a local HTTP server for gzip and for a connection that drops in the middle of the body.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any

import ijson
import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from billbee_wemalo.http import AmbiguousWriteError, ApiSession, RetryPolicy, TransientError, json_parse
from billbee_wemalo.http.json_parse import DROP, UNREADABLE, ItemsHook, parse_stream


class Raw:
    """`resp.raw` that hands out the body at most `size` bytes at a time and records its closing."""

    def __init__(self, body: bytes, size: int) -> None:
        self.body, self.size, self.pos, self.closed = body, size, 0, False

    def read(self, n: int = -1) -> bytes:
        piece = self.body[self.pos:self.pos + min(n if n >= 0 else len(self.body), self.size)]
        self.pos += len(piece)
        return piece

    def close(self) -> None:
        self.closed = True


def response(body: bytes, size: int = 7) -> requests.Response:
    resp = requests.Response()
    resp.status_code = 200
    resp.raw = Raw(body, size)
    return resp


def parse(body: bytes, size: int = 7, items: ItemsHook | None = None) -> Any:
    return parse_stream(response(body, size), items)


def tagged(obj: dict[str, Any]) -> Any:
    return ["shrunk", obj]


def expected(body: bytes, items: ItemsHook | None) -> Any:
    """json.loads, then the dict items of the top-level list `key` shrunk: what the streamed parse must give."""
    doc = json.loads(body, parse_float=Decimal)
    if items is not None and isinstance(doc, dict) and isinstance(doc.get(items[0]), list):
        doc[items[0]] = [items[1](x) if isinstance(x, dict) else x for x in doc[items[0]]]
    return doc


KEYS = st.sampled_from(["p", "q", "status"]) | st.text(max_size=6)  # small alphabet: "p" lists do occur
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=25,
)


@given(doc=JSON_VALUES, size=st.integers(1, 40), ascii_only=st.booleans(), indent=st.sampled_from([None, 1]),
       shrinking=st.booleans())
def test_same_as_json_loads_whatever_the_chunks(doc: Any, size: int, ascii_only: bool, indent: int | None,
                                                shrinking: bool) -> None:
    body = json.dumps(doc, ensure_ascii=ascii_only, indent=indent).encode()
    items: ItemsHook | None = ("p", tagged) if shrinking else None
    assert parse(body, size, items) == expected(body, items)


def test_numbers_as_json_loads_with_decimal() -> None:
    body = b'[1, -0, 12345678901234567890123, 12.5, 1e5, -2.5E-3, 0.1]'
    got = parse(body, 3)
    assert got == json.loads(body, parse_float=Decimal)
    assert [type(n) for n in got] == [int, int, int, Decimal, Decimal, Decimal, Decimal]


def test_shrink_sees_only_the_items_of_the_named_list_each_whole() -> None:
    doc = {"status": 200, "note": {"products": [{"sku": "nested"}]},
           "products": [{"sku": "A-1", "dims": {"w": 1.5}, "name": 'T\u00fcr "gro\u00df" [x], {y}'}, "junk",
                        {"sku": "B", "ok": True, "none": None, "list": [1, [{"sku": "deep"}]]}],
           "other": [{"sku": "C"}], "Success": True}
    body = json.dumps(doc, ensure_ascii=False).encode()
    seen: list[dict[str, Any]] = []

    def shrink(obj: dict[str, Any]) -> Any:
        seen.append(obj)
        return ("product", obj["sku"])

    got = parse(body, 5, ("products", shrink))
    assert seen == [doc["products"][0], doc["products"][2]]  # whole, in order; not nested, not other lists
    assert got == {**doc, "products": [("product", "A-1"), "junk", ("product", "B")]}


@pytest.mark.parametrize("doc", [
    {"p": {"item": {"sku": "a map's key 'item', not the list"}}},
    {"p.item": {"sku": "a dotted key"}, "p": [{"sku": "A"}]},
    {"p": [[{"sku": "in a nested list"}], {"sku": "A"}, 3]},
    {"p": [{"sku": "first p"}], "q": 1, "p ": [{"sku": "not p"}]},
    [{"p": [{"sku": "top level is a list"}]}],
])
def test_only_the_top_level_lists_objects_are_shrunk(doc: Any) -> None:
    """Structure, not ijson's dotted prefixes ("p.item"), decides what is an item of the `p` list."""
    body = json.dumps(doc).encode()
    assert parse(body, 4, ("p", tagged)) == expected(body, ("p", tagged))


def test_duplicate_keys_as_json_loads() -> None:
    body = b'{"p": [{"sku": "1"}], "status": 200, "p": [{"sku": "2"}], "status": 419}'
    assert parse(body, 5, ("p", tagged)) == {"p": [["shrunk", {"sku": "2"}]], "status": 419}
    assert parse(body, 5) == json.loads(body)


@pytest.mark.parametrize("shrinking", [False, True])
def test_the_pure_python_backend_gives_the_same(monkeypatch: pytest.MonkeyPatch, shrinking: bool) -> None:
    """Where ijson's C parser is missing, its Python parser is used: the same values, the same refusals."""
    monkeypatch.setattr(json_parse, "_ijson", ijson.get_backend("python"))
    items: ItemsHook | None = ("products", tagged) if shrinking else None
    body = json.dumps({"products": [{"sku": "A", "w": 1.5}, "x"], "status": 200, "n": [1, -0, 2.5e-3]}).encode()
    assert parse(body, 3, items) == expected(body, items)
    assert parse(b"  ", 1, items) is None
    for bad in (b'{"a": [1, 2', b'{"a": 1} x', b"<html>", b"[NaN]"):
        assert parse(bad, 3, items) is UNREADABLE


@pytest.mark.parametrize("body", [b"", b" ", b"  \n\t\r\n"])
@pytest.mark.parametrize("size", [1, 100])
def test_empty_body_is_none(body: bytes, size: int) -> None:
    assert parse(body, size) is None


@pytest.mark.parametrize("body", [b'{"a": [1, 2', b'{"a": 1} x', b'{"a": 1} {"b": 2}', b'{"a" 1}', b"<html>",
                                  b'{"a": [1,, 2]}', b"[NaN]", b'"\xff"', b'  {"a": tru'])
@pytest.mark.parametrize("size", [1, 3, 1000])
def test_malformed_is_unreadable_and_the_response_closed(body: bytes, size: int) -> None:
    resp = response(body, size)
    assert parse_stream(resp, ("a", tagged)) is UNREADABLE
    assert resp.raw.pos == len(body) or resp.raw.closed


# -- over HTTP: gzip, a large body, a connection dropped in the body ------------------------------------------

PRODUCTS = {"products": [{"externalId": f"P{i}", "sku": f"SKU-{i}", "name": "Produkt " * 8, "weight": i / 8,
                          "stock": {"quantity": i, "reserved": 0}} for i in range(6000)], "status": 200}
BIG = json.dumps(PRODUCTS).encode()  # ~1.4 MB: several STREAM_CHUNKs


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        if self.path == "/big.gz":
            self._send(gzip.compress(BIG), {"Content-Encoding": "gzip"})
        elif self.path == "/drop-length":  # promises the whole body, sends a third, closes
            self._send(BIG[:len(BIG) // 3], {}, length=len(BIG))
        elif self.path == "/drop-chunked":  # one chunk of a chunked body, then the connection closes
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            part = BIG[:100_000]
            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        self.close_connection = True

    def _send(self, body: bytes, headers: dict[str, str], length: int | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(length if length is not None else len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server(serve_http: Callable[[type[BaseHTTPRequestHandler]], str]) -> str:
    return serve_http(Handler)


def session(url: str, delays: list[float]) -> ApiSession:
    return ApiSession(system="test", base_url=url, retry=RetryPolicy(max_attempts=2), sleep=delays.append)


def test_gzip_body_over_several_chunks(server: str) -> None:
    got = session(server, []).request("GET", "/big.gz", items=("products", tagged)).data
    assert got == expected(BIG, ("products", tagged))
    assert {item[0] for item in got["products"]} == {"shrunk"}
    assert len(got["products"]) == 6000


@pytest.mark.parametrize("path", ["/drop-length", "/drop-chunked"])
def test_connection_dropped_in_the_body_is_a_requests_error(server: str, path: str) -> None:
    resp = requests.get(f"{server}{path}", stream=True, timeout=10)
    with pytest.raises(requests.RequestException):
        parse_stream(resp, ("products", tagged))


@pytest.mark.parametrize("path", ["/drop-length", "/drop-chunked"])
def test_connection_dropped_in_the_body_is_retried_on_a_read(server: str, path: str) -> None:
    delays: list[float] = []
    with pytest.raises(TransientError, match="gave up after 2 attempts: connection dropped in the answer"):
        session(server, delays).request("GET", path, items=("products", tagged))
    assert len(delays) == 1


def test_connection_dropped_in_the_body_is_ambiguous_on_a_write(server: str) -> None:
    delays: list[float] = []
    with pytest.raises(AmbiguousWriteError, match="connection dropped in the answer"):
        session(server, delays).request("POST", "/drop-length", idempotent=False, items=("products", tagged))
    assert delays == []


def test_dropped_items_are_not_kept_and_opened_is_called_as_the_list_opens() -> None:
    """A `shrink` that consumes the items (returns DROP) and its `opened`: called whenever the named list opens,
    so that a second `p` (json.loads keeps the last) starts afresh, as the answer to a retried request does."""
    body = b'{"p": [{"sku": "1"}, "junk", {"sku": "2"}], "status": 200, "q": [{"sku": "x"}], "p": [{"sku": "3"}, 4]}'
    taken: list[str] = []
    events: list[str] = []

    def take(obj: dict[str, Any]) -> Any:
        taken.append(obj["sku"])
        events.append(obj["sku"])
        return DROP

    def opened() -> None:
        taken.clear()
        events.append("opened")

    assert parse(body, 4, ("p", take, opened)) == {"p": [4], "status": 200, "q": [{"sku": "x"}]}
    assert taken == ["3"]
    assert events == ["opened", "1", "2", "opened", "3"]
    assert parse(b'{"q": [{"sku": "x"}], "p": null}', 3, ("p", take, opened)) == {"q": [{"sku": "x"}], "p": None}
    assert events[-1] == "3"  # no `p` list: never opened
