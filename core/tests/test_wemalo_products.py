"""WemaloClient.list_products against a local HTTP server: `compact` is given wemalo's products and nothing else
(not objects nested in a product, not other lists), and the body's own `status` still decides in the streamed
parse (419 = throttled, retried)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from billbee_wemalo.http import ClientError, RetryPolicy
from billbee_wemalo.http.json_parse import DROP
from billbee_wemalo.wemalo import WemaloClient

PRODUCTS = [
    {"externalId": "A", "sku": "A-1", "ean": "4006381333931", "components": [{"sku": "nested", "externalId": "N"}]},
    {"externalId": "B", "sku": "B-1", "ean": "4006381333948", "stock": {"sku": "B-1", "quantity": 3}},
]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    answers: list[dict[str, Any]] = []  # the next answers, first first; the last one repeats

    def do_GET(self) -> None:
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        body = json.dumps(answer).encode()
        self.send_response(200)  # wemalo's HTTP status may not mirror the body's (docs/api-contract.md)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def url(serve_http: Callable[[type[BaseHTTPRequestHandler]], str]) -> str:
    return serve_http(Handler)


@pytest.fixture
def wemalo(url: str) -> Iterator[tuple[WemaloClient, list[float]]]:
    delays: list[float] = []
    client = WemaloClient(api_url=url, token="wemalo-test-token", retry=RetryPolicy(max_attempts=3),
                          sleep=delays.append)
    yield client, delays
    client.close()


def test_compact_is_given_each_product_whole_and_nothing_else(wemalo: tuple[WemaloClient, list[float]]) -> None:
    client, _ = wemalo
    Handler.answers = [{"products": PRODUCTS, "other": [{"sku": "x", "externalId": "O"}], "Success": True,
                        "status": 200}]
    seen: list[dict[str, Any]] = []

    def compact(product: dict[str, Any]) -> tuple[str, str]:
        seen.append(product)
        return product["externalId"], product["sku"]

    assert client.list_products(compact=compact) == [("A", "A-1"), ("B", "B-1")]
    assert seen == PRODUCTS


def test_body_status_decides_in_the_streamed_parse(wemalo: tuple[WemaloClient, list[float]]) -> None:
    client, delays = wemalo
    Handler.answers = [{"Success": False, "status": 419}, {"products": PRODUCTS, "status": 200}]
    assert [p[0] for p in client.list_products(compact=lambda p: (p["externalId"],))] == ["A", "B"]
    assert len(delays) == 1  # one throttled answer, waited for, asked again

    Handler.answers = [{"Success": False, "status": 400, "message": "fromDate malformed"}]
    with pytest.raises(ClientError, match="fromDate malformed"):
        client.list_products(compact=lambda p: p)


def test_a_consuming_compact_starts_afresh_on_a_retried_answer(wemalo: tuple[WemaloClient, list[float]]) -> None:
    """A throttled answer that listed products first (the body's `status` comes after them): what `compact` took
    of it is void, `restart` says so before the retried answer's products come."""
    client, delays = wemalo
    Handler.answers = [{"products": [PRODUCTS[1], PRODUCTS[0]], "Success": False, "status": 419},
                       {"products": [PRODUCTS[0], "junk", PRODUCTS[1]], "status": 200}]
    taken: list[str] = []

    def take(product: dict[str, Any]) -> Any:
        taken.append(product["externalId"])
        return DROP

    assert client.list_products(compact=take, restart=taken.clear) == ["junk"]
    assert taken == ["A", "B"]
    assert len(delays) == 1
