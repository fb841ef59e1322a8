"""wemalo's returns in the simulator (docs/api-contract.md, "wemalo: returns"): returns/announce, the feeds
returns/booked and returns/getBookings with their paging and filters, PUT returns/booked/:bookingId, each under
every reading of its settings; the admin routes `return` and `returns`; orders held PARTIAL for a reason (ADDRESS)
and BLOCKEDPACKED with a blockReason. The literal default is compared with the apidoc's examples when the vendor
file is present."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from flask.testing import FlaskClient

from sandbox.core import SimContext
from sandbox.runner import Sandbox
from sandbox.wemalo import create_app
from sandbox.wemalo.store import DEFAULT_SETTINGS, PROFILES
from sandbox.wemalo.store.model import EXAMPLE_RETURN_FIELDS, RETURN_FIELDS
from tests.sandbox.test_wemalo_sim import (
    AUTH,
    RECEIVER,
    advance,
    call,
    goods_order,
    load,
    product,
    settings,
    status_name,
    violations,
)

pytestmark = pytest.mark.sandbox(profiles=["literal", "lenient"])  # for the tests that take `sandbox`

APIDOC = Path(__file__).resolve().parents[2].parent / "shared/reference/vendor/wemalo-connect-apidoc.json"
DATE = re.compile(r"^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}$")
SENDER = {"name1": "Erika Mustermann", "street": "Hauptstr.", "house_no": "5", "zip": "10115", "city": "Berlin",
          "country": "DE"}


@pytest.fixture
def client() -> FlaskClient:
    return create_app(SimContext(system="wemalo")).test_client()


@pytest.fixture
def shipped(client: FlaskClient) -> FlaskClient:
    """Products p1..p3 (SKU-1..3, stock 10 each); order o1 (SKU-1, SKU-2) and o2 (SKU-3) shipped."""
    load(client)
    for ext, positions in (("o1", [("SKU-1", 1), ("SKU-2", 1)]), ("o2", [("SKU-3", 1)])):
        assert call(client, "POST", "/goodsOrder/add", goods_order(ext, *positions))[0] == 200
        advance(client, externalIds=[ext], to="SHIPPED", at="2025-03-01T09:00:00")
    return client


def book(client: FlaskClient, external_id: str | None, *items: dict[str, Any], **extra: Any) -> list[int]:
    resp = client.post("/_admin/return", json={"externalId": external_id, "items": list(items), **extra})
    assert resp.status_code == 200, resp.get_json()
    return list(resp.get_json()["bookingIds"])


def item(sku: str, **fields: Any) -> dict[str, Any]:
    return {"sku": sku, "quantity": 1, "reasonCode": "damaged", "attributeCode": "2. Wahl", **fields}


def feed(client: FlaskClient, path: str = "/returns/booked", **query: Any) -> tuple[Any, bool, list[Any]]:
    code, body = call(client, "GET", path, **query)
    assert code == 200, body
    key = "externaProductlId" if "externaProductlId" in (body["bookings"] or [{}])[0] else "externalProductId"
    return body["page"], body["additionalPage"], [(b["id"], b[key]) for b in body["bookings"]]


def ids(client: FlaskClient, path: str = "/returns/booked", **query: Any) -> list[Any]:
    return [i for i, _ in feed(client, path, **query)[2]]


def admin_rows(client: FlaskClient) -> list[dict[str, Any]]:
    return list(client.get("/_admin/returns").get_json()["bookings"])


def stock_of(client: FlaskClient, sku: str) -> dict[str, Any]:
    return dict(next(p["stock"] for p in client.get("/_admin/state").get_json()["products"] if p["sku"] == sku))


# -- the apidoc's examples, read literally ----------------------------------------------------------------------
def _example_row(content: str) -> list[tuple[str, str]]:
    """(key, raw value) pairs of the example's one booking, which is not JSON (`id=8219212`, `"x"="y"`). The pair
    `"test product": "productName"` is read swapped: its value is the field list's name (docs/api-contract.md)."""
    inner = content[content.index("[{") + 2:content.index("}]")]
    pairs = re.findall(r'(?:"([^"]+)"|([A-Za-z_]\w*))\s*[:=]\s*("[^"]*"|[^,}\s]+)', inner)
    out = []
    for quoted, bare, value in pairs:
        key = quoted or bare
        if key not in RETURN_FIELDS and value.strip('"') in RETURN_FIELDS:
            key, value = value.strip('"'), f'"{key}"'
        out.append((key, value))
    return out


def _kind(raw: str) -> type:
    return str if raw.startswith('"') else bool if raw in ("true", "false") else int


@pytest.fixture(scope="module")
def examples() -> dict[str, str]:
    if not APIDOC.exists():
        pytest.skip(f"vendor apidoc absent: {APIDOC} (the literal check of the returns examples needs it)")
    out = {}
    for entry in json.loads(APIDOC.read_text(encoding="utf-8"))["api"]:
        if entry.get("group") == "Returns":
            for kind in ("success", "parameter"):
                for ex in (entry.get(kind) or {}).get("examples") or []:
                    out[f"{entry['type']} {entry['url']} {kind}"] = ex["content"]
    return out


@pytest.mark.parametrize("path", ["/returns/booked", "/returns/getBookings"])
def test_the_literal_default_answers_like_the_apidocs_example(client: FlaskClient, shipped: FlaskClient,
                                                              examples: dict[str, str], path: str) -> None:
    content = examples[f"GET {path} success"]
    expected = _example_row(content)
    book(client, "o1", item("SKU-1", attributeCode="1. choice"))
    code, body = call(client, "GET", path)
    assert code == 200
    top = re.findall(r'^\s*"(\w+)"\s*:', re.sub(r"\[\{.*?\}\]", "[]", content, flags=re.S), re.M)
    assert list(body) == top == ["page", "additionalPage", "bookings", "Success"]  # no "status", as the example
    assert (body["page"], body["additionalPage"]) == (0, False)
    row = body["bookings"][0]
    assert list(row) == [k for k, _ in expected]  # the example's eight keys, its order and its spelling
    assert {k: type(v) for k, v in row.items()} == {k: _kind(v) for k, v in expected}
    assert DATE.match(row["bookingDate"])
    assert (row["attributeCode"], row["attributeDefault"], row["reasonCode"]) == ("1. choice", True, "damaged")


def test_the_announce_answer_is_the_examples(client: FlaskClient, examples: dict[str, str]) -> None:
    example = json.loads(examples["POST /returns/announce success"])
    load(client)
    answer = call(client, "POST", "/returns/announce", {"deliveryNumber": "D-1", "sender": SENDER,
                                                        "items": [{"externalId": "p1", "quantity": 1}]})
    assert answer[0] == 200
    assert {k: type(v) for k, v in answer[1].items()} == {k: type(v) for k, v in example.items()}


def test_the_announce_parameter_example_lacks_the_required_delivery_number(client: FlaskClient,
                                                                            examples: dict[str, str]) -> None:
    body = json.loads(examples["POST /returns/announce parameter"])
    load(client, stock={}, products=[product("PS4", "PS4_12345")])
    code, answer = call(client, "POST", "/returns/announce", body)
    assert (code, answer["field"], answer["error"]) == (400, "deliveryNumber", "missingParameter")
    assert [v for v in violations(client) if "deliveryNumber" in v]
    assert not [v for v in violations(client) if "streetNumber" in v or "countryCode2Letter" in v or "email" in v]
    settings(client, announce_required="example")  # the example's body is a valid request
    code, answer = call(client, "POST", "/returns/announce", body)
    assert code == 200, answer
    stored = client.get("/_admin/returns").get_json()["announcements"]
    assert [(a["externalId"], a["sender"]["country"], a["sender"]["house_no"], a["items"][0]["sku"])
            for a in stored] == [("ORD-2-test", "DE", "5", "PS4_12345")]


def test_literal_rows_without_the_vendor_file(client: FlaskClient, shipped: FlaskClient) -> None:
    """The same literal shape, hard-coded, for machines without the vendor file."""
    assert (DEFAULT_SETTINGS["returns_fields"], DEFAULT_SETTINGS["returns_ids"]) == ("example", "number")
    book(client, "o1", item("SKU-1"))
    row = call(client, "GET", "/returns/booked")[1]["bookings"][0]
    assert list(row) == ["externaProductlId", *EXAMPLE_RETURN_FIELDS[1:]]
    assert (row["externaProductlId"], row["productName"], type(row["productId"]), type(row["id"])) == (
        "p1", "Product SKU-1", int, int)
    settings(client, returns_external_product_key="externalProductId")
    assert list(call(client, "GET", "/returns/booked")[1]["bookings"][0]) == list(EXAMPLE_RETURN_FIELDS)


# -- returns_fields, returns_ids --------------------------------------------------------------------------------
@pytest.mark.parametrize(("ids_reading", "kind"), [("number", int), ("string", str)])
def test_field_list_rows_name_their_order_and_receipt(client: FlaskClient, shipped: FlaskClient, ids_reading: str,
                                                      kind: type) -> None:
    settings(client, returns_fields="field_list", returns_ids=ids_reading)
    announced = call(client, "POST", "/returns/announce", {
        "deliveryNumber": "D-7", "externalId": "R-7", "goodsOrderExternalId": "o1", "trackingNumber": "T-7",
        "sender": SENDER, "items": [{"externalId": "SKU-2", "quantity": 1}]})[1]["id"]
    [linked] = book(client, "o1", item("SKU-2", serialNumber="SN-1", attributePackagingCode="box"))
    [stray] = book(client, None, item("SKU-3", readyForShipment=False))
    rows = call(client, "GET", "/returns/getBookings")[1]["bookings"]
    assert [list(r) for r in rows] == [list(RETURN_FIELDS)] * 2
    one, two = rows
    pid = next(p["id"] for p in client.get("/_admin/state").get_json()["products"] if p["sku"] == "SKU-2")
    assert one == {"externalProductId": "p2", "productId": kind(pid), "productName": "Product SKU-2",
                   "id": kind(linked), "bookingDate": one["bookingDate"], "attributeCode": "2. Wahl",
                   "attributeDefault": False, "attributePackagingCode": "box", "reasonCode": "damaged",
                   "serialNumber": "SN-1", "goodsReceiptExternalId": "R-7", "goodsReceiptDeliveryNumber": "D-7",
                   "goodsReceiptOrderNumber": f"RE-{announced}", "goodsOrderExternalId": "o1",
                   "goodsOrderNumber": "B-o1", "readyForShipment": True}
    assert DATE.match(one["bookingDate"])
    assert (two["id"], two["goodsOrderExternalId"], two["goodsOrderNumber"], two["goodsReceiptExternalId"],
            two["readyForShipment"]) == (kind(stray), "", "", "", False)
    assert "trackingNumber" not in one  # no returns row field names the parcel's tracking number
    assert admin_rows(client)[0]["trackingNumber"] == "T-7"  # kept from the announcement, admin view only


# -- PUT returns/booked/:bookingId -----------------------------------------------------------------------------
def test_a_synchronised_booking_leaves_booked_and_stays_in_get_bookings(client: FlaskClient,
                                                                        shipped: FlaskClient) -> None:
    first, second = book(client, "o1", item("SKU-1"), item("SKU-2"))
    assert ids(client) == ids(client, "/returns/getBookings") == [first, second]
    assert call(client, "PUT", f"/returns/booked/{first}") == (200, {"Success": True, "status": 200})
    assert ids(client) == [second]
    assert ids(client, "/returns/getBookings") == [first, second]
    assert [(r["id"], r["synchronised"]) for r in admin_rows(client)] == [(first, True), (second, False)]
    assert DATE.match(admin_rows(client)[0]["synchronisedAt"])


@pytest.mark.parametrize(("reading", "expected"), [("ok", (200, True)), ("refuse", (400, False))])
def test_a_repeated_put_in_each_reading(client: FlaskClient, shipped: FlaskClient, reading: str,
                                        expected: tuple[int, bool]) -> None:
    settings(client, returns_repeat_sync=reading)
    [booking] = book(client, "o1", item("SKU-1"))
    call(client, "PUT", f"/returns/booked/{booking}")
    when = admin_rows(client)[0]["synchronisedAt"]
    code, body = call(client, "PUT", f"/returns/booked/{booking}")
    assert (code, body["Success"]) == expected
    assert admin_rows(client)[0]["synchronisedAt"] == when  # the first synch date is kept
    assert ids(client) == []


@pytest.mark.parametrize(("reading", "expected"), [("400", (400, False)), ("404", (404, False)),
                                                   ("ok", (200, True))])
def test_an_unknown_booking_in_each_reading(client: FlaskClient, reading: str, expected: tuple[int, bool]) -> None:
    if reading != DEFAULT_SETTINGS["returns_unknown_booking"]:
        settings(client, returns_unknown_booking=reading)
    code, body = call(client, "PUT", "/returns/booked/999999")
    assert (code, body["Success"]) == expected
    if code != 200:
        assert (body["status"], body["field"]) == (code, "bookingId")


def test_a_sent_bookings_id_is_no_return_booking(client: FlaskClient, shipped: FlaskClient) -> None:
    sent = client.get("/_admin/state").get_json()["bookings"][0]["historyId"]
    assert call(client, "PUT", f"/returns/booked/{sent}")[0] == 400


# -- paging -------------------------------------------------------------------------------------------------------
@pytest.fixture
def five(client: FlaskClient, shipped: FlaskClient) -> list[int]:
    settings(client, returns_page_size=2)
    return book(client, "o1", item("SKU-1", quantity=3), item("SKU-2", quantity=2))  # one booking per unit


@pytest.mark.parametrize("path", ["/returns/booked", "/returns/getBookings"])
def test_pages_are_zero_based_as_the_examples(client: FlaskClient, five: list[int], path: str) -> None:
    assert len(five) == 5
    assert feed(client, path)[:2] == (0, True)
    assert [ids(client, path, page=p) for p in (0, 1, 2)] == [five[:2], five[2:4], five[4:]]
    assert [feed(client, path, page=p)[:2] for p in (0, 1, 2, 3)] == [(0, True), (1, True), (2, False), (3, False)]
    assert ids(client, path, page=3) == []


def test_pages_one_based(client: FlaskClient, five: list[int]) -> None:
    settings(client, page_base=1)
    assert feed(client)[:2] == (1, True)
    assert [ids(client, page=p) for p in (1, 2, 3)] == [five[:2], five[2:4], five[4:]]
    assert feed(client, page=0)[:2] == (1, True)  # below the base: the first page, echoed as served


def test_page_param_ignored_repeats_the_first_page(client: FlaskClient, five: list[int]) -> None:
    settings(client, page_param_ignored=True)
    assert feed(client, page=2)[:2] == (0, True)
    assert ids(client, page=2) == five[:2]


def test_synchronising_moves_the_rows_of_later_pages_up(client: FlaskClient, five: list[int]) -> None:
    for booking in five[:2]:
        call(client, "PUT", f"/returns/booked/{booking}")
    assert ids(client) == five[2:4]
    assert ids(client, "/returns/getBookings") == five[:2]


# -- filters ----------------------------------------------------------------------------------------------------
def test_filters_by_order_returns_order_and_returns_id(client: FlaskClient, shipped: FlaskClient) -> None:
    settings(client, returns_fields="field_list")
    announced = call(client, "POST", "/returns/announce", {
        "deliveryNumber": "D-1", "externalId": "R-1", "goodsOrderExternalId": "o2", "sender": [SENDER],
        "items": [{"id": stock_of_id(client, "SKU-3"), "quantity": 1}]})[1]["id"]
    a = book(client, "o1", item("SKU-1"))
    b = book(client, "o2", item("SKU-3"))  # linked to the announcement of o2
    c = book(client, None, item("SKU-2"))
    returns_c = client.get("/_admin/returns").get_json()["receipts"][-1]["returnsId"]
    for path in ("/returns/booked", "/returns/getBookings"):
        assert ids(client, path, externalGoodsOrderId="o1") == a
        assert ids(client, path, externalReturnsId="R-1") == b
        assert ids(client, path, returnsId=str(announced)) == b
        assert ids(client, path, returnsId=str(returns_c)) == c
        assert ids(client, path, externalGoodsOrderId="nope") == []


def stock_of_id(client: FlaskClient, sku: str) -> int:
    return int(next(p["id"] for p in client.get("/_admin/state").get_json()["products"] if p["sku"] == sku))


def test_date_filter_by_booking_date_and_ignored(client: FlaskClient, shipped: FlaskClient) -> None:
    early = book(client, "o1", item("SKU-1"), at="2025-03-02T10:00:00")
    late = book(client, "o1", item("SKU-2"), at="2025-03-04T10:00:00")
    window = {"dateFrom": "02.03.2025 10:00:00", "dateTo": "03.03.2025 23:59:59"}
    for path in ("/returns/booked", "/returns/getBookings"):
        assert ids(client, path, **window) == early  # bounds included
        assert ids(client, path, dateFrom="02.03.2025 10:00:01") == late
        assert ids(client, path, dateTo="02.03.2025 10:00:00") == early
    assert call(client, "GET", "/returns/booked")[1]["bookings"][0]["bookingDate"] == "02.03.2025 10:00:00"
    settings(client, returns_date_filter="ignored")
    assert ids(client, **window) == early + late
    code, body = call(client, "GET", "/returns/booked", dateFrom="2025-03-02")
    assert (code, body["Success"], body["field"]) == (400, False, "dateFrom")  # checked whatever the reading


# -- returns/announce -------------------------------------------------------------------------------------------
def announcements(client: FlaskClient) -> list[dict[str, Any]]:
    return list(client.get("/_admin/returns").get_json()["announcements"])


def announce(**body: Any) -> dict[str, Any]:
    return {"deliveryNumber": "D-1", "sender": dict(SENDER), "items": [{"externalId": "p1", "quantity": 1}], **body}


@pytest.mark.parametrize(("body", "field"), [
    ({"deliveryNumber": None}, "deliveryNumber"), ({"sender": None}, "sender"),
    ({"sender": {k: v for k, v in SENDER.items() if k != "country"}}, "sender.country"),
    ({"sender": {**SENDER, "city": None}}, "sender.city"),
    ({"items": []}, "items"), ({"items": [{"externalId": "p1"}]}, "items.quantity"),
    ({"items": [{"quantity": 1}]}, "items.externalId")])
def test_announce_refuses_a_missing_required_field_and_stores_nothing(client: FlaskClient, body: dict[str, Any],
                                                                      field: str) -> None:
    load(client)
    code, answer = call(client, "POST", "/returns/announce", {k: v for k, v in announce(**body).items()
                                                              if v is not None})
    assert (code, answer["Success"], answer["error"], answer["field"]) == (400, False, "missingParameter", field)
    assert announcements(client) == []
    assert violations(client)  # the request breaks the simulator's schema too


def test_announce_items_by_wemalo_id_external_id_or_sku(client: FlaskClient) -> None:
    load(client)
    items = [{"id": stock_of_id(client, "SKU-1"), "quantity": 1, "returnReason": 3},
             {"externalId": "p2", "quantity": 2}, {"externalId": "SKU-3", "quantity": 1}]
    code, answer = call(client, "POST", "/returns/announce", announce(items=items, externalId="R-1",
                                                                      skipSerialNumberCheck=True))
    assert code == 200
    [stored] = announcements(client)
    assert (stored["id"], stored["externalId"], stored["skipSerialNumberCheck"]) == (answer["id"], "R-1", True)
    assert [(i["sku"], i["quantity"], i["returnReason"]) for i in stored["items"]] == [
        ("SKU-1", 1, 3), ("SKU-2", 2, None), ("SKU-3", 1, None)]
    assert violations(client) == []


def test_announce_of_an_unknown_product_is_not_found_and_stores_nothing(client: FlaskClient) -> None:
    load(client)
    code, answer = call(client, "POST", "/returns/announce",
                        announce(items=[{"externalId": "p1", "quantity": 1}, {"externalId": "nope", "quantity": 1}]))
    assert (code, answer["Success"], answer["field"], answer["code"]) == (404, False, "extId", "NOT_FOUND")
    assert announcements(client) == []
    code, answer = call(client, "POST", "/returns/announce", announce(items=[{"externalId": "p1", "quantity": 0}]))
    assert (code, answer["field"]) == (400, "quantity")


@pytest.mark.parametrize(("reading", "second"), [("create", 200), ("reject", 409)])
def test_a_second_announcement_with_the_same_external_id(client: FlaskClient, reading: str, second: int) -> None:
    settings(client, duplicate_announce=reading)
    load(client)
    first = call(client, "POST", "/returns/announce", announce(externalId="R-1"))[1]["id"]
    code, answer = call(client, "POST", "/returns/announce", announce(externalId="R-1"))
    assert code == second
    assert len(announcements(client)) == (2 if second == 200 else 1)
    if second == 409:
        assert answer["id"] == first
    assert call(client, "POST", "/returns/announce", announce())[0] == 200  # without externalId: never a duplicate


def test_announce_example_reading_takes_the_examples_spellings(client: FlaskClient) -> None:
    load(client)
    sender = {"name1": "A", "street": "S", "streetNumber": "5", "countryCode2Letter": "AT", "city": "Wien",
              "zip": "1010", "email": "a@example.org"}
    body = {"sender": sender, "items": [{"externalId": "p1", "quantity": 1}]}
    code, answer = call(client, "POST", "/returns/announce", body)
    assert (code, answer["field"]) == (400, "deliveryNumber")
    code, answer = call(client, "POST", "/returns/announce", {**body, "deliveryNumber": "D-1"})
    assert (code, answer["field"]) == (400, "sender.country")  # the list's reading: countryCode2Letter unknown
    settings(client, announce_required="example")
    assert call(client, "POST", "/returns/announce", body)[0] == 200
    assert announcements(client)[0]["sender"] == {"name1": "A", "street": "S", "house_no": "5", "country": "AT",
                                                  "city": "Wien", "zip": "1010", "mail": "a@example.org"}


# -- spec violations ----------------------------------------------------------------------------------------------
def test_bad_requests_are_recorded_as_spec_violations(client: FlaskClient, shipped: FlaskClient) -> None:
    [booking] = book(client, "o1", item("SKU-1"))
    client.delete("/_admin/requests")
    call(client, "GET", "/returns/booked", page="1", dateFrom="01.03.2025 00:00:00", externalGoodsOrderId="o1",
         externalReturnsId="R", returnsId="1")
    call(client, "PUT", f"/returns/booked/{booking}")
    call(client, "POST", "/returns/announce", announce(sender=[SENDER]))
    assert violations(client) == []
    call(client, "GET", "/returns/booked", orderId="o1")
    call(client, "GET", "/returns/getBookings", page="first", dateTo="2025-03-01")
    call(client, "PUT", f"/returns/booked/{booking}", {"synched": True})
    call(client, "POST", "/returns/announce", announce(shop="x", items=[{"sku": "SKU-1", "quantity": 1}]))
    call(client, "POST", "/returns/announceConditional", announce())
    found = violations(client)
    for text in ("query parameter 'orderId' not documented", "getBookings query page", "getBookings query dateTo",
                 "the route takes no body", "Additional properties are not allowed ('shop' was unexpected)",
                 "Additional properties are not allowed ('sku' was unexpected)",
                 "POST /returns/announceConditional: route not documented"):
        assert [v for v in found if text in v], (text, found)
    resp = client.post("/v1/returns/document/R-1", json={"docType": "DOCUMENT"}, headers=AUTH)
    assert resp.status_code == 501  # documented, not simulated


# -- admin: return, returns, stock ------------------------------------------------------------------------------
def test_admin_return_books_one_booking_per_unit_and_lists_them(client: FlaskClient, shipped: FlaskClient) -> None:
    booked = book(client, "o1", item("SKU-1", serialNumber="SN-1"), item("SKU-2", quantity=2),
                  trackingNumber="RT-1")
    assert len(booked) == 3
    assert booked == sorted(booked)
    stray = book(client, None, item("SKU-3"))
    rows = admin_rows(client)
    assert [(r["id"], r["sku"], r["goodsOrderExternalId"], r["trackingNumber"], r["synchronised"]) for r in rows] == [
        (booked[0], "SKU-1", "o1", "RT-1", False), (booked[1], "SKU-2", "o1", "RT-1", False),
        (booked[2], "SKU-2", "o1", "RT-1", False), (stray[0], "SKU-3", "", "", False)]
    assert set(RETURN_FIELDS) <= set(rows[0])
    assert rows[0]["serialNumber"] == "SN-1"


@pytest.mark.parametrize(("body", "error"), [
    ({"externalId": "nope", "items": [item("SKU-1")]}, "unknown goods order"),
    ({"externalId": "o1", "items": []}, "non-empty"),
    ({"externalId": "o1", "items": [item("NOPE")]}, "no product"),
    ({"externalId": "o1", "items": [item("SKU-1", quantity=0)]}, "quantity"),
    ({"externalId": "o1", "items": [item("SKU-1", colour="red")]}, "unknown fields"),
    ({"externalId": "o1", "items": [item("SKU-1", quantity=2, serialNumber="SN")]}, "serial"),
    ({"externalId": "o1", "items": [item("SKU-1")], "announcementId": 1}, "unknown announcement")])
def test_admin_return_refuses_bad_bodies_and_books_nothing(client: FlaskClient, shipped: FlaskClient,
                                                           body: dict[str, Any], error: str) -> None:
    resp = client.post("/_admin/return", json=body)
    assert (resp.status_code, resp.get_json()["ok"]) == (400, False)
    assert error in resp.get_json()["error"]
    assert admin_rows(client) == []


@pytest.mark.parametrize(("reading", "expected"), [
    ("by_attribute", {"1. choice": (11, None), "2. Wahl": (10, 1), "unready": (10, None)}),
    ("default_attribute", {"1. choice": (11, None), "2. Wahl": (11, None), "unready": (11, None)}),
    ("none", {"1. choice": (10, None), "2. Wahl": (10, None), "unready": (10, None)})])
def test_returned_units_raise_stock_in_each_reading(client: FlaskClient, reading: str,
                                                    expected: dict[str, tuple[int, int | None]]) -> None:
    settings(client, returns_stock=reading)
    load(client)
    cases = {"1. choice": item("SKU-1", attributeCode="1. choice"), "2. Wahl": item("SKU-2"),
             "unready": item("SKU-3", attributeCode="1. choice", readyForShipment=False)}
    for case in cases.values():
        book(client, None, case)
    for (name, (physical, b_stock)), sku in zip(expected.items(), ("SKU-1", "SKU-2", "SKU-3"), strict=True):
        stock = stock_of(client, sku)
        assert (stock["physical"], stock["b_stock"]) == (physical, b_stock), name


def test_a_returned_unit_promotes_an_order_waiting_for_it(client: FlaskClient) -> None:
    load(client, stock={"SKU-1": 0, "SKU-2": 0, "SKU-3": 0})
    call(client, "POST", "/goodsOrder/add", goods_order("o9", ("SKU-1", 1)))
    assert status_name(client, "o9") == "PARTIAL"
    resp = client.post("/_admin/return", json={"externalId": None, "items": [item("SKU-1", attributeCode="1. choice")]})
    assert resp.get_json()["promoted"] == ["o9"]
    assert status_name(client, "o9") == "OPEN"


# -- PARTIAL with a reason, BLOCKEDPACKED with a blockReason, the address re-check ---------------------------------
def status(client: FlaskClient, ext: str) -> dict[str, Any]:
    settings(client, status_fields="field_list")
    return dict(call(client, "GET", f"/goodsOrder/getStatus/{ext}")[1])


@pytest.mark.parametrize("reason", ["ADDRESS", "UNKNOWN", "STOCK", "BILL"])
def test_advance_holds_an_order_partial_with_a_reason(client: FlaskClient, reason: str) -> None:
    load(client)
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 4)))
    result = advance(client, externalIds=["o1"], to="PARTIAL", reasonPartiallyReserved=reason)
    assert result["changed"][0]["to"] == "PARTIAL"
    got = status(client, "o1")
    assert (got["statusId"], got["statusName"], got["reasonPartiallyReserved"]) == ("100", "PARTIAL", reason)
    assert stock_of(client, "SKU-1")["reserved"] == 0  # a held order reserves nothing


def test_advance_partial_only_from_open_or_partial(client: FlaskClient) -> None:
    load(client)
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))
    advance(client, externalIds=["o1"], to="INPROCESS")
    result = advance(client, externalIds=["o1"], to="PARTIAL", reasonPartiallyReserved="ADDRESS")
    assert (result["changed"], result["skipped"][0]["externalId"]) == ([], "o1")
    assert client.post("/_admin/advance", json={"to": "PARTIAL", "reasonPartiallyReserved": 5}).status_code == 400


def test_blocked_packed_with_a_block_reason(client: FlaskClient) -> None:
    load(client)
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))
    advance(client, externalIds=["o1"], to="BLOCKEDPACKED", blockReason="MISSING_DOCUMENTS")
    got = status(client, "o1")
    assert (got["statusId"], got["statusName"], got["blockReason"]) == ("390", "BLOCKEDPACKED", "MISSING_DOCUMENTS")
    advance(client, externalIds=["o1"], to="SHIPPED")
    assert (status(client, "o1")["statusName"], status(client, "o1")["blockReason"]) == ("SHIPPED", "")


def _address_held(client: FlaskClient, stock: int = 10) -> dict[str, Any]:
    load(client, stock={"SKU-1": stock, "SKU-2": 10, "SKU-3": 10})
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 2)))
    advance(client, externalIds=["o1"], to="PARTIAL", reasonPartiallyReserved="ADDRESS")
    meta = goods_order("o1", ("SKU-1", 2))["meta"]
    return {"meta": {**meta, "receiver": [{**RECEIVER, "street": "Hauptstraße", "streetNumber": "7"}]}}


def test_a_changed_receiver_releases_an_address_partial_on_update(client: FlaskClient) -> None:
    assert DEFAULT_SETTINGS["address_recheck"] == "on_update"
    fixed = _address_held(client)
    same = goods_order("o1", ("SKU-1", 2))["meta"]
    assert call(client, "PUT", "/goodsOrder/updateMeta/o1", {"meta": same})[0] == 200
    assert status(client, "o1")["reasonPartiallyReserved"] == "ADDRESS"  # the same address fixes nothing
    assert call(client, "PUT", "/goodsOrder/updateMeta/o1", fixed)[0] == 200
    got = status(client, "o1")
    assert (got["statusName"], got["reasonPartiallyReserved"]) == ("OPEN", "")
    assert stock_of(client, "SKU-1")["reserved"] == 2


def test_a_released_address_partial_without_stock_waits_for_stock(client: FlaskClient) -> None:
    fixed = _address_held(client, stock=1)
    call(client, "PUT", "/goodsOrder/updateMeta/o1", fixed)
    got = status(client, "o1")
    assert (got["statusName"], got["reasonPartiallyReserved"]) == ("PARTIAL", "STOCK")
    assert client.post("/_admin/stock", json={"SKU-1": 2}).get_json()["promoted"] == ["o1"]


def test_address_recheck_operator_keeps_it_until_advanced(client: FlaskClient) -> None:
    settings(client, address_recheck="operator")
    fixed = _address_held(client)
    assert call(client, "PUT", "/goodsOrder/updateMeta/o1", fixed)[0] == 200
    assert (status(client, "o1")["statusName"], status(client, "o1")["reasonPartiallyReserved"]) == ("PARTIAL",
                                                                                                     "ADDRESS")
    client.post("/_admin/stock", json={"SKU-1": 20})  # stock is not what it waits for
    assert status(client, "o1")["statusName"] == "PARTIAL"
    result = advance(client, externalIds=["o1"], to="OPEN")
    assert result["changed"][0]["to"] == "OPEN"
    assert status(client, "o1")["reasonPartiallyReserved"] == ""


def test_advance_open_refuses_a_stock_partial(client: FlaskClient) -> None:
    load(client, stock={"SKU-1": 0})
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))
    result = advance(client, externalIds=["o1"], to="OPEN")
    assert "set stock first" in result["skipped"][0]["reason"]


# -- profiles, through the running sandbox ----------------------------------------------------------------------
def test_lenient_takes_the_other_returns_readings() -> None:
    lenient = PROFILES["lenient"]
    assert {k: lenient[k] for k in ("returns_fields", "returns_ids", "returns_unknown_booking", "returns_repeat_sync",
                                    "announce_required", "duplicate_announce", "address_recheck")} == {
        "returns_fields": "field_list", "returns_ids": "string", "returns_unknown_booking": "404",
        "returns_repeat_sync": "refuse", "announce_required": "example", "duplicate_announce": "reject",
        "address_recheck": "operator"}
    assert not {"returns_date_filter", "returns_stock", "returns_external_product_key"} & set(lenient)


def test_returns_over_http_in_each_profile(sandbox: Sandbox) -> None:
    control = sandbox.control
    control.reset()
    control.wemalo("POST", "/scenario", {"products": [product("p1", "SKU-1")], "stock": {"SKU-1": 5},
                                         "orders": [{**goods_order("o1", ("SKU-1", 1)), "status": "SHIPPED"}]})
    answer = control.wemalo("POST", "/return", {"externalId": "o1", "items": [item("SKU-1", serialNumber="SN-1")],
                                                "trackingNumber": "RT-1"})
    [booking] = answer["bookingIds"]
    api = requests.Session()
    api.headers.update(AUTH)
    base = f"{sandbox.wemalo_url}/v1"
    literal = control.wemalo("GET", "/profile")["profile"] == "literal"
    body = api.get(f"{base}/returns/booked", timeout=10).json()
    row = body["bookings"][0]
    assert (body["page"], body["additionalPage"]) == ((0, False) if literal else (1, False))
    if literal:
        assert list(row) == ["externaProductlId", *EXAMPLE_RETURN_FIELDS[1:]]
        assert row["id"] == booking
    else:
        assert list(row) == list(RETURN_FIELDS)
        assert row["id"] == str(booking)
        assert (row["goodsOrderExternalId"], row["serialNumber"]) == ("o1", "SN-1")
    assert api.put(f"{base}/returns/booked/{booking}", timeout=10).json()["Success"] is True
    again = api.put(f"{base}/returns/booked/{booking}", timeout=10)
    assert again.json()["Success"] is literal  # lenient: a repeated PUT is refused (HTTP 200, body status 400)
    assert api.get(f"{base}/returns/booked", timeout=10).json()["bookings"] == []
    assert [r["synchronised"] for r in control.wemalo("GET", "/returns")["bookings"]] == [True]
    assert [e for e in control.wemalo("GET", "/violations")] == []
