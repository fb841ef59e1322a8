"""Billbee order -> wemalo goods order (target_wemalo.orders)."""

from __future__ import annotations

from typing import Any

import pytest

from target_wemalo.orders import OrderError, dispatcher_profile, map_goods_order, map_positions

SHIPPING_ADDRESS = {
    "FirstName": "Max", "LastName": "Mustermann", "Company": None, "NameAddition": None, "Street": "Hauptstr. 12",
    "HouseNumber": None, "Zip": "10115", "City": "Berlin", "CountryISO2": "DE", "Line2": None, "Email": None,
    "Phone": None, "State": None,
}


def line(sku: str | None, quantity: Any = 1, *, billbee_id: int | None = None, total: Any = None, tax: Any = None,
         type_: int | None = 1, components: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "BillbeeId": billbee_id,
        "Quantity": quantity,
        "TotalPrice": total,
        "TaxAmount": tax,
        "IsCoupon": False,
        "Product": {"SKU": sku, "Type": type_, "IsDigital": False},
    }
    if components is not None:
        item["BundleComponents"] = components
    product_extra = {k: extra.pop(k) for k in ("IsDigital", "EAN") if k in extra}
    item["Product"].update(product_extra)
    item.update(extra)
    return item


def component(sku: str | None, quantity: Any) -> dict[str, Any]:
    return {"ArticleId": 1, "SKU": sku, "EAN": None, "Quantity": quantity}


def order(*items: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "BillBeeOrderId": 900001,
        "OrderNumber": "A-1001",
        "Currency": "EUR",
        "TotalCost": 59.9,
        "ShippingAddress": dict(SHIPPING_ADDRESS),
        "ShippingProfileName": None,
        "ShippingProviderProductName": None,
        "OrderItems": list(items),
    }
    base.update(overrides)
    return base


def quantities(positions: list[dict[str, Any]]) -> dict[str, int]:
    return {p["externalId"]: p["quantity"] for p in positions}


# --- positions -----------------------------------------------------------------------------------------------------


def test_simple_lines() -> None:
    positions = map_positions(order(line("A", 2, billbee_id=11, total=39.98, tax=6.38), line("B", 1, billbee_id=12)))
    assert positions == [
        {"externalId": "A", "quantity": 2, "externalPositionIdentifier": "11", "total": 3998, "tax": 638},
        {"externalId": "B", "quantity": 1, "externalPositionIdentifier": "12"},  # no price in Billbee: none sent
    ]


def test_position_identifier_falls_back_to_line_number() -> None:
    positions = map_positions(order(line("A"), line("B")))
    assert [p["externalPositionIdentifier"] for p in positions] == ["1", "2"]


def test_sku_is_trimmed_and_decoded() -> None:
    assert quantities(map_positions(order(line("  A&amp;B  ", 3)))) == {"A&B": 3}


@pytest.mark.parametrize(("value", "cents"), [
    (19.99, 1999), ("19.99", 1999), (0.1, 10), (0.125, 13), (0.005, 1), (100, 10000), (None, None), (0, 0),
    ("n/a", None),
    (1234567.89, 123456789), (-5.5, -550), (2.675, 268),
])
def test_money_in_cents(value: Any, cents: int) -> None:
    (position,) = map_positions(order(line("A", 1, total=value, tax=value)))
    assert position.get("total") == cents
    assert position.get("tax") == cents
    assert cents is None or isinstance(position["total"], int)


def test_a_position_merged_from_a_priced_and_an_unpriced_line_has_no_total() -> None:
    positions = map_positions(order(line("A", 1, total=10, tax=1.6), line("a", 2)))
    assert positions == [{"externalId": "A", "quantity": 3, "externalPositionIdentifier": "1"}]


@pytest.mark.parametrize("total_cost", [49.9, 59.9, None], ids=["excluding_shipping", "including_shipping", "absent"])
def test_order_total_is_lines_plus_shipping_whatever_total_cost_means(total_cost: Any) -> None:
    """The spec: TotalCost "excluding shipping cost"; answers are reported with it included. Neither is used."""
    mapped = map_goods_order(order(line("A", 2, total=39.9), line("B", 1, total=10), ShippingCost=10,
                                   TotalCost=total_cost))
    assert mapped["meta"]["total"] == 59.9


def test_order_total_is_left_out_when_a_figure_is_missing() -> None:
    assert "total" not in map_goods_order(order(line("A", 1, total=10), ShippingCost=None))["meta"]
    assert "total" not in map_goods_order(order(line("A", 1), ShippingCost=4.9))["meta"]


def test_integral_float_quantity() -> None:
    assert quantities(map_positions(order(line("A", 2.0), line("B", "3.000")))) == {"A": 2, "B": 3}


@pytest.mark.parametrize("quantity", [0, 0.0, None, "0", -1])
def test_zero_or_negative_quantity_is_skipped(quantity: Any) -> None:
    assert quantities(map_positions(order(line("A", quantity), line("B", 1)))) == {"B": 1}


@pytest.mark.parametrize("quantity", [0.5, 1.5, "2.25", 0.001])
def test_fractional_quantity_is_refused(quantity: Any) -> None:
    with pytest.raises(OrderError, match=r"line 2 \(B\): quantity .* is not a whole number"):
        map_positions(order(line("A", 1), line("B", quantity)))


def test_line_without_sku_is_refused() -> None:
    with pytest.raises(OrderError, match=r"line 1 \(no SKU\): no SKU"):
        map_positions(order(line("  ", 1)))


@pytest.mark.parametrize("flags", [{"IsCoupon": True}, {"IsDiscount": True}, {"IsDigital": True}])
def test_coupons_discounts_and_digital_lines_are_left_out(flags: dict[str, bool]) -> None:
    # Such lines have no SKU or a fractional/negative quantity: they must not fail the order.
    assert quantities(map_positions(order(line("A", 1), line(None, -1.5, **flags)))) == {"A": 1}


def test_same_sku_lines_are_merged() -> None:
    positions = map_positions(order(line("A", 1, billbee_id=1, total=10, tax=1.6),
                                    line("B", 1, billbee_id=2),
                                    line("A", 2, billbee_id=3, total=20, tax=3.2)))
    assert positions[0] == {"externalId": "A", "quantity": 3, "externalPositionIdentifier": "1", "total": 3000,
                            "tax": 480}
    assert len(positions) == 2


def test_bundle_line_replaced_by_components() -> None:
    bundle = line("SET", 2, type_=2, billbee_id=7, total=99.9, tax=15.95,
                  components=[component("A", 2), component("B", 6)])
    positions = map_positions(order(bundle))
    assert quantities(positions) == {"A": 2, "B": 6}
    assert all(p["externalPositionIdentifier"] == "7" for p in positions)
    assert all("total" not in p and "tax" not in p for p in positions)  # a bundle price cannot be split


def test_bundle_detected_by_components_even_without_type() -> None:
    assert quantities(map_positions(order(line("SET", 1, type_=None, components=[component("A", 3)])))) == {"A": 3}


def test_bundle_components_merged_with_single_lines() -> None:
    positions = map_positions(order(line("A", 1, total=5), line("SET", 1, type_=2, components=[component("A", 2)]),
                                    line("SET2", 2, type_=2, components=[component("A", 4), component("C", 2)])))
    assert quantities(positions) == {"A": 7, "C": 2}
    assert "total" not in positions[0]  # 5.00 for 7 units would be wrong: the bundles' share is not known


@pytest.mark.parametrize("components", [None, []])
def test_bundle_without_components_names_the_line(components: list[dict[str, Any]] | None) -> None:
    with pytest.raises(OrderError, match=r"line 2 \(SET-1\): bundle without components"):
        map_positions(order(line("A"), line("SET-1", 1, type_=2, components=components)))


def test_bundle_with_zero_quantity_is_skipped_even_without_components() -> None:
    assert quantities(map_positions(order(line("A"), line("SET", 0, type_=2)))) == {"A": 1}


def test_bundle_component_without_sku() -> None:
    with pytest.raises(OrderError, match=r"line 1 \(SET\), component None: no SKU"):
        map_positions(order(line("SET", 1, type_=2, components=[component("A", 1), component(None, 1)])))


def test_bundle_component_with_fractional_quantity() -> None:
    with pytest.raises(OrderError, match=r"line 1 \(SET\), component A: quantity 1.5 is not a whole number"):
        map_positions(order(line("SET", 1, type_=2, components=[component("A", 1.5)])))


def test_bundle_component_with_zero_quantity_is_dropped() -> None:
    positions = map_positions(order(line("SET", 1, type_=2, components=[component("A", 0), component("B", 1)])))
    assert quantities(positions) == {"B": 1}


def test_order_with_500_lines() -> None:
    items = [line(f"SKU-{i % 250:03d}", i % 3 + 1, billbee_id=1000 + i, total=1.01) for i in range(500)]
    positions = map_positions(order(*items))
    assert len(positions) == 250
    assert sum(p["quantity"] for p in positions) == sum(i % 3 + 1 for i in range(500))
    assert all(p["total"] == 202 for p in positions)
    assert positions[0]["externalPositionIdentifier"] == "1000"  # the first line of the SKU


def test_no_order_items() -> None:
    assert map_positions(order()) == []
    assert map_positions({"OrderItems": None}) == []


# --- goods order ---------------------------------------------------------------------------------------------------


def test_goods_order() -> None:
    body = map_goods_order(order(line("A", 2, total=39.98, tax=6.38), ShippingCost=4.9))
    meta = body["meta"]
    assert meta["externalId"] == "900001"
    assert meta["orderNumber"] == "A-1001"
    assert meta["externalIdMatch"] == "sku"
    assert meta["currency"] == "EUR"
    assert meta["total"] == 44.88  # the line plus shipping
    assert isinstance(meta["total"], float)
    assert meta["receiver"] == [{"primary": True, "name1": "Max Mustermann", "street": "Hauptstr.",
                                 "streetNumber": "12", "zip": "10115", "city": "Berlin", "countryCode2Letter": "DE"}]
    assert "dispatcherProfile" not in meta
    assert body["positions"] == [{"externalId": "A", "quantity": 2, "externalPositionIdentifier": "1",
                                  "total": 3998, "tax": 638}]


@pytest.mark.parametrize("number", [None, "", "   "])
def test_order_number_falls_back_to_billbee_id(number: str | None) -> None:
    assert map_goods_order(order(line("A"), OrderNumber=number))["meta"]["orderNumber"] == "900001"


def test_optional_order_fields_null() -> None:
    meta = map_goods_order(order(line("A"), Currency=None, TotalCost=None, OrderNumber=None))["meta"]
    assert "currency" not in meta
    assert "total" not in meta


def test_a_zero_total_is_sent() -> None:
    assert map_goods_order(order(line("A", total=0), ShippingCost=0))["meta"]["total"] == 0.0


def test_missing_billbee_order_id() -> None:
    with pytest.raises(OrderError, match="without BillBeeOrderId"):
        map_goods_order(order(line("A"), BillBeeOrderId=None))


def test_address_error_becomes_order_error() -> None:
    with pytest.raises(OrderError, match="the city is empty"):
        map_goods_order(order(line("A"), ShippingAddress={**SHIPPING_ADDRESS, "City": " "}))


def test_missing_shipping_address() -> None:
    with pytest.raises(OrderError, match="no shipping address"):
        map_goods_order(order(line("A"), ShippingAddress=None))


@pytest.mark.parametrize("items", [
    [],
    [line(None, 1, IsCoupon=True)],
    [line("RABATT", 1, IsDiscount=True), line("EBOOK", 1, IsDigital=True)],
    [line("A", 0), line("SET", 0, type_=2)],
])
def test_nothing_to_ship(items: list[dict[str, Any]]) -> None:
    with pytest.raises(OrderError, match="nothing to ship"):
        map_goods_order(order(*items))


def test_bundle_without_components_fails_the_order() -> None:
    with pytest.raises(OrderError, match="bundle without components"):
        map_goods_order(order(line("SET", 1, type_=2, components=[])))


# --- dispatcher profile --------------------------------------------------------------------------------------------

PROFILES = {"dhl paket": "dhl_std", "dpd classic": "dpd_classic", "dhl express": "dhl_exp"}


def test_profile_by_explicit_mapping() -> None:
    body = map_goods_order(order(line("A"), ShippingProfileName="Standardversand"),
                           dispatcher_map={"Standardversand": "dhl_std"}, profiles=PROFILES)
    assert body["meta"]["dispatcherProfile"] == "dhl_std"


@pytest.mark.parametrize("name", ["DHL Paket", "dhl paket", "DHL PAKET", "  DHL   Paket "])
def test_profile_by_equal_name_case_insensitive(name: str) -> None:
    assert dispatcher_profile({"ShippingProfileName": name}, {}, PROFILES) == "dhl_std"


def test_profile_by_provider_product_name() -> None:
    assert dispatcher_profile({"ShippingProfileName": "Unbekannt", "ShippingProviderProductName": "DPD Classic"},
                              {}, PROFILES) == "dpd_classic"


def test_explicit_mapping_beats_equal_name() -> None:
    assert dispatcher_profile({"ShippingProfileName": "DHL Paket"}, {"DHL Paket": "dhl_exp"}, PROFILES) == "dhl_exp"


def test_explicit_mapping_of_product_name_beats_equal_profile_name() -> None:
    # "explicit mapping first, then equal names" holds across both Billbee names.
    found = dispatcher_profile({"ShippingProfileName": "DHL Paket", "ShippingProviderProductName": "Express 12"},
                               {"Express 12": "dhl_exp"}, PROFILES)
    assert found == "dhl_exp"


def test_profile_name_mapping_beats_product_name_mapping() -> None:
    found = dispatcher_profile({"ShippingProfileName": "P", "ShippingProviderProductName": "Q"},
                               {"P": "from_profile", "Q": "from_product"}, {})
    assert found == "from_profile"


def test_mapping_key_is_matched_after_cleaning() -> None:
    assert dispatcher_profile({"ShippingProfileName": " Standard&amp;Express "}, {"Standard&Express": "x"}, {}) == "x"


@pytest.mark.parametrize("names", [
    {"ShippingProfileName": None, "ShippingProviderProductName": None},
    {"ShippingProfileName": "  ", "ShippingProviderProductName": ""},
    {"ShippingProfileName": "Hermes", "ShippingProviderProductName": "Hermes Päckchen"},
    {},
])
def test_no_profile(names: dict[str, Any]) -> None:
    assert dispatcher_profile(names, {"DHL": "x"}, PROFILES) is None
    assert "dispatcherProfile" not in map_goods_order(order(line("A"), **names), dispatcher_map={"DHL": "x"},
                                                      profiles=PROFILES)["meta"]
