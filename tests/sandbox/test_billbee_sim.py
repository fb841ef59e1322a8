"""Fidelity tests of the Billbee API v1 simulator (sandbox/billbee), through Flask's test client."""

from __future__ import annotations

import base64
import json
import re
import time
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from sandbox import demo_data
from sandbox.billbee import DEFAULT_SETTINGS, create_app
from sandbox.core import ARRIVED
from tests.sandbox.billbee_client import API, AUTH, ORDER_BASE

STOCKS = [{"Id": 11, "Name": "Hauptlager", "Description": None, "IsDefault": True},
          {"Id": 12, "Name": "Zweitlager", "Description": "Sperrgut", "IsDefault": False}]
PRODUCTS = [
    {"Id": 100000317105650, "SKU": "A-1", "EAN": "4000000000017", "Title": "Kaffeetasse Steingut", "Price": 19.95,
     "_CreatedAt": "2026-03-01T08:00:00",
     "InvoiceText": [{"Text": "Tasse", "LanguageCode": "DE"}],
     "Stocks": [{"StockId": 11, "StockCurrent": 5}, {"StockId": 12, "StockCurrent": 1}]},
    {"Id": 100000317105651, "SKU": "B-2", "EAN": "4000000000024", "Title": "Frühstücksteller", "Price": 9.5,
     "StockCurrent": 7, "_CreatedAt": "2026-01-01T08:00:00"},
    {"Id": 100000317105652, "SKU": "SET-1", "Type": 2, "Title": "Frühstücksset", "_CreatedAt": "2026-05-01T08:00:00",
     "BillOfMaterial": [{"SKU": "A-1", "Amount": 2}, {"SKU": "B-2", "Amount": 1}]},
]
PROVIDERS = [{"id": 5001, "name": "Freier Provider", "products": [
    {"id": 6001, "displayName": "DHL Paket", "productName": "V01PAK", "_carrierId": 2},
    {"id": 6002, "displayName": "DPD Classic", "productName": "Classic"}]}]
TIMESTAMP = re.compile(r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)([^"]*)"')


def order(n: int, **fields: Any) -> dict[str, Any]:
    base = {
        "BillBeeOrderId": ORDER_BASE + n, "State": 3, "Tags": ["wemalo"],
        "CreatedAt": f"2026-11-{n + 1:02d}T09:00:00", "LastModifiedAt": f"2026-11-{n + 1:02d}T10:00:00",
        "ShippingAddress": {"FirstName": "Jürgen", "LastName": "Groß", "Street": "Hauptstraße", "HouseNumber": "5",
                            "Zip": "04109", "City": "Leipzig", "CountryISO2": "DE"},
        "OrderItems": [{"Product": {"SKU": "A-1"}, "Quantity": 2, "TotalPrice": 39.9}],
    }
    return {**base, **fields}


def make(orders: list[dict[str, Any]] | None = None, **settings: Any) -> FlaskClient:
    client = create_app(**settings).test_client()
    resp = client.post("/_admin/scenario", json={"products": PRODUCTS, "stocks": STOCKS,
                                                 "shipping_providers": PROVIDERS, "orders": orders or []})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return client


def call(client: FlaskClient, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
         **kwargs: Any) -> TestResponse:
    return client.open(API + path, method=method, json=body, headers=AUTH if headers is None else headers, **kwargs)


def log(client: FlaskClient) -> list[dict[str, Any]]:
    return client.get("/_admin/requests").get_json()


def ids(resp: TestResponse) -> list[int]:
    return [o["BillBeeOrderId"] - ORDER_BASE for o in resp.get_json()["Data"]]


def get_order(client: FlaskClient, n: int) -> dict[str, Any]:
    return call(client, "GET", f"/orders/{ORDER_BASE + n}").get_json()["Data"]


# -- authentication -------------------------------------------------------------------------------------


def test_auth_missing_key_wrong_password_and_status_setting() -> None:
    client = make(throttle=False)
    no_key = call(client, "GET", "/orders", headers={"Authorization": AUTH["Authorization"]})
    assert no_key.status_code == 401
    assert no_key.get_json()["ErrorMessage"]
    wrong = base64.b64encode(f"{DEFAULT_SETTINGS['username']}:wrong-Passw0rd1".encode()).decode()
    bad_pw = call(client, "GET", "/orders", headers={**AUTH, "Authorization": f"Basic {wrong}"})
    assert bad_pw.status_code == 401
    no_basic = call(client, "GET", "/orders", headers={"X-Billbee-Api-Key": AUTH["X-Billbee-Api-Key"]})
    assert no_basic.status_code == 401
    assert "Basic" in no_basic.headers["WWW-Authenticate"]
    assert call(client, "GET", "/orders").status_code == 200
    client.post("/_admin/settings", json={"auth_failure_status": 403})
    assert call(client, "GET", "/orders", headers={}).status_code == 403


def test_unknown_route_is_404_and_a_violation() -> None:
    client = make(throttle=False)
    assert call(client, "GET", "/nothing/here").status_code == 404
    assert call(client, "DELETE", "/orders").status_code == 405
    violations = [v for e in log(client) for v in e["violations"]]
    assert any("unknown route" in v for v in violations)
    assert any("method DELETE" in v for v in violations)


# -- envelope and paging ----------------------------------------------------------------------------------


def test_envelope_paging_sort_and_last_page() -> None:
    client = make([order(n) for n in (5, 1, 3, 2, 7, 4, 6)], throttle=False)
    first = call(client, "GET", "/orders?page=1&pageSize=3").get_json()
    assert first["Paging"] == {"Page": 1, "TotalPages": 3, "TotalRows": 7, "PageSize": 3}
    assert (first["ErrorMessage"], first["ErrorCode"], first["ErrorDescription"]) == (None, 0, 0)  # int32 enum
    assert [o["BillBeeOrderId"] - ORDER_BASE for o in first["Data"]] == [1, 2, 3]
    last = call(client, "GET", "/orders?page=3&pageSize=3")
    assert ids(last) == [7]
    assert ids(call(client, "GET", "/orders?page=4&pageSize=3")) == []
    single = call(client, "GET", f"/orders/{ORDER_BASE + 3}").get_json()
    assert "Paging" not in single
    assert single["Data"]["BillBeeOrderId"] == ORDER_BASE + 3
    default = call(client, "GET", "/orders").get_json()["Paging"]
    assert default["PageSize"] == 50
    assert default["TotalPages"] == 1


def test_page_size_250_max_clamp_or_error() -> None:
    client = make([order(1)], throttle=False)
    ok = call(client, "GET", "/orders?pageSize=250")
    assert ok.get_json()["Paging"]["PageSize"] == 250
    assert log(client)[-1]["violations"] == []
    clamped = call(client, "GET", "/products?pageSize=251")
    assert clamped.status_code == 200
    assert clamped.get_json()["Paging"]["PageSize"] == 250
    assert any("maximum 250" in v for v in log(client)[-1]["violations"])
    client.post("/_admin/settings", json={"oversize_page": "error"})
    refused = call(client, "GET", "/orders?pageSize=1000")
    assert refused.status_code == 400
    assert refused.get_json()["ErrorCode"] != 0


# -- order filters ------------------------------------------------------------------------------------------


def test_list_parameters_in_both_forms() -> None:
    client = make([order(1), order(2, State=4), order(3, State=1), order(4, State=3)], throttle=False)
    repeated = call(client, "GET", "/orders?orderStateId=3&orderStateId=4")
    indexed = call(client, "GET", "/orders?orderStateId[0]=3&orderStateId[1]=4")
    encoded = call(client, "GET", "/orders?orderStateId%5B1%5D=4&orderStateId%5B0%5D=3")
    assert ids(repeated) == ids(indexed) == ids(encoded) == [1, 2, 4]
    assert all(e["violations"] == [] for e in log(client))
    call(client, "GET", "/orders?page[0]=1")
    assert any("not a list" in v for v in log(client)[-1]["violations"])


def test_tag_filter_all_or_any_case_insensitive() -> None:
    orders = [order(1, Tags=["wemalo", "Express"]), order(2, Tags=["WEMALO"]), order(3, Tags=["express"]),
              order(4, Tags=[])]
    client = make(orders, throttle=False)
    assert ids(call(client, "GET", "/orders?tag=wemalo&tag=express")) == [1]
    assert ids(call(client, "GET", "/orders?tag=Wemalo")) == [1, 2]
    client.post("/_admin/settings", json={"tag_filter": "any"})
    assert ids(call(client, "GET", "/orders?tag[0]=wemalo&tag[1]=express")) == [1, 2, 3]
    client.post("/_admin/settings", json={"tag_case_insensitive": False})
    assert ids(call(client, "GET", "/orders?tag=WEMALO")) == [2]


def test_exclude_tags() -> None:
    orders = [order(1, Tags=["wemalo", "order_received_by_wemalo"]), order(2, Tags=["wemalo"]), order(3, Tags=[]),
              order(4, Tags=["Order_Received_By_Wemalo"])]
    client = make(orders, throttle=False)
    client.post("/_admin/settings", json={"tag_case_insensitive": False})
    resp = call(client, "GET", "/orders?orderStateId=3&tag=order_received_by_wemalo&excludeTags=true")
    assert ids(resp) == [2, 3, 4]  # strict: order 4's tag is spelled differently
    client.post("/_admin/settings", json={"tag_case_insensitive": True})
    resp = call(client, "GET", "/orders?orderStateId=3&tag=order_received_by_wemalo&excludeTags=true")
    assert ids(resp) == [2, 3]
    assert ids(call(client, "GET", "/orders?tag=order_received_by_wemalo&excludeTags=false")) == [1, 4]


def test_modified_at_min_exclusive_max_inclusive() -> None:
    stamps = ["2026-11-20T10:00:00", "2026-11-20T10:00:00.317", "2026-11-20T10:00:01"]
    client = make([order(n + 1, LastModifiedAt=s) for n, s in enumerate(stamps)], throttle=False)
    assert ids(call(client, "GET", "/orders?modifiedAtMin=2026-11-20T10:00:00.317")) == [3]
    assert ids(call(client, "GET", "/orders?modifiedAtMax=2026-11-20T10:00:00.317")) == [1, 2]
    assert ids(call(client, "GET", "/orders?modifiedAtMin=2026-11-20 10:00")) == [2, 3]  # C# SDK format
    assert ids(call(client, "GET", "/orders?modifiedAtMin=2026-11-20T11:00:00%2B01:00")) == [2, 3]  # offset
    assert ids(call(client, "GET", f"/orders?minimumBillBeeOrderId={ORDER_BASE + 2}")) == [2, 3]
    assert ids(call(client, "GET", "/orders?minOrderDate=2026-11-03&maxOrderDate=2026-11-03T09:00:00")) == [2]


# -- writes -------------------------------------------------------------------------------------------------


def test_writes_bump_last_modified_unless_switched_off_for_tags() -> None:
    client = make([order(1), order(2)], throttle=False)
    client.post("/_admin/clock", json={"now": "2026-11-26T12:00:00"})
    call(client, "POST", f"/orders/{ORDER_BASE + 1}/tags", {"Tags": ["x"]})
    assert get_order(client, 1)["LastModifiedAt"] == "2026-11-26T12:00:00"
    call(client, "PUT", f"/orders/{ORDER_BASE + 1}/tags", {"Tags": ["y"]})
    assert get_order(client, 1)["LastModifiedAt"] == "2026-11-26T12:00:00.003"  # always later than before
    assert ids(call(client, "GET", "/orders?modifiedAtMin=2026-11-26T11:59:59")) == [1]

    client.post("/_admin/settings", json={"writes_bump_modified": False})
    client.post("/_admin/clock", json={"advance_seconds": 60})
    call(client, "POST", f"/orders/{ORDER_BASE + 2}/tags", {"Tags": ["x"]})
    call(client, "PUT", f"/orders/{ORDER_BASE + 2}/tags", {"Tags": ["y"]})
    assert get_order(client, 2)["LastModifiedAt"] == "2026-11-03T10:00:00"
    call(client, "PUT", f"/orders/{ORDER_BASE + 2}/orderstate", {"NewStateId": 16})
    assert get_order(client, 2)["LastModifiedAt"] == "2026-11-26T12:01:00"


def test_tags_post_merges_case_insensitively_put_replaces() -> None:
    client = make([order(1, Tags=["wemalo"])], throttle=False)
    resp = call(client, "POST", f"/orders/{ORDER_BASE + 1}/tags", {"Tags": ["WEMALO", "order_received_by_wemalo"]})
    assert resp.status_code == 200
    assert resp.get_json()["ErrorCode"] == 0
    assert get_order(client, 1)["Tags"] == ["wemalo", "order_received_by_wemalo"]
    call(client, "PUT", f"/orders/{ORDER_BASE + 1}/tags", {"Tags": ["b", "B", "c"]})
    assert get_order(client, 1)["Tags"] == ["b", "c"]
    call(client, "PUT", f"/orders/{ORDER_BASE + 1}/tags", {"Tags": []})
    assert get_order(client, 1)["Tags"] == []
    assert call(client, "POST", f"/orders/{ORDER_BASE + 9}/tags", {"Tags": ["x"]}).status_code == 404


def test_orderstate() -> None:
    client = make([order(1)], throttle=False)
    resp = call(client, "PUT", f"/orders/{ORDER_BASE + 1}/orderstate", {"NewStateId": 4})
    assert resp.status_code == 200
    assert resp.get_data() == b""
    assert get_order(client, 1)["State"] == 4
    bad = call(client, "PUT", f"/orders/{ORDER_BASE + 1}/orderstate", {"NewStateId": 18})
    assert bad.status_code == 400
    assert get_order(client, 1)["State"] == 4
    assert any("NewStateId" in v for v in log(client)[-2]["violations"])
    states = call(client, "GET", "/enums/orderstates").get_json()
    assert isinstance(states, list)
    assert {"Id": 3, "Name": "Zahlung_erhalten"} in states


def test_shipment_appended_and_invalid_refused() -> None:
    client = make([order(1)], throttle=False)
    client.post("/_admin/clock", json={"now": "2026-11-26T14:05:07.36"})
    body = {"ShippingId": "00340434161234567890", "OrderId": "#5001", "Comment": "Paket 1/1",
            "ShippingProviderId": 5001, "ShippingProviderProductId": 6001, "ShipmentType": 0}
    resp = call(client, "POST", f"/orders/{ORDER_BASE + 1}/shipment", body)
    assert resp.status_code == 200
    assert resp.get_data() == b""
    shipment = get_order(client, 1)["ShippingIds"][-1]
    assert shipment == {"BillbeeId": shipment["BillbeeId"], "ShippingId": "00340434161234567890",
                        "Shipper": "Freier Provider", "Created": "2026-11-26T14:05:07.36", "TrackingUrl": "-",
                        "ShippingProviderId": 5001, "ShippingProviderProductId": 6001, "ShippingCarrier": 2,
                        "ShipmentType": 0}
    assert shipment["BillbeeId"] > 10**14
    assert log(client)[-2]["violations"] == []
    assert client.get("/_admin/state").get_json()["shipment_requests"][0]["Body"]["Comment"] == "Paket 1/1"

    bad = call(client, "POST", f"/orders/{ORDER_BASE + 1}/shipment", {"ShippingId": "1", "ShipmentType": 2})
    assert bad.status_code == 400
    assert bad.get_json()["ErrorMessage"]
    assert any("ShipmentType" in v for v in log(client)[-1]["violations"])
    unknown = call(client, "POST", f"/orders/{ORDER_BASE + 1}/shipment", {"ShippingId": "1",
                                                                          "ShippingProviderId": 999})
    assert unknown.status_code == 400
    assert len(get_order(client, 1)["ShippingIds"]) == 1


@pytest.mark.parametrize("reading", ["refuse", "accept"])
def test_a_shipment_naming_a_shipping_product_the_account_lacks(reading: str) -> None:
    client = make([order(1)], throttle=False, unknown_shipping_product=reading)
    body = {"ShippingId": "00340434161234567891", "ShippingProviderId": 5001, "ShippingProviderProductId": 6999,
            "ShipmentType": 0}
    resp = call(client, "POST", f"/orders/{ORDER_BASE + 1}/shipment", body)
    shipments = get_order(client, 1).get("ShippingIds") or []
    if reading == "refuse":
        assert resp.status_code == 400
        assert "6999" in resp.get_json()["ErrorMessage"]
        assert shipments == []
    else:
        assert resp.status_code == 200
        assert [(s["ShippingId"], s["ShippingProviderProductId"]) for s in shipments] == [
            ("00340434161234567891", 6999)]


def test_message_stored_per_order() -> None:
    client = make([order(1)], throttle=False)
    resp = call(client, "POST", f"/orders/{ORDER_BASE + 1}/message",
                {"IsInternal": True, "SenderName": "connector", "Text": "An wemalo übergeben"})
    assert resp.status_code == 200
    messages = client.get("/_admin/state").get_json()["messages"][str(ORDER_BASE + 1)]
    assert messages[0]["Text"] == "An wemalo übergeben"
    assert messages[0]["IsInternal"] is True


def test_updatestockmultiple_default_stock_bom_and_unknown_sku() -> None:
    client = make(throttle=False)
    body = [{"Sku": "A-1", "NewQuantity": 42, "Reason": "wemalo"},
            {"Sku": "a-1", "StockId": 12, "NewQuantity": 3.5},
            {"Sku": "SET-1", "NewQuantity": 10},
            {"Sku": "NOPE-9", "NewQuantity": 1}]
    resp = call(client, "POST", "/products/updatestockmultiple", body)
    results = resp.get_json()
    assert resp.status_code == 200
    assert isinstance(results, list)
    assert len(results) == 4
    assert results[0]["ErrorCode"] == 0
    assert results[0]["Data"]["SKU"] == "A-1"
    assert (results[0]["Data"]["OldStock"], results[0]["Data"]["CurrentStock"]) == (5, 42)
    assert '"OldStock":5.0000,"CurrentStock":42.0000' in resp.get_data(as_text=True)
    assert results[1]["ErrorCode"] == 0
    assert results[1]["Data"]["CurrentStock"] == 3.5
    assert results[2]["ErrorCode"] != 0
    assert "SET-1" in results[2]["ErrorMessage"]
    assert results[3]["ErrorCode"] != 0
    assert "NOPE-9" in results[3]["ErrorMessage"]
    article = call(client, "GET", "/products/A-1?lookupBy=sku").get_json()["Data"]
    assert article["StockCurrent"] == 42
    assert {s["StockId"]: s["StockCurrent"] for s in article["Stocks"]} == {11: 42, 12: 3.5}
    writes = client.get("/_admin/state").get_json()["stock_writes"]
    assert [w["Result"] for w in writes] == ["ok", "ok", "bom", "unknown_sku"]
    assert log(client)[-1]["violations"] == []
    single = call(client, "POST", "/products/updatestock", {"Sku": "B-2", "NewQuantity": 1})
    assert single.get_json()["Data"]["CurrentStock"] == 1


def test_deleted_order_answers_like_a_missing_one() -> None:
    client = make([order(1)], throttle=False)
    assert client.delete(f"/_admin/orders/{ORDER_BASE + 1}").status_code == 200
    assert call(client, "GET", f"/orders/{ORDER_BASE + 1}").status_code == 404
    missing = call(client, "POST", f"/orders/{ORDER_BASE + 1}/tags", {"Tags": ["x"]})
    assert missing.status_code == 404
    assert missing.get_json()["ErrorCode"] == 2
    assert call(client, "PUT", f"/orders/{ORDER_BASE + 1}/orderstate", {"NewStateId": 4}).status_code == 404
    client.post("/_admin/settings", json={"missing_order": "200_error"})
    soft = call(client, "GET", f"/orders/{ORDER_BASE + 1}")
    assert soft.status_code == 200
    assert (soft.get_json()["ErrorCode"], soft.get_json()["ErrorDescription"]) == (2, 2)
    client.post("/_admin/settings", json={"error_description": "name"})
    soft = call(client, "GET", f"/orders/{ORDER_BASE + 1}")
    assert (soft.get_json()["ErrorCode"], soft.get_json()["ErrorDescription"]) == (2, "OrderNotFound")


# -- reads and data shapes ----------------------------------------------------------------------------------


def test_products_lookup_and_filters() -> None:
    client = make(throttle=False)
    assert call(client, "GET", "/products/4000000000024?lookupBy=ean").get_json()["Data"]["SKU"] == "B-2"
    assert call(client, "GET", "/products/100000317105650").get_json()["Data"]["SKU"] == "A-1"
    assert call(client, "GET", "/products/nope?lookupBy=sku").status_code == 404
    rows = call(client, "GET", "/products?minimumBillBeeArticleId=100000317105651").get_json()["Data"]
    assert [r["SKU"] for r in rows] == ["B-2", "SET-1"]
    bundle = rows[1]
    assert bundle["Type"] == 2
    assert bundle["StockCurrent"] is None
    assert bundle["BillOfMaterial"] == [{"Amount": 2, "ArticleId": 100000317105650, "SKU": "A-1"},
                                        {"Amount": 1, "ArticleId": 100000317105651, "SKU": "B-2"}]
    assert "_CreatedAt" not in bundle
    newer = call(client, "GET", "/products?minCreatedAt=2026-02-01&maximumBillBeeArticleId=100000317105651")
    assert [r["SKU"] for r in newer.get_json()["Data"]] == ["A-1"]
    stocks = call(client, "GET", "/products/stocks").get_json()["Data"]
    assert [s["Id"] for s in stocks if s["IsDefault"]] == [11]


def test_article_title_source() -> None:
    client = make([order(1)], throttle=False)
    assert get_order(client, 1)["OrderItems"][0]["Product"]["Title"] == "Kaffeetasse Steingut"
    resp = call(client, "GET", f"/orders/{ORDER_BASE + 1}?articleTitleSource=2").get_json()
    assert resp["Data"]["OrderItems"][0]["Product"]["Title"] == "Tasse"


def test_shipping_providers_raw_array_lower_camel() -> None:
    client = make(throttle=False)
    data = call(client, "GET", "/shipment/shippingproviders").get_json()
    assert data == [{"id": 5001, "name": "Freier Provider", "products": [
        {"id": 6001, "displayName": "DHL Paket", "productName": "V01PAK"},
        {"id": 6002, "displayName": "DPD Classic", "productName": "Classic"}]}]


def test_naive_timestamps_and_decimals_in_raw_text() -> None:
    client = make([order(1, LastModifiedAt="2026-11-26T13:31:59.317", PayedAt="2026-11-26T13:32:39.36")],
                  throttle=False)
    text = call(client, "GET", "/orders").get_data(as_text=True)
    assert '"Quantity":2.000' in text
    assert '"TotalPrice":39.9000000' in text
    assert '"LastModifiedAt":"2026-11-26T13:31:59.317"' in text
    assert '"PayedAt":"2026-11-26T13:32:39.36"' in text
    assert '"CreatedAt":"2026-11-02T09:00:00"' in text
    assert '"BillBeeOrderId":300000180937795' in text
    assert "Jürgen" in text
    stamps = TIMESTAMP.findall(text)
    assert stamps
    assert all(suffix == "" for _, suffix in stamps)
    assert all(len(s.split(".")[1]) <= 3 for s, _ in stamps if "." in s)
    assert re.search(r'"TaxAmount":6\.37058823529411764705882352\d*[,}]', text)  # .NET decimal division


# -- throttling ------------------------------------------------------------------------------------------------


def test_endpoint_throttle_and_retry_after_settings() -> None:
    client = make([order(1)], retry_after="always")
    assert [call(client, "GET", "/orders").status_code for _ in range(2)] == [200, 200]
    third = call(client, "GET", "/orders")
    assert third.status_code == 429
    assert third.headers["Retry-After"] == "1"
    assert call(client, "GET", "/products").status_code == 200  # another endpoint has its own budget
    # tags on two different orders are one endpoint (route rule + method)
    assert call(client, "POST", f"/orders/{ORDER_BASE + 1}/tags", {"Tags": ["a"]}).status_code == 200
    assert call(client, "POST", f"/orders/{ORDER_BASE + 2}/tags", {"Tags": ["a"]}).status_code == 404
    assert call(client, "POST", f"/orders/{ORDER_BASE + 3}/tags", {"Tags": ["a"]}).status_code == 429

    client.post("/_admin/settings", json={"retry_after": "never"})
    assert "Retry-After" not in call(client, "GET", "/orders").headers
    client.post("/_admin/settings", json={"retry_after": "alternate"})
    headers = [("Retry-After" in call(client, "GET", "/orders").headers) for _ in range(4)]
    assert headers[0] != headers[1]
    assert headers[:2] == headers[2:]


def test_user_throttle_across_endpoints() -> None:
    client = make([order(1)])
    paths = ["/orders", "/products", "/products/stocks", "/shipment/shippingproviders", "/enums/orderstates"]
    statuses = [call(client, "GET", p).status_code for p in paths for _ in range(2)]
    assert statuses == [200] * 10
    assert call(client, "GET", "/enums/shippingcarriers").status_code == 429


def test_throttle_counts_requests_when_they_arrived_in_arrival_order() -> None:
    """A request that waited for a busy simulator thread is judged by its arrival, among its true neighbours."""
    client = make([order(1)])
    t0 = time.monotonic() + 1000  # a clock region of its own

    def at(offset: float, path: str = "/orders") -> int:
        return call(client, "GET", path, environ_overrides={ARRIVED: t0 + offset}).status_code

    assert at(0.5) == 200
    assert at(0.0) == 200  # arrived first, checked second
    assert at(0.99) == 429  # three within one second of arrival, whatever the order of checking
    assert at(1.0) == 200  # one second after the first arrival: a slot again
    assert at(1.49) == 429
    assert at(1.5, "/products") == 200  # endpoints apart


def test_get_order_six_per_minute_per_order() -> None:
    client = make([order(1), order(2)], endpoint_rate=100, user_rate=100, retry_after="always")
    assert [call(client, "GET", f"/orders/{ORDER_BASE + 1}").status_code for _ in range(6)] == [200] * 6
    seventh = call(client, "GET", f"/orders/{ORDER_BASE + 1}")
    assert seventh.status_code == 429
    assert int(seventh.headers["Retry-After"]) > 1
    assert call(client, "GET", f"/orders/{ORDER_BASE + 2}").status_code == 200


# -- spec violations ----------------------------------------------------------------------------------------------


def test_violations_recorded_while_answered_normally() -> None:
    client = make([order(1)], throttle=False)
    good = call(client, "GET", "/orders?orderStateId=3&tag=wemalo&modifiedAtMin=2026-01-01T00:00:00&page=1")
    assert good.status_code == 200
    assert log(client)[-1]["violations"] == []
    unknown = call(client, "GET", "/orders?state=3")
    assert unknown.status_code == 200
    assert log(client)[-1]["violations"] == ["unknown query parameter 'state'"]
    call(client, "GET", "/orders?orderStateId=paid&minimumBillBeeOrderId=x")
    assert len(log(client)[-1]["violations"]) == 2
    call(client, "POST", f"/orders/{ORDER_BASE + 1}/tags", {"Tags": "wemalo", "Extra": 1})
    assert len(log(client)[-1]["violations"]) == 2
    call(client, "POST", f"/orders/{ORDER_BASE + 1}/shipment", {"ShippingId": "1", "ShipmentUrl": "https://x"})
    assert any("ShipmentUrl" in v for v in log(client)[-1]["violations"])
    call(client, "POST", "/products/updatestockmultiple", [{"Sku": "A-1", "NewQuantity": "7"}])
    assert any("NewQuantity" in v for v in log(client)[-1]["violations"])
    assert call(client, "POST", f"/orders/{ORDER_BASE + 1}/tags", {"Tags": ["ok"]}).status_code == 200
    assert log(client)[-1]["violations"] == []
    listed = client.get("/_admin/violations").get_json()
    assert len(listed) == 5
    assert all("X-Billbee-Api-Key" not in json.dumps(e) for e in log(client))


# -- faults ---------------------------------------------------------------------------------------------------------

FAULTS = ["429", "429_no_retry_after", "500", "503", "html_error", "malformed_json"]


def _fault_run(client: FlaskClient, seed: int) -> list[tuple[int, bool]]:
    client.post("/_admin/faults", json={"rate": 0.7, "seed": seed, "kinds": FAULTS})
    return [(r.status_code, "Retry-After" in r.headers) for r in (call(client, "GET", "/orders") for _ in range(15))]


def test_faults_reproducible_with_seed() -> None:
    client = make([order(1)], throttle=False)
    first, again = _fault_run(client, 11), _fault_run(client, 11)
    assert first == again
    assert len({s for s, _ in first}) > 2
    assert [e["fault"] for e in log(client)[-15:]] == [e["fault"] for e in log(client)[-30:-15]]


@pytest.mark.parametrize("kind", FAULTS)
def test_fault_rendering(kind: str) -> None:
    client = make([order(1)], throttle=False)
    client.post("/_admin/faults", json={"rate": 1.0, "seed": 1, "kinds": [kind]})
    resp = call(client, "GET", "/orders")
    text = resp.get_data(as_text=True)
    if kind.startswith("429"):
        assert resp.status_code == 429
        assert ("Retry-After" in resp.headers) == (kind == "429")
    elif kind in ("500", "503"):
        assert resp.status_code == int(kind)
        assert resp.get_json()["ErrorCode"] == 8
        assert resp.get_json()["ErrorMessage"]
    elif kind == "html_error":
        assert resp.status_code == 502
        assert resp.mimetype == "text/html"
        assert "<html" in text
    else:
        assert resp.status_code == 200
        assert resp.mimetype == "application/json"
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
    assert log(client)[-1]["fault"] == kind


# -- admin --------------------------------------------------------------------------------------------------------


def test_admin_orders_add_patch_delete() -> None:
    client = make(throttle=False)
    created = client.post("/_admin/orders", json={"orders": [
        {"Tags": ["wemalo"], "OrderItems": [{"Product": {"SKU": "SET-1"}, "Quantity": 1}]}]}).get_json()["orders"]
    new = created[0]
    assert new["BillBeeOrderId"] >= ORDER_BASE
    assert new["State"] == 3
    item = new["OrderItems"][0]
    assert item["Product"]["Type"] == 2
    assert item["Product"]["BillbeeId"] == 100000317105652
    assert item["BillbeeId"] > 10**14
    assert new["ShippingIds"] == []
    before = new["LastModifiedAt"]
    patched = client.patch(f"/_admin/orders/{new['BillBeeOrderId']}", json={
        "ShippingAddress": {"Street": "Packstation", "HouseNumber": "123", "NameAddition": "87654321"},
        "State": 8}).get_json()
    assert patched["State"] == 8
    assert patched["ShippingAddress"]["Street"] == "Packstation"
    assert patched["LastModifiedAt"] > before
    assert client.patch("/_admin/orders/1", json={"State": 1}).status_code == 404
    assert client.post("/_admin/orders", json={"orders": [{"Nope": 1}]}).status_code == 400
    assert client.delete(f"/_admin/orders/{new['BillBeeOrderId']}").status_code == 200
    assert client.get("/_admin/state").get_json()["orders"] == []


def test_admin_products_replace_and_reset_keeps_settings() -> None:
    client = make(throttle=False)
    client.post("/_admin/products", json={"products": [{"Id": 100000317105651, "SKU": "B-2", "Title": "Neu",
                                                        "StockCurrent": 3}]})
    assert call(client, "GET", "/products/B-2?lookupBy=sku").get_json()["Data"]["Title"][0]["Text"] == "Neu"
    client.post("/_admin/reset")
    assert client.get("/_admin/state").get_json()["products"] == []
    assert client.get("/_admin/settings").get_json()["throttle"] is False


# -- demo data ---------------------------------------------------------------------------------------------------


def test_demo_data_deterministic_and_complete() -> None:
    data = demo_data.generate(seed=7)
    assert data == demo_data.generate(seed=7)
    assert data != demo_data.generate(seed=8)
    bb = data["billbee"]
    products, orders = bb["products"], bb["orders"]
    assert len(products) == 40
    assert len(orders) == 25
    titles = " ".join(p["Title"][0]["Text"] for p in products)
    assert any(ch in titles for ch in "äöüß")
    assert max(len(p["Title"][0]["Text"]) for p in products) > 60
    assert all(p["Weight"] and (p["Type"] == 2 or p["LengthCm"]) for p in products)
    assert sum(1 for p in products if not p["EAN"]) >= 2
    eans = [p["EAN"] for p in products if p["EAN"]]
    assert len(eans) - len(set(eans)) == 1
    assert sum(1 for p in products if p["SKU"] is None) == 1
    bundles = [p for p in products if p["Type"] == 2]
    assert 2 <= len(bundles) <= 3
    assert all(2 <= len(b["BillOfMaterial"]) <= 3 for b in bundles)
    assert sum(1 for s in bb["stocks"] if s["IsDefault"]) == 1
    assert len(bb["stocks"]) == 2
    display = {x["displayName"] for p in bb["shipping_providers"] for x in p["products"]}
    wemalo = {x["name"] for d in data["wemalo"]["profiles"] for x in d["profiles"]}
    assert display & wemalo
    assert display - wemalo
    addresses = [o["ShippingAddress"] for o in orders]
    assert any(a["Company"] for a in addresses)
    assert any(not a["Company"] for a in addresses)
    assert any(a["Street"] == "Packstation" and a["HouseNumber"] == "123" and a["NameAddition"] for a in addresses)
    assert any(a["HouseNumber"] == "" and re.search(r"\d", a["Street"]) for a in addresses)
    assert any(len(o["OrderItems"]) > 2 for o in orders)
    assert any(li["Product"]["Type"] == 2 for o in orders for li in o["OrderItems"])
    states = [o["State"] for o in orders]
    assert states.count(3) > len(states) / 2
    assert {1, 4, 8} <= set(states)
    assert sum(1 for o in orders if "wemalo" in o["Tags"]) > len(orders) / 2
    assert any(not o["Tags"] for o in orders)
    assert any("order_received_by_wemalo" in o["Tags"] and o["State"] == 3 for o in orders)
    credit = orders[demo_data.CASES["cancellation_credit"]]
    assert credit["IsCancelationFor"] == str(orders[demo_data.CASES["cancelled"]]["BillBeeOrderId"])
    client = create_app(throttle=False).test_client()
    assert client.post("/_admin/scenario", json=bb).get_json()["orders"] == 25
    assert call(client, "GET", "/orders?pageSize=250").status_code == 200
    assert log(client)[-1]["violations"] == []


def _stock(client: FlaskClient, sku: str) -> tuple[Decimal, Decimal]:
    article = next(p for p in client.get("/_admin/state").get_json()["products"] if p["SKU"] == sku)
    entry = article["Stocks"][0]
    return Decimal(str(entry["StockCurrent"])), Decimal(str(entry["UnfulfilledAmount"]))


def test_an_imported_order_lowers_stock_and_counts_as_unfulfilled_until_shipped() -> None:
    """Billbee lowers stock on import (unless DontAdjustStock) and counts open orders as unfulfilled; a write with
    AutosubtractReservedAmount subtracts that amount; a cancellation gives the stock back."""
    client = make([], throttle=False)
    client.post("/_admin/products", json={"products": [
        {"Id": 1, "SKU": "A", "EAN": "4006381333931", "Type": 1, "StockCurrent": 10}]})
    item = {"Product": {"Id": 1, "SKU": "A"}, "Quantity": 2}
    client.post("/_admin/orders", json={"orders": [order(11, OrderItems=[item]),
                                                   order(12, OrderItems=[{**item, "DontAdjustStock": True}])]})
    assert _stock(client, "A") == (Decimal(8), Decimal(4))  # one deducted, both unfulfilled
    body = call(client, "POST", "/products/updatestockmultiple",
                [{"Sku": "A", "NewQuantity": 20, "AutosubtractReservedAmount": True}]).get_json()
    assert Decimal(str(body[0]["Data"]["CurrentStock"])) == 16
    client.patch(f"/_admin/orders/{ORDER_BASE + 11}", json={"State": 6})
    assert _stock(client, "A") == (Decimal(16), Decimal(2))  # literal: no restock, no longer unfulfilled
    client.patch(f"/_admin/orders/{ORDER_BASE + 11}", json={"State": 3})
    client.post("/_admin/settings", json={"restock_on_cancel": True})
    client.patch(f"/_admin/orders/{ORDER_BASE + 11}", json={"State": 8})
    assert _stock(client, "A") == (Decimal(18), Decimal(2))  # restocked, no longer unfulfilled
    client.patch(f"/_admin/orders/{ORDER_BASE + 12}", json={"State": 4})
    assert _stock(client, "A")[1] == 0
    client.post("/_admin/settings", json={"deduct_stock_on_import": False})
    client.post("/_admin/orders", json={"orders": [order(13, OrderItems=[item])]})
    assert _stock(client, "A") == (Decimal(18), Decimal(2))
