"""The return_requests sink against the wemalo simulator: one announcement per return request under both readings
of the apidoc (announce_required), the state that carries it to tap-billbee and to the next run, replays, refusals
(docs/api-contract.md, "wemalo: returns/announce")."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from typing import Any

import pytest

from billbee_wemalo.http import ClientError
from billbee_wemalo.protocol import ANNOUNCED_KEY, PENDING_ANNOUNCE_ACKS_KEY, RETURN_REQUESTS_STREAM
from sandbox.runner import Sandbox
from target_wemalo.target import TargetWemalo

TOKEN = "sandbox-wemalo-token"
SCENARIO = {
    "products": [{"externalId": "100001", "sku": "TEST-1", "ean": "4000000000017", "name": "Artikel 1",
                  "productGroup": "default", "depth": 20, "width": 10, "height": 5, "grossWeight": 500},
                 {"externalId": "100002", "sku": "TEST-2", "ean": "4000000000024", "name": "Artikel 2",
                  "productGroup": "default", "depth": 20, "width": 10, "height": 5, "grossWeight": 500}],
    "stock": {"TEST-1": 10, "TEST-2": 10},
}
ADDRESS = {"FirstName": "Erika", "LastName": "Mustermann", "Street": "Unter den Eichen 5", "Zip": "65195",
           "City": "Wiesbaden", "CountryISO2": "DE", "Email": "erika@example.com"}
TAP_STATE = {"bookmarks": {"orders": {"replication_key": "LastModifiedAt",
                                      "replication_key_value": "2026-11-20T10:00:00+00:00"}}}


def request(order_id: int, *skus: str, **changes: Any) -> dict[str, Any]:
    return {"BillBeeOrderId": order_id, "OrderNumber": f"B-{order_id}", "State": 4, "Tags": ["wemalo_return_announce"],
            "ShippingAddress": dict(ADDRESS), "OrderItems": [
                {"BillbeeId": i, "Quantity": 1, "IsCoupon": False, "Product": {"SKU": sku, "Type": 1}}
                for i, sku in enumerate(skus or ("TEST-1",), start=1)], **changes}


def singer(records: list[dict[str, Any]], state: dict[str, Any]) -> str:
    lines = [{"type": "STATE", "value": state},
             {"type": "SCHEMA", "stream": RETURN_REQUESTS_STREAM, "schema": {"type": "object", "properties": {}},
              "key_properties": ["BillBeeOrderId"]},
             *({"type": "RECORD", "stream": RETURN_REQUESTS_STREAM, "record": r} for r in records),
             {"type": "STATE", "value": state}]
    return "\n".join(json.dumps(line) for line in lines) + "\n"


def run(sandbox: Sandbox, records: list[dict[str, Any]], state: dict[str, Any] | None = None,
        **config: Any) -> tuple[TargetWemalo, list[dict[str, Any]]]:
    """The target on these records after the tap's `state`; returns it and every state it emitted."""
    target = TargetWemalo(config={"api_url": f"{sandbox.wemalo_url}/v1", "token": TOKEN, **config})
    out = io.StringIO()
    with redirect_stdout(out):
        target.listen(file_input=io.StringIO(singer(records, state or TAP_STATE)))
    assert sandbox.control.violations()["wemalo"] == []
    return target, [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]  # states only


def returns_state(state: dict[str, Any]) -> dict[str, Any]:
    return dict(state.get("bookmarks", {}).get(RETURN_REQUESTS_STREAM, {}))


def announcements(sandbox: Sandbox) -> list[dict[str, Any]]:
    return list(sandbox.control.wemalo("GET", "/returns")["announcements"])


def outcomes(target: TargetWemalo) -> dict[str, tuple[str, str]]:
    return {o.record_id: (o.outcome, o.reason) for o in target.run.report.outcomes}


@pytest.fixture
def wemalo(sandbox: Sandbox) -> Sandbox:
    sandbox.control.reset()
    assert sandbox.control.wemalo("POST", "/scenario", SCENARIO)["ok"]
    return sandbox


@pytest.mark.parametrize("reading", ["field_list", "example"])
def test_a_return_request_is_announced_once_in_either_reading(wemalo: Sandbox, reading: str) -> None:
    wemalo.control.wemalo_settings(announce_required=reading)
    target, states = run(wemalo, [request(501, "TEST-1", "TEST-2")])
    [stored] = announcements(wemalo)
    assert (stored["externalId"], stored["deliveryNumber"], stored["goodsOrderExternalId"]) == (
        "501-R1", "B-501-R1", "501")
    assert (stored["sender"]["name1"], stored["sender"]["house_no"], stored["sender"]["country"]) == (
        "Erika Mustermann", "5", "DE")
    assert sorted((i["sku"], i["quantity"]) for i in stored["items"]) == [("TEST-1", 1), ("TEST-2", 1)]
    assert outcomes(target)["501"][0] == "created"
    final = returns_state(states[-1])
    assert final[PENDING_ANNOUNCE_ACKS_KEY] == {"501": {"outcome": "announced", "reason": "",
                                                        "externalId": "501-R1"}}
    assert final[ANNOUNCED_KEY]["501"]["id"] == stored["id"]
    assert states[-1]["bookmarks"]["orders"]["replication_key_value"] == "2026-11-20T10:00:00+00:00"  # passed on


def test_the_state_is_emitted_right_after_an_announcement(wemalo: Sandbox) -> None:
    """Meltano stores every state line as it comes: a run killed after the announcement knows it next time."""
    _, states = run(wemalo, [request(501), request(502, Tags=[])])
    after_first = [s for s in states if "501" in returns_state(s).get(ANNOUNCED_KEY, {})]
    assert after_first
    assert "502" not in returns_state(after_first[0]).get(ANNOUNCED_KEY, {})


def test_a_replay_before_the_tag_was_written_announces_nothing(wemalo: Sandbox) -> None:
    _, states = run(wemalo, [request(501)])
    target, again = run(wemalo, [request(501)], state=states[-1])  # the tap had not written the tag yet
    assert len(announcements(wemalo)) == 1
    assert outcomes(target)["501"][0] == "unchanged"
    assert returns_state(again[-1])[PENDING_ANNOUNCE_ACKS_KEY]["501"]["outcome"] == "announced"


def test_a_removed_confirmation_tag_announces_the_next_return(wemalo: Sandbox) -> None:
    _, states = run(wemalo, [request(501)])
    written = returns_state(states[-1])
    written.pop(PENDING_ANNOUNCE_ACKS_KEY)  # tap-billbee wrote the confirmation tag; the merchant removed it
    run(wemalo, [request(501)], state={"bookmarks": {RETURN_REQUESTS_STREAM: written}})
    assert [a["externalId"] for a in announcements(wemalo)] == ["501-R1", "501-R2"]


def test_a_state_lost_after_the_announcement_in_the_reject_reading(wemalo: Sandbox) -> None:
    """Killed before Meltano stored the state: the same externalId goes again; a wemalo that refuses a known
    externalId (duplicate_announce reject) answers 409, which means it has the announcement."""
    wemalo.control.wemalo_settings(duplicate_announce="reject")
    run(wemalo, [request(501)])
    target, states = run(wemalo, [request(501)])  # the last state never reached Meltano
    assert len(announcements(wemalo)) == 1
    assert outcomes(target)["501"][0] == "created"
    assert returns_state(states[-1])[PENDING_ANNOUNCE_ACKS_KEY]["501"]["outcome"] == "announced"


@pytest.mark.parametrize(("record", "reason"), [
    (request(601, "NOPE-1"), "order B-601 (Billbee id 601): article NOPE-1 is not in wemalo"),
    (request(602, ShippingAddress=None), "order B-602 (Billbee id 602): the order has no shipping address"),
    (request(603, OrderItems=[]), "order B-603 (Billbee id 603): no articles to return"),
])
def test_bad_input_is_refused_with_the_reason_and_the_run_goes_on(wemalo: Sandbox, record: dict[str, Any],
                                                                  reason: str) -> None:
    target, states = run(wemalo, [record, request(501)])
    assert [a["externalId"] for a in announcements(wemalo)] == ["501-R1"]
    outcome, text = outcomes(target)[str(record["BillBeeOrderId"])]
    assert (outcome, text.startswith(reason)) == ("rejected", True), text
    ack = returns_state(states[-1])[PENDING_ANNOUNCE_ACKS_KEY][str(record["BillBeeOrderId"])]
    assert (ack["outcome"], ack["reason"]) == ("announce_refused", text)
    assert str(record["BillBeeOrderId"]) not in returns_state(states[-1])[ANNOUNCED_KEY]


def test_a_refusal_by_wemalo_is_reported_back(wemalo: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: object, body: dict[str, Any]) -> dict[str, Any]:
        raise ClientError("wemalo POST /returns/announce: sender.zip missing", system="wemalo", status=400,
                          body={"field": "sender.zip", "error": "missingParameter"})
    monkeypatch.setattr("billbee_wemalo.wemalo.client.WemaloClient.announce_return", refuse)
    target, states = run(wemalo, [request(501)])
    outcome, reason = outcomes(target)["501"]
    assert outcome == "rejected"
    assert reason == "order B-501 (Billbee id 501): wemalo refused the return announcement: sender.zip missing"
    assert ANNOUNCED_KEY not in returns_state(states[-1])


def test_no_answer_from_wemalo_is_not_repeated_blindly(wemalo: Sandbox) -> None:
    wemalo.control.wemalo("POST", "/faults", {"rate": 1.0, "kinds": ["drop"], "paths": ["/v1/returns/announce"]})
    target, _states = run(wemalo, [request(501)], max_attempts=2)
    outcome, reason = outcomes(target)["501"]
    assert outcome == "rejected"
    assert "did not confirm the return announcement 501-R1" in reason
    assert "look for it in wemalo" in reason
    announce_calls = [r for r in wemalo.control.requests("wemalo") if r["path"] == "/v1/returns/announce"]
    assert len(announce_calls) == 1


def test_a_dry_run_announces_nothing_and_adds_nothing_to_the_state(wemalo: Sandbox) -> None:
    target, states = run(wemalo, [request(501)], dry_run=True)
    assert announcements(wemalo) == []
    assert RETURN_REQUESTS_STREAM not in states[-1].get("bookmarks", {})
    assert outcomes(target)["501"][0] == "created"
