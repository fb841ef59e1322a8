"""In-memory wemalo account: products, stock, goods orders, parcels, sent bookings, dispatcher profiles.

All methods take `ctx.lock`. Business errors raise :class:`WemaloError`, which app.py renders as wemalo's body
(`Success: false`, `status`, `message`, ...).

Modelling choices where wemalo's real behaviour is unknown (docs/api-contract.md) are marked *(choice)*:

* Status ids *(choice, except PARTIAL 100 and 500 = completely sent)*: see STATUS_IDS.
* Stock: `physical` per product (the default attribute) and, for products given one, a B-stock attribute. An
  order reserves its open quantities of the default attribute while OPEN..PACKED. availableStock answers as the
  apidoc's example: the figures in `attributes[]`, `virtualQuantity` 0 (every simulated article is a non-set
  article). The default attribute's figure is physical minus the open quantities of every unshipped,
  uncancelled order, PARTIAL ones included, so it goes negative when orders exceed stock (as wemalo's help
  pages describe); `stock_quantity: on_hand` gives the physical stock instead *(choice)*. B-stock is on-hand.
* A new order is OPEN (reserved) when the unreserved stock covers all positions, else PARTIAL with
  reasonPartiallyReserved "STOCK" *(choice of string)*; PARTIAL orders are re-checked, oldest first, whenever
  stock is set or reservations are released.
* Product upserts (`addMultiple`) merge the sent fields into the stored product; `updatedAt` moves only
  when something changed *(choice)*. SKUs compare case-insensitively (setting `sku_case_insensitive`).
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.core import SimContext
from sandbox.wemalo.spec import PRODUCT_BOOLEANS, PRODUCT_NUMBERS, PRODUCT_REQUIRED, PRODUCT_STRINGS, RECEIVER_REQUIRED

BERLIN = ZoneInfo("Europe/Berlin")
DATETIME_FORMAT = "%d.%m.%Y %H:%M:%S"
HOUR_FORMAT = "%d%m%Y%H"

DEFAULT_SETTINGS: dict[str, Any] = {
    "token": "sandbox-wemalo-token",
    "http_status": "mirror",  # "mirror": HTTP status = body status; "always_200": HTTP 200 whatever the body says
    "add_multiple_mode": "all_or_nothing",  # or "partial": the good products are saved, `errors` lists the bad
    "duplicate_order": "reject",  # goodsOrder/add on a known externalId: "reject" (409) or "return_existing"
    "reserve_stock": True,  # False: every new order is OPEN whatever the stock
    "sent_page_size": 50,  # rows per page of sentPackages and packages/sent
    "sku_case_insensitive": True,  # SKU uniqueness and position matching ignore case
    # The apidoc's examples, literally (docs/api-contract.md); PROFILES["lenient"] takes the other reading.
    "success_envelope": "example",  # success bodies carry `Success`/`status` only where the route's example does
    "products_include_external_id": False,  # getAll's and get's example rows have no externalId
    "product_rows_carry_status": True,  # ... and carry "status": 200, "Success": true inside each row
    "product_fields": "example",  # product rows: the example's fields only | "all": every field product/add takes
    "page_base": 0,  # the paged feeds' examples answer a request without `page` with "page": 0
    "page_param_ignored": False,  # pathological reading: `page` ignored, always the first page
    "booking_product_id": "number",  # sent bookings' productId: the example's 4711 | "string" (the field list)
    "stock_quantity": "available",  # availableStock attributes[].quantity: "available" (net of open orders) | "on_hand"
    "parcel_quantity_field": "quantitySum",  # packages' item count: the example's name | "quantity" | "both"
    "status_fields": "example",  # getStatus: the example's fields | "field_list": every field the list names
    "late_cancel": "refuse",  # a cancel after picking started: "refuse" (Success false) | "ignore" (Success, no effect)
    "missing_order": "400",  # getStatus of an unknown order: "400" (a message) | "404" | "empty" (200, Success false)
    "missing_product": "400",  # product/get and product/update of an unknown externalId: "400" | "404"
    "default_profile": "DHL Paket",  # profile name of parcels when neither advance nor the order names one
    "call_limit": None,  # int: calls per `call_limit_window` seconds, x-wemalo-limit-* headers, 419 when over
    "call_limit_window": 60.0,
    "now": None,  # ISO datetime (naive = Europe/Berlin) to freeze the clock; None = wall clock
}

# Named groups of readings (`POST /_admin/profile`): "literal" is DEFAULT_SETTINGS, the vendor document read
# literally; "lenient" takes the other plausible reading of each setting it names.
# (stock_quantity is not in "lenient": its reading needs the matching connector setting, stock_semantics, and
# is tested in pairs, tests/e2e/test_sync.py::test_stock_without_oversell_or_double_subtraction.)
# (page_param_ignored stays False in both: it is a pathological reading, switched on by a test that wants it.)
PROFILES: dict[str, dict[str, Any]] = {
    "literal": {},
    "lenient": {"success_envelope": "uniform", "products_include_external_id": True,
                "product_rows_carry_status": False, "product_fields": "all", "page_base": 1,
                "booking_product_id": "string", "parcel_quantity_field": "both", "status_fields": "field_list",
                "late_cancel": "ignore", "missing_order": "404", "missing_product": "404",
                "http_status": "always_200"},
}

STATUS_IDS = {"PARTIAL": "100", "OPEN": "200", "INPROCESS": "300", "INPICKING": "310", "READYFORSHIPMENT": "350",
              "BLOCKEDPACKED": "390", "PACKED": "400", "SHIPPED": "500", "CANCELLED": "900"}
LIFECYCLE = ("PARTIAL", "OPEN", "INPROCESS", "INPICKING", "READYFORSHIPMENT", "BLOCKEDPACKED", "PACKED", "SHIPPED")
CHANGEABLE = frozenset({"PARTIAL", "OPEN"})
# cancel: "if the order was not picked/packed yet". INPROCESS is "picking list was created": nothing picked yet.
# READYFORSHIPMENT ("picked completely") and every packed status are too late. INPICKING (not in the apidoc;
# wemalo's plugin: "picking started") counts as picked: goods are partly off the shelves, the very case the
# condition exists for. SHIPPED and later are closed anyway.
CANCELLABLE = frozenset({"PARTIAL", "OPEN", "INPROCESS"})
CLOSED = frozenset({"SHIPPED", "CANCELLED"})
EAN_FIELDS = ("ean", "ean2", "ean3", "ean4")
PRODUCT_FIELDS = PRODUCT_STRINGS + PRODUCT_NUMBERS + PRODUCT_BOOLEANS
PRODUCT_DEFAULTS: dict[str, Any] = {
    **{k: "" for k in PRODUCT_STRINGS}, **{k: 0 for k in PRODUCT_NUMBERS},
    "hasSerialNumber": False, "isActive": True, "ignorePicking": False,
}
ORDER_INFO_FIELDS = ("departmentNumber", "extraInfo", "extraInfo2", "extraInfo3", "extraInfo4")
# The fields of the product rows in the examples of product/get and product/getAll, in their order (no
# externalId, ean2..4, externalArticleNumber, ignorePicking; "status" and "Success" sit among them).
EXAMPLE_PRODUCT_FIELDS = ("productGroup", "depthShipping", "height", "originCountry", "description", "name",
                          "volumeShipping", "salesPrice", "customsTariffNumber", "status", "width", "Success", "sku",
                          "depth", "heightShipping", "grossWeight", "isActive", "ean", "widthShipping", "netWeight",
                          "producerName", "volume", "hasSerialNumber", "supplierNumber", "factoryNumber",
                          "purchasePrice")
# getStatus: the example's fields (the field list adds reasonPartiallyReserved, blockReason, id, orderNumber).
EXAMPLE_STATUS_FIELDS = ("statusId", "statusName", "deliveryDate")
# availableStock attributes: the default one as in the example; B-stock ("2. Wahl") is our choice of id/external.
DEFAULT_ATTRIBUTE = {"id": 91, "isDefault": True, "external": "1"}
B_STOCK_ATTRIBUTE = {"id": 92, "isDefault": False, "external": "2"}


class WemaloError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"Success": False, "status": self.status, "message": self.message, **self.extra}


def missing(field: str) -> WemaloError:
    return WemaloError(400, f"non optional parameter missing: {field}", error="missingParameter", field=field)


def fmt(value: datetime | None) -> str:
    return value.astimezone(BERLIN).strftime(DATETIME_FORMAT) if value else ""


def parse_local(value: str, fmt_: str, field: str) -> datetime:
    try:
        return datetime.strptime(value, fmt_).replace(tzinfo=BERLIN)
    except (TypeError, ValueError):
        raise WemaloError(400, f"{field}: '{value}' is not a date in the expected format", field=field) from None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _s10_check(digits: str) -> int:
    total = sum(int(d) * w for d, w in zip(digits, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


def tracking_number(carrier: str, n: int) -> str:
    """A realistic-looking, deterministic tracking number for the carrier's n-th parcel."""
    key = carrier.lower()
    if key == "dhl":
        return f"00340434{161094000000 + n:012d}"  # 20 digits, DHL Paket
    if key == "dpd":
        return f"0150{5300000000 + n:010d}"  # 14 digits
    if key == "gls":
        return f"{60000000000 + n:011d}"
    if key == "ups":
        return f"1Z999AA1{n:010d}"
    if key == "hermes":
        return f"H{1000000000000 + n:013d}"
    if key == "deutsche post":
        digits = f"{n % 100000000:08d}"
        return f"RX{digits}{_s10_check(digits)}DE"  # UPU S10 with a valid check digit
    return f"SIM{n:010d}"


def carrier_for(*names: str | None) -> str:
    text = " ".join(n for n in names if n).lower()
    for needle, carrier in (("internetmarke", "Deutsche Post"), ("deutsche post", "Deutsche Post"),
                            ("dhl", "DHL"), ("v01pak", "DHL"), ("v53wpak", "DHL"), ("v62wp", "DHL"),
                            ("dpd", "DPD"), ("gls", "GLS"), ("ups", "UPS"), ("hermes", "Hermes")):
        if needle in text:
            return carrier
    return next((n for n in names if n), "SIM")


def _eans(data: dict[str, Any]) -> set[str]:
    return {str(data[k]).strip() for k in EAN_FIELDS if not _blank(data.get(k))}


class _ProductIndex:
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
        sku, eans = str(data.get("sku") or "").strip(), _eans(data)
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


class WemaloStore:
    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.reset()

    # -- basics ----------------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.ctx.lock:
            self.products: dict[str, dict[str, Any]] = {}  # by externalId
            self._index = _ProductIndex()
            self.stock: Counter[int] = Counter()  # physical stock of the default attribute by product id
            self.b_stock: dict[int, int] = {}  # B-stock by product id; only products that were given one
            self.orders: dict[str, dict[str, Any]] = {}  # by externalId, in creation order
            self.parcels: dict[int, dict[str, Any]] = {}
            self.bookings: list[dict[str, Any]] = []
            self.profiles: list[dict[str, Any]] = []
            self.next_product_id = 45001
            self.next_order_id = 1001
            self.next_parcel_id = 7001
            self.next_history_id = 880001
            self.tracking_counter = 1

    def now(self) -> datetime:
        frozen = self.ctx.settings.get("now")
        if frozen:
            value = datetime.fromisoformat(str(frozen))
            return value if value.tzinfo else value.replace(tzinfo=BERLIN)
        return datetime.now(BERLIN)

    @property
    def _sku_folded(self) -> bool:
        return bool(self.ctx.settings.get("sku_case_insensitive", True))

    def _sku_key(self, sku: Any) -> str:
        text = str(sku or "").strip()
        return text.casefold() if self._sku_folded else text

    def _holders(self, sku: Any, eans: set[str]) -> set[str]:
        """The stored products (externalIds) with the SKU `sku` (compared as `_sku_key` does) or one of `eans`."""
        return self._index.holders(self._sku_key(sku), eans, self._sku_folded)

    # -- products --------------------------------------------------------------------------------------
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
        sku, eans = self._sku_key(data.get("sku")), _eans(data)
        found = self._holders(data.get("sku"), eans) - pending.keys()  # stored, and not replaced in this call
        order = {ext: (0, self.products[ext]["id"]) for ext in found}
        for n, (ext, other) in enumerate(pending.items()):  # a batch: small
            if (sku and self._sku_key(other.get("sku")) == sku) or eans & _eans(other):
                order[ext] = (0, self.products[ext]["id"]) if ext in self.products else (1, n)
        for ext in sorted(order.keys() - {own}, key=order.__getitem__):
            other = pending[ext] if ext in pending else self.products[ext]["data"]
            if sku and self._sku_key(other.get("sku")) == sku:
                return WemaloError(400, f"sku '{data['sku']}' is already used by product '{ext}'", field="sku",
                                   conflictingExternalId=ext)
            taken = eans & _eans(other)
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
            if _blank(body.get(name)):
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
                if _blank(data.get(name)):
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

    # -- stock -------------------------------------------------------------------------------------------
    def _open_quantities(self, reserved_only: bool) -> Counter[int]:
        out: Counter[int] = Counter()
        for order in self.orders.values():
            if order["status"] in CLOSED or (reserved_only and not order["reserved"]):
                continue
            for pos in order["positions"]:
                out[pos["productId"]] += pos["quantity"] - pos["shipped"]
        return out

    def _touch_stock(self, product_ids: set[int]) -> None:
        now = self.now()
        for pid in product_ids:
            if pid in self._index.by_id:
                self._index.by_id[pid]["stockChangedAt"] = now

    def available_stock(self, since: datetime) -> list[dict[str, Any]]:
        with self.ctx.lock:
            demand = self._open_quantities(reserved_only=False)
            return [self._stock_row(rec, demand) for rec in self.products.values() if rec["stockChangedAt"] >= since]

    def _stock_row(self, rec: dict[str, Any], demand: Counter[int]) -> dict[str, Any]:
        """One article as the example shows it: the stock per attribute, `virtualQuantity` 0 ("if it's a set
        article, the product might have a virtual quantity": every simulated article is a non-set article).
        Orders reserve and ship from the default attribute; whether its figure is net of the open orders is not
        documented (setting stock_quantity). B-stock is listed only for products that were given one.
        `externalId` is text as in the example (the field list types it Number)."""
        pid, data = rec["id"], rec["data"]
        physical = self.stock[pid]
        quantity = physical if self.ctx.settings.get("stock_quantity") == "on_hand" else physical - demand[pid]
        attributes = [{**DEFAULT_ATTRIBUTE, "quantity": quantity}]
        if pid in self.b_stock:
            attributes.append({**B_STOCK_ATTRIBUTE, "quantity": self.b_stock[pid]})
        return {"ean": data["ean"], "id": pid, "attributes": attributes, "sku": data["sku"],
                "externalId": data["externalId"], "virtualQuantity": 0}

    @staticmethod
    def _stock_levels(value: Any) -> dict[str, int] | None:
        """`n` (the default attribute) or `{"default": n, "b_stock": m}` (either key) -> levels; None if bad."""
        levels = value if isinstance(value, dict) else {"default": value}
        if not levels or set(levels) - {"default", "b_stock"}:
            return None
        if any(isinstance(v, bool) or not isinstance(v, int) for v in levels.values()):
            return None
        return levels

    def set_stock(self, levels: dict[str, Any]) -> dict[str, Any]:
        """Admin: physical stock by SKU (or externalId): a whole number for the default attribute, or
        `{"default": n, "b_stock": m}`; re-checks PARTIAL orders."""
        with self.ctx.lock:
            parsed = {k: self._stock_levels(v) for k, v in levels.items()}
            bad = [k for k, v in parsed.items() if v is None]
            if bad:
                return {"ok": False, "error": "quantities must be whole numbers or {\"default\": n, \"b_stock\": m}: "
                                              f"{bad}", "stock": {}, "unknown": [], "promoted": []}
            unknown, changed, ids = [], {}, set()
            for key, wanted in parsed.items():
                rec = self._find_product(key, "sku") or self.products.get(key)
                if rec is None:
                    unknown.append(key)
                    continue
                if "default" in wanted:
                    self.stock[rec["id"]] = wanted["default"]
                if "b_stock" in wanted:
                    self.b_stock[rec["id"]] = wanted["b_stock"]
                changed[rec["data"]["sku"]] = levels[key]
                ids.add(rec["id"])
            self._touch_stock(ids)
            promoted = self._recheck_partial()
            return {"ok": not unknown, "stock": changed, "unknown": unknown, "promoted": promoted}

    def _fits(self, positions: list[dict[str, Any]]) -> bool:
        reserved = self._open_quantities(reserved_only=True)
        need: Counter[int] = Counter()
        for pos in positions:
            need[pos["productId"]] += pos["quantity"] - pos["shipped"]
        return all(self.stock[pid] - reserved[pid] >= qty for pid, qty in need.items())

    def _recheck_partial(self) -> list[str]:
        promoted = []
        for order in self.orders.values():
            if order["status"] == "PARTIAL" and order["reasonPartiallyReserved"] == "STOCK" \
                    and self._fits(order["positions"]):
                order["reserved"] = True
                order["reasonPartiallyReserved"] = ""
                self._set_status(order, "OPEN")
                promoted.append(order["externalId"])
        return promoted

    # -- goods orders ---------------------------------------------------------------------------------
    def _set_status(self, order: dict[str, Any], status: str, at: datetime | None = None) -> None:
        at = at or self.now()
        order["status"] = status
        order["statusChangedAt"] = at
        order["history"].append({"status": status, "at": fmt(at)})

    def status_of(self, order: dict[str, Any]) -> dict[str, Any]:
        return {"statusId": STATUS_IDS[order["status"]], "statusName": order["status"],
                "reasonPartiallyReserved": order["reasonPartiallyReserved"], "blockReason": order["blockReason"],
                "id": order["id"], "orderNumber": order["meta"].get("orderNumber") or order["externalId"],
                "deliveryDate": order["meta"].get("expectedDeliveryDate") or ""}

    def _order(self, external_id: str) -> dict[str, Any]:
        order = self.orders.get(external_id)
        if order is None:
            raise WemaloError(404, f"no goods order with externalId '{external_id}'", field="externalId")
        return order

    @staticmethod
    def _check_meta(meta: Any) -> dict[str, Any]:
        if not isinstance(meta, dict):
            raise missing("meta")
        if _blank(meta.get("externalId")):
            raise missing("meta.externalId")
        receivers = meta.get("receiver")
        if not isinstance(receivers, list) or not receivers:
            raise missing("meta.receiver")
        for receiver in receivers:
            if not isinstance(receiver, dict):
                raise missing("meta.receiver")
            for name in RECEIVER_REQUIRED:
                if _blank(receiver.get(name)):
                    raise missing(f"meta.receiver.{name}")
        return copy.deepcopy(meta)

    def _resolve_positions(self, positions: Any, match: str) -> list[dict[str, Any]]:
        if not isinstance(positions, list) or not positions:
            raise missing("positions")
        out, not_found = [], []
        for index, pos in enumerate(positions, start=1):
            if not isinstance(pos, dict) or _blank(pos.get("externalId")):
                raise missing("positions.externalId")
            key = str(pos["externalId"])
            raw_qty = pos.get("quantity", 1)
            try:
                quantity = float(raw_qty)
            except (TypeError, ValueError):
                quantity = -1
            if quantity <= 0 or quantity != int(quantity):
                raise WemaloError(400, f"position {index} ({key}): quantity {raw_qty!r} is not a positive whole "
                                       "number", field="quantity", code="INVALID")
            if pos.get("serialNumber") and quantity > 1:
                raise WemaloError(400, f"position {index} ({key}): quantity must be 1 with a serial number",
                                  field="quantity", code="INVALID")
            rec = self._find_product(key, match)
            if rec is None:
                not_found.append(key)
                continue
            out.append({"externalId": key, "productId": rec["id"], "productExternalId": rec["data"]["externalId"],
                        "sku": rec["data"]["sku"], "name": rec["data"]["name"], "quantity": int(quantity),
                        "shipped": 0, "serialNumber": pos.get("serialNumber") or "",
                        "externalPositionIdentifier": pos.get("externalPositionIdentifier") or "",
                        "total": pos.get("total"), "tax": pos.get("tax")})
        if not_found:
            raise WemaloError(404, f"no product with {match} '{not_found[0]}' found (position externalId "
                                   f"'{not_found[0]}')", field="extId", code="NOT_FOUND", externalId=not_found[0],
                              notFound=not_found)
        return out

    def add_order(self, body: Any, *, conditional: bool = False) -> dict[str, Any]:
        with self.ctx.lock:
            if not isinstance(body, dict):
                raise missing("meta")
            meta_in = body.get("meta")
            if isinstance(meta_in, dict) and not _blank(meta_in.get("externalId")):
                existing = self.orders.get(str(meta_in["externalId"]))
                if existing is not None:
                    return self._duplicate(existing, conditional)
            meta = self._check_meta(meta_in)
            match = "sku" if meta.get("externalIdMatch") == "sku" else "externalId"
            positions = self._resolve_positions(body.get("positions"), match)
            order = {"id": self.next_order_id, "externalId": str(meta["externalId"]), "meta": meta,
                     "positions": positions, "status": "", "reasonPartiallyReserved": "", "blockReason": "",
                     "reserved": False, "createdAt": self.now(), "statusChangedAt": None, "history": [],
                     "parcels": [], "cancelReason": "", "shop": body.get("shop") or ""}
            self.next_order_id += 1
            if not self.ctx.settings.get("reserve_stock", True) or self._fits(positions):
                order["reserved"] = True
                self._set_status(order, "OPEN")
            else:
                order["reasonPartiallyReserved"] = "STOCK"
                self._set_status(order, "PARTIAL")
            self.orders[order["externalId"]] = order
            self._touch_stock({p["productId"] for p in positions})
            out = {"Success": True, "status": 200, "id": order["id"]}
            if conditional:
                out.update(self._conditional_status(order))
            return out

    def _conditional_status(self, order: dict[str, Any]) -> dict[str, Any]:
        # WP reads `orderStatus` as a status name *(inference)*.
        status = self.status_of(order)
        return {"orderStatus": status["statusName"], **status}

    def _duplicate(self, existing: dict[str, Any], conditional: bool) -> dict[str, Any]:
        if conditional:  # addConditional: keep the order as it is, report its status *(inference)*
            return {"Success": True, "status": 200, **self._conditional_status(existing)}
        if self.ctx.settings.get("duplicate_order") == "return_existing":
            return {"Success": True, "status": 200, "id": existing["id"]}
        raise WemaloError(409, f"a goods order with externalId '{existing['externalId']}' already exists",
                          field="externalId", id=existing["id"])

    def order_status(self, external_id: str) -> dict[str, Any]:
        with self.ctx.lock:
            order = self.orders.get(external_id)
            if order is None:
                return self._no_order_status(external_id)
            status = self.status_of(order)
            if self.ctx.settings.get("status_fields") != "field_list":  # the example's fields, statusId as text
                status = {k: status[k] for k in EXAMPLE_STATUS_FIELDS}
            return {**status, "Success": True, "status": 200}

    def _no_order_status(self, external_id: str) -> dict[str, Any]:
        """getStatus of an unknown externalId: not documented (setting missing_order). The literal default, 400,
        follows the apidoc's one documented miss of an externalId in a GET path ("Error 400: Product external
        identifier not found", product/stock/:externalId)."""
        answer = self.ctx.settings.get("missing_order")
        if answer == "empty":
            return {"Success": False}
        raise WemaloError(404 if answer == "404" else 400, f"no goods order with externalId '{external_id}'",
                          field="externalId")

    def update_meta(self, external_id: str, body: Any) -> dict[str, Any]:
        with self.ctx.lock:
            order = self._order(external_id)
            if order["status"] not in CHANGEABLE:
                raise WemaloError(400, f"order '{external_id}' is {order['status']}; its meta data can only be "
                                       "changed while PARTIAL or OPEN", statusName=order["status"])
            meta = self._check_meta(body.get("meta") if isinstance(body, dict) else None)
            if str(meta["externalId"]) != external_id:
                raise WemaloError(400, f"meta.externalId '{meta['externalId']}' differs from '{external_id}'",
                                  field="meta.externalId")
            order["meta"] = meta
            return {"Success": True, "status": 200, "id": order["id"]}

    def cancel(self, external_id: str, reason: str, *, admin: bool = False) -> dict[str, Any]:
        with self.ctx.lock:
            order = self._order(external_id)
            if order["status"] == "CANCELLED":  # repeated cancel answers like the first *(choice)*
                return {"Success": True, "status": 200, "id": order["id"], "statusName": "CANCELLED"}
            if admin:  # the warehouse can cancel anything not handed over yet
                handed_over = any(self.parcels[p]["isHandedOver"] for p in order["parcels"])
                allowed = order["status"] not in CLOSED and not handed_over
            else:
                allowed = order["status"] in CANCELLABLE
            if not allowed:
                if self.ctx.settings.get("late_cancel") == "ignore":  # accepted, nothing happens
                    return {"Success": True, "status": 200, "id": order["id"]}
                raise WemaloError(400, f"order '{external_id}' cannot be cancelled: already picked/packed "
                                       f"(status {order['status']})", statusName=order["status"])
            order["reserved"] = False
            order["cancelReason"] = reason or ""
            self._set_status(order, "CANCELLED")
            self._touch_stock({p["productId"] for p in order["positions"]})
            self._recheck_partial()
            return {"Success": True, "status": 200, "id": order["id"], "statusName": "CANCELLED"}

    # -- parcels and bookings ------------------------------------------------------------------------
    def _profile(self, wanted: str | None, order: dict[str, Any]) -> tuple[str, str]:
        """(profileName, carrier) for a new parcel."""
        def lookup(key: str, by_match_only: bool) -> tuple[str, str] | None:
            for dispatcher in self.profiles:
                for prof in dispatcher.get("profiles") or []:
                    name = prof.get("name") or f"{dispatcher.get('name', '')} {prof.get('product', '')}".strip()
                    if prof.get("matchId") == key or (not by_match_only and key == name):
                        return name, carrier_for(dispatcher.get("name"), prof.get("product"), name)
            return None

        if wanted:
            return lookup(wanted, False) or (wanted, carrier_for(wanted))
        match_id = order["meta"].get("dispatcherProfile")
        if match_id:
            found = lookup(match_id, True)
            if found:
                return found
        default = str(self.ctx.settings.get("default_profile") or "DHL Paket")
        return lookup(default, False) or (default, carrier_for(default))

    def _make_parcels(self, order: dict[str, Any], count: int, profile: str | None, at: datetime) -> list[int]:
        units = [i for i, p in enumerate(order["positions"]) for _ in range(p["quantity"] - p["shipped"])]
        count = max(1, min(count, len(units) or 1))
        profile_name, carrier = self._profile(profile, order)
        ids, start = [], 0
        for k in range(count):
            size = len(units) // count + (1 if k < len(units) % count else 0)
            chunk = Counter(units[start:start + size])
            start += size
            items = []
            weight = 0
            for index, qty in sorted(chunk.items()):
                pos = order["positions"][index]
                product = self._product_by_id(pos["productId"])["data"]
                weight += int(float(product.get("grossWeight") or 0) * qty)
                items.append({"positionIndex": index, "productId": pos["productId"], "externalId":
                              pos["productExternalId"], "sku": pos["sku"], "name": pos["name"], "quantity": qty,
                              "serialNumber": pos["serialNumber"]})
            parcel_id = self.next_parcel_id
            self.next_parcel_id += 1
            self.parcels[parcel_id] = {
                "id": parcel_id, "goodsOrderId": order["id"], "externalOrderId": order["externalId"],
                "profileName": profile_name, "carrier": carrier,
                "trackingNumber": tracking_number(carrier, self.tracking_counter), "barcode": f"P{parcel_id:07d}",
                "weightTotal": weight, "items": items, "isHandedOver": False, "handoverDate": None, "packedAt": at}
            self.tracking_counter += 1
            order["parcels"].append(parcel_id)
            ids.append(parcel_id)
        return ids

    def _ship(self, order: dict[str, Any], parcel: dict[str, Any], at: datetime) -> list[str]:
        parcel["isHandedOver"] = True
        parcel["handoverDate"] = at
        history = []
        for item in parcel["items"]:
            order["positions"][item["positionIndex"]]["shipped"] += item["quantity"]
            self.stock[item["productId"]] -= item["quantity"]
            history_id = str(self.next_history_id)
            self.next_history_id += 1
            self.bookings.append({"historyId": history_id, "packageId": parcel["id"], "goodsOrderId": order["id"],
                                  "externalGoodsOrderId": order["externalId"], "productId": item["productId"],
                                  "externalProductId": item["externalId"], "sku": item["sku"],
                                  "productName": item["name"], "count": item["quantity"],
                                  "serialNumber": item["serialNumber"], "bookingDate": at, "handoverDate": at,
                                  "synchedAt": None})
            history.append(history_id)
        self._touch_stock({i["productId"] for i in parcel["items"]})
        return history

    def advance(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Admin: move orders forward through the lifecycle, packing and shipping parcels on the way."""
        with self.ctx.lock:
            target = str(spec.get("to") or "").upper()
            if target not in LIFECYCLE[2:] and target != "CANCELLED":
                return {"ok": False, "error": f"'to' must be one of {[*LIFECYCLE[2:], 'CANCELLED']}"}
            at = self.now()
            try:
                parcels = int(spec.get("parcels") or 1)
                if spec.get("at"):
                    at = datetime.fromisoformat(str(spec["at"]))
                    at = at if at.tzinfo else at.replace(tzinfo=BERLIN)
            except (TypeError, ValueError) as exc:
                return {"ok": False, "error": f"bad 'parcels' or 'at': {exc}"}
            if not 1 <= parcels <= 20:
                return {"ok": False, "error": "'parcels' must be 1..20"}
            wanted = spec.get("externalIds")
            if wanted is None:
                orders, skipped = list(self.orders.values()), []
            else:
                orders = [self.orders[e] for e in wanted if e in self.orders]
                skipped = [{"externalId": e, "reason": "unknown order"} for e in wanted if e not in self.orders]
            changed = []
            for order in orders:
                try:
                    changed.append(self._advance_one(order, target, parcels,
                                                     bool(spec.get("partial")), spec.get("profile"), at,
                                                     str(spec.get("blockReason") or "LABEL_ERROR")))
                except ValueError as exc:
                    if wanted is not None:
                        skipped.append({"externalId": order["externalId"], "reason": str(exc)})
            return {"ok": True, "changed": changed, "skipped": skipped}

    def _advance_one(self, order: dict[str, Any], target: str, parcels: int, partial: bool, profile: str | None,
                     at: datetime, block_reason: str) -> dict[str, Any]:
        before = order["status"]
        result: dict[str, Any] = {"externalId": order["externalId"], "id": order["id"], "from": before,
                                  "parcelsCreated": [], "parcelsShipped": [], "bookings": []}
        if target == "CANCELLED":
            self.cancel(order["externalId"], "cancelled in the warehouse", admin=True)
            return {**result, "to": order["status"]}
        if before in CLOSED:
            raise ValueError(f"already {before}")
        if before == "PARTIAL":
            raise ValueError("PARTIAL (not reserved): set stock first")
        current, goal = LIFECYCLE.index(before), LIFECYCLE.index(target)
        if goal <= current:  # a partly shipped order is PACKED, so SHIPPED is still ahead of it
            raise ValueError(f"already {before}")
        for status in LIFECYCLE[current + 1:goal + 1]:
            if status == "BLOCKEDPACKED" and target != "BLOCKEDPACKED":
                continue
            if status in ("BLOCKEDPACKED", "PACKED", "SHIPPED") and not order["parcels"]:
                result["parcelsCreated"] = self._make_parcels(order, parcels, profile, at)
            if status == "SHIPPED":
                break
            self._set_status(order, status, at)
            if status == "BLOCKEDPACKED":
                order["blockReason"] = block_reason
            elif status == "PACKED":
                order["blockReason"] = ""
        if target == "SHIPPED":
            pending = [self.parcels[p] for p in order["parcels"] if not self.parcels[p]["isHandedOver"]]
            for parcel in pending[:1] if partial else pending:
                result["bookings"] += self._ship(order, parcel, at)
                result["parcelsShipped"].append(parcel["id"])
            done = all(self.parcels[p]["isHandedOver"] for p in order["parcels"])
            final = "SHIPPED" if done else "PACKED"
            if order["status"] != final:
                order["blockReason"] = ""
                self._set_status(order, final, at)
            if done:
                order["reserved"] = False
        result["to"] = order["status"]
        result["parcels"] = [self._parcel_state(self.parcels[p]) for p in result["parcelsCreated"]]
        return result

    def _parcel_quantity(self, quantity: int) -> dict[str, int]:
        # The field list names it `quantity`, the example `quantitySum` (setting parcel_quantity_field).
        name = self.ctx.settings.get("parcel_quantity_field")
        if name == "both":
            return {"quantity": quantity, "quantitySum": quantity}
        return {"quantity" if name == "quantity" else "quantitySum": quantity}

    def parcel_out(self, parcel: dict[str, Any]) -> dict[str, Any]:
        quantity = sum(i["quantity"] for i in parcel["items"])
        return {"profileName": parcel["profileName"], "errorMessage": "", "weightTotal": parcel["weightTotal"],
                **self._parcel_quantity(quantity),
                "isHandedOver": parcel["isHandedOver"], "storageCell": "", "id": parcel["id"],
                "barcode": parcel["barcode"], "trackingNumber": parcel["trackingNumber"],
                "items": [{"serialNumber": i["serialNumber"], "quantity": i["quantity"], "name": i["name"],
                           "sku": i["sku"]} for i in parcel["items"]],
                "units": []}

    def _parcel_state(self, parcel: dict[str, Any]) -> dict[str, Any]:
        quantity = sum(i["quantity"] for i in parcel["items"])
        return {**self.parcel_out(parcel), "quantity": quantity, "quantitySum": quantity, "carrier": parcel["carrier"],
                "handoverDate": fmt(parcel["handoverDate"])}

    def packages(self, order_id: str | None, external_order_id: str | None) -> dict[str, Any]:
        with self.ctx.lock:
            if external_order_id:
                order = self._order(external_order_id)
            elif order_id:
                order = next((o for o in self.orders.values() if str(o["id"]) == str(order_id)), None)
                if order is None:
                    raise WemaloError(404, f"no goods order with id '{order_id}'", field="orderId")
            else:
                raise missing("orderId")
            return {"packages": [self.parcel_out(self.parcels[p]) for p in order["parcels"]], "Success": True,
                    "status": 200}

    def tracking(self, parcel_id: str) -> dict[str, Any]:
        with self.ctx.lock:
            parcel = self.parcels.get(int(parcel_id)) if parcel_id.isdigit() else None
            if parcel is None:
                raise WemaloError(404, f"no parcel with id '{parcel_id}'", field="parcelId")
            return {"trackingNumber": parcel["trackingNumber"], "profileName": parcel["profileName"],
                    "carrier": parcel["carrier"], "Success": True, "status": 200}

    def booking_out(self, booking: dict[str, Any], *, recipient: bool, queue: bool) -> dict[str, Any]:
        order = self.orders[booking["externalGoodsOrderId"]]
        parcel = self.parcels[booking["packageId"]]
        meta = order["meta"]
        row: dict[str, Any] = {
            # productId: the example writes 4711, the field list String (setting booking_product_id).
            "externalProductId": booking["externalProductId"],
            "productId": str(booking["productId"]) if self.ctx.settings.get("booking_product_id") == "string"
            else booking["productId"],
            "productName": booking["productName"], "sku": booking["sku"], "historyId": booking["historyId"],
            "goodsOrderId": order["id"], "orderNumberCustomer": meta.get("orderNumber") or order["externalId"],
            "externalGoodsOrderId": order["externalId"], "handoverDate": fmt(booking["handoverDate"]),
            "bookingDate": fmt(booking["bookingDate"]), "trackingNumber": parcel["trackingNumber"],
            "count": booking["count"], "serialNumber": booking["serialNumber"], "dispatcherName": parcel["carrier"],
            "dispatcherProduct": parcel["profileName"],
            "orderInfo": {k: meta.get(k) or "" for k in ORDER_INFO_FIELDS},
        }
        if queue:
            row["packageId"] = str(parcel["id"])
            row["orderStatusId"] = STATUS_IDS[order["status"]]
        if recipient:
            rec = next((r for r in meta.get("receiver") or [] if r.get("primary")), (meta.get("receiver") or [{}])[0])
            row["recipient"] = {
                "name1": rec.get("name1", ""), "name2": rec.get("name2", ""), "name3": rec.get("name3", ""),
                "street": rec.get("street", ""), "houseNumber": rec.get("streetNumber", ""),
                "addressAddition": rec.get("addressAddition", ""),
                "stateProvinceCountry": rec.get("stateProvinceCountry", ""), "zip": rec.get("zip", ""),
                "city": rec.get("city", ""), "countryCode": rec.get("countryCode2Letter", ""),
                "email": rec.get("email", ""), "phone": rec.get("phoneNumber", ""),
                "customerNumber": rec.get("customerNumber", "")}
        return row

    def _page(self, rows: list[dict[str, Any]], page: int | None, *, recipient: bool,
              queue: bool) -> dict[str, Any]:
        """One page; `page` None = the first. The base is `page_base` (0 as in the apidoc's examples); the answer
        echoes the page it served (a number below the base is the first page)."""
        size = max(1, int(self.ctx.settings.get("sent_page_size") or 50))
        base = int(self.ctx.settings.get("page_base") or 0)
        if page is None or page < base or self.ctx.settings.get("page_param_ignored"):
            page = base
        index = page - base
        chosen = rows[index * size:(index + 1) * size]
        return {"page": page, "additionalPage": len(rows) > (index + 1) * size,
                "bookings": [self.booking_out(b, recipient=recipient, queue=queue) for b in chosen],
                "Success": True, "status": 200}

    def sent_packages(self, external_id: str | None, date_from: datetime | None, date_to: datetime | None,
                      page: int | None, recipient: bool) -> dict[str, Any]:
        with self.ctx.lock:
            rows = [b for b in self.bookings
                    if (not external_id or b["externalGoodsOrderId"] == external_id)
                    and (date_from is None or b["handoverDate"] >= date_from)
                    and (date_to is None or b["handoverDate"] <= date_to)]
            return self._page(rows, page, recipient=recipient, queue=False)

    def unsynched(self, external_id: str | None, page: int | None, recipient: bool) -> dict[str, Any]:
        with self.ctx.lock:
            rows = [b for b in self.bookings if b["synchedAt"] is None
                    and (not external_id or b["externalGoodsOrderId"] == external_id)]
            return self._page(rows, page, recipient=recipient, queue=True)

    def ack_booking(self, booking_id: str) -> dict[str, Any]:
        with self.ctx.lock:
            booking = next((b for b in self.bookings if b["historyId"] == booking_id), None)
            if booking is None:
                raise WemaloError(404, f"no sent booking with id '{booking_id}'", field="bookingId")
            if booking["synchedAt"] is None:
                booking["synchedAt"] = self.now()
            return {"Success": True, "status": 200}

    def get_profiles(self) -> dict[str, Any]:
        with self.ctx.lock:
            return {"dispatcher": copy.deepcopy(self.profiles), "Success": True, "status": 200}

    # -- admin ---------------------------------------------------------------------------------------
    def load(self, scenario: dict[str, Any]) -> dict[str, Any]:
        """Replace all data: {"products": [...], "profiles": [...], "stock": {sku: qty}, "orders": [...]}.

        An order may carry "status" (advance target, e.g. "SHIPPED") plus "parcels"/"profile" for it.
        """
        with self.ctx.lock:
            self.reset()
            errors: list[str] = []
            self.profiles = copy.deepcopy(scenario.get("profiles") or [])
            for product in scenario.get("products") or []:
                try:
                    self.add_product(product)
                except WemaloError as exc:
                    errors.append(f"product {product.get('externalId')}: {exc.message}")
            stock = self.set_stock(scenario.get("stock") or {})
            errors += [f"stock: unknown sku {s}" for s in stock["unknown"]]
            if "error" in stock:
                errors.append(f"stock: {stock['error']}")
            for raw in scenario.get("orders") or []:
                body = {k: v for k, v in raw.items() if k not in ("status", "parcels", "profile", "partial")}
                ext = (body.get("meta") or {}).get("externalId")
                try:
                    self.add_order(body)
                except WemaloError as exc:
                    errors.append(f"order {ext}: {exc.message}")
                    continue
                if raw.get("status") and raw["status"] not in ("OPEN", "PARTIAL"):
                    done = self.advance({"externalIds": [ext], "to": raw["status"], "parcels": raw.get("parcels"),
                                         "profile": raw.get("profile"), "partial": raw.get("partial")})
                    errors += [f"order {s['externalId']}: {s['reason']}" for s in done.get("skipped", [])]
                    if not done.get("ok"):
                        errors.append(f"order {ext}: {done.get('error')}")
            return {"ok": not errors, "errors": errors, "products": len(self.products), "orders": len(self.orders),
                    "profiles": len(self.profiles)}

    def state(self) -> dict[str, Any]:
        with self.ctx.lock:
            demand = self._open_quantities(reserved_only=False)
            reserved = self._open_quantities(reserved_only=True)
            products = []
            for rec in self.products.values():
                pid = rec["id"]
                products.append({**rec["data"], "id": pid, "updatedAt": rec["updatedAt"].isoformat(),
                                 "stock": {"physical": self.stock[pid], "reserved": reserved[pid],
                                           "virtual": self.stock[pid] - demand[pid],
                                           "b_stock": self.b_stock.get(pid)}})
            orders = []
            for order in self.orders.values():
                orders.append({
                    "id": order["id"], "externalId": order["externalId"], **self.status_of(order),
                    "status": order["status"], "reserved": order["reserved"], "meta": order["meta"],
                    "receiver": order["meta"].get("receiver"), "positions": order["positions"],
                    "history": order["history"], "cancelReason": order["cancelReason"],
                    "parcels": [self._parcel_state(self.parcels[p]) for p in order["parcels"]]})
            # The admin view keeps one shape whatever the readings of the API answers.
            bookings = [{**self.booking_out(b, recipient=False, queue=True), "productId": str(b["productId"]),
                         "synched": b["synchedAt"] is not None} for b in self.bookings]
            stock = {rec["data"]["sku"]: self.stock[rec["id"]] for rec in self.products.values()}
            return {"products": products, "orders": orders, "bookings": bookings, "stock": stock,
                    "profiles": self.profiles}
