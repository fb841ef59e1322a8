"""The receiver: authentication, limits, echo test, merchants; what is refused queues nothing and logs no secret."""

from __future__ import annotations

import json
import logging

import pytest
from starlette.testclient import TestClient

from billbee_wemalo_events.event_queue import EventQueue
from billbee_wemalo_events.receiver import create_app
from billbee_wemalo_events.settings import Settings
from events.tests.conftest import SECRET, SHOP_B_SECRET, SHOP_B_TOKEN, TOKEN, sign

ENVELOPE = {"Id": "d-1", "Attempt": 1, "Properties": {},
            "Notifications": [{"Action": "order.created", "OrderId": 4711}]}


@pytest.fixture
def client(settings: Settings, queue: EventQueue) -> TestClient:
    return TestClient(create_app(settings, queue))


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200


def test_a_signed_billbee_delivery_is_queued(client: TestClient, queue: EventQueue) -> None:
    raw = body(ENVELOPE)
    answer = client.post("/hooks/billbee", content=raw, headers=sign(raw))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"queued": 1, "duplicates": 0}
    [row] = queue.rows()
    assert (row["merchant"], row["source"], row["direction"], row["order_id"], row["status"]) == (
        "default", "billbee", "billbee_to_wemalo", "4711", "pending")


@pytest.mark.parametrize("headers", [
    {},  # unsigned
    {"ms-signature": "sha256=" + "0" * 64},  # forged
    {"ms-signature": "sha1=abc"},  # another scheme
], ids=["unsigned", "forged", "other-scheme"])
def test_a_billbee_delivery_without_a_valid_signature_is_refused_and_queues_nothing(
        client: TestClient, queue: EventQueue, headers: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    raw = body(ENVELOPE)
    answer = client.post("/hooks/billbee", content=raw, headers=headers)
    assert answer.status_code == 401
    assert queue.rows() == []
    assert "refused" in caplog.text
    assert SECRET not in caplog.text
    assert SECRET not in answer.text


def test_a_signature_made_with_another_merchants_secret_is_refused(client: TestClient, queue: EventQueue) -> None:
    raw = body(ENVELOPE)
    assert client.post("/hooks/billbee", content=raw, headers=sign(raw, SHOP_B_SECRET)).status_code == 401
    assert client.post("/hooks/shop-b/billbee", content=raw, headers=sign(raw, SECRET)).status_code == 401
    assert queue.rows() == []


def test_a_body_changed_after_signing_is_refused(client: TestClient, queue: EventQueue) -> None:
    raw = body(ENVELOPE)
    tampered = raw.replace(b"4711", b"4712")
    assert client.post("/hooks/billbee", content=tampered, headers=sign(raw)).status_code == 401
    assert queue.rows() == []


def test_unsigned_billbee_deliveries_only_when_the_operator_allows_them(env: dict[str, str],
                                                                        queue: EventQueue) -> None:
    allowed = TestClient(create_app(Settings.from_env({**env, "BILLBEE_WEMALO_EVENTS_BILLBEE_ALLOW_UNSIGNED": "true"}),
                                    queue))
    raw = body(ENVELOPE)
    assert allowed.post("/hooks/billbee", content=raw).status_code == 200
    # A signature that is present is still checked.
    assert allowed.post("/hooks/billbee", content=raw, headers={"ms-signature": "sha256=00"}).status_code == 401
    assert len(queue.rows()) == 1


def test_billbees_echo_test_is_answered_by_get_and_by_post(client: TestClient, queue: EventQueue) -> None:
    answer = client.get("/hooks/billbee", params={"echo": "abc123"})
    assert (answer.status_code, answer.text) == (200, "abc123")
    answer = client.post("/hooks/shop-b/billbee?echo=xyz")
    assert (answer.status_code, answer.text) == (200, "xyz")
    raw = body(ENVELOPE)  # an echo with an event: verified and queued, and the echo answered
    answer = client.post("/hooks/billbee?echo=e1", content=raw, headers=sign(raw))
    assert (answer.status_code, answer.text) == (200, "e1")
    assert len(queue.rows()) == 1
    assert client.get("/hooks/billbee").status_code == 405  # a GET without echo delivers nothing


def test_a_body_over_the_limit_is_refused(env: dict[str, str], queue: EventQueue) -> None:
    small = TestClient(create_app(Settings.from_env({**env, "BILLBEE_WEMALO_EVENTS_MAX_BODY_BYTES": "1024"}), queue))
    raw = body({**ENVELOPE, "Properties": {"pad": "x" * 2000}})
    assert small.post("/hooks/billbee", content=raw, headers=sign(raw)).status_code == 413
    token = {"token": TOKEN, "externalId": "1", "pad": "x" * 2000}
    assert small.post("/hooks/wemalo?event=status_update", json=token).status_code == 413
    assert queue.rows() == []


@pytest.mark.parametrize("raw", [b"not json", b"", b'"a string"', b"42"])
def test_a_malformed_billbee_delivery_is_refused(client: TestClient, queue: EventQueue, raw: bytes) -> None:
    assert client.post("/hooks/billbee", content=raw, headers=sign(raw)).status_code == 400
    assert queue.rows() == []


def test_a_wemalo_delivery_with_the_token_in_the_body_is_queued(client: TestClient, queue: EventQueue) -> None:
    answer = client.post("/hooks/wemalo?event=status_update",
                         json={"token": TOKEN, "orderId": 9, "externalId": "4711", "orderNumber": "A-1"})
    assert answer.status_code == 200, answer.text
    [row] = queue.rows()
    assert (row["source"], row["kind"], row["direction"], row["order_id"]) == (
        "wemalo", "status_update", "wemalo_to_billbee", "4711")


@pytest.mark.parametrize(("where", "request_args"), [
    ("header", {"headers": {"token": TOKEN}}),
    ("query", {"params": {"token": TOKEN}}),
])
def test_the_wemalo_token_is_also_accepted_in_a_header_or_the_query(
        client: TestClient, queue: EventQueue, where: str, request_args: dict[str, dict[str, str]]) -> None:
    params = {"event": "status_update", **request_args.get("params", {})}
    answer = client.post("/hooks/wemalo", params=params, json={"externalId": "1"},
                         headers=request_args.get("headers"))
    assert answer.status_code == 200, (where, answer.text)
    assert len(queue.rows()) == 1


def test_token_locations_are_configurable(env: dict[str, str], queue: EventQueue) -> None:
    settings = Settings.from_env({**env, "BILLBEE_WEMALO_EVENTS_WEMALO_TOKEN_LOCATIONS": "body"})
    body_only = TestClient(create_app(settings, queue))
    assert body_only.post("/hooks/wemalo", params={"token": TOKEN}, json={"externalId": "1"}).status_code == 401
    assert body_only.post("/hooks/wemalo", json={"token": TOKEN, "externalId": "1"}).status_code == 200


@pytest.mark.parametrize("payload", [{"externalId": "1"}, {"token": "wrong", "externalId": "1"},
                                     {"token": SHOP_B_TOKEN, "externalId": "1"}],
                         ids=["missing", "wrong", "other-merchant"])
def test_a_wemalo_delivery_without_the_right_token_is_refused(
        client: TestClient, queue: EventQueue, payload: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    answer = client.post("/hooks/wemalo?event=status_update", json=payload)
    assert answer.status_code == 401
    assert queue.rows() == []
    assert "refused (401)" in caplog.text
    for secret in (TOKEN, SHOP_B_TOKEN, '"wrong"', "'wrong'"):
        assert secret not in caplog.text
        assert secret not in answer.text


def test_two_merchants_stay_apart(client: TestClient, queue: EventQueue) -> None:
    raw = body(ENVELOPE)
    assert client.post("/hooks/shop-b/billbee", content=raw, headers=sign(raw, SHOP_B_SECRET)).status_code == 200
    assert client.post("/hooks/shop-b/wemalo?event=trackingnumber_added",
                       json={"token": SHOP_B_TOKEN, "goodsOrderId": 5, "goodsOrderParcelId": 6,
                             "goodsOrderExternalId": "4711"}).status_code == 200
    assert client.post("/hooks/billbee", content=raw, headers=sign(raw)).status_code == 200
    assert sorted((r["merchant"], r["source"]) for r in queue.rows()) == [
        ("default", "billbee"), ("shop-b", "billbee"), ("shop-b", "wemalo")]
    assert queue.counts("shop-b")["received"] == 2
    assert client.post("/hooks/shop-c/billbee", content=raw, headers=sign(raw)).status_code == 404


def test_a_repeated_delivery_is_queued_once(client: TestClient, queue: EventQueue) -> None:
    raw = body(ENVELOPE)
    client.post("/hooks/billbee", content=raw, headers=sign(raw))
    retry = body({**ENVELOPE, "Attempt": 2})  # the sender's retry: same Id, next attempt
    answer = client.post("/hooks/billbee", content=retry, headers=sign(retry))
    assert answer.json() == {"queued": 0, "duplicates": 1}
    for _ in range(2):
        client.post("/hooks/wemalo?event=status_update", json={"token": TOKEN, "externalId": "4711"})
    assert queue.counts() == {"received": 2, "handled": 0, "failed": 0, "pending": 2}
