"""BillbeeClient paging: every page once, nothing after the last, and the next page (products, orders) requested
while the caller works on this one."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from billbee_wemalo.billbee import BillbeeClient
from billbee_wemalo.http.session import ApiResponse
from sandbox.runner import Sandbox, SandboxControl, credentials

pytestmark = pytest.mark.sandbox(demo=True, billbee_settings={"throttle": False})

ENV = credentials()
PRODUCTS = "/api/v1/products"
ORDERS = "/api/v1/orders"


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


class FakePages:
    """Stands in for the HTTP call: `sizes[n-1]` rows on page n, with or without Billbee's Paging block."""

    def __init__(self, sizes: list[int], page_size: int, paging: bool) -> None:
        self.sizes, self.page_size, self.paging = sizes, page_size, paging
        self.requested: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, method: str, endpoint: str, path: str, **kwargs: Any) -> ApiResponse:
        page = kwargs["params"]["page"]
        with self.lock:
            self.requested.append(page)
        rows = [{"Id": page * 1000 + i} for i in range(self.sizes[page - 1] if page <= len(self.sizes) else 0)]
        body: dict[str, Any] = {"Data": rows}
        if self.paging:
            body["Paging"] = {"Page": page, "TotalPages": len(self.sizes), "PageSize": self.page_size}
        return ApiResponse(200, body)

    def settled(self, expected: list[int]) -> list[int]:
        """The pages requested once `expected` have been (or after 2 s), and 0.2 s more for any extra one."""
        for _ in range(40):
            with self.lock:
                if sorted(self.requested) == expected:
                    break
            time.sleep(0.05)
        time.sleep(0.2)
        with self.lock:
            return sorted(self.requested)


@pytest.mark.parametrize(("sizes", "paging", "held_ahead", "every"), [
    ([2, 2, 2, 2, 1], True, [1, 2], [1, 2, 3, 4, 5]),  # one page ahead of the caller, none past the last
    ([2], True, [1], [1]),  # a single page: nothing ahead
    ([2, 2, 2, 1], False, [1, 2], [1, 2, 3, 4]),  # no Paging block: a short page is the last
    ([2, 2, 2], False, [1, 2], [1, 2, 3, 4]),  # no Paging and a full last page: one empty page ends it
])
def test_pages_ahead_of_the_caller(sizes: list[int], paging: bool, held_ahead: list[int], every: list[int]) -> None:
    billbee = BillbeeClient(api_url="https://billbee.invalid/api/v1", username="u", password="p", api_key="k")
    fake = FakePages(sizes, page_size=2, paging=paging)
    billbee._call = fake  # type: ignore[method-assign]
    pages = billbee.iter_pages("/orders", page_size=2, prefetch=True)
    next(pages)  # the caller holds page 1
    assert fake.settled(held_ahead) == held_ahead
    rows = [row["Id"] for page_rows, _ in pages for row in page_rows]
    assert fake.settled(every) == every
    assert len(rows) + sizes[0] == sum(sizes)  # every row once, in page order
    assert rows == sorted(rows)
