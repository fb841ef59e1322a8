"""The warehouse flags target-wemalo leaves in the state (protocol.WAREHOUSE_FLAGS_KEY), written by tap-billbee:
the stuck tag and one message per reason, removed when the order moves on; an address hold makes the merchant's
next change a re-send."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from billbee_wemalo.billbee import ConnectorTags
from billbee_wemalo.http import TransientError
from billbee_wemalo.protocol import WAREHOUSE_FLAGS_KEY
from tap_billbee.acks import STUCK_SEEN_KEY, AckWriter, StatusMirror
from tap_billbee.run import TapRun

TAGS = ConnectorTags("wemalo")
LOG = logging.getLogger("test")


class Billbee:
    """Orders with tags and messages; a message is listed in Comments when `lists_messages` (Billbee's reading)."""

    def __init__(self, *, lists_messages: bool = True) -> None:
        self.orders: dict[int, dict[str, Any]] = {}
        self.lists_messages = lists_messages
        self.messages: list[tuple[int, str]] = []
        self.fail_messages = False
        self.modified = 0

    def add(self, order_id: int, tags: list[str]) -> None:
        self.orders[order_id] = {"BillBeeOrderId": order_id, "Tags": list(tags), "Comments": [], "State": 3,
                                 "LastModifiedAt": self._stamp()}
        self.reads = 0

    def _stamp(self) -> str:
        self.modified += 1
        return f"2026-12-06T10:00:{self.modified:02d}"

    def set_order_state(self, order_id: int, state: int) -> None:
        self.orders[order_id]["State"] = state

    def get_order(self, order_id: int) -> dict[str, Any]:
        self.reads += 1
        return {**self.orders[order_id], "Tags": list(self.orders[order_id]["Tags"])}

    def add_message(self, order_id: int, text: str) -> None:
        if self.fail_messages:
            raise TransientError("Billbee down", system="Billbee")
        self.messages.append((order_id, text))
        if self.lists_messages:
            self.orders[order_id]["Comments"].append({"Text": text, "FromCustomer": False})
        self.orders[order_id]["LastModifiedAt"] = self._stamp()

    def add_tags(self, order_id: int, tags: list[str]) -> None:
        order = self.orders[order_id]
        order["Tags"] += [t for t in tags if t not in order["Tags"]]
        order["LastModifiedAt"] = self._stamp()

    def replace_tags(self, order_id: int, tags: list[str]) -> None:
        self.orders[order_id]["Tags"] = list(tags)
        self.orders[order_id]["LastModifiedAt"] = self._stamp()


def apply(billbee: Billbee, state: dict[str, Any], **kwargs: Any) -> AckWriter:
    writer = AckWriter(billbee, TAGS, LOG, **kwargs)  # type: ignore[arg-type]
    writer.apply_all(state)
    return writer


def stuck(reason: str = "held", *, resend: bool = False) -> dict[str, Any]:
    return {"stuck": True, "reason": reason, "resend_on_change": resend}


def test_a_stuck_order_gets_the_tag_and_one_message_and_the_flag_is_dropped() -> None:
    billbee = Billbee()
    billbee.add(1, ["wemalo", TAGS.received])
    state: dict[str, Any] = {WAREHOUSE_FLAGS_KEY: {"1": stuck("address")}}
    writer = apply(billbee, state)
    assert billbee.orders[1]["Tags"] == ["wemalo", TAGS.received, "wemalo_stuck"]
    assert billbee.messages == [(1, "Lager: address")]
    assert WAREHOUSE_FLAGS_KEY not in state
    assert writer.counts["flagged_stuck"] == 1
    assert 1 not in writer.tag_only  # a message moves LastModifiedAt anyway: no evidence about tag writes


def test_a_replay_of_a_flag_writes_no_second_message() -> None:
    """The run that wrote it was not committed: the same flag comes again, the state's reason hash is gone, and
    the order's Comments show the message."""
    billbee = Billbee()
    billbee.add(1, ["wemalo"])
    apply(billbee, {WAREHOUSE_FLAGS_KEY: {"1": stuck()}})
    apply(billbee, {WAREHOUSE_FLAGS_KEY: {"1": stuck()}})
    assert billbee.messages == [(1, "Lager: held")]


def test_where_billbee_does_not_list_messages_the_state_keeps_one_message_per_reason() -> None:
    billbee = Billbee(lists_messages=False)
    billbee.add(1, ["wemalo"])
    state: dict[str, Any] = {WAREHOUSE_FLAGS_KEY: {"1": stuck()}}
    apply(billbee, state)
    state[WAREHOUSE_FLAGS_KEY] = {"1": stuck()}
    apply(billbee, state)
    state[WAREHOUSE_FLAGS_KEY] = {"1": stuck("another reason")}
    apply(billbee, state)
    assert [text for _, text in billbee.messages] == ["Lager: held", "Lager: another reason"]


def test_a_cleared_flag_removes_only_the_stuck_tag() -> None:
    billbee = Billbee()
    billbee.add(1, ["wemalo", TAGS.received, "wemalo_stuck", "VIP"])
    state: dict[str, Any] = {WAREHOUSE_FLAGS_KEY: {"1": {"stuck": False, "reason": ""}},
                             STUCK_SEEN_KEY: {"1": "2026-12-06T10:00:00+00:00"}}
    apply(billbee, state)
    assert billbee.orders[1]["Tags"] == ["wemalo", TAGS.received, "VIP"]
    assert state[STUCK_SEEN_KEY] == {}
    before = billbee.modified
    apply(billbee, {WAREHOUSE_FLAGS_KEY: {"1": {"stuck": False, "reason": ""}}})
    assert billbee.modified == before  # nothing to remove: nothing written


def test_an_address_hold_remembers_the_orders_version_after_the_writes() -> None:
    billbee = Billbee()
    billbee.add(1, ["wemalo", TAGS.received])
    state: dict[str, Any] = {WAREHOUSE_FLAGS_KEY: {"1": stuck(resend=True)}}
    apply(billbee, state)
    assert state[STUCK_SEEN_KEY]["1"].startswith(billbee.orders[1]["LastModifiedAt"])


def test_a_configured_stuck_tag_is_used_and_a_transient_failure_keeps_the_flag() -> None:
    billbee = Billbee()
    billbee.add(1, ["wemalo"])
    billbee.fail_messages = True
    state: dict[str, Any] = {WAREHOUSE_FLAGS_KEY: {"1": stuck()}}
    writer = apply(billbee, state, stuck_tag="lager_problem")
    assert state[WAREHOUSE_FLAGS_KEY] == {"1": stuck()}
    assert writer.counts["kept_for_next_run"] == 1
    billbee.fail_messages = False
    apply(billbee, state, stuck_tag="lager_problem")
    assert "lager_problem" in billbee.orders[1]["Tags"]
    assert "wemalo_stuck" not in billbee.orders[1]["Tags"]


MIRROR = StatusMirror(accepted=16, packed=13, order_states=frozenset({3}))


@pytest.mark.parametrize(("start", "stage", "end"), [
    (3, "accepted", 16), (3, "packed", 13), (16, "packed", 13),
    (13, "accepted", 13),  # never backwards
    (1, "accepted", 1), (5, "packed", 5),  # never over a state the merchant set by hand
    (4, "packed", 4),  # shipped meanwhile
])
def test_the_status_mirror_moves_only_forward_and_only_from_its_own_states(start: int, stage: str, end: int) -> None:
    billbee = Billbee()
    billbee.add(1, ["wemalo"])
    billbee.orders[1]["State"] = start
    state: dict[str, Any] = {WAREHOUSE_FLAGS_KEY: {"1": {"stage": stage}}}
    apply(billbee, state, mirror=MIRROR)
    assert billbee.orders[1]["State"] == end
    assert WAREHOUSE_FLAGS_KEY not in state


def test_without_the_mirror_a_stage_costs_no_call() -> None:
    billbee = Billbee()
    billbee.add(1, ["wemalo"])
    reads = billbee.reads
    apply(billbee, {WAREHOUSE_FLAGS_KEY: {"1": {"stage": "packed"}}})
    assert billbee.orders[1]["State"] == 3
    assert billbee.reads == reads


def test_a_flag_and_a_stage_together_and_a_failed_stage_keeps_only_the_stage() -> None:
    billbee = Billbee()
    billbee.add(1, ["wemalo"])

    def down(order_id: int, state: int) -> None:
        raise TransientError("Billbee down", system="Billbee")

    billbee.set_order_state = down  # type: ignore[method-assign]
    state: dict[str, Any] = {WAREHOUSE_FLAGS_KEY: {"1": {**stuck(), "stage": "packed"}}}
    apply(billbee, state, mirror=MIRROR)
    assert "wemalo_stuck" in billbee.orders[1]["Tags"]
    assert state[WAREHOUSE_FLAGS_KEY] == {"1": {"stage": "packed"}}  # the flag is written, the stage waits


def test_the_tap_reads_orders_in_the_states_the_mirror_moves_them_to() -> None:
    log = logging.getLogger("t")
    assert TapRun("tap-billbee", {"order_state_ids": [3], "accepted_state_id": 16, "packed_state_id": 13},
                  log).order_states() == [3, 13, 16]
    assert TapRun("tap-billbee", {"order_state_ids": [3]}, log).order_states() == [3]
    assert TapRun("tap-billbee", {"accepted_state_id": 16}, log).order_states() == []  # every state anyway
