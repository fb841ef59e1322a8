"""Products of the wemalo account: create, upsert (addMultiple), update, the uniqueness of SKUs and EANs,
lookups, and the product rows as product/get and getAll show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.wemalo.spec import PRODUCT_REQUIRED
from sandbox.wemalo.store.base import AccountBase
from sandbox.wemalo.store.model import (
    EXAMPLE_PRODUCT_FIELDS,
    PRODUCT_DEFAULTS,
    PRODUCT_FIELDS,
    WemaloError,
    is_blank,
    missing,
)
from sandbox.wemalo.store.product_index import eans_of


class ProductsMixin(AccountBase):
    @property
    def _sku_folded(self) -> bool:
        return bool(self.ctx.settings.get("sku_case_insensitive", True))

    def _sku_key(self, sku: Any) -> str:
        text = str(sku or "").strip()
        return text.casefold() if self._sku_folded else text

    def _holders(self, sku: Any, eans: set[str]) -> set[str]:
        """The stored products (externalIds) with the SKU `sku` (compared as `_sku_key` does) or one of `eans`."""
        return self._index.holders(self._sku_key(sku), eans, self._sku_folded)

    def product_out(self, rec: dict[str, Any]) -> dict[str, Any]:
        """A product row of product/get and getAll (settings product_fields, products_include_external_id,
        product_rows_carry_status); with product_fields "example" the fields and order of the apidoc's rows."""
        settings = self.ctx.settings
        data = rec["data"]
        out = {"externalId": data["externalId"]} if settings.get("products_include_external_id") else {}
        row = {**data, "status": 200, "Success": True} if settings.get("product_rows_carry_status") else data
        if settings.get("product_fields") == "all":
            out.update((k, v) for k, v in row.items() if k != "externalId")
        else:
            out.update((k, row[k]) for k in EXAMPLE_PRODUCT_FIELDS if k in row)
        return out

    def _no_product(self, external_id: str) -> WemaloError:
        # Not documented for product/get or update; the apidoc's one documented miss of a product externalId
        # (product/stock/:externalId) is "Error 400: Product external identifier not found" (setting missing_product).
        status = 404 if self.ctx.settings.get("missing_product") == "404" else 400
        return WemaloError(status, f"no product with externalId '{external_id}'", field="externalId")

    def _clash(self, data: dict[str, Any], own: str, pending: dict[str, dict[str, Any]]) -> WemaloError | None:
        """The uniqueness error `data` (product `own`) would cause among the stored products and those of this
        call not yet saved (`pending`, externalId -> fields; they replace stored ones). The first clashing
        product in catalogue order decides, stored ones first, then new ones in the order they came."""
        sku, eans = self._sku_key(data.get("sku")), eans_of(data)
        found = self._holders(data.get("sku"), eans) - pending.keys()  # stored, and not replaced in this call
        order = {ext: (0, self.products[ext]["id"]) for ext in found}
        for n, (ext, other) in enumerate(pending.items()):  # a batch: small
            if (sku and self._sku_key(other.get("sku")) == sku) or eans & eans_of(other):
                order[ext] = (0, self.products[ext]["id"]) if ext in self.products else (1, n)
        for ext in sorted(order.keys() - {own}, key=order.__getitem__):
            other = pending[ext] if ext in pending else self.products[ext]["data"]
            if sku and self._sku_key(other.get("sku")) == sku:
                return WemaloError(400, f"sku '{data['sku']}' is already used by product '{ext}'", field="sku",
                                   conflictingExternalId=ext)
            taken = eans & eans_of(other)
            if taken:
                ean = sorted(taken)[0]
                return WemaloError(400, f"ean '{ean}' is already used by product '{ext}'", field="ean",
                                   conflictingExternalId=ext)
        return None

    @staticmethod
    def _clean_fields(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k in PRODUCT_FIELDS}  # WP extras (shop, stock, ...) are dropped

    def _check_product(self, body: Any, pending: dict[str, dict[str, Any]], *, upsert: bool) -> dict[str, Any]:
        """Validated full field set for a create (or, with upsert, create-or-merge) of `body`, against the stored
        products and this call's `pending` ones."""
        if not isinstance(body, dict):
            raise missing("externalId")
        for name in PRODUCT_REQUIRED:
            if is_blank(body.get(name)):
                raise missing(name)
        ext = str(body["externalId"])
        current = pending[ext] if ext in pending else self.products[ext]["data"] if ext in self.products else None
        if current is not None and not upsert:
            raise WemaloError(400, f"a product with externalId '{ext}' already exists", field="externalId",
                              conflictingExternalId=ext)
        data = {**(current or PRODUCT_DEFAULTS), **self._clean_fields(body), "externalId": ext}
        clash = self._clash(data, ext, pending)
        if clash:
            raise clash
        return data

    def _save_product(self, data: dict[str, Any]) -> None:
        now = self.now()
        rec = self.products.get(data["externalId"])
        if rec is None:
            rec = self.products[data["externalId"]] = {"id": self.next_product_id, "data": data, "createdAt": now,
                                                       "updatedAt": now, "stockChangedAt": now}
            self.next_product_id += 1
        elif rec["data"] != data:
            rec["data"] = data
            rec["updatedAt"] = now
        self._index.put(rec)

    def add_product(self, body: Any) -> dict[str, Any]:
        with self.ctx.lock:
            data = self._check_product(body, {}, upsert=False)
            self._save_product(data)
            return {"Success": True, "status": 200}

    def add_multiple(self, body: Any) -> dict[str, Any]:
        with self.ctx.lock:
            items = body.get("products") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise missing("products")
            pending: dict[str, dict[str, Any]] = {}  # accepted, saved at the end (all or, in partial mode, these)
            errors: list[dict[str, Any]] = []
            for item in items:
                try:
                    data = self._check_product(item, pending, upsert=True)
                except WemaloError as exc:
                    ext = item.get("externalId") if isinstance(item, dict) else None
                    errors.append({"externalId": ext, "field": exc.extra.get("field"), "message": exc.message,
                                   **({"conflictingExternalId": exc.extra["conflictingExternalId"]}
                                      if "conflictingExternalId" in exc.extra else {})})
                    continue
                pending[data["externalId"]] = data
            good = list(pending.values())
            partial = self.ctx.settings.get("add_multiple_mode") == "partial"
            if errors and not partial:
                raise WemaloError(400, f"{len(errors)} of {len(items)} products refused, nothing saved",
                                  errors=errors)
            for data in good:
                self._save_product(data)
            if errors:
                raise WemaloError(400, f"{len(errors)} of {len(items)} products refused, the others saved",
                                  errors=errors, saved=[d["externalId"] for d in good])
            return {"Success": True, "status": 200}

    def update_product(self, external_id: str, body: Any) -> dict[str, Any]:
        with self.ctx.lock:
            rec = self.products.get(external_id)
            if rec is None:
                raise self._no_product(external_id)
            if not isinstance(body, dict):
                body = {}
            data = {**rec["data"], **self._clean_fields(body), "externalId": external_id}
            for name in PRODUCT_REQUIRED:
                if is_blank(data.get(name)):
                    raise missing(name)
            clash = self._clash(data, external_id, {})
            if clash:
                raise clash
            self._save_product(data)
            return {"Success": True, "status": 200}

    def get_product(self, external_id: str) -> dict[str, Any]:
        with self.ctx.lock:
            rec = self.products.get(external_id)
            if rec is None:
                raise self._no_product(external_id)
            return {**self.product_out(rec), "Success": True, "status": 200}

    def all_products(self, since: datetime) -> list[dict[str, Any]]:
        with self.ctx.lock:
            return [self.product_out(rec) for rec in self.products.values() if rec["updatedAt"] >= since]

    def _find_product(self, key: str, match: str) -> dict[str, Any] | None:
        """By externalId, or the first product (in catalogue order) with the SKU `key`."""
        if match == "sku":
            holders = self._holders(key, set())
            return min((self.products[ext] for ext in holders), key=lambda r: r["id"], default=None)
        return self.products.get(key)

    def _product_by_id(self, product_id: int) -> dict[str, Any]:
        return self._index.by_id[product_id]
