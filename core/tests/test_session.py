"""Retry and error semantics of billbee_wemalo.http.ApiSession, through both clients, against the real sandbox.

Waits go through an injected `sleep` that records the delay instead of sleeping (except in the limiter test,
which really waits). Faults are targeted with `paths=[...]` and `rate=1.0`, so every run is deterministic.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from billbee_wemalo.billbee import BillbeeClient
from billbee_wemalo.http import (
    AmbiguousWriteError,
    AuthError,
    ClientError,
    ConfigError,
    NotFoundError,
    ResponseFormatError,
    RetryPolicy,
    TransientError,
    check_base_url,
)
from billbee_wemalo.wemalo import WemaloClient
from sandbox.runner import Sandbox, SandboxControl, credentials

pytestmark = pytest.mark.sandbox(demo=True)

ENV = credentials()
BB_USER, BB_PASSWORD, BB_KEY = ENV["TAP_BILLBEE_USERNAME"], ENV["TAP_BILLBEE_PASSWORD"], ENV["TAP_BILLBEE_API_KEY"]
WEMALO_TOKEN = ENV["TAP_WEMALO_SHIPMENTS_TOKEN"]

BB_STOCKS = "/api/v1/products/stocks"
WM_PROFILES = "/v1/goodsOrder/profiles"
SHIPMENT = {"ShippingId": "00340434161234567890", "CarrierId": 2, "ShipmentType": 0, "Comment": "test"}
RECEIVER = {"name1": "Erika Mustermann", "street": "Hauptstr.", "streetNumber": "5", "countryCode2Letter": "DE",
            "city": "Berlin", "zip": "10115", "email": "erika@example.org"}


class Recorder:
    """Stands in for time.sleep: records each delay; `then` runs after each one (e.g. to switch faults off)."""

    def __init__(self, then: Callable[[], Any] | None = None) -> None:
        self.delays: list[float] = []
        self.then = then

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        if self.then:
            self.then()


@pytest.fixture
def control(sandbox: Sandbox) -> SandboxControl:
    """Faults off, default behaviour, empty request logs. Billbee's own throttle is off unless a test wants it,
    because the recording sleep does not wait (a retry would otherwise meet the server's 2/s window)."""
    ctl = sandbox.control
    ctl.faults(rate=0.0)
    ctl.billbee_settings(throttle=False, retry_after="alternate", missing_order="404")
    ctl.wemalo_settings(http_status="mirror", call_limit=None)
    ctl.billbee("DELETE", "/requests")
    ctl.wemalo("DELETE", "/requests")
    return ctl


@pytest.fixture(scope="module")
def order_id(sandbox: Sandbox) -> int:
    return int(sandbox.control.billbee_state()["orders"][0]["BillBeeOrderId"])


def billbee(sandbox: Sandbox, sleep: Callable[[float], None], attempts: int = 4, **kwargs: Any) -> BillbeeClient:
    # Client-side limits raised: the limiter would call the recording sleep too (its own test is below).
    kwargs.setdefault("endpoint_rate", 1000)
    kwargs.setdefault("user_rate", 1000)
    return BillbeeClient(api_url=f"{sandbox.billbee_url}/api/v1", username=BB_USER, password=BB_PASSWORD,
                         api_key=BB_KEY, retry=RetryPolicy(max_attempts=attempts), sleep=sleep, **kwargs)


def wemalo(sandbox: Sandbox, sleep: Callable[[float], None], attempts: int = 4, **kwargs: Any) -> WemaloClient:
    return WemaloClient(api_url=f"{sandbox.wemalo_url}/v1", token=WEMALO_TOKEN,
                        retry=RetryPolicy(max_attempts=attempts), sleep=sleep, **kwargs)


def api_requests(control: SandboxControl, system: str, path: str) -> list[dict[str, Any]]:
    return [r for r in control.requests(system) if r["path"] == path]


def wait_for_log(control: SandboxControl, system: str, path: str, count: int, timeout: float = 5.0) -> list[dict]:
    """The sandbox logs a request after answering it; a slow answer is logged only after its delay."""
    deadline = time.monotonic() + timeout
    while True:
        rows = api_requests(control, system, path)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


# -- throttling (429) ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("system", "path", "header"), [("billbee", BB_STOCKS, 1.0), ("wemalo", WM_PROFILES, 2.0)])
def test_429_with_retry_after_waits_exactly_the_header(sandbox: Sandbox, control: SandboxControl, system: str,
                                                       path: str, header: float) -> None:
    control.faults(rate=1.0, kinds=["429"], paths=[path])
    sleep = Recorder()
    client = billbee(sandbox, sleep) if system == "billbee" else wemalo(sandbox, sleep)
    with pytest.raises(TransientError) as err:
        client.stocks() if system == "billbee" else client.profiles()
    assert not isinstance(err.value, AmbiguousWriteError | ResponseFormatError)
    assert "gave up after 4 attempts" in str(err.value)
    assert sleep.delays == [header] * 3
    assert len(api_requests(control, system, path)) == 4
    assert client.stats["429"] == 4


@pytest.mark.parametrize(("system", "path"), [("billbee", BB_STOCKS), ("wemalo", WM_PROFILES)])
def test_429_without_retry_after_backs_off_exponentially(sandbox: Sandbox, control: SandboxControl, system: str,
                                                         path: str) -> None:
    control.faults(rate=1.0, kinds=["429_no_retry_after"], paths=[path])
    sleep = Recorder()
    client = billbee(sandbox, sleep, 5) if system == "billbee" else wemalo(sandbox, sleep, 5)
    with pytest.raises(TransientError):
        client.stocks() if system == "billbee" else client.profiles()
    base = RetryPolicy().base_delay
    assert len(sleep.delays) == 4
    for n, delay in enumerate(sleep.delays, start=1):  # base * 2^(n-1), with jitter down to half of it
        full = base * 2 ** (n - 1)
        assert full / 2 <= delay <= full, (n, sleep.delays)
    assert len(api_requests(control, system, path)) == 5


def test_read_succeeds_once_the_throttle_lifts(sandbox: Sandbox, control: SandboxControl) -> None:
    control.faults(rate=1.0, kinds=["429"], paths=[BB_STOCKS])
    sleep = Recorder(then=lambda: control.faults(rate=0.0))
    stocks = billbee(sandbox, sleep).stocks()
    assert {s["Id"] for s in stocks}
    assert sleep.delays == [1.0]
    assert [r["status"] for r in api_requests(control, "billbee", BB_STOCKS)] == [429, 200]


def test_a_429_widens_that_endpoints_window_for_the_rest_of_the_run(sandbox: Sandbox, control: SandboxControl,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """The client kept to the limit and still drew a 429: its margin was too small for this connection."""
    control.faults(rate=1.0, kinds=["429"], paths=[BB_STOCKS])
    client = billbee(sandbox, Recorder(then=lambda: control.faults(rate=0.0)))
    before = client.limiter.window_of(("endpoint", "GET /products/stocks"))
    with caplog.at_level("INFO"):
        client.stocks()
    after = client.limiter.window_of(("endpoint", "GET /products/stocks"))
    assert after == pytest.approx(before + client.limiter.step)
    assert client.limiter.window_of(("endpoint", "GET /products")) == before  # other endpoints keep theirs
    assert any("its window is now" in m and "GET /products/stocks" in m for m in caplog.messages)


# -- 5xx and unreadable answers on reads ------------------------------------------------------------------------


@pytest.mark.parametrize(("system", "path", "kind", "error"), [
    ("billbee", BB_STOCKS, "500", TransientError),
    ("billbee", BB_STOCKS, "503", TransientError),
    ("billbee", BB_STOCKS, "html_error", ResponseFormatError),
    ("billbee", BB_STOCKS, "malformed_json", ResponseFormatError),
    ("wemalo", WM_PROFILES, "500", TransientError),
    ("wemalo", WM_PROFILES, "503", ResponseFormatError),  # wemalo's 503 is a text/plain page
    ("wemalo", WM_PROFILES, "html_error", ResponseFormatError),
    ("wemalo", WM_PROFILES, "malformed_json", ResponseFormatError),
])
def test_persistent_server_errors_on_reads_are_retried_then_raised(
        sandbox: Sandbox, control: SandboxControl, system: str, path: str, kind: str, error: type[Exception]) -> None:
    control.faults(rate=1.0, kinds=[kind], paths=[path])
    sleep = Recorder()
    client = billbee(sandbox, sleep, 3) if system == "billbee" else wemalo(sandbox, sleep, 3)
    with pytest.raises(TransientError) as err:
        client.stocks() if system == "billbee" else client.profiles()
    assert type(err.value) is error
    assert len(sleep.delays) == 2
    assert len(api_requests(control, system, path)) == 3


@pytest.mark.parametrize("kind", ["500", "503", "html_error", "malformed_json"])
def test_transient_read_error_then_success(sandbox: Sandbox, control: SandboxControl, kind: str) -> None:
    control.faults(rate=1.0, kinds=[kind], paths=[WM_PROFILES])
    sleep = Recorder(then=lambda: control.faults(rate=0.0))
    assert wemalo(sandbox, sleep).profiles()
    assert len(sleep.delays) == 1
    assert len(api_requests(control, "wemalo", WM_PROFILES)) == 2


def test_slow_read_past_the_timeout_is_retried(sandbox: Sandbox, control: SandboxControl) -> None:
    control.faults(rate=1.0, kinds=["slow"], slow_seconds=0.6, paths=[WM_PROFILES])
    sleep = Recorder(then=lambda: control.faults(rate=0.0))
    assert wemalo(sandbox, sleep, timeout=0.2).profiles()
    assert len(sleep.delays) == 1
    assert len(wait_for_log(control, "wemalo", WM_PROFILES, 2)) == 2


def test_dropped_connection_on_a_read_is_retried(sandbox: Sandbox, control: SandboxControl) -> None:
    control.faults(rate=1.0, kinds=["drop"], paths=[BB_STOCKS])
    sleep = Recorder(then=lambda: control.faults(rate=0.0))
    assert billbee(sandbox, sleep).stocks()
    assert len(sleep.delays) == 1


# -- non-idempotent writes --------------------------------------------------------------------------------------


def _shipment_path(order_id: int) -> str:
    return f"/api/v1/orders/{order_id}/shipment"


@pytest.mark.parametrize("kind", ["500", "503", "html_error", "malformed_json", "drop"])
def test_billbee_add_shipment_ambiguous_after_one_request(sandbox: Sandbox, control: SandboxControl,
                                                          order_id: int, kind: str) -> None:
    path = _shipment_path(order_id)
    control.faults(rate=1.0, kinds=[kind], paths=[path])
    sleep = Recorder()
    with pytest.raises(AmbiguousWriteError) as err:
        billbee(sandbox, sleep, 5).add_shipment(order_id, SHIPMENT)
    assert err.value.endpoint == "POST /orders/{id}/shipment"
    assert sleep.delays == []
    assert len(wait_for_log(control, "billbee", path, 1)) == 1


def test_billbee_add_shipment_slow_answer_is_ambiguous(sandbox: Sandbox, control: SandboxControl,
                                                       order_id: int) -> None:
    path = _shipment_path(order_id)
    control.faults(rate=1.0, kinds=["slow"], slow_seconds=0.6, paths=[path])
    sleep = Recorder()
    with pytest.raises(AmbiguousWriteError, match=r"no answer within 0\.2s"):
        billbee(sandbox, sleep, 5, timeout=0.2).add_shipment(order_id, SHIPMENT)
    assert sleep.delays == []
    time.sleep(0.8)  # a slow answer is logged when it is finally sent
    rows = api_requests(control, "billbee", path)
    assert len(rows) == 1
    assert rows[0]["status"] == 200  # it was applied: exactly why the client must not repeat it


def test_billbee_add_shipment_429_is_retried(sandbox: Sandbox, control: SandboxControl, order_id: int) -> None:
    path = _shipment_path(order_id)
    control.faults(rate=1.0, kinds=["429"], paths=[path])
    sleep = Recorder(then=lambda: control.faults(rate=0.0))
    billbee(sandbox, sleep, 5).add_shipment(order_id, SHIPMENT)
    assert sleep.delays == [1.0]
    assert [r["status"] for r in api_requests(control, "billbee", path)] == [429, 200]


def test_billbee_add_shipment_persistent_429_gives_up_unambiguously(sandbox: Sandbox, control: SandboxControl,
                                                                    order_id: int) -> None:
    path = _shipment_path(order_id)
    control.faults(rate=1.0, kinds=["429_no_retry_after"], paths=[path])
    with pytest.raises(TransientError) as err:
        billbee(sandbox, Recorder(), 3).add_shipment(order_id, SHIPMENT)
    assert not isinstance(err.value, AmbiguousWriteError)  # a 429 was never applied
    assert len(api_requests(control, "billbee", path)) == 3


@pytest.fixture
def wemalo_product(sandbox: Sandbox) -> str:
    client = wemalo(sandbox, Recorder())
    client.add_products([{"externalId": "t-1", "sku": "T-SKU-1", "productGroup": "default", "name": "Test",
                          "ean": "", "grossWeight": 100}])
    return "T-SKU-1"


def _goods_order(ext: str, sku: str) -> dict[str, Any]:
    return {"meta": {"externalId": ext, "orderNumber": f"B-{ext}", "externalIdMatch": "sku",
                     "receiver": [dict(RECEIVER)]},
            "positions": [{"externalId": sku, "quantity": 1, "externalPositionIdentifier": "1"}]}


@pytest.mark.parametrize("kind", ["500", "503", "html_error", "malformed_json", "drop", "slow"])
def test_wemalo_add_order_ambiguous_after_one_request(sandbox: Sandbox, control: SandboxControl,
                                                      wemalo_product: str, kind: str) -> None:
    path = "/v1/goodsOrder/add"
    control.faults(rate=1.0, kinds=[kind], paths=[path], slow_seconds=0.6)
    sleep = Recorder()
    with pytest.raises(AmbiguousWriteError):
        wemalo(sandbox, sleep, 5, timeout=0.2).add_order(_goods_order(f"amb-{kind}", wemalo_product))
    assert sleep.delays == []
    if kind == "slow":
        time.sleep(0.8)
    assert len(wait_for_log(control, "wemalo", path, 1)) == 1


def test_wemalo_add_order_429_is_retried(sandbox: Sandbox, control: SandboxControl, wemalo_product: str) -> None:
    path = "/v1/goodsOrder/add"
    control.faults(rate=1.0, kinds=["429"], paths=[path])
    sleep = Recorder(then=lambda: control.faults(rate=0.0))
    client = wemalo(sandbox, sleep, 5)
    assert client.add_order(_goods_order("retry-429", wemalo_product))["id"]
    assert sleep.delays == [2.0]
    assert [r["status"] for r in api_requests(control, "wemalo", path)] == [429, 200]
    assert client.order_status("retry-429")["statusName"] in {"OPEN", "PARTIAL"}


# -- authentication --------------------------------------------------------------------------------------------


def test_billbee_401_names_the_settings_and_no_secret(sandbox: Sandbox, control: SandboxControl) -> None:
    wrong_password, key = "Wr0ng-Api-Passw0rd-xyz", BB_KEY
    client = BillbeeClient(api_url=f"{sandbox.billbee_url}/api/v1", username=BB_USER, password=wrong_password,
                           api_key=key, retry=RetryPolicy(max_attempts=5), sleep=Recorder())
    with pytest.raises(AuthError) as err:
        client.stocks()
    message = str(err.value)
    assert err.value.status == 401
    for setting in ("username", "password", "api_key"):
        assert setting in message
    for secret in (wrong_password, key, BB_PASSWORD):
        assert secret not in message
    assert len(api_requests(control, "billbee", BB_STOCKS)) == 1  # never retried


def test_wemalo_401_names_the_setting_and_not_the_token(sandbox: Sandbox, control: SandboxControl) -> None:
    token = "not-the-sandbox-token-123"
    client = WemaloClient(api_url=f"{sandbox.wemalo_url}/v1", token=token, retry=RetryPolicy(max_attempts=5),
                          sleep=Recorder())
    with pytest.raises(AuthError) as err:
        client.profiles()
    assert "token" in str(err.value)
    assert token not in str(err.value)
    assert WEMALO_TOKEN not in str(err.value)
    assert len(api_requests(control, "wemalo", WM_PROFILES)) == 1


# -- client-side limiter (really waits) ------------------------------------------------------------------------


def test_limiter_keeps_a_burst_under_billbees_endpoint_limit(sandbox: Sandbox, control: SandboxControl) -> None:
    control.billbee_settings(throttle=True, retry_after="never")
    client = BillbeeClient(api_url=f"{sandbox.billbee_url}/api/v1", username=BB_USER, password=BB_PASSWORD,
                           api_key=BB_KEY, retry=RetryPolicy(max_attempts=3))
    for _ in range(12):
        client.stocks()
    rows = api_requests(control, "billbee", BB_STOCKS)
    assert [r["status"] for r in rows] == [200] * 12
    assert client.stats.get("429", 0) == 0
    times = [r["ts"] for r in rows]
    assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[2:], strict=False))
    # control: without the client-side limit the same burst is throttled, so the sandbox's limit is live
    unlimited = billbee(sandbox, Recorder(), attempts=1)

    def burst() -> None:
        for _ in range(12):
            unlimited.stocks()

    with pytest.raises(TransientError, match="429"):
        burst()


def test_the_limiter_learns_when_each_request_was_written(sandbox: Sandbox, control: SandboxControl) -> None:
    """Its count moves from the reservation to the write (after the handshake on a new connection)."""
    client = billbee(sandbox, Recorder())
    answers: list[tuple[str, float | None, float, float]] = []
    for _ in range(2):  # a new connection, then the kept-alive one
        before = time.monotonic()
        client.session.on_answer = lambda endpoint, sent_at, b=before: answers.append(
            (endpoint, sent_at, b, time.monotonic()))
        client.stocks()
    for endpoint, sent_at, before, answered in answers:
        assert endpoint == "GET /products/stocks"
        assert sent_at is not None
        assert before < sent_at < answered


# -- errors carried in the body ----------------------------------------------------------------------------------


def test_billbee_error_code_on_http_200_is_not_found(sandbox: Sandbox, control: SandboxControl) -> None:
    control.billbee_settings(missing_order="200_error")
    client = billbee(sandbox, Recorder())
    with pytest.raises(NotFoundError) as err:
        client.get_order(123)
    assert err.value.status == 404
    with pytest.raises(NotFoundError):
        client.add_shipment(123, SHIPMENT)  # a body-level refusal of a write is not ambiguous
    assert [r["status"] for r in control.requests("billbee")] == [200, 200]


def test_wemalo_body_status_decides_when_http_is_always_200(sandbox: Sandbox, control: SandboxControl,
                                                            wemalo_product: str) -> None:
    control.wemalo_settings(http_status="always_200")
    client = wemalo(sandbox, Recorder())
    with pytest.raises(NotFoundError):
        client.tracking_number(999999)
    assert client.order_status("no-such-order") is None
    bad = _goods_order("bad-1", wemalo_product)
    del bad["meta"]["receiver"]
    with pytest.raises(ClientError) as err:
        client.add_order(bad)
    assert not isinstance(err.value, NotFoundError)
    assert 400 <= (err.value.status or 0) < 500
    assert {r["status"] for r in control.requests("wemalo")} == {200}


# -- base URL ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://app.billbee.io/api/v1", "http://10.0.0.5:8301/api/v1", "ftp://example.org",
                                 "", "app.billbee.io/api/v1"])
def test_check_base_url_refuses_plain_http_off_loopback(url: str) -> None:
    with pytest.raises(ConfigError, match="api_url"):
        check_base_url(url, "api_url")


@pytest.mark.parametrize(("url", "expected"), [
    ("https://app.billbee.io/api/v1/", "https://app.billbee.io/api/v1"),
    ("https://connect.wemalo.com/v1", "https://connect.wemalo.com/v1"),
    ("http://127.0.0.1:8301/api/v1", "http://127.0.0.1:8301/api/v1"),
    ("http://localhost:8302/v1/", "http://localhost:8302/v1"),
    ("http://[::1]:8302/v1", "http://[::1]:8302/v1"),
])
def test_check_base_url_accepts_https_and_loopback(url: str, expected: str) -> None:
    assert check_base_url(url, "api_url") == expected


def test_clients_refuse_plain_http_before_any_request() -> None:
    with pytest.raises(ConfigError):
        BillbeeClient(api_url="http://app.billbee.io/api/v1", username="u", password="p", api_key="k")
    with pytest.raises(ConfigError):
        WemaloClient(api_url="http://connect.wemalo.com/v1", token="t")
