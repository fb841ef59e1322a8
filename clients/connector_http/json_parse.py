"""JSON answers: parsed whole (`parse_json`) or while they arrive (`parse_stream`, ijson), numbers as
``json.loads(..., parse_float=Decimal)`` gives them, and `UNREADABLE` for a body that is not JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

import ijson
import requests

STREAM_CHUNK = 256 * 1024
try:
    _ijson = ijson.get_backend("yajl2_c")  # the C parser, in ijson's wheels for the usual platforms
except ImportError:
    _ijson = ijson  # the best backend there is (pure Python at worst): the same events, slower

ItemsHook = tuple[str, Callable[[dict[str, Any]], Any]]  # (a top-level key of the answer, what keeps each item)

UNREADABLE: Any = object()  # a body that is not JSON (an HTML error page, a truncated answer)


def content_type(resp: requests.Response) -> str:
    return resp.headers.get("Content-Type", "no content type").split(";")[0]


def parse_json(resp: requests.Response) -> Any:
    """The (already read) body as JSON; None when it is blank, UNREADABLE when it is not JSON."""
    if not resp.content.strip():
        return None
    try:
        return json.loads(resp.content, parse_float=Decimal)
    except ValueError:
        return UNREADABLE


def parse_stream(resp: requests.Response, items: ItemsHook | None = None) -> Any:
    """`json.loads(body, parse_float=Decimal)`, but the body is parsed by ijson while it arrives and never exists
    whole, and with `items=(key, shrink)` each item of the top-level `key` list is replaced by `shrink(item)` as
    soon as it closes, so a 100,000-product list is built of what `shrink` keeps. None for an empty body.

    A connection dropped in the body raises requests' own exception (the caller decides on a retry)."""
    body = _Body(resp.iter_content(STREAM_CHUNK))
    try:
        return _build(_ijson.basic_parse(body), items)  # numbers: int, else Decimal (ijson's default)
    except (ijson.JSONError, ValueError):
        return None if body.blank else UNREADABLE
    finally:
        resp.close()


class _Body:
    """The chunks as the file ijson reads. From iter_content, not resp.raw: requests turns urllib3's errors
    (a connection dropped in the body) into requests exceptions there, which the caller retries."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.blank = True  # only whitespace so far

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson's probe for bytes or text
            return b""
        for chunk in self._chunks:
            if chunk:
                self.blank = self.blank and chunk.isspace()
                return chunk
        return b""


def _build(events: Iterator[tuple[str, Any]], items: ItemsHook | None) -> Any:
    """The value of ijson's basic_parse events; with `items=(key, shrink)`, the items of the top-level object's
    `key` list are replaced by shrink(item) as each closes (a C parser's events, one Python step each: at
    100,000 products as fast as ijson.items, which could not also keep the answer's other keys, e.g. `status`)."""
    key, shrink = items if items is not None else (None, None)
    open_: list[Any] = [[]]  # the containers being filled; the outermost receives the document
    keys: list[str] = []  # the keys waiting for their values, innermost last
    for event, value in events:
        if event == "map_key":
            keys.append(value)
            continue
        if event == "start_map" or event == "start_array":
            open_.append({} if event == "start_map" else [])
            continue
        if event == "end_map" or event == "end_array":
            value = open_.pop()
        parent = open_[-1]
        if type(parent) is dict:
            parent[keys.pop()] = value
        else:
            # an item of document -> top-level object -> its `key` list (that list's key still waits in `keys`)
            if (shrink is not None and event == "end_map" and len(open_) == 3 and type(open_[1]) is dict
                    and keys[-1] == key):
                value = shrink(value)
            parent.append(value)
    return open_[0][0]
