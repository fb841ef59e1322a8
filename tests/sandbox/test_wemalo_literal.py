"""The wemalo simulator read literally: each success answer shaped like its apidoc example (the defaults, profile
"literal"), and the other reading of every setting (docs/api-contract.md, the reviewer's notes)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from sandbox.core import SimContext
from sandbox.wemalo import create_app
from sandbox.wemalo.store import DEFAULT_SETTINGS, PROFILES
from tests.sandbox.test_wemalo_sim import PROFILES as DISPATCHERS
from tests.sandbox.test_wemalo_sim import advance, call, goods_order, load, product, settings


@pytest.fixture
def client() -> FlaskClient:
    return create_app(SimContext(system="wemalo")).test_client()


def ship(client: FlaskClient, ext: str, *positions: tuple[str, int]) -> None:
    assert call(client, "POST", "/goodsOrder/add", goods_order(ext, *positions))[0] == 200
    advance(client, externalIds=[ext], to="SHIPPED", at="2025-03-01T09:00:00")


def keys(client: FlaskClient, method: str, path: str, body: Any = None, **query: Any) -> set[str]:
    code, answer = call(client, method, path, body, **query)
    assert code == 200, answer
    return set(answer)


# -- success_envelope ------------------------------------------------------------------------------------------
def _envelopes(client: FlaskClient) -> dict[str, set[str]]:
    """The top-level fields of one success answer of each served route."""
    load(client, profiles=DISPATCHERS, stock={"SKU-1": 10, "SKU-2": 10, "SKU-3": 0})
    ship(client, "o1", ("SKU-1", 1))
    call(client, "POST", "/goodsOrder/add", goods_order("o2", ("SKU-3", 1)))  # PARTIAL
    parcel = client.get("/_admin/state").get_json()["orders"][0]["parcels"][0]["id"]
    booking = client.get("/_admin/state").get_json()["bookings"][0]["historyId"]
    meta = goods_order("o2", ("SKU-3", 1))["meta"]
    return {
        "add": keys(client, "POST", "/product/add", product("p9", "SKU-9")),
        "addMultiple": keys(client, "POST", "/product/addMultiple", {"products": [product("p8", "SKU-8")]}),
        "update": keys(client, "PUT", "/product/update/p8", {"name": "x"}),
        "get": keys(client, "GET", "/product/get/p1") & {"Success", "status"},
        "getAll": keys(client, "GET", "/product/getAll", fromDate="0101202000"),
        "availableStock": keys(client, "GET", "/product/availableStock/", fromDate="0101202000"),
        "goodsOrder/add": keys(client, "POST", "/goodsOrder/add", goods_order("o3", ("SKU-2", 1))),
        "getStatus": keys(client, "GET", "/goodsOrder/getStatus/o2") & {"Success", "status"},
        "updateMeta": keys(client, "PUT", "/goodsOrder/updateMeta/o2", {"meta": meta}),
        "packages": keys(client, "GET", "/goodsOrder/packages", externalOrderId="o1"),
        "sentPackages": keys(client, "GET", "/goodsOrder/sentPackages/"),
        "packages/sent": keys(client, "GET", "/goodsOrder/packages/sent/"),
        "ack": keys(client, "PUT", f"/goodsOrder/packages/sent/{booking}"),
        "trackingNumber": keys(client, "GET", f"/goodsOrder/package/{parcel}/trackingNumber"),
        "profiles": keys(client, "GET", "/goodsOrder/profiles"),
        "cancel": keys(client, "PUT", "/goodsOrder/cancel/o3", {"reason": "test"}),
    }


def test_success_envelope_example_follows_each_routes_example(client: FlaskClient) -> None:
    both, success, page = {"Success", "status"}, {"Success"}, {"page", "additionalPage", "bookings", "Success"}
    assert _envelopes(client) == {
        "add": both, "addMultiple": both, "get": both,  # the examples show "Success": true, "status": 200
        "getAll": {"products"},  # the example: {"products": [...]} and nothing else
        "availableStock": {"articles", "Success"}, "getStatus": success, "packages": {"packages", "Success"},
        "sentPackages": page, "packages/sent": page, "profiles": {"dispatcher", "Success"},
        "trackingNumber": {"trackingNumber", "profileName", "carrier", "Success"},
        # no success example: both, as before
        "update": both, "goodsOrder/add": both | {"id"}, "updateMeta": both | {"id"}, "ack": both,
        "cancel": both | {"id", "statusName"},
    }
    code, body = call(client, "GET", "/goodsOrder/getStatus/nope")
    assert (code, body["status"], body["Success"]) == (400, 400, False)  # refusals keep their status


def test_success_envelope_uniform_puts_success_and_status_everywhere(client: FlaskClient) -> None:
    settings(client, success_envelope="uniform")
    envelopes = _envelopes(client)
    assert {route for route, fields in envelopes.items() if not {"Success", "status"} <= fields} == set()
    assert call(client, "GET", "/product/getAll", fromDate="0101202000")[1]["status"] == 200


# -- product rows: product_fields, products_include_external_id, product_rows_carry_status ------------------
FULL = product("p1", "SKU-1", "4006381333931", description="d", depth=1.5, height=2, width=3, volume=4.5,
               salesPrice=9.99, purchasePrice=4.2, producerName="Acme", hasSerialNumber=True, ean2="111",
               externalArticleNumber="A-1", ignorePicking=True)


def test_product_rows_are_the_examples_fields_in_its_order(client: FlaskClient) -> None:
    call(client, "POST", "/product/add", FULL)
    row = call(client, "GET", "/product/getAll", fromDate="0101202000")[1]["products"][0]
    assert list(row.items()) == [
        ("productGroup", "default"), ("depthShipping", 0), ("height", 2), ("originCountry", ""), ("description", "d"),
        ("name", "Product SKU-1"), ("volumeShipping", 0), ("salesPrice", 9.99), ("customsTariffNumber", ""),
        ("status", 200), ("width", 3), ("Success", True), ("sku", "SKU-1"), ("depth", 1.5), ("heightShipping", 0),
        ("grossWeight", 250), ("isActive", True), ("ean", "4006381333931"), ("widthShipping", 0), ("netWeight", 0),
        ("producerName", "Acme"), ("volume", 4.5), ("hasSerialNumber", True), ("supplierNumber", ""),
        ("factoryNumber", ""), ("purchasePrice", 4.2)]
    got = call(client, "GET", "/product/get/p1")[1]
    assert got == row  # product/get's example is the same row, "status" and "Success" included


def test_product_fields_all_lists_every_stored_field(client: FlaskClient) -> None:
    call(client, "POST", "/product/add", FULL)
    settings(client, product_fields="all")
    row = call(client, "GET", "/product/getAll", fromDate="0101202000")[1]["products"][0]
    assert (row["ean2"], row["externalArticleNumber"], row["ignorePicking"], row["status"]) == ("111", "A-1", True,
                                                                                               200)
    assert "externalId" not in row
    settings(client, products_include_external_id=True, product_rows_carry_status=False)
    row = call(client, "GET", "/product/getAll", fromDate="0101202000")[1]["products"][0]
    assert (next(iter(row)), "status" in row, "Success" in row) == ("externalId", False, False)
    assert call(client, "GET", "/product/get/p1")[1]["externalId"] == "p1"


# -- missing_product ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("reading", "expected"), [(None, 400), ("400", 400), ("404", 404)])
def test_an_unknown_product_in_each_reading(client: FlaskClient, reading: str | None, expected: int) -> None:
    if reading:
        settings(client, missing_product=reading)
    for method, body in (("GET", None), ("PUT", {"name": "x"})):
        path = "/product/get/nope" if method == "GET" else "/product/update/nope"
        code, answer = call(client, method, path, body)
        assert (code, answer["status"], answer["Success"], answer["field"]) == (expected, expected, False,
                                                                                "externalId")


# -- getStatus: status_fields, missing_order ----------------------------------------------------------------------
def test_get_status_answers_exactly_the_examples_fields(client: FlaskClient) -> None:
    load(client, stock={})
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))
    assert call(client, "GET", "/goodsOrder/getStatus/o1") == (200, {
        "statusId": "100", "statusName": "PARTIAL", "deliveryDate": "", "Success": True})


def test_get_status_field_list_adds_the_listed_fields(client: FlaskClient) -> None:
    settings(client, status_fields="field_list")
    load(client, stock={})
    oid = call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))[1]["id"]
    code, body = call(client, "GET", "/goodsOrder/getStatus/o1")
    assert code == 200
    assert body == {"statusId": "100", "statusName": "PARTIAL", "reasonPartiallyReserved": "STOCK",
                    "blockReason": "", "id": oid, "orderNumber": "B-o1", "deliveryDate": "", "Success": True}


def test_get_status_of_an_unknown_order_literal_default(client: FlaskClient) -> None:
    assert DEFAULT_SETTINGS["missing_order"] == "400"
    code, body = call(client, "GET", "/goodsOrder/getStatus/nope")
    assert (code, body["status"], body["Success"], body["field"]) == (400, 400, False, "externalId")
    assert "nope" in body["message"]
    settings(client, missing_order="empty")
    assert call(client, "GET", "/goodsOrder/getStatus/nope") == (200, {"Success": False})


# -- cancel: which statuses are "picked/packed", late_cancel ---------------------------------------------------
@pytest.mark.parametrize(("status", "cancelled"), [
    ("OPEN", True), ("INPROCESS", True), ("INPICKING", False), ("READYFORSHIPMENT", False),
    ("BLOCKEDPACKED", False), ("PACKED", False), ("SHIPPED", False)])
def test_cancel_until_picking_begins(client: FlaskClient, status: str, cancelled: bool) -> None:
    load(client)
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))
    if status != "OPEN":
        advance(client, externalIds=["o1"], to=status)
    code, body = call(client, "PUT", "/goodsOrder/cancel/o1", {"reason": "customer"})
    if cancelled:
        assert (code, body["Success"], body["statusName"]) == (200, True, "CANCELLED")
    else:
        assert (code, body["status"], body["Success"], body["statusName"]) == (400, 400, False, status)
        assert "picked/packed" in body["message"]
    assert call(client, "GET", "/goodsOrder/getStatus/o1")[1]["statusName"] == ("CANCELLED" if cancelled else status)


def test_late_cancel_ignore_answers_success_without_effect(client: FlaskClient) -> None:
    settings(client, late_cancel="ignore")
    load(client)
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))
    advance(client, externalIds=["o1"], to="READYFORSHIPMENT")
    code, body = call(client, "PUT", "/goodsOrder/cancel/o1", {"reason": "late"})
    assert (code, body["Success"], body["status"], "statusName" in body) == (200, True, 200, False)
    assert call(client, "GET", "/goodsOrder/getStatus/o1")[1]["statusName"] == "READYFORSHIPMENT"


# -- packages: parcel_quantity_field -----------------------------------------------------------------------------
@pytest.mark.parametrize(("reading", "fields"), [
    (None, {"quantitySum"}), ("quantity", {"quantity"}), ("both", {"quantity", "quantitySum"})])
def test_parcel_quantity_field_in_each_reading(client: FlaskClient, reading: str | None, fields: set[str]) -> None:
    if reading:
        settings(client, parcel_quantity_field=reading)
    load(client)
    ship(client, "o1", ("SKU-1", 2), ("SKU-2", 1))
    parcel = call(client, "GET", "/goodsOrder/packages", externalOrderId="o1")[1]["packages"][0]
    assert {k: parcel[k] for k in ("quantity", "quantitySum") if k in parcel} == dict.fromkeys(fields, 3)
    assert (parcel["errorMessage"], parcel["storageCell"], parcel["units"]) == ("", "", [])


# -- sent feeds: booking_product_id, paging -------------------------------------------------------------------
@pytest.mark.parametrize(("reading", "kind"), [(None, int), ("string", str)])
def test_booking_product_id_in_each_reading(client: FlaskClient, reading: str | None, kind: type) -> None:
    if reading:
        settings(client, booking_product_id=reading)
    load(client)
    ship(client, "o1", ("SKU-1", 1))
    pid = next(p["id"] for p in client.get("/_admin/state").get_json()["products"] if p["sku"] == "SKU-1")
    for path in ("/goodsOrder/sentPackages/", "/goodsOrder/packages/sent/"):
        row = call(client, "GET", path)[1]["bookings"][0]
        assert (type(row["productId"]), row["productId"]) == (kind, kind(pid))
        assert (type(row["count"]), type(row["historyId"]), type(row["goodsOrderId"])) == (int, str, int)


def _queue(client: FlaskClient, **query: Any) -> tuple[Any, bool, list[str]]:
    body = call(client, "GET", "/goodsOrder/packages/sent/", **query)[1]
    return body["page"], body["additionalPage"], [b["historyId"] for b in body["bookings"]]


@pytest.fixture
def three_bookings(client: FlaskClient) -> list[str]:
    settings(client, sent_page_size=2)
    load(client)
    ship(client, "o1", ("SKU-1", 1), ("SKU-2", 1), ("SKU-3", 1))
    return [b["historyId"] for b in client.get("/_admin/state").get_json()["bookings"]]


def test_queue_pages_are_zero_based(client: FlaskClient, three_bookings: list[str]) -> None:
    first, second = three_bookings[:2], three_bookings[2:]
    assert _queue(client) == (0, True, first)  # no page: page 0, echoed
    assert _queue(client, page=0) == (0, True, first)
    assert _queue(client, page=1) == (1, False, second)
    assert _queue(client, page=2) == (2, False, [])


def test_queue_pages_one_based(client: FlaskClient, three_bookings: list[str]) -> None:
    settings(client, page_base=1)
    first, second = three_bookings[:2], three_bookings[2:]
    assert _queue(client) == (1, True, first)
    assert _queue(client, page=1) == (1, True, first)
    assert _queue(client, page=2) == (2, False, second)
    assert _queue(client, page=0) == (1, True, first)  # below the base: the first page, echoed as served


def test_page_param_ignored_repeats_the_first_page(client: FlaskClient, three_bookings: list[str]) -> None:
    settings(client, page_param_ignored=True)
    first = three_bookings[:2]
    assert _queue(client, page=1) == (0, True, first)  # "more rows" for ever: a client must see the repeat
    assert _queue(client, page=5) == (0, True, first)


# -- availableStock: attributes, B-stock, stock_quantity ------------------------------------------------------
def _articles(client: FlaskClient, since: str = "0101202000") -> dict[str, dict[str, Any]]:
    body = call(client, "GET", "/product/availableStock/", fromDate=since)[1]
    return {a["sku"]: a for a in body["articles"]}


def test_available_stock_is_per_attribute_with_virtual_quantity_zero(client: FlaskClient) -> None:
    load(client, stock={"SKU-1": {"default": 5, "b_stock": 2}, "SKU-2": 3, "SKU-3": 0})
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 2)))
    articles = _articles(client)
    one = articles["SKU-1"]
    assert (set(one), one["externalId"], one["virtualQuantity"], one["ean"]) == (
        {"ean", "id", "attributes", "sku", "externalId", "virtualQuantity"}, "p1", 0, "4006381333931")
    assert one["attributes"] == [{"id": 91, "isDefault": True, "external": "1", "quantity": 3},  # net of o1
                                 {"id": 92, "isDefault": False, "external": "2", "quantity": 2}]
    assert articles["SKU-2"]["attributes"] == [{"id": 91, "isDefault": True, "external": "1", "quantity": 3}]
    assert {a["virtualQuantity"] for a in articles.values()} == {0}
    settings(client, stock_quantity="on_hand")
    assert [a["quantity"] for a in _articles(client)["SKU-1"]["attributes"]] == [5, 2]


def test_admin_stock_sets_default_and_b_stock(client: FlaskClient) -> None:
    settings(client, now="2025-03-01T10:00:00")
    load(client)
    settings(client, now="2025-03-01T12:00:00")
    result = client.post("/_admin/stock", json={"SKU-1": {"b_stock": 4}}).get_json()
    assert (result["ok"], result["stock"]) == (True, {"SKU-1": {"b_stock": 4}})
    changed = _articles(client, "0103202512")
    assert list(changed) == ["SKU-1"]  # a B-stock change is a stock change
    assert [a["quantity"] for a in changed["SKU-1"]["attributes"]] == [10, 4]  # the default kept
    client.post("/_admin/stock", json={"SKU-1": 7})  # a plain number: the default attribute
    client.post("/_admin/stock", json={"SKU-1": {"b_stock": 0}})
    assert [a["quantity"] for a in _articles(client)["SKU-1"]["attributes"]] == [7, 0]  # 0 is still listed
    stock = next(p["stock"] for p in client.get("/_admin/state").get_json()["products"] if p["sku"] == "SKU-1")
    assert (stock["physical"], stock["b_stock"]) == (7, 0)
    for bad in ({"SKU-1": {"b": 1}}, {"SKU-1": {"default": 1.5}}, {"SKU-1": {}}, {"SKU-1": {"b_stock": True}}):
        assert client.post("/_admin/stock", json=bad).status_code == 400, bad


# -- profiles ------------------------------------------------------------------------------------------------------
def test_literal_profile_is_the_defaults_and_lenient_takes_the_other_readings(client: FlaskClient) -> None:
    assert client.get("/_admin/settings").get_json() == DEFAULT_SETTINGS
    client.post("/_admin/profile", json={"name": "lenient"})
    current = client.get("/_admin/settings").get_json()
    assert current == {**DEFAULT_SETTINGS, **PROFILES["lenient"]}
    assert {k for k, v in PROFILES["lenient"].items() if DEFAULT_SETTINGS[k] == v} == set()
    assert (current["stock_quantity"], current["page_param_ignored"]) == ("available", False)
    load(client)
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))
    status = call(client, "GET", "/goodsOrder/getStatus/o1")[1]
    assert (status["status"], status["reasonPartiallyReserved"], status["orderNumber"]) == (200, "", "B-o1")
    row = call(client, "GET", "/product/getAll", fromDate="0101202000")[1]["products"][0]
    assert (row["externalId"], "status" in row, "ean2" in row) == ("p1", False, True)
