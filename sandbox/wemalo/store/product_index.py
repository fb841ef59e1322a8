"""The index of the wemalo catalogue: which products hold each SKU and EAN, and each product by its id."""

from __future__ import annotations

from typing import Any

from sandbox.wemalo.store.model import EAN_FIELDS, is_blank


def eans_of(data: dict[str, Any]) -> set[str]:
    return {str(data[k]).strip() for k in EAN_FIELDS if not is_blank(data.get(k))}


class ProductIndex:
    """Which products hold each SKU and EAN, and each product by its numeric id, kept by `_save_product`: the
    uniqueness checks and lookups of a 100,000-product catalogue without a scan per product."""

    def __init__(self) -> None:
        self.by_id: dict[int, dict[str, Any]] = {}
        self.by_sku: dict[str, set[str]] = {}  # stripped SKU -> externalIds
        self.by_folded_sku: dict[str, set[str]] = {}  # the same, casefolded (setting sku_case_insensitive)
        self.by_ean: dict[str, set[str]] = {}
        self._keys: dict[str, tuple[str, set[str]]] = {}  # externalId -> (stripped SKU, EANs) indexed

    def put(self, rec: dict[str, Any]) -> None:
        ext, data = rec["data"]["externalId"], rec["data"]
        self.by_id[rec["id"]] = rec
        old_sku, old_eans = self._keys.get(ext, ("", set()))
        self._move(self.by_sku, old_sku, None, ext)
        self._move(self.by_folded_sku, old_sku.casefold(), None, ext)
        for ean in old_eans:
            self._move(self.by_ean, ean, None, ext)
        sku, eans = str(data.get("sku") or "").strip(), eans_of(data)
        self._keys[ext] = (sku, eans)
        self._move(self.by_sku, None, sku, ext)
        self._move(self.by_folded_sku, None, sku.casefold(), ext)
        for ean in eans:
            self._move(self.by_ean, None, ean, ext)

    @staticmethod
    def _move(index: dict[str, set[str]], old: str | None, new: str | None, ext: str) -> None:
        if old:
            holders = index.get(old)
            if holders is not None:
                holders.discard(ext)
                if not holders:
                    del index[old]
        if new:
            index.setdefault(new, set()).add(ext)

    def holders(self, sku_key: str, eans: set[str], folded: bool) -> set[str]:
        """The externalIds whose SKU key is `sku_key` or that hold one of `eans`."""
        out = set((self.by_folded_sku if folded else self.by_sku).get(sku_key, ())) if sku_key else set()
        for ean in eans:
            out |= self.by_ean.get(ean, set())
        return out
