"""The Billbee simulator's JSON encoder (simplejson's C encoder) writes exactly what a one-value-at-a-time reference
writes: Decimals verbatim in plain notation, Billbee's timestamps, strings (NUL characters included) escaped."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from sandbox.billbee.json_format import encode
from sandbox.billbee.store import format_time

LOOKALIKE = "\x00" + "1.50" + "\x00"  # how the old encoder's Decimal placeholder looked

atoms = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.sampled_from(["a", "ä", '"', "\\", "\x00", "1", ".", "-", " ", "\n", "€"])),
    st.decimals(allow_nan=False, allow_infinity=False, places=3), st.decimals(allow_nan=False, allow_infinity=False),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
    st.just(LOOKALIKE),
)
values = st.recursive(atoms, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)), max_leaves=30)


def encode_exact(value: Any) -> str:
    """The reference: Billbee's JSON of `value`, one value at a time."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return '"' + format_time(value) + '"'
    if isinstance(value, date):
        return '"' + value.isoformat() + 'T00:00:00"'
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(k), ensure_ascii=False) + ":" + encode_exact(v)
                              for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(encode_exact(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__}")


@settings(max_examples=300, deadline=None)
@given(values)
@example({"Price": Decimal("2.000"), "Note": LOOKALIKE})
@example([Decimal("-0.50"), "\x00\x00", Decimal("10")])
@example({"TotalPrice": Decimal("0E-7"), "Stock": Decimal("1E+2"), "Tiny": Decimal("1E-7")})  # no exponents
def test_fast_encoder_writes_what_the_reference_writes(value: Any) -> None:
    assert encode(value) == encode_exact(value)


def test_decimals_verbatim_and_billbee_timestamps() -> None:
    text = encode({"Quantity": Decimal("2.000"), "At": datetime(2026, 11, 27, 9, 30), "On": date(2026, 11, 27)})
    assert text.startswith('{"Quantity":2.000,')
    assert json.loads(text, parse_float=Decimal)["Quantity"] == Decimal("2.000")
    assert json.loads(text)["On"] == "2026-11-27T00:00:00"
