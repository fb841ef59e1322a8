"""Bundle ("Stückliste") resolution for order lines.

Billbee sells a bundle as one order line for the bundle article (docs/api-contract.md, "Billbee: bundles"); its
components exist only in the product catalogue. The catalogue is read at most once per run: the products stream
fills this index while it emits products, and the orders stream reads the catalogue itself only when the products
stream was not selected. Only what expansion needs is kept (ids, SKU, EAN, BOM), not whole articles.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from billbee_wemalo.billbee import BUNDLE_TYPE


class BundleIndex:
    def __init__(self) -> None:
        self.loaded = False
        self._ean_by_id: dict[int, str | None] = {}
        self._id_by_sku: dict[str, int] = {}
        self._bom_by_id: dict[int, list[dict[str, Any]]] = {}

    def add(self, product: dict[str, Any]) -> None:
        article_id = product.get("Id")
        if article_id is None:
            return
        self._ean_by_id[article_id] = product.get("EAN")
        if product.get("SKU"):
            self._id_by_sku[product["SKU"]] = article_id
        if product.get("Type") == BUNDLE_TYPE:
            self._bom_by_id[article_id] = list(product.get("BillOfMaterial") or [])

    def bundle_state(self) -> dict[str, Any]:
        """What `restore` needs to resolve bundle lines without the catalogue: the bundles and their components
        (ids, SKUs, EANs, BOMs), for the runs that read only new articles (`products_full_scan_hours`)."""
        ids = set(self._bom_by_id)
        for bom in self._bom_by_id.values():
            for part in bom:
                part_id = part.get("ArticleId")
                if part_id is None and part.get("SKU"):
                    part_id = self._id_by_sku.get(part["SKU"])
                if part_id is not None:
                    ids.add(part_id)
        return {"ean_by_id": {str(i): self._ean_by_id.get(i) for i in sorted(ids) if i in self._ean_by_id},
                "id_by_sku": {sku: i for sku, i in self._id_by_sku.items() if i in ids},
                "bom_by_id": {str(i): bom for i, bom in self._bom_by_id.items()}}

    def restore(self, state: dict[str, Any]) -> None:
        self._ean_by_id.update({int(i): ean for i, ean in (state.get("ean_by_id") or {}).items()})
        self._id_by_sku.update(state.get("id_by_sku") or {})
        self._bom_by_id.update({int(i): bom for i, bom in (state.get("bom_by_id") or {}).items()})

    def load(self, products: Iterable[dict[str, Any]]) -> None:
        for product in products:
            self.add(product)
        self.loaded = True

    def _article_id(self, sold: dict[str, Any]) -> int | None:
        article_id = sold.get("BillbeeId")
        if isinstance(article_id, int) and article_id in self._ean_by_id:
            return article_id
        return self._id_by_sku.get(sold.get("SKU") or "")

    def is_bundle_line(self, item: dict[str, Any]) -> bool:
        sold = item.get("Product") or {}
        if sold.get("Type") == BUNDLE_TYPE:
            return True
        article_id = self._article_id(sold)
        return article_id is not None and article_id in self._bom_by_id

    def components(self, item: dict[str, Any]) -> list[dict[str, Any]]:
        """The line's components with quantity = line quantity x BOM amount; [] when the BOM is unknown/empty."""
        article_id = self._article_id(item.get("Product") or {})
        quantity = Decimal(str(item.get("Quantity") or 0))
        out = []
        for part in self._bom_by_id.get(article_id, []) if article_id is not None else []:
            part_id = part.get("ArticleId")
            if part_id is None and part.get("SKU"):
                part_id = self._id_by_sku.get(part["SKU"])
            out.append({
                "ArticleId": part_id,
                "SKU": part.get("SKU"),
                "EAN": self._ean_by_id.get(part_id) if part_id is not None else None,
                "Quantity": quantity * Decimal(str(part.get("Amount") or 0)),
            })
        return out
