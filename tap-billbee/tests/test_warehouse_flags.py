"""The warehouse flags target-wemalo leaves in the state (protocol.WAREHOUSE_FLAGS_KEY), written by tap-billbee:
the stuck tag and one message per reason, removed when the order moves on; an address hold makes the merchant's
next change a re-send."""

from __future__ import annotations

import logging
from typing import Any

from billbee_wemalo.billbee import ConnectorTags
from billbee_wemalo.http import TransientError
from billbee_wemalo.protocol import WAREHOUSE_FLAGS_KEY
from tap_billbee.acks import STUCK_SEEN_KEY, AckWriter

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
        self.orders[order_id] = {"BillBeeOrderId": order_id, "Tags": list(tags), "Comments": [],
                                 "LastModifiedAt": self._stamp()}

    def _stamp(self) -> str:
        self.modified += 1
        return f"2026-12-06T10:00:{self.modified:02d}"

    def get_order(self, order_id: int) -> dict[str, Any]:
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
