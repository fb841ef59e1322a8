"""The planner's index of wemalo's products, built while getAll is parsed (ProductPlanner.take, .restart), and
its SKU keys (products.fold): the same lookups as the index built from the whole list with casefolded SKUs that
the planner had before (`reference` below), duplicates and clashes of SKU or EAN and case differences included."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billbee_wemalo.http.json_parse import DROP
from target_wemalo.address import clean
from target_wemalo.products import EAN_FIELDS, ProductPlanner, fold, pack, unpack

GROUP = "default"

# In this order: SKUs that clash case-insensitively (also through casefold's own mappings: ß, the Kelvin sign,
# final sigma, ligatures, titlecase digraphs, dotted I), EANs that two products have, an externalId listed twice,
# rows without externalId, and entries that are no products.
LISTED: list[Any] = [
    {"externalId": "1", "sku": "KH-000001", "ean": "4006381333931"},
    {"externalId": "2", "sku": "kh-000001", "ean": "4006381333948"},  # 1's SKU in other case: 2 owns it now
    {"externalId": "3", "sku": "Straße-7", "ean": "4006381333931"},  # 1's EAN: 3 owns it now
    {"externalId": "4", "sku": "STRASSE-7", "ean": "4006381333955", "ean2": " 4006381333962 "},
    {"externalId": "5", "sku": "\u212aH-9", "ean": "4006381333979"},  # Kelvin sign: casefolds to "kh-9"
    {"externalId": "6", "sku": "Kh-9", "ean": "4006381333986"},
    {"externalId": "1", "sku": "KH-000001-B", "ean": "4006381333993"},  # 1 again, changed: its old ones released
    {"sku": "ΣΊΣΥΦΟΣ", "ean": "5901234123457"},  # no externalId: known by its SKU
    {"sku": "σίσυφος", "ean": "5901234123464"},
    {"externalId": "", "sku": "  ", "ean": "1"},  # neither: passed over
    {"externalId": "7", "sku": "ǅ-1", "ean": None, "ean3": "5901234123471"},
    {"externalId": "8", "sku": "ǆ-1"},
    {"externalId": "9", "sku": "İ-2", "ean": "5901234123488"},
    {"externalId": "10", "sku": "i-2"},
    {"externalId": "11", "sku": "ﬀ-3"},
    {"externalId": "12", "sku": "FF-3", "ean": "5901234123488"},
    {"externalId": "13", "sku": "\u017f-4"},  # long s: casefolds to "s-4"
    {"externalId": "14", "sku": "4711"},
    {"externalId": "15", "sku": "Tasse-Rot"},
    "junk", None, 7,
]


def reference(products: list[Any]) -> tuple[dict[str, tuple[Any, ...]], dict[str, str], dict[str, str]]:
    """(by_id, owner of each casefolded SKU, owner of each EAN) as the planner built them from the whole list."""
    by_id: dict[str, tuple[Any, ...]] = {}
    skus: dict[str, str] = {}
    eans: dict[str, str] = {}

    def identifiers(row: tuple[Any, ...]) -> tuple[str, list[str]]:
        fields = unpack(row)
        sku = fields.get("sku")
        return (sku.casefold() if sku else ""), [e for e in (clean(fields.get(k)) for k in EAN_FIELDS) if e]

    for product in products:
        if not isinstance(product, tuple | dict):
            continue
        ext, row = product if isinstance(product, tuple) else pack(product)
        if not ext:
            continue
        if ext in by_id:
            old_sku, old_eans = identifiers(by_id[ext])
            skus.pop(old_sku, None)
            for ean in old_eans:
                eans.pop(ean, None)
        by_id[ext] = row
        sku, row_eans = identifiers(row)
        if sku:
            skus[sku] = ext
        for ean in row_eans:
            eans[ean] = ext
    return by_id, skus, eans


def streamed(products: list[Any]) -> ProductPlanner:
    """The planner as the run builds it: each product given to `take` as getAll's parse closes it (only objects
    reach it; anything else stays in the list, which the run ignores)."""
    plan = ProductPlanner(default_group=GROUP, update_dimensions=False)
    plan.restart()  # the list opens
    for product in products:
        if isinstance(product, dict):
            assert plan.take(product) is DROP
    return plan


def variants(sku: str) -> list[str]:
    return [sku, sku.upper(), sku.lower(), sku.swapcase(), sku.casefold(), sku.title(), sku.upper().casefold(),
            f"{sku} ", ""]


QUERIES = sorted({q for p in LISTED if isinstance(p, dict) for q in variants(p["sku"])}
                 | {"kh-9", "KH-9", "strasse-7", "σίσυφοσ", "dž-1", "DŽ-1", "i̇-2", "ff-3", "S-4", "s-4", "TASSE-ROT"})


def test_the_streamed_index_is_the_index_of_the_whole_list() -> None:
    listed = ProductPlanner(LISTED, default_group=GROUP, update_dimensions=False)
    plan = streamed(LISTED)
    assert list(plan.by_id.items()) == list(listed.by_id.items())  # the same rows in the same order
    assert plan.owner_of_sku == listed.owner_of_sku
    assert plan.owner_of_ean == listed.owner_of_ean


def test_sku_and_ean_lookups_are_those_of_casefolded_keys() -> None:
    by_id, skus, eans = reference(LISTED)
    plan = streamed(LISTED)
    assert list(plan.by_id.items()) == list(by_id.items())
    assert plan.owner_of_ean == eans
    assert len(plan.owner_of_sku) == len(skus)  # one key per casefolded SKU, no more, no less
    for query in QUERIES:
        assert plan.owner_of_sku.get(fold(query)) == skus.get(query.casefold()), query
        assert plan.knows_sku(query) == (query.casefold() in skus), query


def test_a_clash_found_through_case_is_still_refused() -> None:
    plan = streamed(LISTED)
    article = {"Id": 20, "SKU": "strasse-7", "EAN": "4000000000017", "Type": 1, "Title": []}
    decision = plan.decide(article)
    assert decision.action == "reject"
    assert decision.reason == "SKU strasse-7 already belongs to wemalo product 4"
    assert plan.decide({**article, "SKU": "kh-000001-b", "Id": 21}).reason == \
        "SKU kh-000001-b already belongs to wemalo product 1"
    assert plan.decide({**article, "SKU": "NEU-1", "EAN": "5901234123488", "Id": 22}).reason == \
        "EAN 5901234123488 already belongs to wemalo product 12"


def test_a_restart_forgets_what_was_taken_before() -> None:
    """A retried getAll gives the list again from its start: the first answer's products are void."""
    plan = streamed(LISTED)
    plan.restart()
    for product in LISTED[:3]:
        if isinstance(product, dict):
            plan.take(product)
    listed = ProductPlanner(LISTED[:3], default_group=GROUP, update_dimensions=False)
    assert list(plan.by_id.items()) == list(listed.by_id.items())
    assert (plan.owner_of_sku, plan.owner_of_ean) == (listed.owner_of_sku, listed.owner_of_ean)
    assert not plan.knows_sku("kh-9")


@pytest.mark.parametrize("sku", ["KH-000123", "4711", "A_B/C.D-1", "KH-000123 X"])
def test_an_upper_case_ascii_sku_is_its_own_key(sku: str) -> None:
    """No second string per SKU: the index's key is the very object of the planner's row."""
    own = "".join(list(sku))  # a new object, not an interned literal
    assert fold(own) is own
    plan = streamed([{"externalId": "1", "sku": own, "ean": "4006381333931"}])
    (key,) = plan.owner_of_sku
    assert key is own
    row = plan.get("1")
    assert row is not None
    assert row["sku"] is own


@pytest.mark.parametrize(("sku", "key"), [("kh-1", "KH-1"), ("Straße", "STRASSE"), ("\u212a", "K"),
                                          ("\u017f", "S"), ("ﬀ", "FF"), ("σίσυφος", "σίσυφοσ"), ("ΣΊΣΥΦΟΣ", "σίσυφοσ")])
def test_fold_keys(sku: str, key: str) -> None:
    assert fold(sku) == key


def case_changes(text: str) -> list[str]:
    return [text.upper(), text.lower(), text.swapcase(), text.casefold(), text.title(), text.capitalize()]


TRICKY = st.sampled_from(list("aAzZßẞ\u017f\u212a\u212bÅåΣ\u03c3\u03c2İ\u0131iIǅǄǆﬀﬁŉ ΐ-_0é\u0301"))


@given(a=st.text(max_size=8) | st.text(TRICKY, max_size=6), b=st.text(TRICKY, max_size=6))
def test_fold_matches_as_casefold_matches(a: str, b: str) -> None:
    for other in [b, *case_changes(a), *case_changes(b)]:
        assert (fold(a) == fold(other)) == (a.casefold() == other.casefold()), (a, other)
