"""Parse a JSON answer chunk by chunk, so that a large one never exists whole as text.

``loads_chunks(chunks, object_hook=...)`` returns what ``json.loads(b"".join(chunks), object_hook=...)``
would, but when the top level is an object, each of its values is decoded on its own and an array value item
by item: only the current item's text is in memory, and ``object_hook`` can shrink each item as soon as it is
parsed (wemalo's ``product/getAll`` answers 100,000 products in one array). Another top level (an array, a
scalar) is read whole and parsed with ``json.loads``.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

_WHITESPACE = " \t\n\r"


class _Reader:
    def __init__(self, chunks: Iterable[bytes], decoder: json.JSONDecoder) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self.decoder = decoder
        self.buf = ""
        self.pos = 0
        self.eof = False

    def more(self) -> bool:
        """Append the next chunk to the buffer (dropping what was consumed); False at the end."""
        if self.eof:
            return False
        chunk = next(self._chunks, None)
        if chunk is None:
            self.eof = True
            text = self._utf8.decode(b"", final=True)
        else:
            text = self._utf8.decode(chunk)
        self.buf = self.buf[self.pos:] + text
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next non-whitespace character ("" at the end)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buf) or not self.more():
                return self.buf[self.pos:self.pos + 1]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise ValueError(f"expected {char!r} at offset {self.pos}")
        self.pos += 1

    def value(self) -> Any:
        """One complete JSON value. A value that ends exactly at the end of the buffer may be cut (a number):
        then read more and decode again."""
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if self.more():
                    continue
                raise
            if end == len(self.buf) and self.more():
                continue
            self.pos = end
            return value

    def rest(self) -> str:
        while self.more():
            pass
        return self.buf[self.pos:]


def loads_chunks(chunks: Iterable[bytes], *, object_hook: Callable[[dict[str, Any]], Any] | None = None,
                 parse_float: Callable[[str], Any] = Decimal) -> Any:
    """Like ``json.loads`` of the joined chunks (raises ValueError on malformed JSON); None for an empty body."""
    reader = _Reader(chunks, json.JSONDecoder(object_hook=object_hook, parse_float=parse_float))
    if reader.peek() == "":
        return None
    if reader.peek() != "{":
        return json.loads(reader.rest(), object_hook=object_hook, parse_float=parse_float)
    reader.expect("{")
    out: dict[str, Any] = {}
    if reader.peek() == "}":
        reader.pos += 1
    else:
        while True:
            key = reader.value()
            if not isinstance(key, str):
                raise ValueError("object key is not a string")
            reader.expect(":")
            out[key] = _array(reader) if reader.peek() == "[" else reader.value()
            if reader.peek() == ",":
                reader.pos += 1
                continue
            reader.expect("}")
            break
    if reader.rest().strip():
        raise ValueError("extra data after the JSON object")
    return object_hook(out) if object_hook else out


def _array(reader: _Reader) -> list[Any]:
    reader.expect("[")
    items: list[Any] = []
    if reader.peek() == "]":
        reader.pos += 1
        return items
    while True:
        items.append(reader.value())
        if reader.peek() == ",":
            reader.pos += 1
            continue
        reader.expect("]")
        return items
