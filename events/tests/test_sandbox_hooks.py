"""`register`, `register --ensure`, `status` and `unregister` against the simulators (which answer as the vendors'
documents show, docs/api-contract.md "webhooks"), and every delivery format the simulators send read by the real
receiver (a subprocess; its worker runs a fake `meltano` here: the jobs are tests/e2e/test_events_e2e.py's)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billbee_wemalo_events import cli
from billbee_wemalo_events.event_queue import EventQueue
from events.tests.conftest import SECRET, TOKEN
from events.tests.receiver_process import ReceiverProcess, free_port
from sandbox.runner import Sandbox, credentials

FAKE_MELTANO = f"#!{sys.executable}\nimport sys\nsys.exit(0)\n"
EMAIL = "ops@shop.example"


@pytest.fixture
def sim(sandbox: Sandbox) -> Sandbox:
    sandbox.control.reset()
    return sandbox


def hook_env(sandbox: Sandbox, tmp_path: Path, public_url: str) -> dict[str, str]:
    return {**credentials(), "TAP_BILLBEE_API_URL": f"{sandbox.billbee_url}/api/v1",
            "TARGET_WEMALO_API_URL": f"{sandbox.wemalo_url}/v1",
            "BILLBEE_WEMALO_EVENTS_BILLBEE_SECRET": SECRET, "BILLBEE_WEMALO_EVENTS_WEMALO_HOOK_TOKEN": TOKEN,
            "BILLBEE_WEMALO_EVENTS_NOTIFY_EMAIL": EMAIL, "BILLBEE_WEMALO_EVENTS_PUBLIC_URL": public_url,
            "BILLBEE_WEMALO_EVENTS_DATABASE_URL": f"sqlite:///{tmp_path / 'events.db'}",
            "MELTANO_PROJECT_ROOT": str(tmp_path)}


@pytest.fixture
def receiver(sim: Sandbox, tmp_path: Path) -> Iterator[ReceiverProcess]:
    fake = tmp_path / "fake-meltano"
    fake.write_text(FAKE_MELTANO)
    fake.chmod(0o755)
    port = free_port()
    env = {**hook_env(sim, tmp_path, f"http://127.0.0.1:{port}"),
           "BILLBEE_WEMALO_EVENTS_MELTANO_EXECUTABLE": str(fake)}
    running = ReceiverProcess(env, tmp_path / "receiver.log")
    running.port = port
    running.env["BILLBEE_WEMALO_EVENTS_PORT"] = str(port)
    running.start(coalesce=600)  # the worker waits: the tests read the queue
    yield running
    running.stop()


def main(receiver: ReceiverProcess, *args: str) -> int:
    return cli.main(list(args), env=receiver.env)


def hooks(sim: Sandbox) -> tuple[dict[str, Any], dict[str, Any]]:
    return sim.control.billbee("GET", "/webhooks"), sim.control.wemalo("GET", "/webhooks")


def test_register_status_ensure_unregister(receiver: ReceiverProcess, sim: Sandbox,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(receiver, "register") == cli.OK
    billbee, wemalo = hooks(sim)
    [registered] = billbee["registrations"]
    assert registered["WebHookUri"] == f"{receiver.url}/hooks/billbee"
    assert sorted(registered["Filters"]) == ["order.created", "order.statechanged", "order.tagschanged",
                                             "order.updated"]
    assert [(e["mode"], e["ok"]) for e in billbee["echoes"]] == [("get", True)]  # the receiver answered the echo
    assert {(h["event"], h["payload"], h["token"], h["email"]) for h in wemalo["registrations"]} == {
        (event, f"{receiver.url}/hooks/wemalo?event={event}", TOKEN, EMAIL)
        for event in ("status_update", "trackingnumber_added")}
    capsys.readouterr()

    assert main(receiver, "status") == cli.OK
    out = capsys.readouterr().out
    assert out.count(" ok ") == 3
    assert "events: received 0" in out

    assert main(receiver, "register", "--ensure") == cli.OK  # nothing to repair: nothing is registered again
    assert hooks(sim)[0]["echoes"] == billbee["echoes"]
    assert hooks(sim)[0]["registrations"] == billbee["registrations"]

    assert main(receiver, "register") == cli.OK  # a plain register updates (and sets the secret again)
    assert len(hooks(sim)[0]["registrations"]) == 1

    assert main(receiver, "unregister") == cli.OK
    billbee, wemalo = hooks(sim)
    assert billbee["registrations"] == []
    assert wemalo["registrations"] == []
    assert main(receiver, "status") == cli.ATTENTION
    assert "register --ensure" in capsys.readouterr().out


def test_billbee_echo_as_a_post(receiver: ReceiverProcess, sim: Sandbox) -> None:
    sim.control.billbee_settings(webhook_echo="post")
    assert main(receiver, "register") == cli.OK
    assert [(e["mode"], e["ok"]) for e in hooks(sim)[0]["echoes"]] == [("post", True)]
    assert EventQueue(receiver.env["BILLBEE_WEMALO_EVENTS_DATABASE_URL"]).counts()["received"] == 0


def test_a_hook_wemalo_dropped_after_10_failures_is_registered_again_by_ensure(
        receiver: ReceiverProcess, sim: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    sim.control.wemalo_settings(webhook_retry_seconds=0.01, webhook_timeout_seconds=2.0)
    assert main(receiver, "register") == cli.OK
    receiver.stop()  # the receiver is down: every attempt fails
    sim.control.wemalo("POST", "/webhooks/trigger", {"event": "status_update", "data": {"externalId": "1"}})
    deadline = time.monotonic() + 30
    while not hooks(sim)[1]["unregistrations"] and time.monotonic() < deadline:
        sim.control.wemalo("POST", "/webhooks/flush", {"wait": 5})
    [dropped] = hooks(sim)[1]["unregistrations"]
    assert (dropped["event"], dropped["email"]) == ("status_update", EMAIL)
    capsys.readouterr()

    assert main(receiver, "status") == cli.ATTENTION
    assert "status_update" in capsys.readouterr().out

    receiver.start(coalesce=600)
    assert main(receiver, "register", "--ensure") == cli.ATTENTION  # repaired: the schedule shows it
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert "re-registered" in captured.err
    assert "status_update" in captured.err
    assert {h["event"] for h in hooks(sim)[1]["registrations"]} == {"status_update", "trackingnumber_added"}
    assert main(receiver, "register", "--ensure") == cli.OK
    assert main(receiver, "status") == cli.OK


def rows(receiver: ReceiverProcess) -> list[dict[str, Any]]:
    queue = EventQueue(receiver.env["BILLBEE_WEMALO_EVENTS_DATABASE_URL"])
    try:
        return queue.rows()
    finally:
        queue.close()


def settle(sim: Sandbox, system: str) -> list[dict[str, Any]]:
    """Every delivery made now; the deliveries."""
    call = sim.control.billbee if system == "billbee" else sim.control.wemalo
    call("POST", "/webhooks/flush", {"wait": 10})
    deliveries: list[dict[str, Any]] = call("GET", "/webhooks")["deliveries"]
    return deliveries


BILLBEE_FORMATS = [
    {"webhook_format": "aspnet", "webhook_payload": "merged"},
    {"webhook_format": "aspnet", "webhook_payload": "nested", "webhook_signature_hex": "upper"},
    {"webhook_format": "bare", "webhook_payload": "id_only"},
    {"webhook_format": "bare", "webhook_payload": "merged", "webhook_filters_shape": "list"},
]


@pytest.mark.parametrize("readings", BILLBEE_FORMATS, ids=lambda r: "-".join(map(str, r.values())))
def test_every_billbee_format_is_queued_with_its_order(receiver: ReceiverProcess, sim: Sandbox,
                                                       readings: dict[str, Any]) -> None:
    sim.control.load_demo()
    sim.control.billbee_settings(**readings)
    assert main(receiver, "register") == cli.OK
    order = sim.control.billbee_state()["orders"][0]
    order_id = order["BillBeeOrderId"]
    sim.control.billbee("PATCH", f"/orders/{order_id}", {"Tags": [*(order.get("Tags") or []), "wemalo-test"]})
    deliveries = settle(sim, "billbee")
    assert [d["state"] for d in deliveries] == ["delivered"]
    assert [(r["source"], r["order_id"], r["kind"]) for r in rows(receiver)] == [
        ("billbee", str(order_id), "order.tagschanged")]


def test_unsigned_billbee_deliveries_only_when_allowed(receiver: ReceiverProcess, sim: Sandbox) -> None:
    sim.control.load_demo()
    sim.control.billbee_settings(webhook_format="unsigned", webhook_retry_delays=[])
    assert main(receiver, "register") == cli.OK
    order_id = sim.control.billbee_state()["orders"][0]["BillBeeOrderId"]
    sim.control.billbee("PATCH", f"/orders/{order_id}", {"State": 2})
    assert [(d["state"], d["attempts"][0]["status"]) for d in settle(sim, "billbee")] == [("failed", 401)]
    assert rows(receiver) == []

    receiver.stop()
    receiver.start(coalesce=600, BILLBEE_WEMALO_EVENTS_BILLBEE_ALLOW_UNSIGNED="true")
    sim.control.billbee("PATCH", f"/orders/{order_id}", {"State": 3})
    assert settle(sim, "billbee")[-1]["state"] == "delivered"
    assert [r["order_id"] for r in rows(receiver)] == [str(order_id)]


WEMALO_FORMATS = [
    {"webhook_body": "wp", "webhook_encoding": "json", "webhook_token_in": "body"},
    {"webhook_body": "wp", "webhook_encoding": "form", "webhook_token_in": "body"},
    {"webhook_body": "flat", "webhook_encoding": "json", "webhook_token_in": "header"},
    {"webhook_body": "flat", "webhook_encoding": "form", "webhook_token_in": "query",
     "webhook_event_fields": "extended"},
    {"webhook_body": "wp", "webhook_encoding": "form", "webhook_token_in": "header",
     "webhook_event_fields": "extended", "webhook_success": "200"},
]


@pytest.mark.parametrize("readings", WEMALO_FORMATS, ids=lambda r: "-".join(map(str, r.values())))
def test_every_wemalo_format_is_queued_with_its_order(receiver: ReceiverProcess, sim: Sandbox,
                                                      readings: dict[str, Any]) -> None:
    sim.control.wemalo_settings(**readings)
    assert main(receiver, "register") == cli.OK
    trigger = {"status_update": {"orderId": 501, "externalId": "9001", "orderNumber": "A-9001"},
               "trackingnumber_added": {"goodsOrderId": 501, "goodsOrderParcelId": 77,
                                        "goodsOrderExternalId": "9001"}}
    for event, data in trigger.items():
        sim.control.wemalo("POST", "/webhooks/trigger", {"event": event, "data": data})
    assert [d["state"] for d in settle(sim, "wemalo")] == ["delivered", "delivered"]
    got = [(r["kind"], r["order_id"], r["detail"].get("wemalo_order_id")) for r in rows(receiver)]
    # documented fields: trackingnumber_added names only wemalo's ids (a full run of its direction)
    tracking_order = "9001" if readings.get("webhook_event_fields") == "extended" else None
    assert got == [("status_update", "9001", "501"), ("trackingnumber_added", tracking_order, "501")]
    assert TOKEN not in receiver.log.read_text()
    assert json.dumps(rows(receiver), default=str).count(TOKEN) == 0
