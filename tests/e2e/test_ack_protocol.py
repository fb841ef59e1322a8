"""The acknowledgement protocol (billbee_wemalo.protocol) end to end through Meltano: target-wemalo writes an
entry per order into the state it emits, Meltano stores it, the next run's tap-billbee reads it, writes the tags
each outcome stands for, and drops the entries it wrote."""

from __future__ import annotations

import json

import pytest

from billbee_wemalo.protocol import ACK_OUTCOMES, PENDING_ACKS_KEY, RECEIVED_OUTCOMES, AckOutcome, ConnectorTags
from tests.conftest import MeltanoProject

pytestmark = [pytest.mark.e2e]

STATE_ID = "dev:tap-billbee-to-target-wemalo"
TAGS = ConnectorTags("wemalo")  # this project's meltano.yml: orders_tag wemalo


def pending(project: MeltanoProject) -> dict[str, dict[str, object]]:
    state = json.loads(project.run("state", "get", STATE_ID).stdout)
    return state["singer_state"]["bookmarks"]["orders"].get(PENDING_ACKS_KEY) or {}


def tags_of(project: MeltanoProject) -> dict[str, set[str]]:
    return {str(o["BillBeeOrderId"]): {t.casefold() for t in o.get("Tags") or []}
            for o in project.sandbox.control.billbee_state()["orders"]}


def test_target_writes_meltano_stores_tap_reads_and_writes_the_tags(project: MeltanoProject) -> None:
    control = project.sandbox.control
    control.load_demo()
    before = tags_of(project)
    project.run("run", "billbee-to-wemalo")

    acks = pending(project)
    outcomes = {str(entry["outcome"]) for entry in acks.values()}
    assert outcomes <= ACK_OUTCOMES
    assert {AckOutcome.ACCEPTED, AckOutcome.REJECTED} <= outcomes  # the demo has both
    in_wemalo = {o["externalId"] for o in control.wemalo_state()["orders"]}
    for order_id, entry in acks.items():
        assert (order_id in in_wemalo) == (entry["outcome"] in RECEIVED_OUTCOMES), (order_id, entry)
    assert tags_of(project) == before  # the target wrote nothing to Billbee: the tags wait for the next run

    project.run("run", "billbee-to-wemalo")
    after = tags_of(project)
    expected = {AckOutcome.REJECTED: TAGS.error, AckOutcome.CANCEL_REFUSED: TAGS.error,
                AckOutcome.CANCELLED: TAGS.cancelled}
    for order_id, entry in acks.items():
        outcome = AckOutcome(entry["outcome"])
        tag = TAGS.received if outcome in RECEIVED_OUTCOMES else expected[outcome]
        assert tag.casefold() in after[order_id], (order_id, outcome, after[order_id])
    assert set(pending(project)).isdisjoint(acks)  # written, so dropped from the state
