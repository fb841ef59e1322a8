"""BillbeeClient paging: every page once, nothing after the last, and the next page (products, orders) requested
while the caller works on this one."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from billbee_api import BillbeeClient
from sandbox.runner import Sandbox, SandboxControl, credentials

ENV = credentials()
PRODUCTS = "/api/v1/products"
ORDERS = "/api/v1/orders"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(billbee_port=0, wemalo_port=0) as running:
        running.control.load_demo()
        running.control.billbee_settings(throttle=False)
        yield running


@pytest.fixture
def control(sandbox: Sandbox) -> SandboxControl:
    sandbox.control.billbee("DELETE", "/requests")
    return sandbox.control


def client(sandbox: Sandbox) -> BillbeeClient:
    return BillbeeClient(api_url=f"{sandbox.billbee_url}/api/v1", username=ENV["TAP_BILLBEE_USERNAME"],
                         password=ENV["TAP_BILLBEE_PASSWORD"], api_key=ENV["TAP_BILLBEE_API_KEY"])


def pages_requested(control: SandboxControl, path: str = PRODUCTS) -> list[int]:
    return [int(r["query"]["page"][0]) for r in control.requests("billbee") if r["path"] == path]


def test_every_page_once_and_no_request_after_the_last(sandbox: Sandbox, control: SandboxControl) -> None:
    everything = [p["Id"] for p in client(sandbox).iter_products()]
    control.billbee("DELETE", "/requests")
    paged = [p["Id"] for p in client(sandbox).iter_products(page_size=3)]
    assert paged == everything
    total = -(-len(everything) // 3)
    assert total > 2
    assert sorted(pages_requested(control)) == list(range(1, total + 1))


@pytest.mark.parametrize("path", [PRODUCTS, ORDERS])
def test_the_next_page_is_requested_while_the_caller_works_on_this_one(
        sandbox: Sandbox, control: SandboxControl, path: str) -> None:
    billbee = client(sandbox)
    rows = billbee.iter_products(page_size=3) if path == PRODUCTS else billbee.iter_orders(page_size=1)
    next(rows)  # the caller holds the first row of page 1 ...
    deadline = threading.Event()
    for _ in range(100):  # ... while page 2 is fetched (the sandbox logs a request once answered)
        if pages_requested(control, path) == [1, 2]:
            break
        deadline.wait(0.05)
    assert pages_requested(control, path) == [1, 2]
    rows.close()  # stopping early waits for nothing more and requests no further page
    assert pages_requested(control, path) == [1, 2]
