"""The webhook calls of both clients and `register` / `unregister` / `status`, against a small fake of each API
that answers in the shapes the vendor documents show (Billbee: raw arrays of WebHookApiModel; wemalo: `{hooks:
[...]}`, `{Success}`): the calls made, call by call. The same commands against the simulators:
test_sandbox_hooks.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from billbee_wemalo_events import cli, registration
from billbee_wemalo_events.accounts import billbee_client, wemalo_client
from billbee_wemalo_events.settings import Settings
from events.tests.conftest import SECRET, TOKEN


class FakeApis:
    def __init__(self) -> None:
        self.billbee: dict[str, dict[str, Any]] = {}
        self.wemalo: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str, Any]] = []
        self.next_id = 1

    def answer(self, method: str, url: str, body: Any) -> tuple[int, Any]:
        path = urlsplit(url).path
        self.calls.append((method, path, body))
        if path == "/api/v1/webhooks/filters":
            return 200, [{"Name": "order.created", "Description": ""}, {"Name": "order.updated"},
                         {"Name": "product.created"}]
        if path == "/api/v1/webhooks" and method == "GET":
            return 200, list(self.billbee.values())
        if path == "/api/v1/webhooks" and method == "POST":
            hook = {**body, "Id": f"h{self.next_id}"}
            self.next_id += 1
            self.billbee[hook["Id"]] = hook
            return 200, hook
        if path.startswith("/api/v1/webhooks/"):
            ident = path.rsplit("/", 1)[1]
            if method == "PUT":
                self.billbee[ident] = body
                return 200, body
            self.billbee.pop(ident, None)
            return 200, {}
        if path == "/v1/webhook":
            return 200, {"hooks": list(self.wemalo.values()), "Success": True}
        if path.startswith("/v1/webhook/"):
            event = path.rsplit("/", 1)[1]
            if method == "POST":
                self.wemalo[event] = {"payload": body["payload"], "token": body["token"], "event": event}
                return 200, {"mode": "create", "event": event, **body}
            self.wemalo.pop(event, None)
            return 200, {"Success": True}
        return 404, {"message": "no route"}


@pytest.fixture
def apis() -> Iterator[tuple[FakeApis, str]]:
    fake = FakeApis()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, data = fake.answer(self.command, self.path, body)
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield fake, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def account_env(env: dict[str, str], apis: tuple[FakeApis, str]) -> dict[str, str]:
    _, base = apis
    return {**env, "TAP_BILLBEE_API_URL": f"{base}/api/v1", "TAP_BILLBEE_PASSWORD": "p", "TAP_BILLBEE_API_KEY": "k",
            "TARGET_WEMALO_API_URL": f"{base}/v1", "TARGET_WEMALO_TOKEN": "api-token",
            "BILLBEE_WEMALO_EVENTS_NOTIFY_EMAIL": "ops@shop-a.example"}


def test_register_creates_the_hooks_on_both_sides_and_status_shows_them(
        apis: tuple[FakeApis, str], account_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    fake, _ = apis
    assert cli.main(["status", "--merchant", "default"], env=account_env) == cli.ATTENTION  # nothing registered
    assert "missing" in capsys.readouterr().out
    assert cli.main(["register", "--merchant", "default"], env=account_env) == cli.OK
    [hook] = fake.billbee.values()
    assert hook["WebHookUri"] == "https://hooks.example.com/hooks/billbee"
    assert hook["Secret"] == SECRET
    assert hook["Filters"] == ["order.created", "order.updated"]
    assert fake.wemalo == {
        "status_update": {"payload": "https://hooks.example.com/hooks/wemalo?event=status_update", "token": TOKEN,
                          "event": "status_update"},
        "trackingnumber_added": {"payload": "https://hooks.example.com/hooks/wemalo?event=trackingnumber_added",
                                 "token": TOKEN, "event": "trackingnumber_added"}}
    posted = [body for method, path, body in fake.calls if method == "POST" and path.startswith("/v1/webhook/")]
    assert posted[0]["email"] == posted[0]["mail"] == "ops@shop-a.example"
    capsys.readouterr()
    assert cli.main(["status", "--merchant", "default"], env=account_env) == cli.OK
    out = capsys.readouterr().out
    assert "missing" not in out
    assert "events: received 0" in out
    assert SECRET not in out
    assert TOKEN not in out


def test_register_ensure_re_registers_only_what_was_dropped(apis: tuple[FakeApis, str],
                                                            account_env: dict[str, str]) -> None:
    fake, _ = apis
    cli.main(["register", "--merchant", "default"], env=account_env)
    del fake.wemalo["trackingnumber_added"]  # wemalo unregistered it after 10 failed deliveries
    fake.calls.clear()
    assert cli.main(["register", "--ensure", "--merchant", "default"], env=account_env) == cli.ATTENTION
    writes = [(m, p) for m, p, _ in fake.calls if m != "GET"]
    assert writes == [("POST", "/v1/webhook/trackingnumber_added")]
    assert set(fake.wemalo) == {"status_update", "trackingnumber_added"}


def test_unregister_removes_only_the_receivers_hooks(apis: tuple[FakeApis, str], account_env: dict[str, str]) -> None:
    fake, _ = apis
    fake.billbee["other"] = {"Id": "other", "WebHookUri": "https://erp.example/billbee", "Secret": "x" * 32}
    fake.wemalo["stock_change"] = {"payload": "https://erp.example/wemalo", "token": "x", "event": "stock_change"}
    cli.main(["register", "--merchant", "default"], env=account_env)
    assert cli.main(["unregister", "--merchant", "default"], env=account_env) == cli.OK
    assert list(fake.billbee) == ["other"]
    assert list(fake.wemalo) == ["stock_change"]


def test_a_further_merchant_gets_its_own_urls_and_secrets(apis: tuple[FakeApis, str], account_env: dict[str, str],
                                                          tmp_path: Any) -> None:
    fake, base = apis
    (tmp_path / "shop-b.env").write_text(
        "TAP_BILLBEE_USERNAME=b@shop-b.example\nTAP_BILLBEE_PASSWORD=pb\nTAP_BILLBEE_API_KEY=kb\n"
        f"TAP_BILLBEE_API_URL={base}/api/v1\nTARGET_WEMALO_API_URL={base}/v1\nTARGET_WEMALO_TOKEN=tb\n"
        f"BILLBEE_WEMALO_EVENTS_BILLBEE_SECRET={'b' * 40}\nBILLBEE_WEMALO_EVENTS_WEMALO_HOOK_TOKEN=token-b\n")
    assert cli.main(["register", "--merchant", "shop-b"], env=account_env) == cli.OK
    [hook] = fake.billbee.values()
    assert (hook["WebHookUri"], hook["Secret"]) == ("https://hooks.example.com/hooks/shop-b/billbee", "b" * 40)
    assert fake.wemalo["status_update"]["payload"] == "https://hooks.example.com/hooks/shop-b/wemalo?event=status_update"
    assert fake.wemalo["status_update"]["token"] == "token-b"


def test_a_billbee_secret_of_the_wrong_length_is_refused_before_any_write(
        apis: tuple[FakeApis, str], account_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    fake, _ = apis
    env = {**account_env, "BILLBEE_WEMALO_EVENTS_BILLBEE_SECRET": "short"}
    assert cli.main(["register", "--merchant", "default"], env=env) == cli.FAILED
    assert "32-64" in capsys.readouterr().err
    assert [c for c in fake.calls if c[0] != "GET"] == []


def test_the_client_calls_directly(apis: tuple[FakeApis, str], account_env: dict[str, str]) -> None:
    fake, _ = apis
    settings = Settings.from_env(account_env)
    billbee, wemalo = billbee_client(account_env), wemalo_client(account_env)
    created = billbee.create_webhook({"WebHookUri": "https://x.example/h?noecho", "Secret": "s" * 32})
    assert billbee.list_webhooks() == [created]
    billbee.update_webhook(created["Id"], {"WebHookUri": "https://x.example/h2", "Secret": "s" * 32})
    assert fake.billbee[created["Id"]]["Id"] == created["Id"]
    billbee.delete_webhook(created["Id"])
    assert billbee.list_webhooks() == []
    assert billbee.webhook_filters() == ["order.created", "order.updated", "product.created"]
    wemalo.register_webhook("status_update", "https://x.example/w", "t")
    assert wemalo.list_webhooks() == [{"payload": "https://x.example/w", "token": "t", "event": "status_update"}]
    wemalo.delete_webhook("status_update")
    assert wemalo.list_webhooks() == []
    assert registration.wemalo_url(settings.public_url, settings.merchants["default"], "x").endswith(
        "/hooks/wemalo?event=x")
