"""Billbee article -> wemalo product and the ProductPlanner (target_wemalo.products)."""

from __future__ import annotations

from typing import Any

import pytest

from target_wemalo.products import ProductError, ProductPlanner, map_product, title

GROUP = "default"


def article(id_: int = 101, sku: Any = "A-1", ean: Any = "4006381333931", **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "Id": id_,
        "SKU": sku,
        "EAN": ean,
        "Type": 1,
        "Title": [{"Text": "Tasse", "LanguageCode": "DE"}],
        "Category1": None,
        "IsDeactivated": False,
        "LengthCm": None,
        "WidthCm": None,
        "HeightCm": None,
        "Weight": None,
        "WeightNet": None,
        "Manufacturer": None,
        "TaricNumber": None,
        "CountryOfOrigin": None,
    }
    base.update(overrides)
    return base


def wemalo(ext: str, sku: str, ean: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"externalId": ext, "sku": sku, "ean": ean, "name": "Tasse", "productGroup": GROUP, "isActive": True,
            **fields}


def planner(*products: dict[str, Any], update_dimensions: bool = False) -> ProductPlanner:
    return ProductPlanner(list(products), default_group=GROUP, update_dimensions=update_dimensions)


# --- title ---------------------------------------------------------------------------------------------------------


def test_german_title_preferred() -> None:
    product = {"Title": [{"Text": "Mug", "LanguageCode": "EN"}, {"Text": "Tasse", "LanguageCode": "DE"}]}
    assert title(product) == "Tasse"


def test_language_code_case_insensitive() -> None:
    assert title({"Title": [{"Text": "Mug", "LanguageCode": "EN"}, {"Text": "Tasse", "LanguageCode": "de"}]}) == "Tasse"


def test_first_title_without_german() -> None:
    product = {"Title": [{"Text": "", "LanguageCode": "EN"}, {"Text": "Tazza", "LanguageCode": "IT"},
                         {"Text": "Mug", "LanguageCode": "EN"}]}
    assert title(product) == "Tazza"


def test_blank_german_title_falls_back_to_another_language() -> None:
    product = {"Title": [{"Text": "  ", "LanguageCode": "DE"}, {"Text": "Mug", "LanguageCode": "EN"}]}
    assert title(product) == "Mug"


def test_title_html_entities_decoded() -> None:
    assert title({"Title": [{"Text": "Tasse &amp; Untertasse &quot;Gr&ouml;&szlig;e L&quot;",
                             "LanguageCode": "DE"}]}) == 'Tasse & Untertasse "Größe L"'


@pytest.mark.parametrize("titles", [None, [], [{"Text": None, "LanguageCode": None}]])
def test_no_title(titles: Any) -> None:
    assert title({"Title": titles}) == ""


# --- map_product ---------------------------------------------------------------------------------------------------


def test_map_product_minimal() -> None:
    assert map_product(article(), GROUP) == {
        "externalId": "101", "sku": "A-1", "ean": "4006381333931", "name": "Tasse", "productGroup": GROUP,
        "isActive": True,
    }


def test_map_product_full() -> None:
    mapped = map_product(article(
        Title=[{"Text": "Mug", "LanguageCode": "EN"}, {"Text": "Tasse", "LanguageCode": "DE"}],
        Category1={"Name": "Küche", "Id": 3}, IsDeactivated=True, LengthCm=12.5, WidthCm=8.0, HeightCm=10,
        Weight=350, WeightNet=300, Manufacturer="Porzellan &amp; Co", TaricNumber="69120010",
        CountryOfOrigin="DE"), GROUP)
    assert mapped == {
        "externalId": "101", "sku": "A-1", "ean": "4006381333931", "name": "Tasse", "productGroup": "Küche",
        "isActive": False, "depth": 12.5, "width": 8, "height": 10, "grossWeight": 350, "netWeight": 300,
        "producerName": "Porzellan & Co", "customsTariffNumber": "69120010", "originCountry": "DE",
    }
    assert isinstance(mapped["width"], int)


def test_external_id_is_billbee_id() -> None:
    assert map_product(article(id_=300000065752348, sku="X"), GROUP)["externalId"] == "300000065752348"


def test_sku_and_ean_cleaned() -> None:
    mapped = map_product(article(sku="  A&amp;1 ", ean=" 4006381333931 "), GROUP)
    assert (mapped["sku"], mapped["ean"]) == ("A&1", "4006381333931")


def test_name_falls_back_to_sku() -> None:
    assert map_product(article(Title=[]), GROUP)["name"] == "A-1"


@pytest.mark.parametrize("sku", [None, "", "   "])
def test_sku_required(sku: Any) -> None:
    with pytest.raises(ProductError, match="no SKU"):
        map_product(article(sku=sku), GROUP)


@pytest.mark.parametrize("ean", [None, "", "   "])
def test_ean_required(ean: Any) -> None:
    with pytest.raises(ProductError, match="no EAN"):
        map_product(article(ean=ean), GROUP)


def test_bundle_is_refused_even_with_sku_and_ean() -> None:
    with pytest.raises(ProductError, match="bundle"):
        map_product(article(Type=2, BillOfMaterial=[{"ArticleId": 1, "Amount": 1.0, "SKU": "B"}]), GROUP)


@pytest.mark.parametrize("category", [None, {}, {"Name": None}, {"Name": "  "}])
def test_default_group(category: Any) -> None:
    assert map_product(article(Category1=category), GROUP)["productGroup"] == GROUP


def test_is_active_when_flag_missing_or_null() -> None:
    plain = article()
    del plain["IsDeactivated"]
    assert map_product(plain, GROUP)["isActive"] is True
    assert map_product(article(IsDeactivated=None), GROUP)["isActive"] is True


def test_zero_dimensions_are_sent_and_null_dimensions_left_out() -> None:
    mapped = map_product(article(LengthCm=0, WidthCm=None, Weight=0.0), GROUP)
    assert mapped["depth"] == 0
    assert mapped["grossWeight"] == 0
    assert "width" not in mapped
    assert "netWeight" not in mapped


# --- planner: create / unchanged / update ------------------------------------------------------------------------


def test_create_new_product() -> None:
    plan = planner()
    decision = plan.decide(article())
    assert decision.action == "create"
    assert decision.payload == map_product(article(), GROUP)
    assert plan.knows_sku("A-1")
    assert plan.knows_sku("a-1")


def test_unchanged_costs_no_write() -> None:
    decision = planner(wemalo("101", "A-1", "4006381333931")).decide(article())
    assert decision.action == "unchanged"
    assert decision.payload is None


def test_unchanged_with_numbers_in_other_notation() -> None:
    existing = wemalo("101", "A-1", "4006381333931", depth="12.50", width=8.0, height=10, grossWeight="350",
                      netWeight=300.0)
    decision = planner(existing, update_dimensions=True).decide(
        article(LengthCm=12.5, WidthCm=8, HeightCm=10.0, Weight=350, WeightNet=300))
    assert decision.action == "unchanged"


def test_unchanged_when_wemalo_has_empty_strings_for_missing_fields() -> None:
    existing = wemalo("101", "A-1", "4006381333931")
    assert planner(existing).decide(article()).action == "unchanged"


def test_wemalo_product_with_ext_id_key() -> None:
    existing = {"extId": "101", "sku": "A-1", "ean": "4006381333931", "name": "Tasse", "productGroup": GROUP,
                "isActive": True}
    assert planner(existing).decide(article()).action == "unchanged"


def test_update_of_name() -> None:
    existing = wemalo("101", "A-1", "4006381333931", description="kept", id=555)
    decision = planner(existing).decide(article(Title=[{"Text": "Große Tasse", "LanguageCode": "DE"}]))
    assert decision.action == "update"
    assert decision.changed == ["name"]
    assert decision.payload is not None
    assert decision.payload["name"] == "Große Tasse"
    assert decision.payload["externalId"] == "101"
    # Fields the connector does not manage are not kept in memory; the sink merges them from a fresh
    # product/get right before the update (see test_fixtures.py).
    assert "description" not in decision.payload


def test_update_payload_without_response_envelope() -> None:
    existing = wemalo("101", "A-1", "4006381333931", Success=True, status=200)
    decision = planner(existing).decide(article(IsDeactivated=True))
    assert decision.action == "update"
    assert decision.changed == ["isActive"]
    assert decision.payload is not None
    assert "Success" not in decision.payload
    assert "status" not in decision.payload


def test_update_of_sku_for_same_product() -> None:
    plan = planner(wemalo("101", "A-1", "4006381333931"))
    decision = plan.decide(article(sku="A-1-NEU"))
    assert decision.action == "update"
    assert decision.changed == ["sku"]
    assert plan.knows_sku("A-1-NEU")
    assert not plan.knows_sku("A-1")  # the old SKU is free again


def test_sku_case_change_is_an_update_of_the_same_product() -> None:
    decision = planner(wemalo("101", "a-1", "4006381333931")).decide(article(sku="A-1"))
    assert (decision.action, decision.changed) == ("update", ["sku"])


def test_update_adds_fields_wemalo_never_had() -> None:
    existing = wemalo("101", "A-1", "4006381333931")
    decision = planner(existing).decide(article(Title=[{"Text": "Neu", "LanguageCode": "DE"}],
                                                Manufacturer="Hersteller", LengthCm=5))
    assert decision.payload is not None
    assert decision.payload["producerName"] == "Hersteller"
    assert decision.payload["depth"] == 5  # never sent before, so not a change of an existing dimension


# --- planner: clashes ----------------------------------------------------------------------------------------------


def test_sku_change_to_sku_of_another_product_is_refused_naming_the_owner() -> None:
    plan = planner(wemalo("101", "A-1", "4006381333931"), wemalo("202", "B-2", "4012345678901"))
    decision = plan.decide(article(sku="b-2"))
    assert decision.action == "reject"
    assert "SKU b-2 already belongs to wemalo product 202" in decision.reason
    assert plan.knows_sku("A-1")  # wemalo still has the product under its old SKU


def test_new_article_with_sku_of_another_product_is_refused() -> None:
    decision = planner(wemalo("202", "A-1", "4012345678901")).decide(article())
    assert decision.action == "reject"
    assert "wemalo product 202" in decision.reason


def test_ean_of_another_product_is_refused() -> None:
    decision = planner(wemalo("202", "B-2", "4006381333931")).decide(article())
    assert decision.action == "reject"
    assert decision.reason == "EAN 4006381333931 already belongs to wemalo product 202"


@pytest.mark.parametrize("key", ["ean2", "ean3", "ean4"])
def test_ean_in_other_ean_field_of_another_product_is_refused(key: str) -> None:
    decision = planner(wemalo("202", "B-2", "4012345678901", **{key: "4006381333931"})).decide(article())
    assert decision.action == "reject"
    assert "202" in decision.reason


def test_ean_clash_within_the_same_run() -> None:
    plan = planner()
    first = plan.decide(article(id_=1, sku="A"))
    second = plan.decide(article(id_=2, sku="B"))
    assert first.action == "create"
    assert second.action == "reject"
    assert "EAN 4006381333931" in second.reason
    assert "product 1" in second.reason
    assert plan.knows_sku("A")
    assert not plan.knows_sku("B")
    assert "EAN 4006381333931 already belongs" in plan.why_missing("B")


def test_sku_clash_within_the_same_run() -> None:
    plan = planner()
    assert plan.decide(article(id_=1, sku="A", ean="1111111111111")).action == "create"
    second = plan.decide(article(id_=2, sku="a", ean="2222222222222"))
    assert second.action == "reject"
    assert "wemalo product 1" in second.reason


def test_sku_freed_by_an_update_can_be_taken_in_the_same_run() -> None:
    plan = planner(wemalo("101", "OLD", "4006381333931"))
    assert plan.decide(article(id_=101, sku="NEW")).action == "update"
    assert plan.decide(article(id_=102, sku="OLD", ean="4012345678901")).action == "create"


def test_same_article_twice_in_a_run() -> None:
    plan = planner()
    assert plan.decide(article()).action == "create"
    assert plan.decide(article()).action == "unchanged"


# --- planner: dimensions -------------------------------------------------------------------------------------------


def dimensioned(**fields: Any) -> dict[str, Any]:
    return wemalo("101", "A-1", "4006381333931", depth=10, width=10, height=10, grossWeight=500, netWeight=400,
                  **fields)


def test_dimension_changes_ignored_by_default() -> None:
    decision = planner(dimensioned()).decide(article(LengthCm=20, WidthCm=20, HeightCm=20, Weight=900, WeightNet=800))
    assert decision.action == "unchanged"


def test_dimension_changes_ignored_but_name_updated_keeps_wemalo_dimensions() -> None:
    decision = planner(dimensioned()).decide(article(Title=[{"Text": "Neu", "LanguageCode": "DE"}], LengthCm=20,
                                                     Weight=900))
    assert decision.action == "update"
    assert decision.changed == ["name"]
    assert decision.payload is not None
    assert (decision.payload["depth"], decision.payload["grossWeight"]) == (10, 500)


def test_dimension_changes_sent_with_update_dimensions() -> None:
    decision = planner(dimensioned(), update_dimensions=True).decide(
        article(LengthCm=20, WidthCm=10, HeightCm=10, Weight=900, WeightNet=400))
    assert decision.action == "update"
    assert decision.changed == ["depth", "grossWeight"]
    assert decision.payload is not None
    assert (decision.payload["depth"], decision.payload["grossWeight"]) == (20, 900)


def test_missing_billbee_dimension_does_not_clear_wemalo() -> None:
    decision = planner(dimensioned(), update_dimensions=True).decide(
        article(LengthCm=None, WidthCm=10, HeightCm=10, Weight=500, WeightNet=400))
    assert decision.action == "unchanged"


# --- planner: skip / reject bookkeeping ----------------------------------------------------------------------------


def test_bundle_is_skipped_not_rejected() -> None:
    plan = planner()
    decision = plan.decide(article(sku="SET", Type=2))
    assert decision.action == "skip"
    assert "bundle" in decision.reason
    assert not plan.knows_sku("SET")
    assert plan.why_missing("SET") == "article SET is not in wemalo"


@pytest.mark.parametrize(("overrides", "reason"), [({"ean": None}, "no EAN"), ({"ean": "  "}, "no EAN")])
def test_rejected_article_explains_missing_sku(overrides: dict[str, Any], reason: str) -> None:
    plan = planner()
    decision = plan.decide(article(**overrides))
    assert decision.action == "reject"
    assert not plan.knows_sku("A-1")
    assert plan.why_missing("a-1") == f"article a-1 is not in wemalo (not sent: {decision.reason})"
    assert reason in plan.why_missing("A-1")


def test_article_without_sku_is_rejected_without_bookkeeping() -> None:
    plan = planner()
    assert plan.decide(article(sku=None)).action == "reject"
    assert plan.refused == {}


def test_why_missing_for_unknown_sku() -> None:
    assert planner().why_missing("X-9") == "article X-9 is not in wemalo"


def test_knows_sku_of_wemalo_products() -> None:
    plan = planner(wemalo("1", "Tasse-Rot", "1"), {"externalId": "", "sku": "ghost"}, {"sku": "no-ext"})
    assert plan.knows_sku("tasse-rot")
    assert plan.knows_sku("ghost")  # products listed without externalId are known by their SKU
    assert plan.knows_sku("NO-EXT")
    assert not plan.knows_sku("Tasse-Blau")


def literal(sku: str, ean: str, **fields: Any) -> dict[str, Any]:
    """A getAll row as the apidoc's example shows it: no externalId, status and Success inside the row."""
    row = wemalo("", sku, ean, **fields)
    row.pop("externalId")
    return {**row, "status": 200, "Success": True, "depth": 0, "width": 0, "height": 0, "grossWeight": 0,
            "netWeight": 0}


def test_rows_without_external_id_match_by_sku_and_an_unchanged_article_sends_nothing() -> None:
    plan = planner(literal("A-1", "4006381333931"))
    assert plan.decide(article()).action == "unchanged"


def test_a_change_to_a_row_without_external_id_is_sent_with_the_billbee_id() -> None:
    plan = planner(literal("A-1", "4006381333931"))
    decision = plan.decide(article(Title=[{"Text": "Becher", "LanguageCode": "DE"}]))
    assert decision.action == "update"
    assert decision.changed == ["name"]
    assert decision.payload is not None
    assert decision.payload["externalId"] == "101"
    assert "depth" in decision.payload  # wemalo's own dimensions kept, not replaced by the article's


def test_an_ean_of_another_row_without_external_id_is_a_clash() -> None:
    plan = planner(literal("A-1", "4006381333931"), literal("B-1", "4006381333948"))
    decision = plan.decide(article(ean="4006381333948"))
    assert decision.action == "reject"
    assert "already belongs to the wemalo product with SKU b-1" in decision.reason


def test_a_refused_create_is_not_known() -> None:
    plan = planner()
    decision = plan.decide(article())
    assert decision.action == "create"
    assert decision.payload is not None
    plan.refuse("create", decision.payload, "wemalo: invalid EAN")
    assert not plan.knows_sku("A-1")
    assert "invalid EAN" in plan.why_missing("A-1")


def test_entries_of_getall_that_are_not_products_are_passed_over() -> None:
    plan = ProductPlanner(["junk", None, 7, wemalo("1", "Tasse-Rot", "1")], default_group=GROUP,
                          update_dimensions=False)
    assert plan.knows_sku("tasse-rot")


def test_html_entities_in_article() -> None:
    decision = planner().decide(article(sku="A&amp;B", Title=[{"Text": "Caf&eacute; &amp; Tee", "LanguageCode": "DE"}]))
    assert decision.payload is not None
    assert (decision.payload["sku"], decision.payload["name"]) == ("A&B", "Café & Tee")


def test_two_articles_cannot_be_the_same_row_without_external_id() -> None:
    plan = planner(literal("A-1", "4006381333931"))
    assert plan.decide(article(101)).action == "unchanged"
    decision = plan.decide(article(102, ean="4006381333948"))
    assert decision.action == "reject"
    assert "already belongs to the wemalo product of Billbee article 101" in decision.reason
