"""Articles (Billbee's products): the catalogue, its stock entries per location, bundles' bills of material,
lookups by id, SKU (case-insensitive) and EAN, and the articles as the API lists them."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from sandbox.billbee.store.base import AccountBase
from sandbox.billbee.store.model import ARTICLE_DECIMALS, ARTICLE_FIELDS, STOCK_DECIMALS
from sandbox.billbee.store.values import Rows, ScenarioError, parse_time, public, to_decimal, to_int


class ArticlesMixin(AccountBase):
    def put_products(self, raws: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add or replace articles (matched by Id; an Id is assigned when missing)."""
        if not isinstance(raws, list):
            raise ScenarioError("products must be a list")
        with self.ctx.lock:
            out = [self._normalise_article(raw) for raw in raws]
            for article in out:
                self.products[article["Id"]] = article
            self._sku_ids = None  # SKUs change only here
            self._reserved = None  # BOMs and SKU links may have changed
            for article in out:  # BOM lines may name components added in the same call
                self._link_bom(article)
            return copy.deepcopy(out)

    def _normalise_article(self, raw: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise ScenarioError(f"product must be an object: {raw!r}")
        unknown = {k for k in raw if k not in ARTICLE_FIELDS and not str(k).startswith("_")}
        if unknown:
            raise ScenarioError(f"unknown product fields: {sorted(unknown)}")
        raw = copy.deepcopy(raw)
        article: dict[str, Any] = dict.fromkeys(ARTICLE_FIELDS)
        article.update({"VatIndex": 1, "Price": 0, "Vat1Rate": 19, "Vat2Rate": 7, "Type": 1, "Unit": 1,
                        "IsDigital": False, "IsCustomizable": False, "IsDeactivated": False, "LowStock": False,
                        "Title": [], "Description": [], "ShortDescription": [], "BasicAttributes": [],
                        "InvoiceText": [], "Materials": [], "Tags": [], "ExportDescriptionMultiLanguage": [],
                        "Images": [], "Sources": [], "CustomFields": [], "StockReduceItemsPerSale": 1})
        article.update(raw)
        if isinstance(article["Title"], str):
            article["Title"] = [{"Text": article["Title"], "LanguageCode": "DE"}]
        article_id = to_int(raw.get("Id"), "product Id")
        if article_id is None:
            article_id = self._new_id("article", self.products)
        self._see_id("article", article_id)
        article["Id"] = article_id
        article["Type"] = to_int(article["Type"], "Type") or 1
        article["_CreatedAt"] = parse_time(raw.get("_CreatedAt"), self.zone) or self.now()
        for key, scale in ARTICLE_DECIMALS.items():
            article[key] = to_decimal(article.get(key), scale)
        if article["Type"] == 2:
            article["BillOfMaterial"] = [
                {"Amount": to_decimal(b.get("Amount", 1), 4), "ArticleId": to_int(b.get("ArticleId"), "ArticleId"),
                 "SKU": b.get("SKU")} for b in article.get("BillOfMaterial") or []]
            article["Stocks"] = []
            for key in ("StockCurrent", "StockWarning", "StockDesired", "StockCode"):
                article[key] = None
            return article
        article["BillOfMaterial"] = None
        article["Stocks"] = self._normalise_stock_entries(raw)
        self._sync_article_stock(article)
        return article

    def _normalise_stock_entries(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        given = {to_int(s.get("StockId"), "StockId"): s for s in raw.get("Stocks") or [] if isinstance(s, dict)}
        default_id = self.default_stock_id()
        if None in given or 0 in given:
            given[default_id] = given.pop(None, None) or given.pop(0)
        if not given and raw.get("StockCurrent") is not None:
            given[default_id] = {"StockCurrent": raw.get("StockCurrent"), "StockWarning": raw.get("StockWarning"),
                                 "StockDesired": raw.get("StockDesired"), "StockCode": raw.get("StockCode")}
        entries = []
        locations = self.stocks or [{"Id": default_id, "Name": None}]
        known = {loc["Id"] for loc in locations}
        for loc in locations:
            src = given.get(loc["Id"]) or {}
            entries.append(self._stock_entry(loc, src))
        for stock_id in given:
            if stock_id not in known:
                raise ScenarioError(f"product stock names unknown StockId {stock_id}")
        return entries

    @staticmethod
    def _stock_entry(loc: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
        entry = {"Name": src.get("Name", loc.get("Name")), "StockId": loc["Id"], "StockCurrent": None,
                 "StockCurrentIsCalculated": False, "StockWarning": None, "StockCode": src.get("StockCode"),
                 "UnfulfilledAmount": None, "StockDesired": None}
        for key, scale in STOCK_DECIMALS.items():
            entry[key] = to_decimal(src.get(key, 0 if key in ("StockCurrent", "UnfulfilledAmount") else None), scale)
        return entry

    def _sync_article_stock(self, article: dict[str, Any]) -> None:
        """Top-level StockCurrent/StockWarning/StockDesired/StockCode mirror the default stock location."""
        default_id = self.default_stock_id()
        entry = next((s for s in article["Stocks"] if s["StockId"] == default_id), None)
        if entry is None and article["Stocks"]:
            entry = article["Stocks"][0]
        if entry is not None:
            for key in ("StockCurrent", "StockWarning", "StockDesired", "StockCode"):
                article[key] = entry[key]

    def _link_bom(self, article: dict[str, Any]) -> None:
        for line in article.get("BillOfMaterial") or []:
            comp = None
            if line.get("ArticleId") is not None:
                comp = self.products.get(line["ArticleId"])
            if comp is None and line.get("SKU"):
                comp = self._by_sku(line["SKU"])
            if comp is None:
                raise ScenarioError(f"bundle {article.get('SKU')!r}: component {line!r} is not in the catalogue")
            line["ArticleId"], line["SKU"] = comp["Id"], comp.get("SKU")

    def _by_sku(self, sku: str) -> dict[str, Any] | None:
        # SQL Server's default collation compares case-insensitively; duplicates resolve to the lowest Id.
        if self._sku_ids is None:
            self._sku_ids = {}
            for article_id in sorted(self.products):
                if self.products[article_id].get("SKU") is not None:
                    self._sku_ids.setdefault(str(self.products[article_id]["SKU"]).casefold(), article_id)
        found = self._sku_ids.get(str(sku).casefold())
        return None if found is None else self.products[found]

    def list_products(self, *, min_created: datetime | None = None, min_id: int | None = None,
                      max_id: int | None = None) -> Rows:
        with self.ctx.lock:
            rows = [self.products[k] for k in sorted(self.products)
                    if (min_id is None or k >= min_id) and (max_id is None or k <= max_id)
                    and (min_created is None or self.products[k]["_CreatedAt"] >= min_created)]
            return Rows(self.ctx.lock, rows, self._public_article)

    def _public_article(self, article: dict[str, Any]) -> dict[str, Any]:
        return self._show_unfulfilled(public(article))

    def _show_unfulfilled(self, out: dict[str, Any]) -> dict[str, Any]:
        """`out` (a copy of an article) with each stock entry's UnfulfilledAmount as the orders make it."""
        for entry in out.get("Stocks") or []:
            entry["UnfulfilledAmount"] = self._unfulfilled(out, entry)
        return out

    def _lookup(self, key: str, lookup_by: str) -> dict[str, Any] | None:
        if lookup_by == "sku":
            return self._by_sku(key)
        if lookup_by == "ean":
            return next((self.products[k] for k in sorted(self.products)
                         if self.products[k].get("EAN") and self.products[k]["EAN"] == key), None)
        try:
            return self.products.get(int(key))
        except ValueError:
            return None

    def find_product(self, key: str, lookup_by: str) -> dict[str, Any] | None:
        with self.ctx.lock:
            found = self._lookup(key, lookup_by)
            return self._public_article(found) if found else None
