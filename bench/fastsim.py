"""Index-backed replacements for the simulators' linear scans, installed in the bench process only.

The simulators are written for the test suite's few dozen records. At catalogue scale some of their helpers
scan every product per call, which would make the bench measure the simulator instead of the connector:

* Billbee ``GET /products`` deep-copies *all* matching articles and then slices one page (4 s per page at
  20,000 articles); ``GET /orders`` does the same for orders; a stock write finds its SKU by scanning all
  articles (1.5 s per ``updatestockmultiple`` of 100 at 20,000 articles);
* wemalo's product uniqueness check (``_clash``) compares each upserted product with every stored product
  (quadratic in the catalogue), and SKU lookups, ``_touch_stock``, ``_product_by_id`` and ``_fits`` scan all
  products.

Each replacement gives the same answers as the original (same first match in the same order, same messages);
only the work per call changes. Nothing outside this process is affected: the bench starts the sandbox in its
own process (``sandbox.runner.Sandbox``) after calling :func:`install`. The simulator's server-side time per
request stays visible in the results (``server_s`` per endpoint), so what remains of it can be judged.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sandbox.billbee.store import BillbeeStore, OrderFilter, public
from sandbox.wemalo.store import EAN_FIELDS, WemaloStore, _blank

_installed = False


class LazyPage(Sequence):
    """Rows chosen under the lock; deep-copied (``convert``) only for the slice a page asks for."""

    def __init__(self, lock: threading.RLock, rows: list[dict[str, Any]],
                 convert: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self._lock, self._rows, self._convert = lock, rows, convert

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index: Any) -> Any:
        with self._lock:
            if isinstance(index, slice):
                return [self._convert(row) for row in self._rows[index]]
            return self._convert(self._rows[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for row in self._rows:
            with self._lock:
                yield self._convert(row)


# -- Billbee ----------------------------------------------------------------------------------------------


def _list_products(self: BillbeeStore, *, min_created: Any = None, min_id: int | None = None,
                   max_id: int | None = None) -> LazyPage:
    with self.ctx.lock:
        rows = [self.products[k] for k in sorted(self.products)
                if (min_id is None or k >= min_id) and (max_id is None or k <= max_id)
                and (min_created is None or self.products[k]["_CreatedAt"] >= min_created)]
        return LazyPage(self.ctx.lock, rows, public)


def _list_orders(self: BillbeeStore, flt: OrderFilter, title_source: int = 0) -> LazyPage:
    with self.ctx.lock:
        rows = [self.orders[k] for k in sorted(self.orders) if flt.matches(self.orders[k])]
        return LazyPage(self.ctx.lock, rows, lambda order: self._public_order(order, title_source))


_orig_put_products = BillbeeStore.put_products


def _put_products(self: BillbeeStore, raws: list[dict[str, Any]]) -> list[dict[str, Any]]:
    self.__dict__.pop("_bench_sku_index", None)
    return _orig_put_products(self, raws)


def _by_sku(self: BillbeeStore, sku: str) -> dict[str, Any] | None:
    """The lowest Id whose SKU equals `sku` case-insensitively (the original scans all articles sorted)."""
    cached = self.__dict__.get("_bench_sku_index")
    if cached is None or cached[0] is not self.products or cached[1] != len(self.products):
        index: dict[str, int] = {}
        for article_id in sorted(self.products):
            if self.products[article_id].get("SKU") is not None:
                index.setdefault(str(self.products[article_id]["SKU"]).casefold(), article_id)
        cached = (self.products, len(self.products), index)
        self.__dict__["_bench_sku_index"] = cached
    found = cached[2].get(str(sku).casefold())
    return None if found is None else self.products.get(found)


# -- wemalo -------------------------------------------------------------------------------------------------


def _eans(data: dict[str, Any]) -> set[str]:
    return {str(data[k]).strip() for k in EAN_FIELDS if not _blank(data.get(k))}


class _Index:
    """SKU key / EAN -> externalIds, and product id -> record, for one products dict of one store."""

    def __init__(self, store: WemaloStore) -> None:
        self.products_ref = store.products
        self.case_insensitive = store.ctx.settings.get("sku_case_insensitive", True)
        self.by_sku: dict[str, set[str]] = {}
        self.by_ean: dict[str, set[str]] = {}
        self.by_id: dict[int, dict[str, Any]] = {}
        self.keys: dict[str, tuple[str, set[str]]] = {}
        for ext, rec in store.products.items():
            self.put(store, ext, rec["data"])
            self.by_id[rec["id"]] = rec

    def put(self, store: WemaloStore, ext: str, data: dict[str, Any]) -> None:
        old = self.keys.get(ext)
        if old:
            self.by_sku.get(old[0], set()).discard(ext)
            for ean in old[1]:
                self.by_ean.get(ean, set()).discard(ext)
        sku, eans = store._sku_key(data.get("sku")), _eans(data)
        self.keys[ext] = (sku, eans)
        if sku:
            self.by_sku.setdefault(sku, set()).add(ext)
        for ean in eans:
            self.by_ean.setdefault(ean, set()).add(ext)

    def candidates(self, sku: str, eans: set[str]) -> set[str]:
        out = set(self.by_sku.get(sku, ())) if sku else set()
        for ean in eans:
            out |= self.by_ean.get(ean, set())
        return out


def _index(store: WemaloStore) -> _Index:
    idx: _Index | None = store.__dict__.get("_bench_index")
    if idx is None or idx.products_ref is not store.products \
            or idx.case_insensitive != store.ctx.settings.get("sku_case_insensitive", True):
        idx = _Index(store)
        store.__dict__["_bench_index"] = idx
    return idx


class _Pool(dict):
    """The pool `_pool()` returns, plus an index of the entries this call set (add_multiple adds to it)."""

    def __init__(self, store: WemaloStore, items: dict[str, dict[str, Any]]) -> None:
        super().__init__(items)
        self.store = store
        self.local = _Index.__new__(_Index)
        self.local.by_sku, self.local.by_ean, self.local.keys = {}, {}, {}

    def __setitem__(self, ext: str, data: dict[str, Any]) -> None:
        super().__setitem__(ext, data)
        _Index.put(self.local, self.store, ext, data)


_orig_clash = WemaloStore._clash
_orig_find = WemaloStore._find_product
_orig_save = WemaloStore._save_product
_orig_by_id = WemaloStore._product_by_id


def _pool(self: WemaloStore) -> dict[str, dict[str, Any]]:
    return _Pool(self, {ext: rec["data"] for ext, rec in self.products.items()})


def _clash(self: WemaloStore, data: dict[str, Any], own: str, pool: dict[str, dict[str, Any]]) -> Any:
    if not isinstance(pool, _Pool):
        return _orig_clash(self, data, own, pool)
    sku, eans = self._sku_key(data.get("sku")), _eans(data)
    # Entries set in this call are in the local index; the others are unchanged store entries (global index).
    # Candidates are a superset of the real clashes; the original check decides among them, in pool order.
    found = (_index(self).candidates(sku, eans) | pool.local.candidates(sku, eans)) - {own}
    found = {ext for ext in found if ext in pool}
    if not found:
        return None
    if len(found) == 1:
        ext = next(iter(found))
        return _orig_clash(self, data, own, {ext: pool[ext]})
    return _orig_clash(self, data, own, {ext: value for ext, value in pool.items() if ext in found})


def _save_product(self: WemaloStore, data: dict[str, Any]) -> None:
    idx = _index(self)
    _orig_save(self, data)
    rec = self.products[data["externalId"]]
    idx.put(self, data["externalId"], rec["data"])
    idx.by_id[rec["id"]] = rec


def _find_product(self: WemaloStore, key: str, match: str) -> dict[str, Any] | None:
    if match != "sku" or not self._sku_key(key):
        return _orig_find(self, key, match)
    owners = _index(self).by_sku.get(self._sku_key(key), set())
    if len(owners) == 1:
        return self.products.get(next(iter(owners)))
    return None if not owners else _orig_find(self, key, match)


def _touch_stock(self: WemaloStore, product_ids: set[int]) -> None:
    now, by_id = self.now(), _index(self).by_id
    for pid in product_ids:
        if pid in by_id:
            by_id[pid]["stockChangedAt"] = now


def _product_by_id(self: WemaloStore, product_id: int) -> dict[str, Any]:
    rec = _index(self).by_id.get(product_id)
    return rec if rec is not None else _orig_by_id(self, product_id)


def _fits(self: WemaloStore, positions: list[dict[str, Any]]) -> bool:
    reserved = self._open_quantities(reserved_only=True)
    need: Counter[int] = Counter()
    for pos in positions:
        need[pos["productId"]] += pos["quantity"] - pos["shipped"]
    return all(self.stock[pid] - reserved[pid] >= qty for pid, qty in need.items())


def install() -> None:
    """Patch the simulator classes of this process (idempotent)."""
    global _installed
    if _installed:
        return
    BillbeeStore.list_products = _list_products  # type: ignore[method-assign]
    BillbeeStore.list_orders = _list_orders  # type: ignore[method-assign]
    BillbeeStore.put_products = _put_products  # type: ignore[method-assign]
    BillbeeStore._by_sku = _by_sku  # type: ignore[method-assign]
    WemaloStore._pool = _pool  # type: ignore[method-assign]
    WemaloStore._clash = _clash  # type: ignore[method-assign]
    WemaloStore._save_product = _save_product  # type: ignore[method-assign]
    WemaloStore._find_product = _find_product  # type: ignore[method-assign]
    WemaloStore._touch_stock = _touch_stock  # type: ignore[method-assign]
    WemaloStore._product_by_id = _product_by_id  # type: ignore[method-assign]
    WemaloStore._fits = _fits  # type: ignore[method-assign]
    _installed = True
