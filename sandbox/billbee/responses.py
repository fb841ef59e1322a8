"""What the Billbee simulator answers with: raw JSON, the ApiResult envelope, the order-not-found answer,
authentication failures and injected faults."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app

from sandbox.billbee.json_format import JSON_TYPE, encode
from sandbox.billbee.settings import DEFAULT_SETTINGS, setting
from sandbox.billbee.store import INTERNAL_ERROR, ORDER_NOT_FOUND, error_description


def raw_json(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(encode(obj), status=status, content_type=JSON_TYPE, headers=headers)


def envelope(data: Any = None, *, paging: dict[str, int] | None = None, code: int = 0, message: str | None = None,
             status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"Paging": paging} if paging is not None else {}
    body.update({"ErrorMessage": message, "ErrorCode": code, "ErrorDescription": describe(code), "Data": data})
    return raw_json(body, status, headers)


def describe(code: int) -> int | str:
    """ErrorDescription of `code` under the app's setting `error_description`."""
    ctx = current_app.extensions.get("billbee_ctx")
    mode = ctx.settings.get("error_description") if ctx is not None else None
    return error_description(code, mode or DEFAULT_SETTINGS["error_description"])


def empty_ok() -> Response:
    return Response(b"", status=200)


def order_missing() -> Response:
    status = 200 if setting("missing_order") == "200_error" else 404
    return envelope(None, code=ORDER_NOT_FOUND, message="Order not found", status=status)


def auth_failure(status: int, *, missing_basic: bool) -> Response:
    text = "Authorization has been denied: API key, user name or API password missing or wrong."
    headers = {"WWW-Authenticate": 'Basic realm="Billbee API"'} if missing_basic and status == 401 else None
    return raw_json({"Message": text, "ErrorMessage": text, "ErrorCode": 1, "ErrorDescription": describe(1),
                     "Data": None}, status, headers)


def fault_response(kind: str) -> Response:
    """An injected fault, rendered as Billbee or the proxy in front of it would send it."""
    if kind in ("429", "429_no_retry_after"):
        headers = {"Retry-After": "1"} if kind == "429" else None
        return raw_json("API calls quota exceeded! maximum admitted 2 per Second.", 429, headers)
    if kind in ("500", "503"):
        text = "An internal error occurred." if kind == "500" else "The service is temporarily unavailable."
        return envelope(None, code=INTERNAL_ERROR, message=text, status=int(kind))
    if kind == "html_error":
        page = ("<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body>\n"
                "<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body></html>\n")
        return Response(page, status=502, content_type="text/html; charset=utf-8")
    if kind == "malformed_json":
        text = '{"Paging":{"Page":1,"TotalPages":3,"TotalRows":120,"PageSize":50},"ErrorMessage":null,' \
               f'"ErrorCode":0,"ErrorDescription":{encode(describe(0))},"Data":[{{"RebateDifference":0.0,' \
               '"ShippingIds":[],"Acc'
        return Response(text, status=200, content_type=JSON_TYPE)
    return Response(f"unexpected fault kind {kind}", status=500, content_type="text/plain")
