"""Billbee's JSON, by simplejson: Decimals verbatim in plain notation ("2.000", "0.0000000"), naive timestamps
in Billbee's format, request bodies read with their numbers as Decimals; the app's Flask JSON provider."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import simplejson
from flask import Response
from flask.json.provider import JSONProvider

from sandbox.billbee.store import format_time

JSON_TYPE = "application/json; charset=utf-8"


def _billbee_value(o: Any) -> Any:
    if isinstance(o, Decimal):
        # Not `use_decimal=True`: that writes str(Decimal), in exponent notation for a zero at scale 7 ("0E-7",
        # a free item's TotalPrice) or "1E+2"; the simulator writes plain digits as .NET does
        return simplejson.RawJSON(format(o, "f"))
    if isinstance(o, datetime):
        return format_time(o)
    if isinstance(o, date):
        return o.isoformat() + "T00:00:00"
    raise TypeError(f"cannot encode {type(o).__name__}")


def encode(value: Any) -> str:
    """JSON text of `value` as Billbee writes it: compact, non-ASCII characters as they are."""
    return simplejson.dumps(value, default=_billbee_value, use_decimal=False, ensure_ascii=False,
                            separators=(",", ":"), allow_nan=True, namedtuple_as_object=False)


def decode_body(text: str) -> Any:
    """A request body with its fractional numbers as Decimals; None when it is no JSON."""
    if text.startswith("\ufeff"):  # simplejson skips a BOM; it was never valid JSON text to the simulator
        return None
    try:
        return simplejson.loads(text or "null", use_decimal=True, allow_nan=True)
    except ValueError:
        return None


class BillbeeJSONProvider(JSONProvider):
    """`jsonify` and the app's JSON answers in Billbee's format. Parsing (the admin routes' `get_json`) stays with
    the standard library as before: floats as floats, and it recognises UTF-16/32 bytes."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return encode(obj)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return json.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj), content_type=JSON_TYPE)
