"""The Billbee simulator's JSON encoder: the fast one (C encoder, Decimals through placeholder strings) writes exactly
what the one-value-at-a-time reference writes, also when a string of the data looks like a placeholder."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from sandbox.billbee.app import encode, encode_exact

LOOKALIKE = "\x00" + "1.50" + "\x00"  # how a Decimal's placeholder looks before json.dumps escapes it

atoms = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.sampled_from(["a", "ä", '"', "\\", "\x00", "1", ".", "-", " ", "\n", "€"])),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 1, 1)),
    st.just(LOOKALIKE),
)
values = st.recursive(atoms, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=4)), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(values)
@example({"Price": Decimal("2.000"), "Note": LOOKALIKE})
@example([Decimal("-0.50"), "\x00\x00", Decimal("10")])
def test_fast_encoder_writes_what_the_reference_writes(value: Any) -> None:
    assert encode(value) == encode_exact(value)


def test_decimals_verbatim_and_billbee_timestamps() -> None:
    text = encode({"Quantity": Decimal("2.000"), "At": datetime(2026, 11, 27, 9, 30), "On": date(2026, 11, 27)})
    assert text.startswith('{"Quantity":2.000,')
    assert json.loads(text, parse_float=Decimal)["Quantity"] == Decimal("2.000")
    assert json.loads(text)["On"] == "2026-11-27T00:00:00"
