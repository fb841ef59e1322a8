"""The simulators' indexes give the answers of a plain scan of the catalogue.

wemalo's store keeps SKU/EAN/id indexes so that a 100,000-product catalogue needs no scan per product; Billbee's
looks SKUs up in an index and copies only the rows a list request reads. The oracle here is the rule written as
the scan it replaces: the first clashing product in catalogue order (stored ones, then this call's new ones)."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from sandbox.billbee.store import BillbeeStore, OrderFilter
from sandbox.core import SimContext
from sandbox.wemalo.store import EAN_FIELDS, PRODUCT_DEFAULTS, WemaloError, WemaloStore

SKUS = st.sampled_from(["A", "a", " A ", "B", "b", "C"])  # few values: clashes and case variants are common
EANS = st.sampled_from(["", "1", "2", "3"])
EXTS = st.sampled_from(["p1", "p2", "p3", "p4", "p5"])
PRODUCT = st.fixed_dictionaries({"externalId": EXTS, "sku": SKUS, "ean": EANS, "ean2": EANS})
OPS = st.lists(st.one_of(
    st.tuples(st.just("add"), PRODUCT),
    st.tuples(st.just("multiple"), st.lists(PRODUCT, max_size=4)),
    st.tuples(st.just("update"), EXTS, st.fixed_dictionaries({}, optional={"sku": SKUS, "ean": EANS})),
    st.tuples(st.just("settings"), st.booleans(), st.booleans()),  # sku_case_insensitive, partial addMultiple
), max_size=12)


class Oracle:
    """wemalo's product rules as a scan over an ordered dict (externalId -> fields)."""

    def __init__(self) -> None:
        self.products: dict[str, dict[str, Any]] = {}
        self.folded, self.partial = True, False

    def key(self, sku: Any) -> str:
        text = str(sku or "").strip()
        return text.casefold() if self.folded else text

    @staticmethod
    def eans(data: dict[str, Any]) -> set[str]:
        return {str(data[k]).strip() for k in EAN_FIELDS if str(data.get(k) or "").strip()}

    def clash(self, data: dict[str, Any], own: str, pool: dict[str, dict[str, Any]]) -> str | None:
        for ext, other in pool.items():
            if ext == own:
                continue
            if self.key(data["sku"]) and self.key(other["sku"]) == self.key(data["sku"]):
                return f"sku '{data['sku']}' is already used by product '{ext}'"
            taken = self.eans(data) & self.eans(other)
            if taken:
                return f"ean '{sorted(taken)[0]}' is already used by product '{ext}'"
        return None

    def apply(self, op: tuple[Any, ...]) -> Any:
        kind = op[0]
        if kind == "settings":
            self.folded, self.partial = op[1], op[2]
            return None
        if kind == "add":
            item = {**op[1], "productGroup": "g"}
            if item["externalId"] in self.products:
                return f"a product with externalId '{item['externalId']}' already exists"
            data = {**PRODUCT_DEFAULTS, **item}
            error = self.clash(data, data["externalId"], self.products)
            if error is None:
                self.products[data["externalId"]] = data
            return error
        if kind == "update":
            ext = op[1]
            if ext not in self.products:
                return f"no product with externalId '{ext}'"
            data = {**self.products[ext], **op[2]}
            error = self.clash(data, ext, self.products)
            if error is None:
                self.products[ext] = data
            return error
        pool, errors = dict(self.products), []
        good: dict[str, dict[str, Any]] = {}
        for raw in op[1]:
            item = {**raw, "productGroup": "g"}
            data = {**(pool.get(item["externalId"]) or PRODUCT_DEFAULTS), **item}
            error = self.clash(data, item["externalId"], pool)
            if error:
                errors.append(error)
                continue
            pool[item["externalId"]] = good[item["externalId"]] = data
        if not errors or self.partial:
            self.products.update(good)
        return errors or None

    def find(self, sku: str) -> str | None:
        return next((ext for ext, data in self.products.items() if self.key(data["sku"]) == self.key(sku)), None)


def run(store: WemaloStore, op: tuple[Any, ...]) -> Any:
    kind = op[0]
    try:
        if kind == "settings":
            store.ctx.settings.update(sku_case_insensitive=op[1], add_multiple_mode="partial" if op[2] else "all")
        elif kind == "add":
            store.add_product({**op[1], "productGroup": "g"})
        elif kind == "update":
            store.update_product(op[1], op[2])
        else:
            store.add_multiple({"products": [{**p, "productGroup": "g"} for p in op[1]]})
    except WemaloError as exc:
        return [e["message"] for e in exc.extra["errors"]] if "errors" in exc.extra else exc.message
    return None


@settings(max_examples=300, deadline=None)
@given(ops=OPS)
@example(ops=[  # p1 changed in the batch still comes before p2: the SKU clash with p1 is the one named
    ("add", {"externalId": "p1", "sku": "A", "ean": "1", "ean2": ""}),
    ("add", {"externalId": "p2", "sku": "B", "ean": "2", "ean2": ""}),
    ("multiple", [{"externalId": "p1", "sku": "C", "ean": "", "ean2": ""},
                  {"externalId": "p3", "sku": "C", "ean": "2", "ean2": ""}]),
])
def test_wemalo_uniqueness_and_lookups_match_a_scan(ops: list[tuple[Any, ...]]) -> None:
    store, oracle = WemaloStore(SimContext(system="wemalo")), Oracle()
    for op in ops:
        assert run(store, op) == oracle.apply(op), op
        assert {ext: rec["data"] for ext, rec in store.products.items()} == oracle.products
        assert list(store.products) == list(oracle.products)  # catalogue order decides which clash is named
        for sku in ("A", "a", "B", "C", "D"):
            found = store._find_product(sku, "sku")
            assert (found["data"]["externalId"] if found else None) == oracle.find(sku), sku
        for rec in store.products.values():
            assert store._product_by_id(rec["id"]) is rec


def test_billbee_sku_lookup_follows_catalogue_changes() -> None:
    store = BillbeeStore(SimContext(system="billbee"))
    store.put_products([{"Id": 5, "SKU": "Tasse"}, {"Id": 3, "SKU": "TASSE"}, {"Id": 7, "SKU": "Teller"}])
    assert store._by_sku("tasse")["Id"] == 3  # case-insensitive, the lowest Id wins
    store.put_products([{"Id": 3, "SKU": "Becher"}])
    assert store._by_sku("TASSE")["Id"] == 5
    assert store._by_sku("becher")["Id"] == 3
    assert store._by_sku("Teller")["Id"] == 7
    assert store._by_sku("Glas") is None


def test_billbee_lists_copy_only_the_rows_read(monkeypatch: Any) -> None:
    store = BillbeeStore(SimContext(system="billbee"))
    store.put_products([{"Id": i, "SKU": f"S-{i}"} for i in range(1, 101)])
    rows = store.list_products(min_id=11)
    copied: list[int] = []
    convert = rows._convert
    monkeypatch.setattr(rows, "_convert", lambda row: copied.append(row["Id"]) or convert(row))
    page = rows[20:30]
    assert len(rows) == 90
    assert [r["SKU"] for r in page] == [f"S-{i}" for i in range(31, 41)]
    assert copied == list(range(31, 41))
    page[0]["SKU"] = "changed"  # a copy: the store is untouched
    assert store.list_products(min_id=31)[0]["SKU"] == "S-31"
    assert len(store.list_orders(OrderFilter())) == 0
