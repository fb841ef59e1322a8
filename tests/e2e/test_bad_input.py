"""The bad-input catalogue through `meltano run`: each case ends in a specific reason (for orders: the error tag
and the reason as a Billbee order message), the run goes on, and the good orders beside them are unaffected.

The mapping rules themselves are unit- and property-tested in target-wemalo/tests; malformed JSON and HTML
error pages from either API in core/tests/test_session.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import MeltanoProject
from tests.e2e.test_sync import ERROR, RECEIVED, TAG, _has

pytestmark = pytest.mark.e2e

JOB = "billbee-to-wemalo"


def address(**changes: Any) -> dict[str, Any]:
    base = {"FirstName": "Erika", "LastName": "Mustermann", "Street": "Hauptstraße", "HouseNumber": "5",
            "Zip": "10115", "City": "Berlin", "CountryISO2": "DE", "Country": "Deutschland",
            "Email": "erika@example.org"}
    return {**base, **changes}


def line(sku: str, quantity: str = "1", **product: Any) -> dict[str, Any]:
    return {"Quantity": quantity, "TotalPrice": "10.00", "Product": {"SKU": sku, **product}}


def test_bad_input_catalogue(project: MeltanoProject) -> None:
    control = project.sandbox.control
    demo = control.load_demo()
    products = demo["billbee"]["products"]
    good = [p["SKU"] for p in products if p.get("SKU") and p.get("EAN") and p.get("Type") != 2][:3]
    control.billbee("POST", "/products", {"products": [
        {"Id": 100000999000001, "SKU": "SET-EMPTY", "EAN": "4000000999003", "Type": 2, "BillOfMaterial": [],
         "Title": [{"Text": "Leeres Set", "LanguageCode": "DE"}]}]})
    cases: dict[str, dict[str, Any]] = {
        "unknown_sku": {"OrderItems": [line(good[0]), line("GIBT-ES-NICHT")]},
        "bundle_without_components": {"OrderItems": [line("SET-EMPTY", Type=2)]},
        "blank_street": {"ShippingAddress": address(Street="   ", HouseNumber="")},
        "number_in_street": {"ShippingAddress": address(Street="Lindenallee 7b", HouseNumber="")},
        "street_too_long": {"ShippingAddress": address(Street="Sankt-Johannes-von-Nepomuk-Kirchplatzstraße")},
        "non_latin": {"ShippingAddress": address(FirstName="Δημήτρης 🎉", LastName="Παπαδόπουλος &amp; Söhne")},
        "zero_and_fraction_ok": {"OrderItems": [line(good[0], "0"), line(good[1], "2")]},
        "fractional": {"OrderItems": [line(good[0], "1.5")]},
        "five_hundred_lines": {"OrderItems": [line(good[i % 3]) for i in range(500)]},
        "only_digital_and_coupon": {"OrderItems": [line(good[0], IsDigital=True),
                                                   {**line("COUPON-10"), "IsCoupon": True}]},
        "nulls": {"OrderNumber": None, "ShippingProfileName": None, "Currency": None,
                  "ShippingAddress": address(Email=None, Phone=None, Line2=None, NameAddition=None, Company=None,
                                             State=None)},
        "deleted_before_tagging": {},
    }
    rows = []
    for name, changes in cases.items():
        rows.append({"Tags": [TAG], "State": 3, "OrderNumber": name, "ShippingAddress": address(),
                     "OrderItems": [line(good[0])], **changes})
    created = control.billbee("POST", "/orders", {"orders": rows})["orders"]
    ids = {o["OrderNumber"] or "nulls": str(o["BillBeeOrderId"]) for o in created}

    first = project.run("run", JOB)
    output = first.stdout + first.stderr
    control.billbee("DELETE", f"/orders/{ids['deleted_before_tagging']}")  # gone before the tags are written
    # A Billbee article whose SKU is changed to one that another wemalo product already has.
    renamed = next(p for p in products if p.get("SKU") == good[2])
    control.billbee("POST", "/products", {"products": [{**renamed, "SKU": good[1]}]})
    second = project.run("run", JOB)
    output += second.stdout + second.stderr

    expected_rejections = {
        "unknown_sku": "article GIBT-ES-NICHT is not in wemalo",
        "bundle_without_components": "bundle without components",
        "blank_street": "the street is empty",
        "street_too_long": "carriers accept 35",
        "fractional": "quantity 1.5 is not a whole number",
        "only_digital_and_coupon": "nothing to ship",
    }
    accepted = {"number_in_street", "non_latin", "zero_and_fraction_ok", "five_hundred_lines", "nulls"}
    billbee = {str(o["BillBeeOrderId"]): o for o in control.billbee_state()["orders"]}
    messages = control.billbee_state()["messages"]
    wemalo = {o["externalId"]: o for o in control.wemalo_state()["orders"]}
    for case, reason in expected_rejections.items():
        order_id = ids[case]
        assert order_id not in wemalo, case
        assert _has(billbee[order_id]["Tags"], ERROR), case
        assert [reason in m["Text"] for m in messages.get(order_id, [])] == [True], (case, messages.get(order_id))
        assert reason in output, case  # the run's own output says it too
    for case in accepted:
        assert ids[case] in wemalo, case
        assert _has(billbee[ids[case]]["Tags"], RECEIVED), case
    receiver = wemalo[ids["number_in_street"]]["receiver"][0]
    assert (receiver["street"], receiver["streetNumber"]) == ("Lindenallee", "7b")
    assert wemalo[ids["non_latin"]]["receiver"][0]["name1"] == "Δημήτρης 🎉 Παπαδόπουλος & Söhne"
    assert [(p["externalId"], p["quantity"]) for p in wemalo[ids["zero_and_fraction_ok"]]["positions"]] == [
        (good[1], 2)]
    assert sum(p["quantity"] for p in wemalo[ids["five_hundred_lines"]]["positions"]) == 500
    # The order deleted in Billbee: in wemalo, its acknowledgement dropped with a warning, the run went on.
    assert ids["deleted_before_tagging"] in wemalo
    assert f"Billbee order {ids['deleted_before_tagging']}: no longer exists in Billbee" in output
    # The SKU clash is refused and reported; the wemalo product keeps its SKU.
    assert f"SKU {good[1]} already belongs to " in output
    assert sum(1 for p in control.wemalo_state()["products"] if p["sku"] == good[1]) == 1
    assert control.violations() == {"billbee": [], "wemalo": []}
