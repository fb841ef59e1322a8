"""BundleIndex: a bundle order line's components from the catalogue's bills of materials."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sandbox import demo_data
from tap_billbee.bundles import BundleIndex

CATALOGUE = [
    {"Id": 1, "SKU": "A-1", "EAN": "4006381333931", "Type": 1},
    {"Id": 2, "SKU": "B-2", "EAN": "4006381333948", "Type": 1},
    {"Id": 3, "SKU": "C-3", "EAN": None, "Type": 1},
    {"Id": 10, "SKU": "SET-1", "EAN": "4006381333955", "Type": 2,
     "BillOfMaterial": [{"ArticleId": 1, "SKU": "A-1", "Amount": 1}, {"ArticleId": 2, "SKU": "B-2", "Amount": 2}]},
    # a BOM entry without ArticleId is resolved through its SKU
    {"Id": 11, "SKU": "SET-2", "EAN": None, "Type": 2,
     "BillOfMaterial": [{"SKU": "C-3", "Amount": "0.5"}, {"ArticleId": None, "SKU": "A-1", "Amount": 3}]},
    {"Id": 12, "SKU": "SET-EMPTY", "Type": 2, "BillOfMaterial": []},
]


def index() -> BundleIndex:
    idx = BundleIndex()
    idx.load(CATALOGUE)
    return idx


def line(quantity: Any, **product: Any) -> dict[str, Any]:
    return {"Quantity": quantity, "Product": product}


def test_components_by_billbee_id_multiply_line_quantity_by_bom_amount() -> None:
    idx = index()
    item = line(3, BillbeeId=10, SKU="whatever-the-shop-sent", Type=2)
    assert idx.is_bundle_line(item)
    assert idx.components(item) == [
        {"ArticleId": 1, "SKU": "A-1", "EAN": "4006381333931", "Quantity": Decimal(3)},
        {"ArticleId": 2, "SKU": "B-2", "EAN": "4006381333948", "Quantity": Decimal(6)},
    ]


def test_components_by_sku_when_the_billbee_id_is_unknown() -> None:
    idx = index()
    for product in ({"BillbeeId": None, "SKU": "SET-1"}, {"BillbeeId": 999, "SKU": "SET-1"}, {"SKU": "SET-1"}):
        item = line(2, **product)
        assert idx.is_bundle_line(item)  # known as a bundle from the catalogue even without Type on the line
        assert [(c["ArticleId"], c["Quantity"]) for c in idx.components(item)] == [(1, 2), (2, 4)]


def test_bom_entries_without_article_id_take_id_and_ean_via_sku() -> None:
    idx = index()
    assert idx.components(line(4, BillbeeId=11)) == [
        {"ArticleId": 3, "SKU": "C-3", "EAN": None, "Quantity": Decimal("2.0")},
        {"ArticleId": 1, "SKU": "A-1", "EAN": "4006381333931", "Quantity": Decimal(12)},
    ]


def test_unknown_or_empty_bundle_has_no_components() -> None:
    idx = index()
    unknown = line(1, BillbeeId=404, SKU="SET-UNKNOWN", Type=2)
    assert idx.is_bundle_line(unknown)  # the line says bundle, the catalogue does not know it
    assert idx.components(unknown) == []
    assert idx.components(line(1, BillbeeId=12)) == []
    assert idx.components(line(1)) == []
    assert idx.components({}) == []


def test_plain_article_is_not_a_bundle_line() -> None:
    idx = index()
    assert not idx.is_bundle_line(line(1, BillbeeId=1, SKU="A-1", Type=1))
    assert not idx.is_bundle_line(line(1, SKU="NOT-IN-CATALOGUE"))
    assert idx.components(line(5, BillbeeId=1)) == []


def test_load_marks_the_index_loaded_and_add_ignores_products_without_id() -> None:
    idx = BundleIndex()
    assert not idx.loaded
    idx.add({"SKU": "NO-ID", "Type": 2, "BillOfMaterial": [{"ArticleId": 1, "Amount": 1}]})
    assert not idx.is_bundle_line(line(1, SKU="NO-ID"))
    idx.load([])
    assert idx.loaded


def test_demo_catalogue_bundles() -> None:
    products = demo_data.generate()["billbee"]["products"]
    by_id = {p["Id"]: p for p in products}
    idx = BundleIndex()
    idx.load(products)
    bundles = [p for p in products if p["Type"] == 2]
    assert bundles
    for bundle in bundles:
        components = idx.components(line(2, BillbeeId=bundle["Id"], SKU=bundle["SKU"]))
        assert [c["SKU"] for c in components] == [b["SKU"] for b in bundle["BillOfMaterial"]]
        for comp, bom in zip(components, bundle["BillOfMaterial"], strict=True):
            assert comp["Quantity"] == 2 * Decimal(str(bom["Amount"]))
            assert comp["EAN"] == by_id[bom["ArticleId"]]["EAN"]


@given(quantity=st.decimals(min_value=0, max_value=1000, places=3),
       amounts=st.lists(st.decimals(min_value=0, max_value=100, places=3), min_size=1, max_size=5))
def test_component_quantity_is_line_quantity_times_amount(quantity: Decimal, amounts: list[Decimal]) -> None:
    idx = BundleIndex()
    parts = [{"Id": 100 + i, "SKU": f"P-{i}", "EAN": f"EAN-{i}", "Type": 1} for i in range(len(amounts))]
    bom = [{"ArticleId": 100 + i, "SKU": f"P-{i}", "Amount": float(a)} for i, a in enumerate(amounts)]
    idx.load([*parts, {"Id": 1, "SKU": "SET", "Type": 2, "BillOfMaterial": bom}])
    components = idx.components(line(float(quantity), BillbeeId=1))
    assert [c["Quantity"] for c in components] == [Decimal(str(float(quantity))) * Decimal(str(float(a)))
                                                   for a in amounts]
    assert [c["EAN"] for c in components] == [f"EAN-{i}" for i in range(len(amounts))]
