"""The simulated Billbee's stock (imports lower it, open orders are the unfulfilled amount, AutosubtractReservedAmount,
cancellations, GET /products/reservedamount) and the readings of the vendor spec that are settings: one test per
setting and value. The default of each is the literal reading (docs/api-contract.md)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from sandbox.billbee import DEFAULT_SETTINGS, create_app
from sandbox.billbee.app import PROFILES
from tests.sandbox.billbee_client import API, AUTH, ORDER_BASE

STOCKS = [{"Id": 11, "Name": "Hauptlager", "IsDefault": True}, {"Id": 12, "Name": "Zweitlager"}]
A, B, SET, PAIR = 100000317105650, 100000317105651, 100000317105652, 100000317105653
PRODUCTS = [
    {"Id": A, "SKU": "A-1", "Title": "Tasse", "Price": 10, "Stocks": [{"StockId": 11, "StockCurrent": 20},
                                                                     {"StockId": 12, "StockCurrent": 5}]},
    {"Id": B, "SKU": "B-2", "Title": "Teller", "Price": 5, "StockCurrent": 30},
    {"Id": SET, "SKU": "SET-1", "Type": 2, "Title": "Set",
     "BillOfMaterial": [{"SKU": "A-1", "Amount": 2}, {"SKU": "B-2", "Amount": 1}]},
    {"Id": PAIR, "SKU": "PAIR", "Title": "Socken (Paar)", "StockCurrent": 40, "StockReduceItemsPerSale": 2},
]


def item(article_id: int | None = None, quantity: float = 1, **fields: Any) -> dict[str, Any]:
    product = {"BillbeeId": article_id} if article_id is not None else {}
    product.update(fields.pop("Product", {}))
    return {"Product": product, "Quantity": quantity, **fields}


def order(n: int, *items: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"BillBeeOrderId": ORDER_BASE + n, "State": 3, "CreatedAt": "2026-11-02T09:00:00",
            "OrderItems": list(items), **fields}


def make(orders: list[dict[str, Any]] | None = None, import_orders: bool | None = None,
         **settings: Any) -> FlaskClient:
    client = create_app(throttle=False, **settings).test_client()
    scenario: dict[str, Any] = {"products": PRODUCTS, "stocks": STOCKS, "orders": orders or []}
    if import_orders is not None:
        scenario["import_orders"] = import_orders
    resp = client.post("/_admin/scenario", json=scenario)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return client


def call(client: FlaskClient, method: str, path: str, body: Any = None) -> TestResponse:
    return client.open(API + path, method=method, json=body, headers=AUTH)


def add(client: FlaskClient, *orders: dict[str, Any]) -> None:
    resp = client.post("/_admin/orders", json={"orders": list(orders)})
    assert resp.status_code == 200, resp.get_data(as_text=True)


def stock(client: FlaskClient, article_id: int, stock_id: int = 11) -> tuple[Decimal, Decimal]:
    """(StockCurrent, UnfulfilledAmount) of one stock entry, as GET /products/{id} answers."""
    text = call(client, "GET", f"/products/{article_id}").get_data(as_text=True)
    data = json.loads(text, parse_float=Decimal)["Data"]
    entry = next(e for e in data["Stocks"] if e["StockId"] == stock_id)
    return entry["StockCurrent"], entry["UnfulfilledAmount"]


def current(client: FlaskClient, article_id: int, stock_id: int = 11) -> Decimal:
    return stock(client, article_id, stock_id)[0]


def unfulfilled(client: FlaskClient, article_id: int) -> Decimal:
    return stock(client, article_id)[1]


def set_state(client: FlaskClient, n: int, state: int) -> None:
    assert call(client, "PUT", f"/orders/{ORDER_BASE + n}/orderstate", {"NewStateId": state}).status_code == 200


def violations(client: FlaskClient) -> list[str]:
    return client.get("/_admin/requests").get_json()[-1]["violations"]


# -- an order's import lowers stock ---------------------------------------------------------------------------


def test_an_imported_order_lowers_the_default_stock_of_its_linked_article() -> None:
    client = make()
    add(client, order(1, item(A, 3)))
    assert current(client, A) == 17
    assert current(client, A, 12) == 5  # only the default stock location
    assert call(client, "GET", f"/products/{A}").get_json()["Data"]["StockCurrent"] == 17  # top level mirrors it


def test_the_link_is_product_billbee_id_else_the_sku_never_product_id() -> None:
    client = make()
    add(client, order(1, item(Product={"Id": str(B), "SKU": "a-1"}, quantity=1)))  # Id is the shop's own id
    assert (current(client, A), current(client, B)) == (19, 30)
    add(client, order(2, item(Product={"Id": "shop-77", "Title": "unlinked"}, quantity=1)))
    assert (current(client, A), current(client, B)) == (19, 30)


def test_dont_adjust_stock_items_leave_the_stock_alone() -> None:
    client = make()
    add(client, order(1, item(A, 2, DontAdjustStock=True), item(B, 1)))
    assert (current(client, A), current(client, B)) == (20, 29)


def test_a_bundle_lowers_its_components_by_amount_times_quantity() -> None:
    client = make()
    add(client, order(1, item(SET, 3)))
    assert (current(client, A), current(client, B)) == (14, 27)
    bundle = call(client, "GET", f"/products/{SET}").get_json()["Data"]
    assert (bundle["StockCurrent"], bundle["Stocks"]) == (None, [])


def test_stock_reduce_items_per_sale_multiplies_the_quantity() -> None:
    client = make()
    add(client, order(1, item(PAIR, 3)))
    assert stock(client, PAIR) == (34, 6)


def test_deduct_stock_on_import_false_moves_no_stock() -> None:
    client = make(deduct_stock_on_import=False)
    add(client, order(1, item(A, 3)))
    assert stock(client, A) == (20, 3)  # still unfulfilled


def test_an_offer_takes_no_stock_until_it_moves_on() -> None:
    client = make()
    add(client, order(1, item(A, 2), State=14))
    assert stock(client, A) == (20, 0)
    set_state(client, 1, 2)
    assert stock(client, A) == (18, 2)


def test_scenario_orders_are_existing_data_unless_imported() -> None:
    assert stock(make([order(1, item(A, 2))]), A) == (20, 2)
    assert stock(make([order(1, item(A, 2))], import_orders=False), A) == (20, 2)
    assert stock(make([order(1, item(A, 2))], import_orders=True), A) == (18, 2)


# -- cancellations --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [6, 8])
def test_a_cancellation_keeps_the_stock_taken_by_default(state: int) -> None:
    client = make()
    add(client, order(1, item(A, 2)))
    set_state(client, 1, state)
    assert stock(client, A) == (18, 0)


@pytest.mark.parametrize("state", [6, 8])
def test_restock_on_cancel_gives_back_what_was_taken(state: int) -> None:
    client = make(restock_on_cancel=True)
    add(client, order(1, item(A, 2), item(SET, 1), item(B, 1, DontAdjustStock=True)))
    assert (current(client, A), current(client, B)) == (16, 29)
    set_state(client, 1, state)
    assert (current(client, A), current(client, B)) == (20, 30)
    set_state(client, 1, 8 if state == 6 else 6)  # from one cancelled state to the other: nothing twice
    assert (current(client, A), current(client, B)) == (20, 30)
    set_state(client, 1, 3)  # back again: taken again
    assert (current(client, A), current(client, B)) == (16, 29)


def test_restock_on_cancel_for_a_scenario_order_and_through_the_admin_patch() -> None:
    client = make([order(1, item(A, 2))], restock_on_cancel=True)
    assert client.patch(f"/_admin/orders/{ORDER_BASE + 1}", json={"State": 8}).status_code == 200
    assert stock(client, A) == (22, 0)  # the scenario's figure already reflected the order


def test_a_cancellation_order_with_negative_lines_adds_stock_and_reserves_nothing() -> None:
    client = make()
    add(client, order(1, item(A, 2), Id="5001"))
    add(client, order(2, item(A, -2), IsCancelationFor="5001"))
    assert stock(client, A) == (20, 2)  # the original (still open here) reserves; the credit does not


# -- the unfulfilled (reserved) amount ------------------------------------------------------------------------


def test_unfulfilled_amount_counts_open_orders_only_and_bundles_through_components() -> None:
    orders = [order(n, item(A, 1), State=n) for n in range(1, 18)]  # one order in each state
    orders.append(order(30, item(SET, 2)))
    client = make(orders)
    open_states = [1, 2, 3, 11, 12, 13, 15, 16]
    assert unfulfilled(client, A) == len(open_states) + 4
    assert unfulfilled(client, B) == 2
    assert stock(client, A, 12)[1] == 0  # other stock locations: the scenario's figure


def test_unfulfilled_states_setting_lenient_leaves_out_the_dunning_states() -> None:
    client = make([order(n, item(A, 1), State=s) for n, s in enumerate((3, 11, 12, 15, 14, 4), start=1)])
    assert unfulfilled(client, A) == 4
    client.post("/_admin/settings", json={"unfulfilled_states": PROFILES["lenient"]["unfulfilled_states"]})
    assert unfulfilled(client, A) == 1


def test_unfulfilled_follows_state_changes_edits_and_deletes() -> None:
    client = make([order(1, item(A, 2)), order(2, item(A, 1))])
    assert unfulfilled(client, A) == 3
    set_state(client, 1, 4)
    assert unfulfilled(client, A) == 1
    client.patch(f"/_admin/orders/{ORDER_BASE + 2}", json={"OrderItems": [item(A, 5)]})
    assert stock(client, A) == (20, 5)  # an edit of the items moves no stock
    client.delete(f"/_admin/orders/{ORDER_BASE + 2}")
    assert unfulfilled(client, A) == 0
    client.post("/_admin/products", json={"products": [{**PRODUCTS[2], "BillOfMaterial": [{"SKU": "B-2"}]}]})
    add(client, order(3, item(SET, 1)))
    assert (unfulfilled(client, A), unfulfilled(client, B)) == (0, 1)


@pytest.mark.parametrize("reserves", [True, False])
def test_dont_adjust_stock_reserves_setting(reserves: bool) -> None:
    client = make(**({} if reserves else {"dont_adjust_stock_reserves": False}))
    add(client, order(1, item(A, 2, DontAdjustStock=True)))
    assert stock(client, A) == (20, 2 if reserves else 0)


def test_unfulfilled_from_orders_false_shows_the_scenario_figure() -> None:
    products = [{**PRODUCTS[1], "Stocks": [{"StockId": 11, "StockCurrent": 30, "UnfulfilledAmount": 7}]}]
    client = create_app(throttle=False, unfulfilled_from_orders=False).test_client()
    client.post("/_admin/scenario", json={"products": products, "stocks": STOCKS, "orders": [order(1, item(B, 2))]})
    assert stock(client, B) == (30, 7)


def test_admin_state_shows_reserved_amounts_and_the_stock_each_order_holds() -> None:
    client = make()
    add(client, order(1, item(SET, 1)), order(2, item(A, 1), State=14))
    state = client.get("/_admin/state").get_json()
    assert state["reserved"] == {str(A): 2, str(B): 1, str(SET): 1}
    taken = {o["BillBeeOrderId"] - ORDER_BASE: o["_Taken"] for o in state["orders"]}
    assert taken == {1: [[A, 2], [B, 1]], 2: None}
    entry = next(p for p in state["products"] if p["Id"] == A)["Stocks"][0]
    assert (entry["StockCurrent"], entry["UnfulfilledAmount"]) == (18, 2)


# -- stock writes ---------------------------------------------------------------------------------------------


def test_updatestock_without_autosubtract_stores_new_quantity_as_sent() -> None:
    client = make([order(1, item(A, 3))])
    data = call(client, "POST", "/products/updatestock", {"Sku": "A-1", "NewQuantity": 12}).get_json()["Data"]
    assert (data["OldStock"], data["CurrentStock"], data["UnfulfilledAmount"]) == (20, 12, 3)
    assert data["Message"] == "The qty was successfully updated from 20 to 12"
    assert current(client, A) == 12


@pytest.mark.parametrize("endpoint", ["updatestock", "updatestockmultiple"])
def test_autosubtract_reserved_amount_stores_new_quantity_minus_unfulfilled(endpoint: str) -> None:
    client = make([order(1, item(A, 3)), order(2, item(SET, 1))])
    body = {"Sku": "A-1", "NewQuantity": 12, "AutosubtractReservedAmount": True}
    resp = call(client, "POST", f"/products/{endpoint}", body if endpoint == "updatestock" else [body]).get_json()
    data = (resp if endpoint == "updatestock" else resp[0])["Data"]
    assert (data["OldStock"], data["CurrentStock"], data["UnfulfilledAmount"]) == (20, 7, 5)
    assert stock(client, A) == (7, 5)
    write = client.get("/_admin/state").get_json()["stock_writes"][-1]
    assert (write["AutosubtractReservedAmount"], write["CurrentStock"], write["UnfulfilledAmount"]) == (True, 7, 5)


def test_autosubtract_in_another_stock_location_subtracts_its_own_amount() -> None:
    client = make([order(1, item(A, 3))])
    body = [{"Sku": "A-1", "StockId": 12, "NewQuantity": 4, "AutosubtractReservedAmount": True}]
    data = call(client, "POST", "/products/updatestockmultiple", body).get_json()[0]["Data"]
    assert (data["CurrentStock"], data["UnfulfilledAmount"]) == (4, 0)


@pytest.mark.parametrize(("below_zero", "stored"), [(True, -3), (False, 0)])
def test_autosubtract_below_zero_setting(below_zero: bool, stored: int) -> None:
    client = make([order(1, item(A, 5))], **({} if below_zero else {"autosubtract_below_zero": False}))
    body = {"Sku": "A-1", "NewQuantity": 2, "AutosubtractReservedAmount": True}
    data = call(client, "POST", "/products/updatestock", body).get_json()["Data"]
    assert data["CurrentStock"] == stored
    assert current(client, A) == stored


# -- GET /products/reservedamount -----------------------------------------------------------------------------


def test_reservedamount_by_id_sku_and_stock() -> None:
    client = make([order(1, item(A, 3)), order(2, item(SET, 2))])
    resp = call(client, "GET", f"/products/reservedamount?id={A}")
    assert resp.status_code == 200
    assert resp.get_json() == {"ErrorMessage": None, "ErrorCode": 0, "ErrorDescription": 0,
                               "Data": {"ReservedAmount": 7}}
    assert '"ReservedAmount":7.0000' in resp.get_data(as_text=True)
    assert violations(client) == []
    amount = call(client, "GET", "/products/reservedamount?id=b-2&lookupBy=sku").get_json()["Data"]
    assert amount == {"ReservedAmount": 2}
    assert call(client, "GET", f"/products/reservedamount?id={A}&stockId=11").get_json()["Data"] == {
        "ReservedAmount": 7}
    assert call(client, "GET", f"/products/reservedamount?id={A}&stockId=12").get_json()["Data"] == {
        "ReservedAmount": 0}
    assert call(client, "GET", "/products/reservedamount?id=SET-1&lookupBy=sku").get_json()["Data"] == {
        "ReservedAmount": 2}  # a bundle: its own open quantity


def test_reservedamount_refusals_and_violations() -> None:
    client = make()
    missing = call(client, "GET", "/products/reservedamount?id=NOPE&lookupBy=sku")
    assert (missing.status_code, missing.get_json()["ErrorCode"]) == (404, 11)
    stock_unknown = call(client, "GET", f"/products/reservedamount?id={A}&stockId=99")
    assert stock_unknown.status_code == 400
    assert "99" in stock_unknown.get_json()["ErrorMessage"]
    assert call(client, "GET", "/products/reservedamount").status_code == 400
    assert violations(client) == ["required query parameter 'id' missing"]
    call(client, "GET", "/products/reservedamount?id=4000000000017&lookupBy=ean")
    assert any("lookupBy" in v for v in violations(client))  # "Either the value id or the value sku"


# -- other readings -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "expected"), [("number", (0, 1, 11)), ("name", ("NoError", "ApiNotActivated",
                                                                                   "InvalidData"))])
def test_error_description_setting(mode: str, expected: tuple[Any, ...]) -> None:
    client = make(**({} if mode == "number" else {"error_description": mode}))
    ok = call(client, "GET", "/products").get_json()["ErrorDescription"]
    auth = client.get(API + "/products").get_json()["ErrorDescription"]
    write = call(client, "POST", "/products/updatestock", {"Sku": "NOPE", "NewQuantity": 1}).get_json()
    assert (ok, auth, write["ErrorDescription"]) == expected
    client.post("/_admin/faults", json={"rate": 1.0, "kinds": ["malformed_json"]})
    truncated = call(client, "GET", "/orders").get_data(as_text=True)
    assert ('"ErrorDescription":0,' if mode == "number" else '"ErrorDescription":"NoError",') in truncated


@pytest.mark.parametrize(("mode", "by_id"), [("order_number", 404), ("number_or_id", 200)])
def test_findbyextref_matches_the_order_number(mode: str, by_id: int) -> None:
    client = make([order(1, Id="5001", OrderNumber="#5001")],
                  **({} if mode == "order_number" else {"extref_matches": mode}))
    assert call(client, "GET", "/orders/findbyextref/%235001").status_code == 200
    assert call(client, "GET", "/orders/findbyextref/5001").status_code == by_id


@pytest.mark.parametrize(("includes", "total"), [(False, "20"), (True, "24.9")])
def test_total_cost_excludes_shipping_cost_by_default(includes: bool, total: str) -> None:
    client = make([order(1, item(A, 2), ShippingCost=4.9)],
                  **({"total_cost_includes_shipping": True} if includes else {}))
    text = call(client, "GET", f"/orders/{ORDER_BASE + 1}").get_data(as_text=True)
    assert json.loads(text, parse_float=Decimal)["Data"]["TotalCost"] == Decimal(total)
    given = make([order(1, item(A, 2), ShippingCost=4.9, TotalCost=99)])  # a given figure stays
    assert call(given, "GET", f"/orders/{ORDER_BASE + 1}").get_json()["Data"]["TotalCost"] == 99


@pytest.mark.parametrize("present", [True, False])
def test_order_web_url_setting(present: bool) -> None:
    client = make([order(1, item(A))], **({} if present else {"order_web_url": False}))
    data = call(client, "GET", f"/orders/{ORDER_BASE + 1}").get_json()["Data"]
    assert ("WebUrl" in data) is present
    if present:
        assert data["WebUrl"].startswith("https://")
        assert str(ORDER_BASE + 1) in data["WebUrl"]
    listed = call(client, "GET", "/orders").get_json()["Data"][0]
    assert ("WebUrl" in listed) is present


def test_full_name_is_first_and_last_name() -> None:
    client = make([order(1, Seller={"FirstName": "Anna", "LastName": "Groß"}, Buyer={"FirstName": "Jo"}),
                   order(2, Seller={"FirstName": "X", "FullName": "Given"})])
    first = call(client, "GET", f"/orders/{ORDER_BASE + 1}").get_json()["Data"]
    assert (first["Seller"]["FullName"], first["Buyer"]["FullName"]) == ("Anna Groß", "Jo")
    assert call(client, "GET", f"/orders/{ORDER_BASE + 2}").get_json()["Data"]["Seller"]["FullName"] == "Given"


def test_lenient_profile_takes_another_value_of_each_setting_it_names() -> None:
    client = make()
    lenient = PROFILES["lenient"]
    assert all(lenient[k] != DEFAULT_SETTINGS[k] for k in lenient)
    assert client.post("/_admin/profile", json={"name": "lenient"}).status_code == 200
    settings = client.get("/_admin/settings").get_json()
    assert {k: settings[k] for k in lenient} == lenient
    assert call(client, "GET", "/products").get_json()["ErrorDescription"] == "NoError"
    client.post("/_admin/profile", json={"name": "literal"})
    assert client.get("/_admin/settings").get_json() == {**DEFAULT_SETTINGS, "throttle": False}
