"""The chunked JSON reader gives json.loads's result whatever the chunk boundaries."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from connector_http.jsonstream import loads_chunks

DOCS = [
    {"products": [{"sku": "A-1", "depth": 12.5, "n": 12345, "name": "Tür \"groß\" [x], {y}"},
                  {"sku": "B", "ok": True, "none": None, "list": [1, 2, [3]]}], "Success": True, "status": 200},
    {"products": [], "Success": True},
    {},
    [1, 2, {"a": 1}],
    "text",
    1234567,
]


def chunks(text: str, size: int) -> list[bytes]:
    data = text.encode()
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("doc", DOCS)
@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
def test_same_as_json_loads(doc: object, size: int) -> None:
    text = json.dumps(doc, ensure_ascii=False, indent=1 if size == 7 else None)
    assert loads_chunks(chunks(text, size)) == json.loads(text, parse_float=Decimal)


def test_object_hook_sees_every_object_innermost_first() -> None:
    text = json.dumps(DOCS[0])
    seen: list[str] = []

    def hook(obj: dict) -> object:
        seen.append(",".join(obj))
        return ("product", obj["sku"]) if "sku" in obj else obj

    got = loads_chunks(chunks(text, 5), object_hook=hook)
    assert got["products"] == [("product", "A-1"), ("product", "B")]
    assert seen[-1] == "products,Success,status"


@pytest.mark.parametrize("text", ['{"a": [1, 2', '{"a": 1} x', '{"a" 1}', "<html>", '{"a": [1,, 2]}'])
def test_malformed_raises_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        loads_chunks(chunks(text, 3))


def test_empty_body_is_none() -> None:
    assert loads_chunks([b"", b"  \n"]) is None
