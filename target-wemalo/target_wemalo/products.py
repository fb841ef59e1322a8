"""Billbee article -> wemalo product, and the plan of what to send (setup text, "Artikel").

* SKU and EAN are required; a bundle (Type 2) is never created, only its components exist in wemalo.
* The wemalo `externalId` is the Billbee article id, so a changed SKU is a change of the same product. wemalo's
  product list need not return `externalId` (the apidoc's getAll example has none): a product is then matched
  by its SKU, which wemalo keeps unique (docs/api-contract.md, "wemalo: product/getAll").
* A change to a SKU or EAN that another wemalo product already has is refused and reported.
* Dimensions and weights are not changed once the product exists in wemalo (setting `update_dimensions`).
* An unchanged product costs no write: wemalo's product list is read once per run and compared locally.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from billbee_wemalo.http.json_parse import DROP
from target_wemalo.address import clean

DIMENSION_FIELDS = ("depth", "width", "height", "grossWeight", "netWeight")
EAN_FIELDS = ("ean", "ean2", "ean3", "ean4")
COMPARED_FIELDS = ("sku", "ean", "name", "productGroup", "isActive", "producerName", "customsTariffNumber",
                   "originCountry", *DIMENSION_FIELDS)
KEPT_FIELDS = frozenset({"externalId", *EAN_FIELDS, *COMPARED_FIELDS})
# What the planner keeps per wemalo product: these fields' values as a tuple (a dict of them costs 3x the memory).
ROW_FIELDS = tuple(sorted(KEPT_FIELDS - {"externalId"}))
# What the planner and the products sink read of a Billbee article (map_product, decide, the report's record id):
# the sink's batch keeps only these. A whole parsed article is ~12 KB; 2,000 of them were the target's largest
# allocation at 100,000 articles.
ARTICLE_FIELDS = ("Id", "SKU", "EAN", "Type", "Category1", "Title", "IsDeactivated", "LengthCm", "WidthCm",
                  "HeightCm", "Weight", "WeightNet", "Manufacturer", "TaricNumber", "CountryOfOrigin")
_MISSING = object()  # a field wemalo did not return (unlike one it returned as null)
_FEW_VALUES = frozenset({"productGroup", "producerName", "originCountry"})  # one string object per distinct value


class ProductError(ValueError):
    pass


def title(product: dict[str, Any], language: str = "DE") -> str:
    titles = [(clean(e.get("LanguageCode")).upper(), clean(e.get("Text"))) for e in product.get("Title") or []]
    titles = [(code, text) for code, text in titles if text]  # a blank German title must not hide another
    return next((text for code, text in titles if code == language), next((text for _, text in titles), ""))


def _number(value: Any) -> float | int | None:
    if value is None:
        return None
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def map_product(product: dict[str, Any], default_group: str) -> dict[str, Any]:
    """The wemalo product for a Billbee article; raises ProductError for articles wemalo must not get."""
    sku, ean = clean(product.get("SKU")), clean(product.get("EAN"))
    if product.get("Type") == 2:
        raise ProductError("bundle: only its components are sent to wemalo")
    if not sku:
        raise ProductError("no SKU (required by wemalo)")
    if not ean:
        raise ProductError("no EAN (required by wemalo)")
    category = (product.get("Category1") or {}).get("Name")
    mapped: dict[str, Any] = {
        "externalId": str(product["Id"]),
        "sku": sku,
        "ean": ean,
        "name": title(product) or sku,
        "productGroup": clean(category) or default_group,
        "isActive": not product.get("IsDeactivated", False),
        "depth": _number(product.get("LengthCm")),
        "width": _number(product.get("WidthCm")),
        "height": _number(product.get("HeightCm")),
        "grossWeight": _number(product.get("Weight")),
        "netWeight": _number(product.get("WeightNet")),
    }
    for source, target in (("Manufacturer", "producerName"), ("TaricNumber", "customsTariffNumber"),
                           ("CountryOfOrigin", "originCountry")):
        if clean(product.get(source)):
            mapped[target] = clean(product.get(source))
    return {k: v for k, v in mapped.items() if v is not None}


def fold(sku: str) -> str:
    """The planner's case-insensitive key of a SKU: two SKUs get the same key exactly when their casefold() is the
    same. It is the SKU object itself for an ASCII SKU without lower-case letters (the usual "KH-000123"), so that
    the index keeps no second copy of it: a casefolded copy per SKU was ~6 MB at 100,000 products.

    Keys: casefold() upper-cased when that is ASCII (ASCII lower-case letters map one to one to upper-case
    ones), else casefold() itself (not ASCII, so never equal to a key of the first kind)."""
    if sku.isascii():  # casefold() is lower(): its upper() is upper()
        upper = sku.upper()
        return sku if upper == sku else upper
    folded = sku.casefold()
    if folded.isascii():  # e.g. a Kelvin sign or a long s, which casefold() turns into ASCII letters
        return folded.upper()
    return sku if folded == sku else folded


def sku_key(sku: str) -> str:
    """The planner's key of a wemalo product whose externalId wemalo did not return."""
    return f"sku:{sku.casefold()}"


def pack(product: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """(key, row): what the planner keeps of a wemalo product (also used while getAll is parsed). The key is
    the externalId, or `sku_key(sku)` when the answer has none."""
    ext = str(product.get("externalId") or product.get("extId") or "")
    if not ext and isinstance(product.get("sku"), str) and product["sku"].strip():
        ext = sku_key(clean(product["sku"]))
    row = []
    for key in ROW_FIELDS:
        value = product.get(key, _MISSING)
        if isinstance(value, Decimal):  # the client parses JSON numbers as Decimal (104 bytes; a float is 24)
            value = _number(value)
        elif isinstance(value, str) and key in _FEW_VALUES:
            value = sys.intern(value)
        row.append(value)
    return ext, tuple(row)


def unpack(row: tuple[Any, ...]) -> dict[str, Any]:
    return {key: value for key, value in zip(ROW_FIELDS, row, strict=True) if value is not _MISSING}


_SKU_AT = ROW_FIELDS.index("sku")
_EANS_AT = tuple(ROW_FIELDS.index(key) for key in EAN_FIELDS)


def _identifiers(row: tuple[Any, ...]) -> tuple[str, list[str]]:
    """The SKU's :func:`fold` key ('' when there is none) and the cleaned, non-blank EANs of a :func:`pack`ed row,
    read from the tuple itself (no dict is built)."""
    sku = row[_SKU_AT]
    eans = (clean(None if row[at] is _MISSING else row[at]) for at in _EANS_AT)
    return (fold(sku) if sku and sku is not _MISSING else ""), [ean for ean in eans if ean]


@dataclass
class Decision:
    action: str  # "create" | "update" | "unchanged" | "reject" | "skip"
    payload: dict[str, Any] | None = None
    reason: str = ""
    changed: list[str] = field(default_factory=list)
    kept_sku: str | None = None  # "unchanged": the SKU as the planner keeps it (the report shares that string)


class ProductPlanner:
    """Decides per article what to send, against wemalo's products and the articles planned before it."""

    def __init__(self, wemalo_products: Iterable[object] = (), *, default_group: str, update_dimensions: bool) -> None:
        """`wemalo_products`: product dicts, or what :func:`pack` made of them; anything else in wemalo's list
        (a malformed entry) is skipped. Or none, and wemalo's products are given by :meth:`take` while its answer
        is parsed (the run's catalogue: then wemalo's list never exists as a whole)."""
        self.default_group = default_group
        self.update_dimensions = update_dimensions
        self.by_id: dict[str, tuple[Any, ...]] = {}  # externalId -> pack()ed row
        self.refused: dict[str, str] = {}  # SKU (casefolded) -> why this run did not send the article
        self.unsent: dict[str, str] = {}  # SKU (casefolded) -> the transient failure that kept it from wemalo
        self.owner_of_sku: dict[str, str] = {}  # fold(SKU) -> externalId
        self.owner_of_ean: dict[str, str] = {}
        self.matched_by_sku: dict[str, str] = {}  # sku_key -> the Billbee article id that matched that row
        for p in wemalo_products:
            if not isinstance(p, tuple | dict):
                continue  # not a product (a malformed entry of getAll's list)
            ext, row = p if isinstance(p, tuple) else pack(p)
            if ext:
                self._claim(ext, row)

    def take(self, product: dict[str, Any]) -> Any:
        """One product of wemalo's list as it is parsed (WemaloClient.list_products' `compact`), in the list's
        order: indexed as the constructor indexes a list of them. Returns json_parse.DROP: the list keeps nothing."""
        ext, row = pack(product)
        if ext:
            self._claim(ext, row)
        return DROP

    def restart(self) -> None:
        """wemalo's list is given again from its start (a retried getAll; list_products' `restart`): what
        :meth:`take` was given before is forgotten."""
        self.by_id.clear()
        self.owner_of_sku.clear()
        self.owner_of_ean.clear()

    def get(self, ext: str) -> dict[str, Any] | None:
        """The compared fields of wemalo product `ext` as wemalo has them (after this run's writes)."""
        row = self.by_id.get(ext)
        return None if row is None else unpack(row)

    def _claim(self, ext: str, row_or_product: tuple[Any, ...] | dict[str, Any]) -> None:
        old_row = self.by_id.get(ext)
        if old_row is not None:  # release the old identifiers of this product
            sku, eans = _identifiers(old_row)
            self.owner_of_sku.pop(sku, None)
            for ean in eans:
                self.owner_of_ean.pop(ean, None)
        # Only what is compared is kept, as a tuple: at 100,000 products full records would not fit in 200 MB.
        row = row_or_product if isinstance(row_or_product, tuple) else pack(row_or_product)[1]
        self.by_id[ext] = row
        sku, eans = _identifiers(row)
        if sku:
            self.owner_of_sku[sku] = ext
        for ean in eans:
            self.owner_of_ean[ean] = ext

    def refuse(self, action: str, payload: dict[str, Any], reason: str) -> None:
        """wemalo refused this write: a product it refused to create is not known (its orders are refused with
        the reason); a refused update leaves wemalo's product as it was, and this run plans against it no more."""
        sku = str(payload.get("sku") or "")
        self.refused[sku.casefold()] = reason
        if action == "create":
            key = str(payload.get("externalId"))
            row = self.by_id.pop(key, None)
            if row is not None:
                owned, eans = _identifiers(row)
                if self.owner_of_sku.get(owned) == key:
                    self.owner_of_sku.pop(owned)
                for ean in eans:
                    if self.owner_of_ean.get(ean) == key:
                        self.owner_of_ean.pop(ean)

    def knows_sku(self, sku: str) -> bool:
        return fold(sku) in self.owner_of_sku

    def mark_unsent(self, sku: str, reason: str) -> None:
        """The write of this article failed for a transient reason: wemalo may not have it (yet)."""
        self.unsent[sku.casefold()] = reason

    def unsent_reason(self, sku: str) -> str | None:
        return self.unsent.get(sku.casefold())

    def why_missing(self, sku: str) -> str:
        """Why an order position's SKU is not in wemalo, for the order's rejection message."""
        reason = self.refused.get(sku.casefold())
        return f"article {sku} is not in wemalo" + (f" (not sent: {reason})" if reason else "")

    def decide(self, article: dict[str, Any]) -> Decision:
        decision = self._decide(article)
        if decision.action == "reject" and clean(article.get("SKU")):
            self.refused[clean(article["SKU"]).casefold()] = decision.reason
        return decision

    def _decide(self, article: dict[str, Any]) -> Decision:
        try:
            wanted = map_product(article, self.default_group)
        except ProductError as exc:
            action = "skip" if article.get("Type") == 2 else "reject"
            return Decision(action, reason=str(exc))
        ext = wanted["externalId"]
        sku_owner = self.owner_of_sku.get(fold(wanted["sku"]))
        if ext not in self.by_id and sku_owner == sku_key(wanted["sku"]):
            # wemalo listed this SKU without externalId: the same product, unless another article of this run
            # (the catalogue comes in Id order) already is that product.
            first = self.matched_by_sku.setdefault(sku_owner, ext)
            if first != ext:
                return Decision("reject", reason=f"SKU {wanted['sku']} already belongs to the wemalo product of "
                                                 f"Billbee article {first}")
            ext = sku_owner
        if sku_owner and sku_owner != ext:
            return Decision("reject", reason=f"SKU {wanted['sku']} already belongs to {_product(sku_owner)}")
        ean_owner = self.owner_of_ean.get(wanted["ean"])
        if ean_owner and ean_owner != ext:
            return Decision("reject", reason=f"EAN {wanted['ean']} already belongs to {_product(ean_owner)}")
        existing = self.get(ext)
        if existing is None:
            self._claim(ext, wanted)
            return Decision("create", wanted)
        wanted_ext = wanted["externalId"]
        merged = dict(existing)
        changed = []
        for key in COMPARED_FIELDS:
            if key in DIMENSION_FIELDS and not self.update_dimensions:
                continue
            if key in wanted and _differs(existing.get(key), wanted[key]):
                merged[key] = wanted[key]
                changed.append(key)
        for key, value in wanted.items():  # fields wemalo has never been sent
            if key not in merged:
                merged[key] = value
        if not changed:
            return Decision("unchanged", kept_sku=existing.get("sku"))
        merged["externalId"] = wanted_ext
        self._claim(ext, merged)
        return Decision("update", merged, changed=changed)


def _product(key: str) -> str:
    if key.startswith("sku:"):
        return f"the wemalo product with SKU {key[4:]} (listed without externalId)"
    return f"wemalo product {key}"


def _differs(old: Any, new: Any) -> bool:
    if isinstance(new, int | float) and not isinstance(new, bool) and old is not None:
        try:
            return Decimal(str(old)) != Decimal(str(new))
        except ArithmeticError:
            return True
    return bool((old if old != "" else None) != new)
