"""The order hints of webhook-triggered runs (tap_billbee.hints): when an order need not be read."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billbee_wemalo.billbee import CANCELLED_STATES, ConnectorTags
from tap_billbee.hints import skip_read

TAGS = ConnectorTags("wemalo")
RECEIVED = ["wemalo", "order_received_by_wemalo"]


@pytest.mark.parametrize(("hint", "stuck", "skip"), [
    ({"State": 3, "Tags": RECEIVED}, False, True),  # the echo of the received tag, a shipment, a message
    ({"State": 4, "Tags": RECEIVED}, False, True),  # Versendet written by target-billbee (outside the selection)
    ({"State": 3, "Tags": ["WEMALO", "Order_Received_By_Wemalo"]}, False, True),  # Billbee tags ignore case
    ({"State": 3, "Tags": RECEIVED}, True, False),  # flagged stuck: an address fix is sent again
    ({"State": 3, "Tags": ["wemalo"]}, False, False),  # eligible: read and send
    ({"State": 3, "Tags": ["wemalo", "wemalo_error"]}, False, False),  # rejected: changed since? read
    ({"State": 3, "Tags": []}, False, True),  # untagged: outside the selection
    ({"State": 1, "Tags": ["wemalo"]}, False, True),  # not paid yet
    ({"State": 6, "Tags": RECEIVED}, False, False),  # cancelled after wemalo received it: cancel there
    ({"State": 8, "Tags": ["wemalo"]}, False, False),  # deleted while being sent: the target asks wemalo
    ({"State": 6, "Tags": []}, False, True),  # cancelled, never the connector's
    ({"State": 3, "Tags": ["wemalo"], "IsCancelationFor": 123}, False, True),  # a cancellation credit order
    ({"State": "3", "Tags": RECEIVED}, False, False),  # not the documented types: read
    ({"State": 3, "Tags": "wemalo"}, False, False),
    ({"State": True, "Tags": RECEIVED}, False, False),
    ({"Tags": RECEIVED}, False, False),  # the id-only reading names no state
])
def test_one_hint(hint: dict[str, Any], stuck: bool, skip: bool) -> None:
    assert skip_read([hint], TAGS, {3}, stuck) is skip


def test_every_hint_must_show_nothing_to_do_and_plain_elt_reads_everything() -> None:
    echo = {"State": 3, "Tags": RECEIVED}
    assert skip_read([echo, echo], TAGS, {3}, False)
    assert not skip_read([echo, {"State": 3, "Tags": ["wemalo"]}], TAGS, {3}, False)
    assert not skip_read([echo, "not an object"], TAGS, {3}, False)
    assert not skip_read([], TAGS, {3}, False)
    assert not skip_read(None, TAGS, {3}, False)
    assert not skip_read({"State": 3, "Tags": RECEIVED}, TAGS, {3}, False)  # not a list of hints
    assert not skip_read([echo], None, {3}, False)  # no orders tag: the tap's plain ELT mode


@given(st.lists(st.sampled_from(["wemalo", "order_received_by_wemalo", "wemalo_error", "wemalo_stuck", "x"]),
                max_size=4), st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 13, 16]), st.booleans())
def test_an_order_the_tap_would_send_or_cancel_is_never_skipped(tags: list[str], state: int, stuck: bool) -> None:
    """Against the tap's own rule, written out: the orders `_by_id` keeps and `_eligible` may take are read."""
    tagged, received = "wemalo" in tags, "order_received_by_wemalo" in tags
    if state in CANCELLED_STATES:
        maybe_acted_on = tagged or received
    else:
        maybe_acted_on = tagged and state == 3 and (not received or stuck)
    if maybe_acted_on:
        assert not skip_read([{"State": state, "Tags": tags}], TAGS, {3}, stuck)
