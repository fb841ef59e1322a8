"""Billbee's webhooks in the simulator: registrations (/api/v1/webhooks), the echo test, and the notifications a
receiver on loopback gets for order writes, in each format setting."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from sandbox.billbee import create_app
from tests.sandbox.billbee_client import API, AUTH, ORDER_BASE
from tests.sandbox.webhook_receiver import Receiver

SECRET = "s" * 40


@pytest.fixture
def client() -> Iterator[FlaskClient]:
    app = create_app(throttle=False, webhook_timeout_seconds=5.0, webhook_retry_delays=[0.05, 0.05])
    yield app.test_client()
    for stop in app.extensions["sandbox_on_stop"]:
        stop()


def settings(client: FlaskClient, **values: Any) -> None:
    assert client.post("/_admin/settings", json=values).status_code == 200


def register(client: FlaskClient, uri: str, query: str = "", **fields: Any) -> Any:
    return client.post(f"{API}/webhooks{query}", json={"WebHookUri": uri, "Secret": SECRET, **fields}, headers=AUTH)


def new_order(client: FlaskClient, **fields: Any) -> int:
    resp = client.post("/_admin/orders", json={"orders": [{"OrderNumber": "A-1", **fields}]})
    return int(resp.get_json()["orders"][0]["BillBeeOrderId"])


def flush(client: FlaskClient) -> dict[str, Any]:
    return client.post("/_admin/webhooks/flush", json={}).get_json()


def state(client: FlaskClient) -> dict[str, Any]:
    return client.get("/_admin/webhooks").get_json()


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_no_hook_no_delivery_no_thread(client: FlaskClient) -> None:
    new_order(client)
    store = client.application.extensions["billbee_store"]
    assert store.deliverer.thread is None
    assert state(client)["deliveries"] == []


def test_registration_echo_and_aspnet_delivery_with_signature(client: FlaskClient, receiver: Receiver) -> None:
    resp = register(client, receiver.url, Description="fulfilment", Filters=["order.created"],
                    Properties={"shop": "A"}, Headers={"X-Extra": "1"})
    assert resp.status_code == 200
    hook = resp.get_json()
    assert list(hook) == ["Id", "WebHookUri", "Secret", "Description", "IsPaused", "Filters", "Headers", "Properties"]
    assert len(hook["Id"]) == 32
    assert hook["Filters"] == ["order.created"]
    assert hook["IsPaused"] is False
    echo = receiver.requests[0]
    assert echo.method == "GET"
    assert len(echo.query["echo"][0]) == 32
    assert echo.headers["x-extra"] == "1"
    assert client.get(f"{API}/webhooks", headers=AUTH).get_json() == [hook]
    assert client.get(f"{API}/webhooks/{hook['Id']}", headers=AUTH).get_json() == hook

    order_id = new_order(client)
    flush(client)
    (post,) = receiver.wait_posts(1)
    assert post.headers["ms-signature"] == signature(post.body)
    assert post.headers["x-extra"] == "1"
    body = json.loads(post.body)
    assert set(body) == {"Id", "Attempt", "Properties", "Notifications"}
    assert (body["Attempt"], body["Properties"]) == (1, {"shop": "A"})
    (note,) = body["Notifications"]
    assert (note["Action"], note["OrderId"], note["BillBeeOrderId"], note["OrderNumber"]) == \
        ("order.created", order_id, order_id, "A-1")
    assert state(client)["deliveries"][0]["state"] == "delivered"


def test_filters_route_shapes(client: FlaskClient) -> None:
    filters = client.get(f"{API}/webhooks/filters", headers=AUTH).get_json()
    assert set(filters) == {"*", "order.created", "order.updated", "order.statechanged", "order.tagschanged"}
    assert filters["order.created"]["Name"] == "order.created"
    settings(client, webhook_filters_shape="list", webhook_filters=["order.created"])
    assert [f["Name"] for f in client.get(f"{API}/webhooks/filters", headers=AUTH).get_json()] == ["*", "order.created"]


def test_failed_echo_refuses_and_noecho_skips(client: FlaskClient, receiver: Receiver) -> None:
    receiver.echo = False
    resp = register(client, receiver.url)
    assert resp.status_code == 400
    assert "echo" in resp.get_json()["Message"]
    receiver.status = 500
    assert register(client, receiver.url).status_code == 400
    assert client.get(f"{API}/webhooks", headers=AUTH).get_json() == []
    receiver.clear()
    assert register(client, receiver.url + "?noecho").status_code == 200  # read off the WebHookUri
    assert receiver.requests == []
    assert register(client, receiver.url, query="?noecho").status_code == 200
    assert [r.method for r in receiver.requests] == ["GET"]  # on the call's URL it does not count by default
    settings(client, webhook_noecho_in="request")
    assert register(client, receiver.url, query="?noecho").status_code == 200
    assert len(receiver.requests) == 1
    assert client.get("/_admin/violations").get_json() == []
    settings(client, webhook_echo="post")
    assert register(client, receiver.url).status_code == 200
    assert json.loads(receiver.requests[-1].body)["Echo"]


@pytest.mark.parametrize("fmt", ["aspnet", "bare", "unsigned"])
@pytest.mark.parametrize("payload", ["merged", "nested", "id_only"])
def test_formats_and_actions(client: FlaskClient, receiver: Receiver, fmt: str, payload: str) -> None:
    settings(client, webhook_format=fmt, webhook_payload=payload)
    register(client, receiver.url + "?noecho", Filters=["order.statechanged", "order.tagschanged"])
    order_id = new_order(client)  # order.created: not subscribed
    assert client.put(f"{API}/orders/{order_id}/orderstate", json={"NewStateId": 4}, headers=AUTH).status_code == 200
    assert client.post(f"{API}/orders/{order_id}/tags", json={"Tags": ["x"]}, headers=AUTH).status_code == 200
    flush(client)
    posts = receiver.wait_posts(2)
    assert len(posts) == 2
    notes = []
    for post in posts:
        body = json.loads(post.body)
        if fmt == "unsigned":
            assert "ms-signature" not in post.headers
        else:
            assert post.headers["ms-signature"] == signature(post.body)
        notes += body["Notifications"] if fmt != "bare" else [body]
    assert [n["Action"] for n in notes] == ["order.statechanged", "order.tagschanged"]
    assert all(n["OrderId"] == order_id for n in notes)
    if payload == "merged":
        assert notes[0]["State"] == 4
        assert notes[1]["Tags"] == ["x"]
    elif payload == "nested":
        assert notes[0]["Order"]["State"] == 4
    else:
        assert set(notes[0]) == {"Action", "OrderId"}


def test_retries_keep_the_work_item_id_and_count_attempts(client: FlaskClient, receiver: Receiver) -> None:
    register(client, receiver.url + "?noecho")
    receiver.statuses = [500, 503]
    new_order(client)
    posts = receiver.wait_posts(3)
    bodies = [json.loads(p.body) for p in posts]
    assert [b["Attempt"] for b in bodies] == [1, 2, 3]
    assert len({b["Id"] for b in bodies}) == 1
    assert all(p.headers["ms-signature"] == signature(p.body) for p in posts)


def test_retries_give_up_after_the_last_delay(client: FlaskClient, receiver: Receiver) -> None:
    register(client, receiver.url + "?noecho")
    receiver.status = 500
    new_order(client)
    receiver.wait_posts(3)
    for _ in range(50):
        if state(client)["deliveries"][0]["state"] == "failed":
            break
        receiver.wait_posts(4, timeout=0.1)
    (delivery,) = state(client)["deliveries"]
    assert delivery["state"] == "failed"
    assert len(delivery["attempts"]) == 3
    assert len(receiver.posts()) == 3


def test_put_delete_pause_and_unknown_ids(client: FlaskClient, receiver: Receiver) -> None:
    hook = register(client, receiver.url + "?noecho").get_json()
    changed = client.put(f"{API}/webhooks/{hook['Id']}", json={**hook, "IsPaused": True}, headers=AUTH)
    assert changed.status_code == 200
    assert changed.get_json()["IsPaused"] is True
    new_order(client)
    flush(client)
    assert receiver.posts() == []  # paused
    bad = client.put(f"{API}/webhooks/{hook['Id']}", json={**hook, "Id": "other"}, headers=AUTH)
    assert bad.status_code == 400
    assert client.get(f"{API}/webhooks/nope", headers=AUTH).status_code == 404
    assert client.delete(f"{API}/webhooks/nope", headers=AUTH).status_code == 404
    assert client.delete(f"{API}/webhooks/{hook['Id']}", headers=AUTH).status_code == 200
    register(client, receiver.url + "?noecho")
    register(client, receiver.url + "?noecho")
    assert client.delete(f"{API}/webhooks", headers=AUTH).status_code == 200
    assert client.get(f"{API}/webhooks", headers=AUTH).get_json() == []


def test_bad_registrations_are_refused_and_recorded(client: FlaskClient, receiver: Receiver) -> None:
    missing = client.post(f"{API}/webhooks", json={"WebHookUri": receiver.url + "?noecho"}, headers=AUTH)
    assert missing.status_code == 400
    assert "Secret" in missing.get_json()["Message"]
    short = client.post(f"{API}/webhooks", json={"WebHookUri": receiver.url + "?noecho", "Secret": "short"},
                        headers=AUTH)
    assert short.status_code == 400
    unknown = register(client, receiver.url + "?noecho", Filters=["order.exploded"])
    assert unknown.status_code == 400
    assert "order.exploded" in unknown.get_json()["Message"]
    extra = register(client, receiver.url + "?noecho", Colour="red")
    assert extra.status_code == 200  # ASP.NET ignores unknown members; the spec check records it
    found = [v for e in client.get("/_admin/violations").get_json() for v in e["violations"]]
    assert any("Secret" in v for v in found)
    assert any("Colour" in v for v in found)
    settings(client, webhook_secret_rule="required")
    assert client.post(f"{API}/webhooks", json={"WebHookUri": receiver.url + "?noecho", "Secret": "short"},
                       headers=AUTH).status_code == 200


def test_lenient_readings(client: FlaskClient, receiver: Receiver) -> None:
    settings(client, webhook_create_status=201, webhook_filters=["order.created"], webhook_empty_filters="none",
             webhook_signature_hex="upper")
    resp = register(client, receiver.url + "?noecho")
    assert resp.status_code == 201
    assert resp.get_json()["Filters"] == []
    assert register(client, receiver.url + "?noecho", Filters=["order.statechanged"]).status_code == 400
    register(client, receiver.url + "?noecho", Filters=["ORDER.CREATED"])
    new_order(client)
    flush(client)
    (post,) = receiver.wait_posts(1)  # the hook without filters gets nothing
    assert post.headers["ms-signature"] == "sha256=" + signature(post.body)[7:].upper()


def test_other_hosts_are_stored_but_never_called(client: FlaskClient) -> None:
    assert register(client, "http://example.com/hook").status_code == 400  # no echo test against other hosts
    assert register(client, "http://example.com/hook?noecho").status_code == 200
    new_order(client)
    flush(client)
    (delivery,) = state(client)["deliveries"]
    assert delivery["state"] == "refused"
    assert delivery["attempts"] == []
    assert state(client)["refused"][0]["id"] == delivery["id"]


def test_admin_writes_notify(client: FlaskClient, receiver: Receiver) -> None:
    register(client, receiver.url + "?noecho")
    order_id = new_order(client)
    client.patch(f"/_admin/orders/{order_id}", json={"State": 6})
    client.patch(f"/_admin/orders/{order_id}", json={"InvoiceNumber": "R-1"})
    client.post(f"{API}/orders/{order_id}/message", json={"Text": "hi"}, headers=AUTH)
    flush(client)
    posts = receiver.wait_posts(4)
    assert [json.loads(p.body)["Notifications"][0]["Action"] for p in posts] == \
        ["order.created", "order.statechanged", "order.updated", "order.updated"]
    assert order_id >= ORDER_BASE


def test_reset_forgets_hooks_and_deliveries(client: FlaskClient, receiver: Receiver) -> None:
    register(client, receiver.url + "?noecho")
    new_order(client)
    flush(client)
    client.post("/_admin/reset")
    assert client.get(f"{API}/webhooks", headers=AUTH).get_json() == []
    assert state(client)["deliveries"] == []
