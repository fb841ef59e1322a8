"""wemalo's webhooks in the simulator: registration routes answering like the apidoc's examples, the events a
receiver on loopback gets, retries and the unregistration after 10 failed attempts, and the delivery faults."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from flask.testing import FlaskClient

from sandbox.core import SimContext
from sandbox.wemalo import create_app
from tests.sandbox.test_wemalo_sim import advance, call, goods_order, load, settings
from tests.sandbox.webhook_receiver import Receiver


@pytest.fixture
def client() -> Iterator[FlaskClient]:
    app = create_app(SimContext(system="wemalo"), webhook_retry_seconds=0.02, webhook_timeout_seconds=2.0)
    yield app.test_client()
    for stop in app.extensions["sandbox_on_stop"]:
        stop()


def hook(client: FlaskClient, event: str, url: str, token: str = "tok", **extra: Any) -> tuple[int, Any]:
    return call(client, "POST", f"/webhook/{event}", {"payload": url, "token": token, "mail": "ops@example.com",
                                                       **extra})


def state(client: FlaskClient) -> dict[str, Any]:
    return client.get("/_admin/webhooks").get_json()


def trigger(client: FlaskClient, n: int) -> None:
    resp = client.post("/_admin/webhooks/trigger", json={"event": "status_update", "data": {"orderId": n}})
    assert resp.status_code == 200


def flush(client: FlaskClient) -> None:
    client.post("/_admin/webhooks/flush", json={})


def order_ids(receiver: Receiver) -> list[int]:
    return [json.loads(p.body)["eventData"]["orderId"] for p in receiver.posts()]


def test_registration_routes_answer_like_the_examples(client: FlaskClient) -> None:
    code, body = hook(client, "status_update", "http://yourpayload.url/somefolder", "yourtoken",
                      mail="your@mail.de")
    assert code == 200
    assert body == {"mode": "create", "event": "status_update", "payload": "http://yourpayload.url/somefolder",
                    "token": "yourtoken", "mail": "your@mail.de"}
    assert call(client, "GET", "/webhook") == (200, {"hooks": [
        {"payload": "http://yourpayload.url/somefolder", "token": "yourtoken", "event": "status_update"}]})
    code, body = hook(client, "status_update", "http://127.0.0.1:1/new", "t2")
    assert body["mode"] == "update"
    assert call(client, "GET", "/webhook")[1]["hooks"] == [
        {"payload": "http://127.0.0.1:1/new", "token": "t2", "event": "status_update"}]
    assert call(client, "DELETE", "/webhook/status_update") == (200, {"Success": True})
    assert call(client, "GET", "/webhook") == (200, {"hooks": []})
    assert call(client, "DELETE", "/webhook/status_update")[0] == 404
    assert client.get("/_admin/violations").get_json() == []


def test_bad_registrations(client: FlaskClient) -> None:
    assert hook(client, "order_exploded", "http://127.0.0.1:1/x")[0] == 400
    code, body = call(client, "POST", "/webhook/status_update", {"payload": "http://127.0.0.1:1/x", "token": "t"})
    assert (code, body["field"]) == (400, "email")
    assert call(client, "POST", "/webhook/status_update", {"token": "t", "email": "a@b.c"})[1]["field"] == "payload"
    found = [v for e in client.get("/_admin/violations").get_json() for v in e["violations"]]
    assert any("payload" in v for v in found)
    assert any("webhook/status_update body" in v and "any of" in v for v in found)  # neither email nor mail
    settings(client, webhook_require_email=False, webhook_register_answer="success", webhook_replace="refuse")
    ok = call(client, "POST", "/webhook/status_update", {"payload": "http://127.0.0.1:1/x", "token": "t"})
    assert ok == (200, {"Success": True})
    assert hook(client, "status_update", "http://127.0.0.1:1/y")[0] == 400  # refused: already registered


def test_store_events_reach_the_receiver(client: FlaskClient, receiver: Receiver) -> None:
    load(client)
    for event in ("status_update", "trackingnumber_added", "stock_change"):
        assert hook(client, event, receiver.url)[0] == 200
    assert call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 2)))[0] == 200
    assert receiver.posts() == []  # a new order: no status *update* (setting webhook_status_on_create)
    advance(client, externalIds=["o1"], to="PACKED", parcels=2)
    assert client.post("/_admin/stock", json={"SKU-2": 50}).status_code == 200
    flush(client)
    bodies = [json.loads(p.body) for p in receiver.posts()]
    assert all(b["token"] == "tok" for b in bodies)
    data = [b["eventData"] for b in bodies]
    order = client.get("/_admin/state").get_json()["orders"][0]
    statuses = [d for d in data if set(d) == {"orderId", "externalId", "orderNumber"}]
    assert statuses
    assert all(d == {"orderId": order["id"], "externalId": "o1", "orderNumber": "B-o1"}
                            for d in statuses)
    parcels = [d for d in data if set(d) == {"goodsOrderId", "goodsOrderParcelId"}]
    assert [d["goodsOrderParcelId"] for d in parcels] == [p["id"] for p in order["parcels"]]
    assert {"type": "INCOMING_STOCK", "orderId": None, "externalId": None} in data
    assert all(p.headers["content-type"] == "application/json" for p in receiver.posts())


def test_scenario_load_fires_nothing(client: FlaskClient, receiver: Receiver) -> None:
    hook(client, "status_update", receiver.url)
    load(client, orders=[{**goods_order("o1", ("SKU-1", 1)), "status": "SHIPPED"}])
    flush(client)
    assert receiver.posts() == []
    assert call(client, "GET", "/webhook")[1]["hooks"]  # the hook survives the load


@pytest.mark.parametrize("token_in", ["header", "query"])
def test_token_placement_flat_form_and_extended_fields(client: FlaskClient, receiver: Receiver, token_in: str) -> None:
    settings(client, webhook_token_in=token_in, webhook_body="flat", webhook_encoding="form",
             webhook_event_fields="extended", webhook_status_on_create=True)
    load(client)
    hook(client, "status_update", receiver.url + "?a=1", token="secret-token")
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))
    (post,) = receiver.wait_posts(1)
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"
    fields = parse_qs(post.body.decode())
    assert fields["externalId"] == ["o1"]
    assert fields["statusName"] == ["OPEN"]
    assert "token" not in fields
    if token_in == "header":
        assert post.headers["token"] == "secret-token"
    else:
        assert post.query == {"a": ["1"], "token": ["secret-token"]}


def test_ten_failed_attempts_unregister_the_hook(client: FlaskClient, receiver: Receiver) -> None:
    receiver.status = 500
    hook(client, "status_update", receiver.url)
    trigger(client, 1)
    receiver.wait_posts(10)
    for _ in range(100):
        if state(client)["unregistrations"]:
            break
        time.sleep(0.02)
    admin = state(client)
    (gone,) = admin["unregistrations"]
    assert gone["event"] == "status_update"
    assert gone["email"] == "ops@example.com"
    assert gone["mail_text"].startswith("webhook event 'status_update' deactivated !")
    assert gone["last_error"] == "HTTP 500"
    assert admin["registrations"] == []
    (delivery,) = admin["deliveries"]
    assert delivery["state"] == "failed"
    assert [a["number"] for a in delivery["attempts"]] == list(range(1, 11))
    assert call(client, "GET", "/webhook") == (200, {"hooks": []})
    time.sleep(0.1)
    assert len(receiver.posts()) == 10  # no 11th attempt


def test_consecutive_failures_across_events(client: FlaskClient, receiver: Receiver) -> None:
    settings(client, webhook_failure_count="consecutive", webhook_max_failures=4, webhook_retry_seconds=60)
    receiver.status = 500
    hook(client, "status_update", receiver.url)
    for n in range(4):
        trigger(client, n)
    flush(client)
    assert state(client)["unregistrations"][0]["event"] == "status_update"


def test_a_success_counts_as_delivered(client: FlaskClient, receiver: Receiver) -> None:
    receiver.statuses = [500, 204]
    hook(client, "status_update", receiver.url)
    trigger(client, 7)
    receiver.wait_posts(2)
    flush(client)
    (delivery,) = state(client)["deliveries"]
    assert [a["status"] for a in delivery["attempts"]] == [500, 204]
    assert delivery["state"] == "delivered"
    settings(client, webhook_success="200")
    receiver.statuses = [204, 200]
    trigger(client, 8)
    receiver.wait_posts(4)
    assert order_ids(receiver) == [7, 7, 8, 8]


def test_fault_duplicate(client: FlaskClient, receiver: Receiver) -> None:
    hook(client, "status_update", receiver.url)
    assert client.post("/_admin/webhooks/faults", json={"duplicate": 1.0}).status_code == 200
    trigger(client, 1)
    flush(client)
    assert order_ids(receiver) == [1, 1]
    assert state(client)["deliveries"][0]["attempts"][0]["faults"] == ["duplicate"]


def test_fault_reorder(client: FlaskClient, receiver: Receiver) -> None:
    hook(client, "status_update", receiver.url)
    client.post("/_admin/webhooks/faults", json={"reorder": 1.0, "hold_seconds": 60})
    for n in (1, 2, 3):
        trigger(client, n)
    assert receiver.posts() == []  # all held
    flush(client)
    assert order_ids(receiver) == [3, 2, 1]
    client.post("/_admin/webhooks/faults", json={"reorder": 0.5, "seed": 3, "hold_seconds": 60})
    receiver.clear()
    for n in range(10, 16):
        trigger(client, n)
    flush(client)
    got = order_ids(receiver)
    assert sorted(got) == list(range(10, 16))
    assert got != sorted(got)


def test_fault_drop_and_delay(client: FlaskClient, receiver: Receiver) -> None:
    hook(client, "status_update", receiver.url)
    client.post("/_admin/webhooks/faults", json={"drop": 1.0})
    trigger(client, 1)
    flush(client)
    assert receiver.posts() == []
    assert state(client)["deliveries"][0]["state"] == "dropped"
    client.post("/_admin/webhooks/faults", json={"delay": 1.0, "delay_seconds": 0.5})
    started = time.monotonic()
    trigger(client, 2)
    (post,) = receiver.wait_posts(1)
    assert time.monotonic() - started >= 0.45
    assert json.loads(post.body)["eventData"]["orderId"] == 2


def test_fault_timeout_counts_as_failed_and_retries(client: FlaskClient, receiver: Receiver) -> None:
    hook(client, "status_update", receiver.url)
    client.post("/_admin/webhooks/faults", json={"timeout": 1.0})
    trigger(client, 1)
    receiver.wait_posts(2)
    client.post("/_admin/webhooks/faults", json={})
    receiver.wait_posts(3)
    flush(client)
    (delivery,) = state(client)["deliveries"]
    assert delivery["attempts"][0]["faults"] == ["timeout"]
    assert delivery["attempts"][0]["ok"] is False
    assert delivery["state"] in ("delivered", "pending", "sending")


def test_a_slow_receiver_times_out(client: FlaskClient, receiver: Receiver) -> None:
    settings(client, webhook_timeout_seconds=0.2, webhook_retry_seconds=60)
    hook(client, "status_update", "http://127.0.0.1:9/unanswered")  # discard port: nothing listens
    trigger(client, 1)
    flush(client)
    (delivery,) = state(client)["deliveries"]
    assert delivery["attempts"][0]["ok"] is False
    assert delivery["attempts"][0]["error"]


def test_bad_fault_settings(client: FlaskClient) -> None:
    assert client.post("/_admin/webhooks/faults", json={"explode": 1}).status_code == 400
    assert client.post("/_admin/webhooks/faults", json={"drop": 2}).status_code == 400


def test_other_hosts_are_never_called(client: FlaskClient) -> None:
    hook(client, "status_update", "http://example.com/hook")
    trigger(client, 1)
    flush(client)
    (delivery,) = state(client)["deliveries"]
    assert delivery["state"] == "refused"
    assert delivery["attempts"] == []


def test_reset_forgets_hooks(client: FlaskClient, receiver: Receiver) -> None:
    hook(client, "status_update", receiver.url)
    client.post("/_admin/reset")
    trigger(client, 1)
    assert call(client, "GET", "/webhook") == (200, {"hooks": []})
    assert state(client)["deliveries"] == []
