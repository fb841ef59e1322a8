"""Behaviour of the wemalo-connect simulator (sandbox/wemalo), through Flask's test client."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from sandbox.core import SimContext
from sandbox.wemalo import create_app

AUTH = {"Authorization": "JWT sandbox-wemalo-token"}
RECEIVER = {"name1": "Erika Mustermann", "street": "Hauptstr.", "streetNumber": "5", "countryCode2Letter": "DE",
            "city": "Berlin", "zip": "10115", "email": "erika@example.org"}


@pytest.fixture
def client() -> FlaskClient:
    return create_app(SimContext(system="wemalo")).test_client()


def call(client: FlaskClient, method: str, path: str, body: Any = None, **query: Any) -> tuple[int, Any]:
    resp = client.open("/v1" + path, method=method, json=body, query_string=query or None, headers=AUTH)
    return resp.status_code, resp.get_json(silent=True)


def settings(client: FlaskClient, **values: Any) -> None:
    assert client.post("/_admin/settings", json=values).status_code == 200


def product(ext: str, sku: str, ean: str = "", **extra: Any) -> dict[str, Any]:
    return {"externalId": ext, "sku": sku, "productGroup": "default", "name": f"Product {sku}", "ean": ean,
            "grossWeight": 250, **extra}


def goods_order(ext: str, *positions: tuple[str, int], match: str = "sku", **meta: Any) -> dict[str, Any]:
    return {"meta": {"externalId": ext, "orderNumber": f"B-{ext}", "externalIdMatch": match,
                     "receiver": [dict(RECEIVER)], **meta},
            "positions": [{"externalId": sku, "quantity": qty, "externalPositionIdentifier": str(i)}
                          for i, (sku, qty) in enumerate(positions, start=1)]}


def load(client: FlaskClient, stock: dict[str, int] | None = None, **scenario: Any) -> None:
    body = {"products": [product("p1", "SKU-1", "4006381333931"), product("p2", "SKU-2", "4006381333948"),
                         product("p3", "SKU-3")],
            "stock": {"SKU-1": 10, "SKU-2": 10, "SKU-3": 10} if stock is None else stock, **scenario}
    result = client.post("/_admin/scenario", json=body).get_json()
    assert result["ok"], result


def status_name(client: FlaskClient, ext: str) -> str:
    return call(client, "GET", f"/goodsOrder/getStatus/{ext}")[1]["statusName"]


def advance(client: FlaskClient, **body: Any) -> dict[str, Any]:
    resp = client.post("/_admin/advance", json=body)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def not_found(client: FlaskClient, ext: str) -> bool:
    """product/get answers the not-found error for `ext` (body status 400 under missing_product "400")."""
    code, body = call(client, "GET", f"/product/get/{ext}")
    return (code, body["Success"], body.get("field"), "sku" in body) == (400, False, "externalId", False)


def violations(client: FlaskClient) -> list[str]:
    return [v for entry in client.get("/_admin/violations").get_json() for v in entry["violations"]]


# -- auth and envelope ---------------------------------------------------------------------------------------
def test_auth_failure_missing_or_wrong_token(client: FlaskClient) -> None:
    resp = client.get("/v1/goodsOrder/profiles")
    assert resp.status_code == 401
    assert resp.get_json()["Success"] is False
    assert resp.get_json()["status"] == 401
    assert resp.get_json()["message"]
    resp = client.get("/v1/goodsOrder/profiles", headers={"Authorization": "JWT wrong"})
    assert resp.status_code == 401
    # As the apidoc's example: `Success` without a body status (setting success_envelope).
    assert call(client, "GET", "/goodsOrder/profiles") == (200, {"dispatcher": [], "Success": True})


def test_http_status_mirror_vs_always_200(client: FlaskClient) -> None:
    code, body = call(client, "GET", "/goodsOrder/getStatus/nope")
    assert (code, body["status"], body["Success"]) == (400, 400, False)
    settings(client, http_status="always_200")
    code, body = call(client, "GET", "/goodsOrder/getStatus/nope")
    assert (code, body["status"], body["Success"]) == (200, 400, False)


# -- products ----------------------------------------------------------------------------------------------------
def test_product_add_get_and_missing_parameter(client: FlaskClient) -> None:
    assert call(client, "POST", "/product/add", product("p1", "SKU-1", "400")) == (200, {"Success": True,
                                                                                         "status": 200})
    code, body = call(client, "GET", "/product/get/p1")
    assert code == 200
    assert body["sku"] == "SKU-1"
    assert "externalId" not in body  # as the apidoc's product example (setting products_include_external_id)
    assert body["isActive"] is True
    assert call(client, "GET", "/product/get/zzz")[1]["status"] == 400  # setting missing_product
    code, body = call(client, "POST", "/product/add", {"externalId": "p9", "sku": "X"})
    assert code == 400
    assert body["error"] == "missingParameter"
    assert body["field"] == "productGroup"


def test_product_add_refuses_duplicate_sku_and_ean(client: FlaskClient) -> None:
    call(client, "POST", "/product/add", product("p1", "SKU-1", "400", ean3="401"))
    code, body = call(client, "POST", "/product/add", product("p2", "sku-1"))
    assert (code, body["field"], body["Success"]) == (400, "sku", False)
    assert "p1" in body["message"]
    code, body = call(client, "POST", "/product/add", product("p2", "SKU-2", "999", ean2="401"))
    assert (code, body["field"]) == (400, "ean")
    assert "p1" in body["message"]
    code, body = call(client, "POST", "/product/add", product("p1", "SKU-9"))
    assert (code, body["field"]) == (400, "externalId")
    assert not_found(client, "p2")


def test_add_multiple_all_or_nothing(client: FlaskClient) -> None:
    call(client, "POST", "/product/add", product("p1", "SKU-1", "400"))
    code, body = call(client, "POST", "/product/addMultiple", {"products": [
        product("p2", "SKU-2"), product("p3", "SKU-1"), product("p4", "SKU-4", "400"),
        product("p5", "SKU-2")]})  # p5 clashes with p2 of the same batch
    assert code == 400
    assert body["Success"] is False
    assert [(e["externalId"], e["field"]) for e in body["errors"]] == [("p3", "sku"), ("p4", "ean"), ("p5", "sku")]
    assert not_found(client, "p2")


def test_add_multiple_partial_and_upsert(client: FlaskClient) -> None:
    settings(client, add_multiple_mode="partial")
    call(client, "POST", "/product/add", product("p1", "SKU-1", "400"))
    code, body = call(client, "POST", "/product/addMultiple", {"products": [
        product("p1", "SKU-1", "400", name="Renamed"), product("p2", "SKU-2"), product("p3", "SKU-1"),
        {"externalId": "p4", "sku": "SKU-4"}]})
    assert code == 400
    assert body["saved"] == ["p1", "p2"]
    assert [(e["externalId"], e["field"]) for e in body["errors"]] == [("p3", "sku"), ("p4", "productGroup")]
    assert call(client, "GET", "/product/get/p1")[1]["name"] == "Renamed"
    assert call(client, "GET", "/product/get/p2")[0] == 200
    assert call(client, "POST", "/product/addMultiple", {"products": [product("p2", "SKU-2")]})[0] == 200


def test_update_refuses_clash_and_unknown(client: FlaskClient) -> None:
    call(client, "POST", "/product/addMultiple", {"products": [product("p1", "SKU-1", "400"),
                                                               product("p2", "SKU-2", "500")]})
    code, body = call(client, "PUT", "/product/update/p2", {"sku": "SKU-1"})
    assert (code, body["field"]) == (400, "sku")
    assert "p1" in body["message"]
    code, body = call(client, "PUT", "/product/update/p2", {"ean4": "400"})
    assert (code, body["field"]) == (400, "ean")
    assert call(client, "PUT", "/product/update/p2", {"sku": "SKU-2b", "ean": "400x"})[0] == 200
    assert call(client, "GET", "/product/get/p2")[1]["sku"] == "SKU-2b"
    code, body = call(client, "PUT", "/product/update/p9", {"name": "x"})
    assert (code, body["status"], body["field"]) == (400, 400, "externalId")  # setting missing_product


def test_get_all_and_available_stock_since(client: FlaskClient) -> None:
    settings(client, now="2025-03-01T10:15:00")
    load(client)
    settings(client, now="2025-03-01T12:30:00")
    call(client, "PUT", "/product/update/p2", {"name": "changed"})
    code, body = call(client, "GET", "/product/getAll", fromDate="0103202512")
    assert code == 200
    # The apidoc's example rows literally: no externalId, "status" and "Success" inside each row.
    assert [(p["sku"], "externalId" in p, p["status"], p["Success"]) for p in body["products"]] == [
        ("SKU-2", False, 200, True)]
    settings(client, products_include_external_id=True, product_rows_carry_status=False)
    row = call(client, "GET", "/product/getAll", fromDate="0103202512")[1]["products"][0]
    assert (row["externalId"], "status" in row) == ("p2", False)
    assert len(call(client, "GET", "/product/getAll", fromDate="0103202510")[1]["products"]) == 3
    assert call(client, "GET", "/product/getAll", fromDate="2025-03-01")[1]["status"] == 400

    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 12)))  # more than in stock: PARTIAL
    code, body = call(client, "GET", "/product/availableStock/", fromDate="0103202512")
    assert code == 200
    # The example: virtualQuantity 0 (no set articles), the figure in the default attribute, net of open orders.
    assert [(a["sku"], a["virtualQuantity"], a["attributes"][0]["quantity"], a["attributes"][0]["isDefault"])
            for a in body["articles"]] == [("SKU-1", 0, -2, True)]
    settings(client, stock_quantity="on_hand")
    on_hand = call(client, "GET", "/product/availableStock/", fromDate="0103202512")[1]["articles"][0]
    assert on_hand["attributes"][0]["quantity"] == 10
    assert len(call(client, "GET", "/product/availableStock/", fromDate="0103202510")[1]["articles"]) == 3


# -- goods orders ------------------------------------------------------------------------------------------------
def test_order_with_unknown_product_is_refused(client: FlaskClient) -> None:
    load(client)
    code, body = call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1), ("NOPE", 2)))
    assert (code, body["status"], body["Success"]) == (404, 404, False)
    assert "NOPE" in body["message"]
    assert body["externalId"] == "NOPE"
    assert call(client, "GET", "/goodsOrder/getStatus/o1")[1]["status"] == 400  # setting missing_order
    order = goods_order("o2", ("p1", 1), match="externalId")
    assert call(client, "POST", "/goodsOrder/add", order)[0] == 200  # match by externalId


def test_order_missing_receiver_field(client: FlaskClient) -> None:
    load(client)
    order = goods_order("o1", ("SKU-1", 1))
    del order["meta"]["receiver"][0]["zip"]
    code, body = call(client, "POST", "/goodsOrder/add", order)
    assert (code, body["error"], body["field"]) == (400, "missingParameter", "meta.receiver.zip")


def test_order_reservation_partial_and_restock(client: FlaskClient) -> None:
    load(client, stock={"SKU-1": 3})
    code, body = call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 2)))
    assert code == 200
    assert isinstance(body["id"], int)
    assert body["Success"] is True
    call(client, "POST", "/goodsOrder/add", goods_order("o2", ("SKU-1", 2)))
    settings(client, status_fields="field_list")  # the example has no reasonPartiallyReserved
    status = call(client, "GET", "/goodsOrder/getStatus/o2")[1]
    assert (status["statusId"], status["statusName"], status["reasonPartiallyReserved"]) == ("100", "PARTIAL",
                                                                                             "STOCK")
    assert status_name(client, "o1") == "OPEN"
    result = client.post("/_admin/stock", json={"SKU-1": 4}).get_json()
    assert result["promoted"] == ["o2"]
    assert status_name(client, "o2") == "OPEN"


def test_reserve_stock_off_makes_every_order_open(client: FlaskClient) -> None:
    settings(client, reserve_stock=False)
    load(client, stock={})
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 5)))
    assert status_name(client, "o1") == "OPEN"


def test_duplicate_order_reject(client: FlaskClient) -> None:
    load(client)
    first = call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))[1]
    code, body = call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-2", 1)))
    assert (code, body["status"], body["id"]) == (409, 409, first["id"])
    assert len(client.get("/_admin/state").get_json()["orders"]) == 1


def test_duplicate_order_return_existing(client: FlaskClient) -> None:
    settings(client, duplicate_order="return_existing")
    load(client)
    first = call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))[1]
    assert call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-2", 1))) == (
        200, {"Success": True, "status": 200, "id": first["id"]})
    orders = client.get("/_admin/state").get_json()["orders"]
    assert len(orders) == 1
    assert orders[0]["positions"][0]["sku"] == "SKU-1"


def test_add_conditional_creates_then_reports(client: FlaskClient) -> None:
    load(client)
    code, body = call(client, "POST", "/goodsOrder/addConditional", goods_order("o1", ("SKU-1", 1)))
    assert code == 200
    assert body["orderStatus"] == body["statusName"] == "OPEN"
    assert body["id"]
    advance(client, externalIds=["o1"], to="INPROCESS")
    changed = goods_order("o1", ("SKU-2", 5), orderNumber="other")
    code, again = call(client, "POST", "/goodsOrder/addConditional", changed)
    assert (code, again["id"], again["statusName"], again["statusId"]) == (200, body["id"], "INPROCESS", "300")
    order = client.get("/_admin/state").get_json()["orders"][0]
    assert order["positions"][0]["sku"] == "SKU-1"
    assert order["meta"]["orderNumber"] == "B-o1"


def test_update_meta_only_while_partial_or_open(client: FlaskClient) -> None:
    settings(client, status_fields="field_list")  # orderNumber is in the field list, not in the example
    load(client, stock={"SKU-1": 1})
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))
    call(client, "POST", "/goodsOrder/add", goods_order("o2", ("SKU-1", 1)))  # PARTIAL
    for ext in ("o1", "o2"):
        meta = goods_order(ext, ("SKU-1", 1), orderNumber="N-new")["meta"]
        assert call(client, "PUT", f"/goodsOrder/updateMeta/{ext}", {"meta": meta})[0] == 200
        assert call(client, "GET", f"/goodsOrder/getStatus/{ext}")[1]["orderNumber"] == "N-new"
    assert client.get("/_admin/state").get_json()["orders"][0]["positions"][0]["quantity"] == 1
    advance(client, externalIds=["o1"], to="INPROCESS")
    code, body = call(client, "PUT", "/goodsOrder/updateMeta/o1", {"meta": goods_order("o1")["meta"]})
    assert code == 400
    assert "INPROCESS" in body["message"]
    assert call(client, "PUT", "/goodsOrder/updateMeta/zz", {"meta": goods_order("zz")["meta"]})[0] == 404


def test_cancel_before_and_after_picking(client: FlaskClient) -> None:
    load(client, stock={"SKU-1": 2})
    for ext in ("o1", "o2", "o3"):
        call(client, "POST", "/goodsOrder/add", goods_order(ext, ("SKU-1", 1)))
    assert status_name(client, "o3") == "PARTIAL"
    advance(client, externalIds=["o1"], to="INPROCESS")
    advance(client, externalIds=["o2"], to="INPICKING")
    code, body = call(client, "PUT", "/goodsOrder/cancel/o1", {"reason": "customer"})
    assert (code, body["statusName"]) == (200, "CANCELLED")
    assert status_name(client, "o3") == "OPEN"  # o1's reservation went to the waiting order
    code, body = call(client, "PUT", "/goodsOrder/cancel/o2", {"reason": "customer"})
    assert code == 400
    assert "INPICKING" in body["message"]
    assert status_name(client, "o2") == "INPICKING"
    assert call(client, "PUT", "/goodsOrder/cancel/o1", {})[0] == 200  # repeated cancel
    assert call(client, "PUT", "/goodsOrder/cancel/zz", {})[0] == 404


# -- shipping ---------------------------------------------------------------------------------------------------
PROFILES = [{"name": "DHL Geschäftsversand", "profiles": [{"matchId": "dhl", "product": "V01PAK",
                                                           "name": "DHL Paket"}]},
            {"name": "DPD Cloud", "profiles": [{"matchId": "dpd", "product": "Classic", "name": "DPD Classic"}]}]


def test_advance_to_shipped_with_one_parcel(client: FlaskClient) -> None:
    load(client, profiles=PROFILES)
    oid = call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 2), ("SKU-2", 1),
                                                              dispatcherProfile="dpd"))[1]["id"]
    result = advance(client, to="SHIPPED")
    assert [c["externalId"] for c in result["changed"]] == ["o1"]
    assert result["changed"][0]["to"] == "SHIPPED"
    state = client.get("/_admin/state").get_json()
    assert [h["status"] for h in state["orders"][0]["history"]] == [
        "OPEN", "INPROCESS", "INPICKING", "READYFORSHIPMENT", "PACKED", "SHIPPED"]
    assert state["stock"]["SKU-1"] == 8
    assert state["stock"]["SKU-2"] == 9
    packages = call(client, "GET", "/goodsOrder/packages", externalOrderId="o1")[1]["packages"]
    assert len(packages) == 1
    assert packages[0]["isHandedOver"] is True
    assert packages[0]["weightTotal"] == 750
    assert sorted((i["sku"], i["quantity"]) for i in packages[0]["items"]) == [("SKU-1", 2), ("SKU-2", 1)]
    assert call(client, "GET", "/goodsOrder/packages", orderId=oid)[1]["packages"] == packages
    code, track = call(client, "GET", f"/goodsOrder/package/{packages[0]['id']}/trackingNumber")
    assert code == 200
    assert track["carrier"] == "DPD"
    assert track["profileName"] == "DPD Classic"
    assert re.fullmatch(r"\d{14}", track["trackingNumber"])
    assert track["Success"] is True
    assert call(client, "GET", "/goodsOrder/package/999999/trackingNumber")[0] == 404
    status = call(client, "GET", "/goodsOrder/getStatus/o1")[1]
    assert (status["statusName"], status["statusId"]) == ("SHIPPED", "500")


def test_advance_with_two_parcels_and_partial_shipment(client: FlaskClient) -> None:
    load(client, profiles=PROFILES)
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 3), ("SKU-2", 1)))
    result = advance(client, externalIds=["o1"], to="SHIPPED", parcels=2, partial=True, profile="DHL Paket")
    change = result["changed"][0]
    assert change["to"] == "PACKED"
    assert len(change["parcelsCreated"]) == 2
    assert len(change["parcelsShipped"]) == 1
    assert [sum(i["quantity"] for i in p["items"]) for p in change["parcels"]] == [2, 2]
    assert all(re.fullmatch(r"00340434\d{12}", p["trackingNumber"]) for p in change["parcels"])
    assert status_name(client, "o1") == "PACKED"
    queue = call(client, "GET", "/goodsOrder/packages/sent/")[1]["bookings"]
    assert {b["orderStatusId"] for b in queue} == {"400"}
    packages = call(client, "GET", "/goodsOrder/packages", externalOrderId="o1")[1]["packages"]
    assert [p["isHandedOver"] for p in packages] == [True, False]

    result = advance(client, externalIds=["o1"], to="SHIPPED")
    assert result["changed"][0]["parcelsShipped"] == [packages[1]["id"]]
    assert status_name(client, "o1") == "SHIPPED"
    queue = call(client, "GET", "/goodsOrder/packages/sent/")[1]["bookings"]
    assert {b["orderStatusId"] for b in queue} == {"500"}
    assert len(queue) == 3
    assert client.get("/_admin/state").get_json()["stock"] == {"SKU-1": 7, "SKU-2": 9, "SKU-3": 10}
    again = client.post("/_admin/advance", json={"externalIds": ["o1"], "to": "SHIPPED"}).get_json()
    assert again["skipped"] == [{"externalId": "o1", "reason": "already SHIPPED"}]


def test_advance_skips_partial_orders(client: FlaskClient) -> None:
    load(client, stock={})
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))
    result = advance(client, externalIds=["o1"], to="SHIPPED")
    assert result["changed"] == []
    assert "PARTIAL" in result["skipped"][0]["reason"]
    assert advance(client, to="SHIPPED") == {"ok": True, "changed": [], "skipped": []}
    assert client.post("/_admin/advance", json={"to": "WHATEVER"}).status_code == 400


def _ship(client: FlaskClient, ext: str, at: str, *positions: tuple[str, int]) -> None:
    call(client, "POST", "/goodsOrder/add", goods_order(ext, *positions))
    advance(client, externalIds=[ext], to="SHIPPED", at=at)


def test_sent_packages_window_and_paging(client: FlaskClient) -> None:
    settings(client, sent_page_size=2)
    load(client)
    _ship(client, "o1", "2025-03-01T09:00:00", ("SKU-1", 1), ("SKU-2", 1))
    _ship(client, "o2", "2025-03-02T09:00:00", ("SKU-1", 1), ("SKU-2", 1), ("SKU-3", 1))
    _ship(client, "o3", "2025-03-03T09:00:00", ("SKU-3", 1))
    window = {"dateFrom": "01.03.2025 12:00:00", "dateTo": "03.03.2025 08:59:59"}
    code, first = call(client, "GET", "/goodsOrder/sentPackages/", **window)  # no page: the first, echoed as 0
    assert code == 200
    assert (first["page"], first["additionalPage"], len(first["bookings"])) == (0, True, 2)
    assert call(client, "GET", "/goodsOrder/sentPackages/", **window, page=0)[1] == first
    second = call(client, "GET", "/goodsOrder/sentPackages/", **window, page=1)[1]
    assert (second["page"], second["additionalPage"], len(second["bookings"])) == (1, False, 1)
    settings(client, page_base=1)
    assert call(client, "GET", "/goodsOrder/sentPackages/", **window)[1]["page"] == 1
    assert call(client, "GET", "/goodsOrder/sentPackages/", **window, page=2)[1]["bookings"] == second["bookings"]
    settings(client, page_base=0, page_param_ignored=True)
    assert call(client, "GET", "/goodsOrder/sentPackages/", **window, page=1)[1]["bookings"] == first["bookings"]
    settings(client, page_param_ignored=False)
    rows = first["bookings"] + second["bookings"]
    assert {r["externalGoodsOrderId"] for r in rows} == {"o2"}
    assert {r["handoverDate"] for r in rows} == {"02.03.2025 09:00:00"}
    row = rows[0]
    assert row["dispatcherName"] == "DHL"
    assert row["dispatcherProduct"] == "DHL Paket"
    assert row["count"] == 1
    assert row["orderNumberCustomer"] == "B-o2"
    assert "recipient" not in row
    with_recipient = call(client, "GET", "/goodsOrder/sentPackages/", externalId="o3", addRecipient="true")[1]
    assert with_recipient["bookings"][0]["recipient"]["houseNumber"] == "5"
    # Europe/Berlin local time: 08:00 UTC is 09:00 in winter
    utc = call(client, "GET", "/goodsOrder/sentPackages/", dateFrom="03.03.2025 09:00:00",
               dateTo="03.03.2025 09:00:00")[1]
    assert len(utc["bookings"]) == 1
    assert call(client, "GET", "/goodsOrder/sentPackages/", dateFrom="2025-03-01")[0] == 400


def test_sent_queue_and_acknowledgement(client: FlaskClient) -> None:
    load(client)
    _ship(client, "o1", "2025-03-01T09:00:00", ("SKU-1", 1), ("SKU-2", 1))
    queue = call(client, "GET", "/goodsOrder/packages/sent/")[1]
    assert len(queue["bookings"]) == 2
    assert queue["additionalPage"] is False
    row = queue["bookings"][0]
    assert row["packageId"]
    assert row["orderStatusId"] == "500"
    assert row["trackingNumber"]
    assert call(client, "PUT", f"/goodsOrder/packages/sent/{row['historyId']}") == (200, {"Success": True,
                                                                                          "status": 200})
    rest = call(client, "GET", "/goodsOrder/packages/sent/", externalId="o1")[1]["bookings"]
    assert [r["historyId"] for r in rest] == [queue["bookings"][1]["historyId"]]
    assert call(client, "PUT", "/goodsOrder/packages/sent/1")[0] == 404
    assert len(call(client, "GET", "/goodsOrder/sentPackages/", externalId="o1")[1]["bookings"]) == 2


def test_scenario_orders_with_status_and_state(client: FlaskClient) -> None:
    order = goods_order("o1", ("SKU-1", 2))
    load(client, profiles=PROFILES, orders=[{**order, "status": "SHIPPED", "parcels": 2}])
    state = client.get("/_admin/state").get_json()
    assert state["orders"][0]["statusName"] == "SHIPPED"
    assert len(state["orders"][0]["parcels"]) == 2
    assert len(state["bookings"]) == 2
    assert state["stock"]["SKU-1"] == 8
    assert call(client, "GET", "/goodsOrder/profiles")[1]["dispatcher"] == PROFILES
    client.post("/_admin/reset")
    assert client.get("/_admin/state").get_json()["orders"] == []


# -- spec checks, limits, faults -----------------------------------------------------------------------------
def test_violations_recorded_for_bad_requests_only(client: FlaskClient) -> None:
    load(client)
    good = goods_order("o1", ("SKU-1", 1))
    good["shop"], good["meta"]["priority"] = "myshop", 3  # sent by wemalo's WP plugin: accepted
    call(client, "POST", "/goodsOrder/add", good)
    call(client, "GET", "/product/getAll", fromDate="0101202500")
    call(client, "GET", "/goodsOrder/sentPackages/", dateFrom="01.01.2025 00:00:00", page=1)
    call(client, "POST", "/product/addMultiple", {"products": [product("p7", "SKU-7", shop="myshop")]})
    assert violations(client) == []

    bad = goods_order("o2", ("SKU-1", 1))
    del bad["meta"]["receiver"][0]["city"]
    bad["positions"][0]["quantity"] = "1"
    code, _ = call(client, "POST", "/goodsOrder/add", bad)
    assert code == 400  # still answered as wemalo would
    call(client, "GET", "/product/getAll", fromDate="0101202500", limit=5)
    call(client, "GET", "/goodsOrder/nothing")
    found = violations(client)
    assert any("'city' is a required property" in v for v in found)
    assert any("positions/0/quantity" in v for v in found)
    assert any("query parameter 'limit'" in v for v in found)
    assert any("route not documented" in v for v in found)


def test_call_limit_headers_and_419(client: FlaskClient) -> None:
    settings(client, call_limit=2)
    first = client.get("/v1/goodsOrder/profiles", headers=AUTH)
    assert first.headers["x-wemalo-limit-maxcall"] == "2"
    assert first.headers["x-wemalo-limit-remainingcall"] == "1"
    client.get("/v1/goodsOrder/profiles", headers=AUTH)
    third = client.get("/v1/goodsOrder/profiles", headers=AUTH)
    assert third.status_code == 429
    assert third.get_json()["status"] == 419
    assert third.headers["x-wemalo-limit-remainingcall"] == "0"


def _fault_run(client: FlaskClient) -> list[tuple[int, str | None]]:
    out = []
    for _ in range(30):
        resp = client.get("/v1/goodsOrder/profiles", headers=AUTH)
        out.append((resp.status_code, resp.headers.get("Retry-After")))
    return out


def test_faults_reproducible_by_seed(client: FlaskClient) -> None:
    kinds = ["429", "429_no_retry_after", "500", "503", "html_error", "malformed_json"]
    client.post("/_admin/faults", json={"rate": 0.6, "seed": 11, "kinds": kinds})
    first = _fault_run(client)
    client.post("/_admin/faults", json={"rate": 0.6, "seed": 11, "kinds": kinds})
    assert _fault_run(client) == first
    codes = {code for code, _ in first}
    assert {429, 500, 503, 502}.issubset(codes)
    assert (429, "2") in first
    assert (429, None) in first
    log = client.get("/_admin/requests").get_json()
    html = next(e for e in log if e["fault"] == "html_error")
    assert html["status"] == 502
    client.post("/_admin/faults", json={"rate": 1, "seed": 1, "kinds": ["malformed_json"]})
    resp = client.get("/v1/goodsOrder/profiles", headers=AUTH)
    assert resp.status_code == 200
    assert resp.get_json(silent=True) is None
    client.post("/_admin/faults", json={"rate": 1, "seed": 1, "kinds": ["429"]})
    resp = client.get("/v1/goodsOrder/profiles", headers=AUTH)
    assert resp.get_json() == {"Success": False, "status": 419, "message": "call limit exceeded"}


def test_unsimulated_documented_route_answers_501_without_violation(client: FlaskClient) -> None:
    code, body = call(client, "GET", "/refurbishment/get")
    assert (code, body["status"]) == (501, 501)
    assert violations(client) == []


def test_create_app_rejects_unknown_settings() -> None:
    with pytest.raises(ValueError, match="unknown wemalo settings"):
        create_app(nonsense=True)
    app = create_app(duplicate_order="return_existing")
    assert app.test_client().get("/_admin/settings").get_json()["duplicate_order"] == "return_existing"


def test_admin_inputs_are_validated(client: FlaskClient) -> None:
    load(client)
    assert client.post("/_admin/advance", json={"to": "SHIPPED", "parcels": "x"}).status_code == 400
    assert client.post("/_admin/advance", json={"to": "SHIPPED", "at": "yesterday"}).status_code == 400
    assert client.post("/_admin/stock", json={"SKU-1": "many"}).status_code == 400
    result = client.post("/_admin/stock", json={"NOPE": 1}).get_json()
    assert result["unknown"] == ["NOPE"]


@pytest.mark.parametrize(("reading", "expected"), [("404", (404, 404)), ("400", (400, 400)), ("empty", (200, None))])
def test_get_status_of_an_unknown_order_in_each_reading(client: FlaskClient, reading: str,
                                                        expected: tuple[int, int | None]) -> None:
    settings(client, missing_order=reading)
    code, body = call(client, "GET", "/goodsOrder/getStatus/nope")
    assert (code, body.get("status")) == expected
    assert body["Success"] is False
    assert "statusName" not in body


@pytest.mark.parametrize("reading", ["refuse", "ignore"])
def test_a_late_cancel_is_refused_or_ignored(client: FlaskClient, reading: str) -> None:
    settings(client, late_cancel=reading)
    load(client)
    call(client, "POST", "/goodsOrder/add", goods_order("o1", ("SKU-1", 1)))
    advance(client, externalIds=["o1"], to="PACKED")
    _, body = call(client, "PUT", "/goodsOrder/cancel/o1", {"reason": "zu spät"})
    assert body["Success"] is (reading == "ignore")
    assert call(client, "GET", "/goodsOrder/getStatus/o1")[1]["statusName"] == "PACKED"  # either way: not cancelled


def test_profiles_group_the_readings(client: FlaskClient) -> None:
    assert client.get("/_admin/profile").get_json()["profile"] == "literal"
    client.post("/_admin/profile", json={"name": "lenient"})
    current = client.get("/_admin/settings").get_json()
    assert (current["page_base"], current["products_include_external_id"], current["late_cancel"]) == (
        1, True, "ignore")
    client.post("/_admin/reset")
    assert client.get("/_admin/settings").get_json()["page_base"] == 1  # a reset keeps the profile
    client.post("/_admin/profile", json={"name": "literal"})
    assert client.get("/_admin/settings").get_json()["page_base"] == 0
