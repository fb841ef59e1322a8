"""JSON answers: parsed whole (`parse_json`) or while they arrive (`parse_stream`, ijson), numbers as
``json.loads(..., parse_float=Decimal)`` gives them, and `UNREADABLE` for a body that is not JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import ijson
import requests

STREAM_CHUNK = 256 * 1024
try:
    _ijson = ijson.get_backend("yajl2_c")  # the C parser, in ijson's wheels for the usual platforms
except ImportError:
    _ijson = ijson  # the best backend there is (pure Python at worst): the same events, slower

# (a top-level key of the answer, what keeps each item[, what is called each time that key's list opens]): the
# third, optional, lets a `shrink` that consumes items (returns DROP) start afresh on a retried request's answer.
Shrink = Callable[[dict[str, Any]], Any]
ItemsHook = tuple[str, Shrink] | tuple[str, Shrink, Callable[[], None]]

UNREADABLE: Any = object()  # a body that is not JSON (an HTML error page, a truncated answer)
DROP: Any = object()  # what a `shrink` returns for an item it consumed: the item is not kept in the list


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
    soon as it closes, so a 100,000-product list is built of what `shrink` keeps (nothing of an item for which it
    returns DROP). `items=(key, shrink, opened)`: `opened()` is called first whenever that list opens, so that a
    `shrink` that consumes items knows that what it consumed of an earlier answer is void. None for an empty body.

    A connection dropped in the body raises requests' own exception (the caller decides on a retry)."""
    body = _Body(resp.iter_content(STREAM_CHUNK))
    try:  # numbers: int, else Decimal (ijson's default)
        if items is None:
            (document,) = _ijson.items(body, "")  # exactly one value: anything after it is an error
            return document
        return _build_shrinking(_ijson.basic_parse(body), *items)
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


def _build_shrinking(events: Iterable[tuple[str, Any]], key: str, shrink: Callable[[dict[str, Any]], Any],
                     opened: Callable[[], None] | None = None) -> Any:
    """The document of ijson's basic_parse `events`, built by ijson's ObjectBuilder, except that each object in
    the top-level object's `key` list is replaced by `shrink(object)` as soon as it closes (removed when that is
    DROP); `opened()`, if given, is called when that list opens.

    Not `ijson.items(body, f"{key}.item")`: that would drop the answer's other keys (e.g. wemalo's `status`), and
    its dotted prefixes cannot tell that list from a `key` object with an `item` key or a key with a dot in it;
    so the containers are counted here."""
    builder = ijson.ObjectBuilder()
    depth = 0  # containers open
    top_key: str | None = None  # the top-level object's key whose value is being read
    shrinking: list[Any] | None = None  # the top-level `key` list while it is open (the builder's own list)
    for event, value in events:
        builder.event(event, value)
        if event == "map_key":
            if depth == 1:
                top_key = value
        elif event == "start_map" or event == "start_array":
            depth += 1
            if depth == 2 and event == "start_array" and top_key == key:
                shrinking = builder.value[key]
                if opened is not None:
                    opened()
        elif event == "end_map" or event == "end_array":
            depth -= 1
            if depth == 2 and event == "end_map" and shrinking is not None:
                kept = shrink(shrinking[-1])  # the object that just closed: the list's last item
                if kept is DROP:
                    shrinking.pop()
                else:
                    shrinking[-1] = kept
            elif depth == 1:
                shrinking = None
    return builder.value
