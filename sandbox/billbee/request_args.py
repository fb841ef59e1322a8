"""How the Billbee simulator reads a request: query values (a value of the wrong type counts as absent, as
ASP.NET's model binding leaves it null), paging, and the JSON body with its numbers as Decimals."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from flask import Response, request

from sandbox.billbee import spec
from sandbox.billbee.json_format import decode_body
from sandbox.billbee.responses import envelope
from sandbox.billbee.settings import setting
from sandbox.billbee.store import INVALID_DATA, BillbeeStore, ScenarioError, parse_time


def int_arg(name: str, default: Any) -> Any:
    value, error = spec.parse_value("int64", request.args.get(name, ""))
    return default if error else value


def int_list(name: str) -> list[int]:
    out = []
    for raw in spec.query_list(name):
        value, error = spec.parse_value("int64", raw)
        if not error:
            out.append(value)
    return out


def time_arg(name: str, store: BillbeeStore) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return parse_time(raw, store.zone)
    except ScenarioError:
        return None


def page_args(total: list[Any]) -> tuple[list[Any], dict[str, int]] | Response:
    page = int_arg("page", 1)
    size = int_arg("pageSize", 50)
    page = page if page >= 1 else 1
    size = size if size >= 1 else 50
    if size > 250:
        if setting("oversize_page") == "error":
            return envelope(None, code=INVALID_DATA, status=400,
                            message="pageSize must be between 1 and 250")
        size = 250
    rows = len(total)
    start = (page - 1) * size
    paging = {"Page": page, "TotalPages": math.ceil(rows / size), "TotalRows": rows, "PageSize": size}
    return total[start:start + size], paging


def body_json() -> Any:
    return decode_body(request.get_data(cache=True, as_text=True))
