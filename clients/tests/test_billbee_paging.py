"""BillbeeClient paging: every page once, nothing after the last, and the product pages prefetched."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from billbee_api import BillbeeClient
from sandbox.runner import Sandbox, SandboxControl, credentials

ENV = credentials()
PRODUCTS = "/api/v1/products"


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


def pages_requested(control: SandboxControl) -> list[int]:
    return [int(r["query"]["page"][0]) for r in control.requests("billbee") if r["path"] == PRODUCTS]


def test_every_page_once_and_no_request_after_the_last(sandbox: Sandbox, control: SandboxControl) -> None:
    everything = [p["Id"] for p in client(sandbox).iter_products()]
    control.billbee("DELETE", "/requests")
    paged = [p["Id"] for p in client(sandbox).iter_products(page_size=3)]
    assert paged == everything
    total = -(-len(everything) // 3)
    assert total > 2
    assert sorted(pages_requested(control)) == list(range(1, total + 1))


def test_the_next_product_page_is_requested_while_the_caller_works_on_this_one(
        sandbox: Sandbox, control: SandboxControl) -> None:
    products = client(sandbox).iter_products(page_size=3)
    next(products)  # the caller holds the first row of page 1 ...
    deadline = threading.Event()
    for _ in range(100):  # ... while page 2 is fetched (the sandbox logs a request once answered)
        if pages_requested(control) == [1, 2]:
            break
        deadline.wait(0.05)
    assert pages_requested(control) == [1, 2]
    products.close()  # stopping early waits for nothing more and requests no further page
    assert pages_requested(control) == [1, 2]


def test_orders_are_not_prefetched(sandbox: Sandbox, control: SandboxControl) -> None:
    """Order queries are a page or two in a normal run; they are read page by page, never a request ahead."""
    orders = client(sandbox).iter_orders(page_size=1)
    next(orders)
    threading.Event().wait(0.3)
    assert [int(r["query"]["page"][0]) for r in control.requests("billbee") if r["path"] == "/api/v1/orders"] == [1]
    orders.close()
