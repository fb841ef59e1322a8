"""target-wemalo's verdicts on return announcements written to Billbee by tap-billbee (announce_acks.py): the
confirmation tag, or one message and the error tag; entries dropped once written, kept after a transient failure;
a replay of an applied refusal writes nothing."""

from __future__ import annotations

import logging
from typing import Any

from billbee_wemalo.http import TransientError
from billbee_wemalo.protocol import PENDING_ANNOUNCE_ACKS_KEY
from tap_billbee.announce_acks import REFUSED_PREFIX, AnnounceAckWriter

CONFIRMED, ERROR = "return_announced_to_wemalo", "wemalo_error"


class Billbee:
    def __init__(self, *order_ids: int) -> None:
        self.orders: dict[int, dict[str, Any]] = {i: {"Tags": ["wemalo_return_announce"], "Comments": []}
                                                  for i in order_ids}
        self.messages: list[tuple[int, str]] = []
        self.down = False

    def get_order(self, order_id: int) -> dict[str, Any]:
        return {k: list(v) for k, v in self.orders[order_id].items()}

    def add_tags(self, order_id: int, tags: list[str]) -> None:
        if self.down:
            raise TransientError("Billbee down", system="Billbee")
        self.orders[order_id]["Tags"] += [t for t in tags if t not in self.orders[order_id]["Tags"]]

    def add_message(self, order_id: int, text: str) -> None:
        self.messages.append((order_id, text))
        self.orders[order_id]["Comments"].append({"Text": text})


def apply(billbee: Billbee, state: dict[str, Any]) -> AnnounceAckWriter:
    writer = AnnounceAckWriter(billbee, confirmed_tag=CONFIRMED, error_tag=ERROR,  # type: ignore[arg-type]
                               logger=logging.getLogger("test"))
    writer.apply_all(state)
    return writer


def test_announced_gets_the_confirmation_tag_and_refused_a_message_and_the_error_tag() -> None:
    billbee = Billbee(1, 2)
    state = {PENDING_ANNOUNCE_ACKS_KEY: {
        "1": {"outcome": "announced", "reason": "", "externalId": "1-R1"},
        "2": {"outcome": "announce_refused", "reason": "order B-2 (Billbee id 2): article X is not in wemalo",
              "externalId": "2-R1"}}}
    writer = apply(billbee, state)
    assert CONFIRMED in billbee.orders[1]["Tags"]
    assert ERROR in billbee.orders[2]["Tags"]
    assert billbee.messages == [(2, f"{REFUSED_PREFIX}: order B-2 (Billbee id 2): article X is not in wemalo")]
    assert state == {}  # every entry written and dropped
    assert (writer.counts["tagged_return_announced"], writer.counts["tagged_return_error"]) == (1, 1)


def test_a_refusal_applied_by_a_run_whose_state_was_lost_writes_nothing_again() -> None:
    billbee = Billbee(2)
    entry = {"outcome": "announce_refused", "reason": "no shipping address", "externalId": "2-R1"}
    apply(billbee, {PENDING_ANNOUNCE_ACKS_KEY: {"2": dict(entry)}})
    writer = apply(billbee, {PENDING_ANNOUNCE_ACKS_KEY: {"2": dict(entry)}})  # the same entry again
    assert len(billbee.messages) == 1
    assert writer.counts["already_applied"] == 1


def test_the_same_reason_after_a_retry_is_not_written_twice() -> None:
    billbee = Billbee(2)
    entry = {"outcome": "announce_refused", "reason": "no shipping address", "externalId": "2-R1"}
    apply(billbee, {PENDING_ANNOUNCE_ACKS_KEY: {"2": dict(entry)}})
    billbee.orders[2]["Tags"].remove(ERROR)  # the merchant removed the error tag; the retry is refused again
    apply(billbee, {PENDING_ANNOUNCE_ACKS_KEY: {"2": dict(entry)}})
    assert len(billbee.messages) == 1
    assert ERROR in billbee.orders[2]["Tags"]


def test_a_transient_failure_keeps_the_entry_for_the_next_run() -> None:
    billbee = Billbee(1)
    billbee.down = True
    state = {PENDING_ANNOUNCE_ACKS_KEY: {"1": {"outcome": "announced", "reason": "", "externalId": "1-R1"}}}
    writer = apply(billbee, state)
    assert list(state[PENDING_ANNOUNCE_ACKS_KEY]) == ["1"]
    assert writer.counts["kept_for_next_run"] == 1
