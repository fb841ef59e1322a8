"""wemalo's paged feeds and getStatus for unknown orders, with a fake call: the client asks the response instead of
assuming a page base or a not-found shape (docs/api-contract.md, "wemalo: paging", "wemalo: getStatus")."""

from __future__ import annotations

from typing import Any

import pytest

from billbee_wemalo.http import ClientError, NotFoundError
from billbee_wemalo.http.session import ApiResponse
from billbee_wemalo.wemalo import PagingError, WemaloClient

ROWS = [{"historyId": str(n), "trackingNumber": f"T{n}"} for n in range(7)]


def feed(base: int, size: int = 3, *, echo: bool = True, ignore_page: bool = False):  # type: ignore[no-untyped-def]
    """A sentPackages-like service: pages of `size` rows, first page `base`, absent page = first."""
    asked: list[Any] = []

    def call(method: str, endpoint: str, path: str, **kwargs: Any) -> ApiResponse:
        page = (kwargs.get("params") or {}).get("page")
        asked.append(page)
        number = base if page is None or ignore_page else int(page)
        index = number - base
        chosen = ROWS[index * size:(index + 1) * size] if index >= 0 else []
        body: dict[str, Any] = {"additionalPage": len(ROWS) > (index + 1) * size, "bookings": chosen, "Success": True}
        if echo:
            body["page"] = number
        return ApiResponse(status=200, data=body, headers={})
    return call, asked


def client_with(call: Any) -> WemaloClient:
    client = WemaloClient(api_url="https://wemalo.example/v1", token="t")
    client._call = call  # type: ignore[method-assign]
    return client


def read(client: WemaloClient) -> list[str]:
    return [r["historyId"] for r in client.iter_pages("GET", "/goodsOrder/sentPackages/", {}, "bookings",
                                                      key="historyId")]


@pytest.mark.parametrize("base", [0, 1])
@pytest.mark.parametrize("echo", [True, False])
def test_every_row_once_whatever_the_page_base(base: int, echo: bool) -> None:
    call, asked = feed(base, echo=echo)
    assert read(client_with(call)) == [r["historyId"] for r in ROWS]
    assert asked[0] is None  # the first page is asked for without `page`


def test_the_echoed_page_is_followed() -> None:
    call, asked = feed(0)
    read(client_with(call))
    assert asked == [None, 1, 2]  # 0-based, as the apidoc's examples answer


def test_a_single_page_costs_one_call() -> None:
    call, asked = feed(0, size=50)
    assert len(read(client_with(call))) == len(ROWS)
    assert asked == [None]


def test_an_ignored_page_parameter_stops_with_an_error_after_the_rows() -> None:
    call, asked = feed(0, ignore_page=True)
    got: list[str] = []
    rows = client_with(call).iter_pages("GET", "/goodsOrder/sentPackages/", {}, "bookings", key="historyId")
    with pytest.raises(PagingError, match="no new rows"):
        got.extend(row["historyId"] for row in rows)
    assert got == ["0", "1", "2"]
    assert len(asked) <= 3


def status_service(unknown: Any):  # type: ignore[no-untyped-def]
    """getStatus: order "1" exists; any other id is answered by `unknown` (an exception or a body)."""
    calls: list[str] = []

    def call(method: str, endpoint: str, path: str, **kwargs: Any) -> ApiResponse:
        calls.append(path)
        if path.endswith("/1"):
            return ApiResponse(status=200, data={"statusId": "200", "statusName": "OPEN", "Success": True},
                               headers={})
        if isinstance(unknown, Exception):
            raise unknown
        return ApiResponse(status=200, data=unknown, headers={})
    return call, calls


def bad_request(message: str, body: dict[str, Any]) -> ClientError:
    return ClientError(message, system="wemalo", status=400, body=body)


@pytest.mark.parametrize("unknown", [
    NotFoundError("not found", status=404, body={"Success": False, "status": 404}),
    bad_request("refused", {"Success": False, "status": 400, "message": "no goods order found"}),
    {"Success": False},
], ids=["404", "400", "200-success-false"])
def test_unknown_order_is_none_in_every_reading(unknown: Any) -> None:
    call, calls = status_service(unknown)
    client = client_with(call)
    assert client.order_status("2") is None
    assert client.order_status("3") is None
    assert client.order_status("1")["statusName"] == "OPEN"  # type: ignore[index]
    probes = [c for c in calls if "probe" in c]
    assert len(probes) <= 1  # learned once per client


def test_a_refusal_unlike_the_not_found_answer_raises() -> None:
    """A read that failed is not "wemalo has no such order": that would send the order twice."""
    answers = iter([bad_request("refused", {"Success": False, "status": 400, "message": "token disabled",
                                            "field": "x"}),
                    bad_request("refused", {"Success": False, "status": 400, "message": "no goods order"})])

    def call(method: str, endpoint: str, path: str, **kwargs: Any) -> ApiResponse:
        raise next(answers)
    with pytest.raises(ClientError):
        client_with(call).order_status("2")
