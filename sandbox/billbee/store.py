"""The simulated Billbee account: articles, stock locations, orders, shipping providers, messages, stock writes.

Values are kept the way the real service serialises them (docs/api-contract.md):

* timestamps are naive ``datetime`` objects in the account's frame (setting ``timezone``); the JSON provider
  prints them with 0-3 fractional digits. Times made by the simulator are rounded to SQL Server ``datetime``
  ticks (1/300 s), which is why real values end in .xx0/.xx3/.xx7;
* money and quantities are ``Decimal`` with at least the scale the real service shows (``Quantity`` 3,
  ``TotalPrice`` 7, ...). Scales of article fields are not documented anywhere; they are guesses (4);
* ids are large int64 values from the ranges seen in real payloads.

Keys starting with ``_`` are simulator-internal (e.g. ``_CreatedAt`` of an article, which Billbee filters on but
never returns, or ``_Taken`` of an order, the stock it holds) and are stripped from API answers.

Stock follows what the vendor's documents say (docs/api-contract.md, "Billbee: stock"):

* an imported order lowers the stock of each item's article in the default stock location ("If true, the import of
  this order won't adjust the stock level" says ``OrderItem.DontAdjustStock``), by ``Quantity`` times the article's
  ``StockReduceItemsPerSale``; a bundle (``Type`` 2) keeps no stock of its own, its components are lowered by
  ``Amount`` x ``Quantity``. The article is the one the item is linked to (``Product.BillbeeId``, "The Billbee
  internal id of the linked product"), else the one with the item's SKU; ``Product.Id`` is the shop's own id;
* an order in state 14 (offered) holds no stock (Billbee's help on order states: an offer does not reduce stock);
  it takes its stock when it moves on. With setting ``restock_on_cancel`` an order moving to 6/8 gives back exactly
  what it took (``_Taken``), and takes it again if it moves back;
* the unfulfilled ("reserved") amount of an article is computed from the orders (settings ``unfulfilled_states``,
  ``dont_adjust_stock_reserves``), kept up to date per order change, and shown in the default stock's
  ``Stocks[].UnfulfilledAmount``, in the ``updatestock`` answer and by ``GET /products/reservedamount``;
* orders of a scenario are the account's existing data: its ``StockCurrent`` figures already reflect them, so they
  move no stock unless the scenario says ``"import_orders": true``. Editing an order's items (admin PATCH) moves no
  stock either; an order leaving through the admin DELETE keeps what it took.

Every public method takes ``ctx.lock`` and returns deep copies, so callers may serialise outside the lock (the
lists return :class:`Rows`, which copies a row when it is read: a page of 250 costs 250 copies, not the catalogue).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.core import SimContext

ORDER_ID_BASE = 300000180937794
ORDER_ITEM_ID_BASE = 300000305566341
ADDRESS_ID_BASE = 300000171849497
SHIPMENT_ID_BASE = 300000002945813
CUSTOMER_ID_BASE = 300000147804918
ARTICLE_ID_BASE = 100000317105650
DEFAULT_SHOP_ID = 100000000004711

ERROR_NAMES = (
    "NoError", "ApiNotActivated", "OrderNotFound", "InvoiceNotCreated", "CantCreateInvoice", "OrderCanceled",
    "OrderDeleted", "OrderNotPaid", "InternalError", "OrderExists", "WrongShopId", "InvalidData",
    "CreateUser_DuplicateEmail", "CreateUser_InvalidEmail", "CreateUser_UserRejected", "CreateUser_TermsNotAccepted",
    "NoPaidAccount", "APIServiceNotBooked", "CantCreateDeliveryNote",
)
# Order states whose quantities count as "not fulfilled" (the unfulfilled / reserved amount), default of the setting
# `unfulfilled_states`. Not documented; from the state list of PUT /orders/{id}/orderstate: every state whose name
# says neither that the goods have left (4 shipped, 5 reclamation, 17 return) nor that the order has ended (6 deleted,
# 7 closed, 8 canceled, 9 archived; 10 is "not used"): 1 ordered, 2 confirmed, 3 paid, 11/12 demand notes, 13 packed,
# 15 payment reminder, 16 fulfilling. 14 offered is out: an offer reduces no stock (Billbee's help on order states,
# which counts ordered and confirmed orders as open). The other reading (lenient profile) leaves out the dunning
# states 11, 12, 15, which on a purchase on account follow the invoice and often the shipment.
UNFULFILLED_STATES = (1, 2, 3, 11, 12, 13, 15, 16)
CANCELLED_STATES = frozenset({6, 8})  # deleted, canceled: the states setting `restock_on_cancel` gives stock back in
OFFERED_STATE = 14  # "Angeboten": holds no stock
ORDER_NOT_FOUND = 2
INTERNAL_ERROR = 8
INVALID_DATA = 11


def error_description(code: int, mode: Any) -> int | str:
    """`ErrorDescription` of an ApiResult: the vendor spec types it as a read-only int32 enum (setting
    `error_description` "number", the literal default); "name" gives the enum's name ("NoError")."""
    return ERROR_NAMES[code] if mode == "name" else code


ORDER_STATES = (
    (1, "Bestellt"), (2, "Bestaetigt"), (3, "Zahlung_erhalten"), (4, "Versendet"), (5, "Reklamation"),
    (6, "Geloescht"), (7, "Abgeschlossen"), (8, "Storniert"), (9, "Archiviert"), (10, "Rated"), (11, "Mahnung"),
    (12, "Mahnung2"), (13, "Gepackt"), (14, "Angeboten"), (15, "Zahlungserinnerung"), (16, "Im_Fulfillment"),
    (17, "Retoure"),
)

ORDER_FIELDS = (
    "RebateDifference", "ShippingIds", "AcceptLossOfReturnRight", "Id", "OrderNumber", "State", "VatMode",
    "CreatedAt", "ShippedAt", "ConfirmedAt", "PayedAt", "SellerComment", "Comments", "InvoiceNumberPrefix",
    "InvoiceNumberPostfix", "InvoiceNumber", "InvoiceDate", "InvoiceAddress", "ShippingAddress", "PaymentMethod",
    "ShippingCost", "TotalCost", "AdjustmentCost", "AdjustmentReason", "OrderItems", "Currency", "Seller", "Buyer",
    "UpdatedAt", "TaxRate1", "TaxRate2", "BillBeeOrderId", "BillBeeParentOrderId", "VatId", "Tags", "ShipWeightKg",
    "LanguageCode", "PaidAmount", "ShippingProfileId", "ShippingProviderId", "ShippingProviderProductId",
    "ShippingProviderName", "ShippingProviderProductName", "ShippingProfileName", "PaymentInstruction",
    "IsCancelationFor", "PaymentTransactionId", "DistributionCenter", "DeliverySourceCountryCode",
    "CustomInvoiceNote", "CustomerNumber", "PaymentReference", "ShippingServices", "Customer", "History", "Payments",
    "LastModifiedAt", "ArchivedAt", "RestoredAt", "ApiAccountId", "ApiAccountName", "MerchantVatId",
    "CustomerVatId", "IsFromBillbeeApi", "WebUrl",
)
WEB_URL = "https://app.billbee.io/app_v2/order/{}"  # the sandbox's own invention: the spec gives no format
ORDER_TIME_FIELDS = ("CreatedAt", "ShippedAt", "ConfirmedAt", "PayedAt", "InvoiceDate", "UpdatedAt",
                     "LastModifiedAt", "ArchivedAt", "RestoredAt")
ORDER_DECIMALS = {"RebateDifference": 1, "ShippingCost": 1, "TotalCost": 1, "AdjustmentCost": 1, "PaidAmount": 1,
                  "TaxRate1": 2, "TaxRate2": 2}
ADDRESS_FIELDS = ("BillbeeId", "FirstName", "LastName", "Company", "NameAddition", "Street", "HouseNumber", "Zip",
                  "City", "CountryISO2", "Country", "Line2", "Email", "State", "Phone")
ITEM_FIELDS = ("BillbeeId", "TransactionId", "Product", "Quantity", "TotalPrice", "TaxAmount", "TaxIndex", "Discount",
               "Attributes", "GetPriceFromArticleIfAny", "IsCoupon", "ShippingProfileId", "DontAdjustStock",
               "UnrebatedTotalPrice", "SerialNumber", "InvoiceSKU")
ITEM_DECIMALS = {"Quantity": 3, "TotalPrice": 7, "TaxAmount": 7, "UnrebatedTotalPrice": 7, "Discount": 1}
SOLD_PRODUCT_FIELDS = ("OldId", "Id", "Title", "Weight", "SKU", "SkuOrId", "IsDigital", "Images", "EAN",
                       "PlatformData", "TARICCode", "CountryOfOrigin", "BillbeeId", "Type")
SHIPMENT_FIELDS = ("BillbeeId", "ShippingId", "Shipper", "Created", "TrackingUrl", "ShippingProviderId",
                   "ShippingProviderProductId", "ShippingCarrier", "ShipmentType")
SELLER_FIELDS = ("Platform", "BillbeeShopName", "BillbeeShopId", "Id", "Nick", "FirstName", "LastName", "FullName",
                 "Email")

ARTICLE_FIELDS = (
    "InvoiceText", "Manufacturer", "Id", "Title", "Description", "ShortDescription", "BasicAttributes", "Images",
    "VatIndex", "Price", "CostPrice", "Vat1Rate", "Vat2Rate", "StockDesired", "StockCurrent", "StockWarning", "SKU",
    "EAN", "Materials", "Tags", "Sources", "Weight", "WeightNet", "LowStock", "StockCode", "StockReduceItemsPerSale",
    "Stocks", "Category1", "Category2", "Category3", "Type", "Unit", "UnitsPerItem", "SoldAmount", "SoldSumGross",
    "SoldSumNet", "SoldSumNetLast30Days", "SoldSumGrossLast30Days", "SoldAmountLast30Days", "ShippingProductId",
    "IsDigital", "IsCustomizable", "DeliveryTime", "Recipient", "Occasion", "CountryOfOrigin", "ExportDescription",
    "ExportDescriptionMultiLanguage", "TaricNumber", "Condition", "WidthCm", "LengthCm", "HeightCm",
    "BillOfMaterial", "CustomFields", "IsDeactivated",
)
ARTICLE_DECIMALS = {"Price": 4, "CostPrice": 4, "Vat1Rate": 2, "Vat2Rate": 2, "StockDesired": 4, "StockCurrent": 4,
                    "StockWarning": 4, "StockReduceItemsPerSale": 4, "UnitsPerItem": 4}
STOCK_ENTRY_FIELDS = ("Name", "StockId", "StockCurrent", "StockCurrentIsCalculated", "StockWarning", "StockCode",
                      "UnfulfilledAmount", "StockDesired")
STOCK_DECIMALS = {"StockCurrent": 4, "StockWarning": 4, "UnfulfilledAmount": 4, "StockDesired": 4}
STOCK_SCALE = 4


class ScenarioError(ValueError):
    """Admin input the simulator cannot take (answered with 400)."""


# -- value helpers ----------------------------------------------------------------------------------------


def to_decimal(value: Any, scale: int) -> Decimal | None:
    """A Decimal with at least `scale` fractional digits; longer fractions are kept (Billbee shows them too)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ScenarioError(f"not a number: {value!r}")
    try:
        dec = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ScenarioError(f"not a number: {value!r}") from exc
    if not dec.is_finite():
        raise ScenarioError(f"not a finite number: {value!r}")
    exponent = dec.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -scale:
        dec = dec.quantize(Decimal(1).scaleb(-scale))
    return dec


def stock_figure(value: Decimal) -> Decimal:
    """A stock figure the simulator computed (stock after an order, an unfulfilled amount): STOCK_SCALE places,
    as the figures of the articles are shown (a product of Quantity and Amount has more)."""
    return value.quantize(Decimal(1).scaleb(-STOCK_SCALE))


def parse_time(value: Any, zone: ZoneInfo) -> datetime | None:
    """ISO text (with or without offset) or datetime -> naive datetime in the account frame, ms precision."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ScenarioError(f"not a timestamp: {value!r}") from exc
    else:
        raise ScenarioError(f"not a timestamp: {value!r}")
    if dt.tzinfo is not None:
        dt = dt.astimezone(zone).replace(tzinfo=None)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def sql_round(dt: datetime) -> datetime:
    """Round to SQL Server `datetime` precision (ticks of 1/300 s)."""
    ticks = round(dt.microsecond * 300 / 1_000_000)
    base = dt.replace(microsecond=0)
    return base + timedelta(milliseconds=round(ticks * 10 / 3))


def format_time(dt: datetime) -> str:
    """'2026-11-26T13:31:59.317', '...:39.36', '...:02' — trailing zeros of the fraction dropped, as .NET does."""
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    ms = dt.microsecond // 1000
    return text + (f".{ms:03d}".rstrip("0") if ms else "")


def _int(value: Any, what: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ScenarioError(f"{what}: not an integer: {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ScenarioError(f"{what}: not an integer: {value!r}") from exc


def public(value: Any) -> Any:
    """Deep copy without simulator-internal keys (those starting with '_')."""
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items() if not (isinstance(k, str) and k.startswith("_"))}
    if isinstance(value, list):
        return [public(v) for v in value]
    if value is None or isinstance(value, (str, int, float, Decimal, date)):  # immutable: deepcopy's dispatch
        return value  # per leaf was most of a 250-order page's time
    return copy.deepcopy(value)


class Rows(Sequence[dict[str, Any]]):
    """The rows a list query matched (chosen under the lock), each copied by `convert` under the lock when read:
    the app slices one page of a list of 20,000 articles, so only that page is copied."""

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


def dedupe_tags(tags: Iterable[str]) -> list[str]:
    """Keep the first spelling of each tag, compared case-insensitively."""
    seen: set[str] = set()
    out = []
    for tag in tags:
        key = tag.casefold()
        if key not in seen:
            seen.add(key)
            out.append(tag)
    return out


def title_text(texts: Any, language: str = "DE") -> str | None:
    """The text of a MultiLanguageString list, preferring `language`."""
    if not isinstance(texts, list) or not texts:
        return None
    for entry in texts:
        if isinstance(entry, dict) and str(entry.get("LanguageCode") or "").upper() == language:
            return entry.get("Text")
    first = texts[0]
    return first.get("Text") if isinstance(first, dict) else None


@dataclass
class OrderFilter:
    min_order_date: datetime | None = None
    max_order_date: datetime | None = None
    shop_ids: list[int] = field(default_factory=list)
    state_ids: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    exclude_tags: bool = False
    tag_mode: str = "all"  # "all" | "any"
    tag_case_insensitive: bool = True
    minimum_order_id: int | None = None
    modified_min: datetime | None = None  # exclusive
    modified_max: datetime | None = None  # inclusive

    def matches(self, order: dict[str, Any]) -> bool:
        created = order.get("CreatedAt")
        if self.min_order_date and (created is None or created < self.min_order_date):
            return False
        if self.max_order_date and (created is None or created > self.max_order_date):
            return False
        if self.shop_ids and (order.get("Seller") or {}).get("BillbeeShopId") not in self.shop_ids:
            return False
        if self.state_ids and order.get("State") not in self.state_ids:
            return False
        if self.minimum_order_id is not None and order["BillBeeOrderId"] < self.minimum_order_id:
            return False
        modified = order.get("LastModifiedAt")
        if self.modified_min and (modified is None or modified <= self.modified_min):
            return False
        if self.modified_max and (modified is None or modified > self.modified_max):
            return False
        if self.tags:
            norm = (lambda t: t.casefold()) if self.tag_case_insensitive else (lambda t: t)
            have = {norm(t) for t in order.get("Tags") or []}
            wanted = [norm(t) for t in self.tags]
            if self.exclude_tags:
                return not any(t in have for t in wanted)
            hit = all if self.tag_mode != "any" else any
            return hit(t in have for t in wanted)
        return True


class BillbeeStore:
    """All data of one simulated Billbee account. Ids sort ascending, which is the simulator's list order."""

    def __init__(self, ctx: SimContext) -> None:
        self.ctx = ctx
        self.clear()

    # -- housekeeping ---------------------------------------------------------------------------------
    def clear(self) -> None:
        with self.ctx.lock:
            self.products: dict[int, dict[str, Any]] = {}
            self._sku_ids: dict[str, int] | None = None  # casefolded SKU -> lowest Id; built when first needed
            self.orders: dict[int, dict[str, Any]] = {}
            self.stocks: list[dict[str, Any]] = []
            self.providers: list[dict[str, Any]] = []
            self.messages: dict[int, list[dict[str, Any]]] = {}
            self.stock_writes: list[dict[str, Any]] = []
            self.shipment_requests: list[dict[str, Any]] = []
            self.throttled = 0  # number of 429s answered, for the "alternate" Retry-After setting
            self.clock_frozen: datetime | None = None
            self.clock_offset = timedelta(0)
            self._reserved: dict[int, Decimal] | None = None  # article id -> unfulfilled amount; None: rebuild
            self._reserved_key: tuple[Any, ...] = ()  # the settings `_reserved` was computed with
            self._next = {"order": ORDER_ID_BASE, "item": ORDER_ITEM_ID_BASE, "address": ADDRESS_ID_BASE,
                          "shipment": SHIPMENT_ID_BASE, "article": ARTICLE_ID_BASE, "customer": CUSTOMER_ID_BASE}

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(str(self.ctx.settings.get("timezone") or "UTC"))

    def now(self) -> datetime:
        with self.ctx.lock:
            if self.clock_frozen is not None:
                return self.clock_frozen
            real = datetime.now(self.zone).replace(tzinfo=None) + self.clock_offset
            return sql_round(real)

    def set_clock(self, body: dict[str, Any]) -> dict[str, Any]:
        """{"now": ts} freezes the clock, {"now": null} unfreezes it, {"advance_seconds": n} moves it on."""
        with self.ctx.lock:
            if "now" in body:
                self.clock_frozen = parse_time(body["now"], self.zone)
                self.clock_offset = timedelta(0)
            if "advance_seconds" in body:
                step = timedelta(seconds=float(body["advance_seconds"]))
                if self.clock_frozen is not None:
                    self.clock_frozen += step
                else:
                    self.clock_offset += step
            return {"now": self.now(), "frozen": self.clock_frozen is not None}

    def _new_id(self, kind: str, taken: Iterable[int] = ()) -> int:
        taken = set(taken)
        value = self._next[kind]
        while value in taken:
            value += 1
        self._next[kind] = value + 1
        return value

    def _see_id(self, kind: str, value: int) -> None:
        if value >= self._next[kind]:
            self._next[kind] = value + 1

    def _bump(self, order: dict[str, Any]) -> None:
        """LastModifiedAt = now, but always later than before so the change is visible to modifiedAtMin."""
        now = self.now()
        old = order.get("LastModifiedAt")
        if old is not None and now <= old:
            now = sql_round(old + timedelta(microseconds=3334))
        order["LastModifiedAt"] = now

    # -- scenario ---------------------------------------------------------------------------------------
    def load(self, scenario: dict[str, Any]) -> dict[str, Any]:
        """Replace all business data by `scenario` (keys products, orders, stocks, shipping_providers). The orders
        are the account's existing ones, already reflected in the articles' stock; with `"import_orders": true`
        they arrive after the catalogue and lower its stock as the admin route POST /_admin/orders does."""
        if not isinstance(scenario, dict):
            raise ScenarioError("scenario must be an object")
        unknown = set(scenario) - {"products", "orders", "stocks", "shipping_providers", "import_orders"}
        if unknown:
            raise ScenarioError(f"unknown scenario keys: {sorted(unknown)}")
        with self.ctx.lock:
            frozen, offset = self.clock_frozen, self.clock_offset
            self.clear()
            self.clock_frozen, self.clock_offset = frozen, offset
            self.stocks = [self._normalise_location(s) for s in scenario.get("stocks") or []]
            if self.stocks and not any(s["IsDefault"] for s in self.stocks):
                self.stocks[0]["IsDefault"] = True
            self.providers = [self._normalise_provider(p) for p in scenario.get("shipping_providers") or []]
            self.put_products(scenario.get("products") or [])
            self.add_orders(scenario.get("orders") or [], imported=bool(scenario.get("import_orders")))
            return {"products": len(self.products), "orders": len(self.orders), "stocks": len(self.stocks),
                    "shipping_providers": len(self.providers)}

    def state(self) -> dict[str, Any]:
        """Everything, internal keys included: orders carry `_Taken` (the [article id, quantity] pairs of stock
        they hold, or null), products the unfulfilled amounts the API shows, `reserved` the amounts per article
        id (bundles: their own open quantity)."""
        with self.ctx.lock:
            products = copy.deepcopy([self.products[k] for k in sorted(self.products)])
            for article in products:
                self._show_unfulfilled(article)
            return copy.deepcopy({
                "products": products,
                "reserved": {str(k): v for k, v in sorted(self._reserved_amounts().items()) if v},
                "orders": [self.orders[k] for k in sorted(self.orders)],
                "stocks": self.stocks,
                "shipping_providers": self.providers,
                "messages": {str(k): v for k, v in self.messages.items()},
                "stock_writes": self.stock_writes,
                "shipment_requests": self.shipment_requests,
                "clock": {"now": self.now(), "frozen": self.clock_frozen is not None},
            })

    # -- stock locations and shipping providers ---------------------------------------------------------
    def _normalise_location(self, raw: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(raw, dict) or _int(raw.get("Id"), "stock Id") is None:
            raise ScenarioError(f"stock location needs an Id: {raw!r}")
        return {"Id": int(raw["Id"]), "Name": raw.get("Name"), "Description": raw.get("Description"),
                "IsDefault": bool(raw.get("IsDefault", False))}

    def _normalise_provider(self, raw: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(raw, dict) or _int(raw.get("id"), "provider id") is None:
            raise ScenarioError(f"shipping provider needs an id: {raw!r}")
        products = []
        for prod in raw.get("products") or []:
            if _int(prod.get("id"), "provider product id") is None:
                raise ScenarioError(f"shipping provider product needs an id: {prod!r}")
            products.append({"id": int(prod["id"]), "displayName": prod.get("displayName"),
                             "productName": prod.get("productName"),
                             "_carrierId": _int(prod.get("_carrierId"), "_carrierId")})
        return {"id": int(raw["id"]), "name": raw.get("name"), "products": products}

    def list_stocks(self) -> list[dict[str, Any]]:
        with self.ctx.lock:
            return copy.deepcopy(self.stocks)

    def list_providers(self) -> list[dict[str, Any]]:
        with self.ctx.lock:
            return public(self.providers)

    def default_stock_id(self) -> int | None:
        return next((s["Id"] for s in self.stocks if s["IsDefault"]), None)

    # -- articles -----------------------------------------------------------------------------------------
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
        article_id = _int(raw.get("Id"), "product Id")
        if article_id is None:
            article_id = self._new_id("article", self.products)
        self._see_id("article", article_id)
        article["Id"] = article_id
        article["Type"] = _int(article["Type"], "Type") or 1
        article["_CreatedAt"] = parse_time(raw.get("_CreatedAt"), self.zone) or self.now()
        for key, scale in ARTICLE_DECIMALS.items():
            article[key] = to_decimal(article.get(key), scale)
        if article["Type"] == 2:
            article["BillOfMaterial"] = [
                {"Amount": to_decimal(b.get("Amount", 1), 4), "ArticleId": _int(b.get("ArticleId"), "ArticleId"),
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
        given = {_int(s.get("StockId"), "StockId"): s for s in raw.get("Stocks") or [] if isinstance(s, dict)}
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

    def update_stock(self, model: Any, endpoint: str, bom_mode: str = "error") -> dict[str, Any]:
        """One UpdateStockApiModel -> one ApiResult<UpdateStockResponseData>. Every call is recorded."""
        with self.ctx.lock:
            model = model if isinstance(model, dict) else {}
            sku, billbee_id = model.get("Sku"), model.get("BillbeeId")
            record: dict[str, Any] = {"Time": self.now(), "Endpoint": endpoint, "Sku": sku, "BillbeeId": billbee_id,
                                      "StockId": model.get("StockId"), "NewQuantity": model.get("NewQuantity"),
                                      "Reason": model.get("Reason"),
                                      "AutosubtractReservedAmount": model.get("AutosubtractReservedAmount"),
                                      "Result": "ok"}
            self.stock_writes.append(record)

            def fail(result: str, message: str) -> dict[str, Any]:
                record["Result"] = result
                return {"ErrorMessage": message, "ErrorCode": INVALID_DATA,
                        "ErrorDescription": self._describe(INVALID_DATA), "Data": None}

            article = None
            if sku:
                article = self._by_sku(sku)
            elif isinstance(billbee_id, int):
                article = self.products.get(billbee_id)
            if article is None:
                return fail("unknown_sku", f"Article not found: SKU '{sku}'" if sku
                            else f"Article not found: BillbeeId {billbee_id}")
            try:
                new_qty = to_decimal(model.get("NewQuantity"), STOCK_SCALE)
            except ScenarioError:
                new_qty = None
            if new_qty is None:
                return fail("invalid", f"SKU '{article.get('SKU')}': NewQuantity missing or not a number")
            if article["Type"] == 2:
                if bom_mode == "ignore":
                    record["Result"] = "bom_ignored"
                    return self._stock_result(article.get("SKU"), None, None, None, "Stock of a bundle not changed")
                return fail("bom", f"SKU '{article.get('SKU')}' is a bill of materials; it keeps no stock of its "
                                   "own, write the stock of its components")
            stock_id = model.get("StockId")
            if stock_id in (None, 0):
                stock_id = self.default_stock_id()
            entry = next((s for s in article["Stocks"] if s["StockId"] == stock_id), None)
            if entry is None:
                return fail("unknown_stock", f"SKU '{article.get('SKU')}': unknown StockId {model.get('StockId')}")
            zero = Decimal(0).quantize(Decimal(1).scaleb(-STOCK_SCALE))
            old = entry["StockCurrent"] if entry["StockCurrent"] is not None else zero
            unfulfilled = self._unfulfilled(article, entry)
            if unfulfilled is None:
                unfulfilled = zero
            if model.get("AutosubtractReservedAmount") is True:
                # "Automatically reduce the NewQuantity by the currently not fulfilled amount"; whether the result
                # may be negative is not documented (setting `autosubtract_below_zero`)
                new_qty = to_decimal(new_qty - unfulfilled, STOCK_SCALE)
                if new_qty is not None and new_qty < 0 and not self._setting("autosubtract_below_zero", True):
                    new_qty = zero
            entry["StockCurrent"] = new_qty
            self._sync_article_stock(article)
            record["OldStock"], record["CurrentStock"], record["UnfulfilledAmount"] = old, new_qty, unfulfilled
            # wording of the vendor's PHP SDK fixture: "The qty was successfully updated from 0 to 123"
            return self._stock_result(article.get("SKU"), old, new_qty, unfulfilled,
                                      f"The qty was successfully updated from {old.normalize():f} to "
                                      f"{new_qty.normalize():f}")

    def _stock_result(self, sku: Any, old: Any, new: Any, unfulfilled: Any, message: str) -> dict[str, Any]:
        return {"ErrorMessage": None, "ErrorCode": 0, "ErrorDescription": self._describe(0),
                "Data": {"SKU": sku, "OldStock": old, "CurrentStock": new, "UnfulfilledAmount": unfulfilled,
                         "Message": message}}

    # -- orders -------------------------------------------------------------------------------------------
    def add_orders(self, raws: list[dict[str, Any]], *, imported: bool = True) -> list[dict[str, Any]]:
        """New orders. `imported` (an order arriving from a shop, the admin route): it lowers the stock of its
        articles (setting `deduct_stock_on_import`; not items with DontAdjustStock, not in state 14). Otherwise
        (a scenario's existing orders) the stock it holds is noted but the figures are taken as given."""
        if not isinstance(raws, list):
            raise ScenarioError("orders must be a list")
        with self.ctx.lock:
            out = []
            for raw in raws:
                order = self._normalise_order(raw)
                if order["BillBeeOrderId"] in self.orders:
                    raise ScenarioError(f"order {order['BillBeeOrderId']} exists already")
                self.orders[order["BillBeeOrderId"]] = order
                self._sync_stock(order, move=imported)
                self._reserve(order, 1)
                out.append(order)
            return copy.deepcopy(out)

    # -- stock held by orders -----------------------------------------------------------------------------
    def _setting(self, name: str, literal: Any) -> Any:
        """A setting of the app (DEFAULT_SETTINGS); `literal` is its default for a store used without the app."""
        return self.ctx.settings.get(name, literal)

    def _describe(self, code: int) -> int | str:
        return error_description(code, self._setting("error_description", "number"))

    def _linked_article(self, product: dict[str, Any]) -> dict[str, Any] | None:
        """The article an order item is linked to: Product.BillbeeId, else the article with the item's SKU."""
        article = None
        if product.get("BillbeeId") is not None:
            try:
                article = self.products.get(int(product["BillbeeId"]))
            except (TypeError, ValueError):
                article = None
        if article is None and product.get("SKU"):
            article = self._by_sku(product["SKU"])
        return article

    def _item_units(self, item: dict[str, Any], *, bundle_itself: bool = False,
                    ) -> Iterator[tuple[dict[str, Any], Decimal]]:
        """(article, stock units) of one order item: Quantity x StockReduceItemsPerSale of a normal article, Amount x
        Quantity of each component of a bundle (and, with `bundle_itself`, the bundle's own Quantity)."""
        article = self._linked_article(item.get("Product") or {})
        quantity = item.get("Quantity")
        if article is None or not isinstance(quantity, Decimal):
            return
        if article.get("Type") == 2:
            if bundle_itself:
                yield article, quantity
            for line in article.get("BillOfMaterial") or []:
                component = self.products.get(line.get("ArticleId")) or (
                    self._by_sku(line["SKU"]) if line.get("SKU") else None)
                if component is not None:
                    yield component, quantity * Decimal(str(line.get("Amount") or 1))
        else:
            per_sale = article.get("StockReduceItemsPerSale")
            yield article, quantity * (per_sale if isinstance(per_sale, Decimal) else Decimal(1))

    def _holds_stock(self, state: Any) -> bool:
        """Whether an order in `state` has its stock taken: not an offer (14), nor 6/8 with `restock_on_cancel`."""
        if state == OFFERED_STATE:
            return False
        return not (state in CANCELLED_STATES and self._setting("restock_on_cancel", False))

    def _sync_stock(self, order: dict[str, Any], *, move: bool = True) -> None:
        """Take or give back the order's stock so that it matches its state. `_Taken` records what was taken, so a
        give-back returns exactly that. With `move` False (a scenario's own orders) or `deduct_stock_on_import`
        False only the record follows: the figures do not move."""
        want = self._holds_stock(order.get("State"))
        taken = order.get("_Taken")
        if want == (taken is not None):
            return
        move = move and bool(self._setting("deduct_stock_on_import", True))
        if want:
            units: dict[int, Decimal] = {}
            for item in order.get("OrderItems") or []:
                if item.get("DontAdjustStock"):  # "the import of this order won't adjust the stock level"
                    continue
                for article, quantity in self._item_units(item):
                    units[article["Id"]] = units.get(article["Id"], Decimal(0)) + quantity
            order["_Taken"] = [[article_id, quantity] for article_id, quantity in units.items()]
            sign = Decimal(-1)
        else:
            order["_Taken"] = None
            sign = Decimal(1)
        if move:
            for article_id, quantity in taken if taken is not None else order["_Taken"]:
                self._default_entry_add(article_id, sign * quantity)

    def _default_entry(self, article: dict[str, Any]) -> dict[str, Any] | None:
        default_id = self.default_stock_id()
        return next((e for e in article["Stocks"] if e["StockId"] == default_id), None) or (
            article["Stocks"][0] if article["Stocks"] else None)

    def _default_entry_add(self, article_id: int, delta: Decimal) -> None:
        article = self.products.get(article_id)
        entry = self._default_entry(article) if article is not None else None
        if article is not None and entry is not None:
            entry["StockCurrent"] = stock_figure((entry["StockCurrent"] or Decimal(0)) + delta)
            self._sync_article_stock(article)

    # -- unfulfilled (reserved) amounts -------------------------------------------------------------------
    def _reserve_key(self) -> tuple[Any, ...]:
        states = self._setting("unfulfilled_states", UNFULFILLED_STATES)
        return tuple(sorted(int(x) for x in states or ())), bool(self._setting("dont_adjust_stock_reserves", True))

    def _order_reservation(self, order: dict[str, Any], key: tuple[Any, ...]) -> Iterator[tuple[int, Decimal]]:
        states, dont_adjust_reserves = key
        if order.get("State") not in states:
            return
        for item in order.get("OrderItems") or []:
            if item.get("DontAdjustStock") and not dont_adjust_reserves:
                continue
            quantity = item.get("Quantity")
            if not isinstance(quantity, Decimal) or quantity <= 0:  # a credit line ships nothing
                continue
            for article, units in self._item_units(item, bundle_itself=True):
                yield article["Id"], units

    def _reserve(self, order: dict[str, Any], sign: int) -> None:
        """Add (`sign` 1) or remove (-1) the order's share of the unfulfilled amounts; call it around every change of
        an order. The amounts are rebuilt from all orders when the settings they depend on have changed."""
        if self._reserved is None or self._reserved_key != self._reserve_key():
            self._reserved = None
            return
        for article_id, units in self._order_reservation(order, self._reserved_key):
            self._reserved[article_id] = self._reserved.get(article_id, Decimal(0)) + sign * units

    def _reserved_amounts(self) -> dict[int, Decimal]:
        key = self._reserve_key()
        if self._reserved is None or self._reserved_key != key:
            self._reserved, self._reserved_key = {}, key
            for order in self.orders.values():
                self._reserve(order, 1)
        return self._reserved

    def _unfulfilled(self, article: dict[str, Any], entry: dict[str, Any]) -> Decimal | None:
        """UnfulfilledAmount of one stock entry. Orders reserve in the default stock location; other locations, and
        all of them with `unfulfilled_from_orders` False, show the figure the scenario gave."""
        if not self._setting("unfulfilled_from_orders", True) or article.get("Type") == 2:
            return entry.get("UnfulfilledAmount")
        default = self._default_entry(article)
        if default is None or entry.get("StockId") != default.get("StockId"):
            return entry.get("UnfulfilledAmount")
        return stock_figure(self._reserved_amounts().get(article["Id"], Decimal(0)))

    def reserved_amount(self, key: str, lookup_by: str, stock_id: int | None) -> tuple[Decimal | None, str | None]:
        """GET /products/reservedamount: (ReservedAmount, None) or (None, why not). A bundle keeps no stock: its
        amount is its own open quantity (its components carry theirs)."""
        with self.ctx.lock:
            article = self._lookup(key, lookup_by)
            if article is None:
                return None, f"Article not found ({lookup_by} '{key}')"
            if stock_id not in (None, 0) and all(s["Id"] != stock_id for s in self.stocks):
                return None, f"unknown stockId {stock_id}"
            if article.get("Type") == 2:
                amount = self._reserved_amounts().get(article["Id"], Decimal(0)) \
                    if self._setting("unfulfilled_from_orders", True) else Decimal(0)
                return stock_figure(amount), None
            wanted = self.default_stock_id() if stock_id in (None, 0) else stock_id
            entry = next((e for e in article["Stocks"] if e["StockId"] == wanted), None)
            amount = self._unfulfilled(article, entry) if entry is not None else None
            return stock_figure(amount if amount is not None else Decimal(0)), None

    def _normalise_order(self, raw: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise ScenarioError(f"order must be an object: {raw!r}")
        raw = copy.deepcopy(raw)
        unknown = set(raw) - set(ORDER_FIELDS)
        if unknown:
            raise ScenarioError(f"unknown order fields: {sorted(unknown)}")
        order: dict[str, Any] = dict.fromkeys(ORDER_FIELDS)
        order.update({"ShippingIds": [], "AcceptLossOfReturnRight": False, "State": 3, "VatMode": 0, "Comments": [],
                      "RebateDifference": 0, "ShippingCost": 0, "AdjustmentCost": 0, "Currency": "EUR",
                      "TaxRate1": 19, "TaxRate2": 7, "Tags": [], "PaidAmount": 0, "History": [], "Payments": [],
                      "IsFromBillbeeApi": False, "OrderItems": []})
        order.update(raw)
        order_id = _int(raw.get("BillBeeOrderId"), "BillBeeOrderId")
        if order_id is None:
            order_id = self._new_id("order", self.orders)
        self._see_id("order", order_id)
        order["BillBeeOrderId"] = order_id
        order["State"] = _int(order["State"], "State")
        for key in ORDER_TIME_FIELDS:
            order[key] = parse_time(order.get(key), self.zone)
        order["CreatedAt"] = order["CreatedAt"] or self.now()
        if order["State"] == 3 and "PayedAt" not in raw:
            order["PayedAt"] = order["CreatedAt"]
        order["LastModifiedAt"] = order["LastModifiedAt"] or order["CreatedAt"]
        order["Tags"] = dedupe_tags(str(t) for t in order.get("Tags") or [])
        order["ShippingAddress"] = self._normalise_address(order.get("ShippingAddress"))
        order["InvoiceAddress"] = (self._normalise_address(raw["InvoiceAddress"]) if raw.get("InvoiceAddress")
                                   else copy.deepcopy(order["ShippingAddress"]))
        order["OrderItems"] = [self._normalise_item(i) for i in order.get("OrderItems") or []]
        order["ShippingIds"] = [self._normalise_shipment(s) for s in order.get("ShippingIds") or []]
        seller = dict.fromkeys(SELLER_FIELDS)
        seller.update({"Platform": "Shopify", "BillbeeShopName": "Sandbox-Shop", "BillbeeShopId": DEFAULT_SHOP_ID})
        seller.update(order.get("Seller") or {})
        order["Seller"] = seller
        for user in (order["Seller"], order.get("Buyer")):
            if isinstance(user, dict) and user.get("FullName") is None:  # read-only: "firstname lastname"
                user["FullName"] = f"{user.get('FirstName') or ''} {user.get('LastName') or ''}".strip()
        if order.get("TotalCost") is None:
            # "The total cost excluding shipping cost"; setting `total_cost_includes_shipping` adds it
            total = sum((i["TotalPrice"] or Decimal(0) for i in order["OrderItems"]), Decimal(0))
            if self._setting("total_cost_includes_shipping", False):
                total += Decimal(str(order.get("ShippingCost") or 0))
            order["TotalCost"] = total
        if order.get("WebUrl") is None:
            order["WebUrl"] = WEB_URL.format(order_id)
        for key, scale in ORDER_DECIMALS.items():
            order[key] = to_decimal(order.get(key), scale)
        for entry in order["History"] + order["Comments"]:
            if isinstance(entry, dict) and "Created" in entry:
                entry["Created"] = parse_time(entry["Created"], self.zone)
        if isinstance(order.get("Customer"), dict) and order["Customer"].get("Id") is None:
            order["Customer"]["Id"] = self._new_id("customer")
        order["_Taken"] = None  # the stock the order holds, set by `_sync_stock`
        return order

    def _normalise_address(self, raw: Any) -> dict[str, Any] | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise ScenarioError(f"address must be an object: {raw!r}")
        address = dict.fromkeys(ADDRESS_FIELDS)
        address.update({k: v for k, v in raw.items() if k in ADDRESS_FIELDS})
        if address["BillbeeId"] is None:
            address["BillbeeId"] = self._new_id("address")
        else:
            self._see_id("address", int(address["BillbeeId"]))
        if address["Country"] is None:
            address["Country"] = address["CountryISO2"]
        return address

    def _normalise_item(self, raw: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise ScenarioError(f"order item must be an object: {raw!r}")
        item = dict.fromkeys(ITEM_FIELDS)
        item.update({"Quantity": 1, "TaxIndex": 1, "Discount": 0, "Attributes": [], "GetPriceFromArticleIfAny": False,
                     "IsCoupon": False, "DontAdjustStock": False})
        item.update(raw)
        if item["BillbeeId"] is None:
            item["BillbeeId"] = self._new_id("item")
        else:
            self._see_id("item", int(item["BillbeeId"]))
        product = dict.fromkeys(SOLD_PRODUCT_FIELDS)
        product.update({"IsDigital": False})
        product.update(raw.get("Product") or {})
        article = self._linked_article(product)
        if article is not None:
            given = raw.get("Product") or {}
            defaults = {"BillbeeId": article["Id"], "SKU": article.get("SKU"), "EAN": article.get("EAN"),
                        "Title": title_text(article.get("Title")), "Weight": article.get("Weight"),
                        "Type": article.get("Type"), "IsDigital": article.get("IsDigital")}
            for key, value in defaults.items():
                if key not in given:
                    product[key] = value
        if product.get("Type") is None and product.get("BillbeeId") is not None:
            product["Type"] = 1
        if product.get("SkuOrId") is None:
            product["SkuOrId"] = product.get("SKU") or product.get("Id")
        item["Product"] = product
        if item.get("TotalPrice") is None:
            price = Decimal(str(article["Price"])) if article and article.get("Price") is not None else Decimal(0)
            item["TotalPrice"] = price * Decimal(str(item["Quantity"]))
        if item.get("TaxAmount") is None:
            item["TaxAmount"] = Decimal(str(item["TotalPrice"])) * 19 / 119
        if item.get("UnrebatedTotalPrice") is None:
            item["UnrebatedTotalPrice"] = item["TotalPrice"]
        if item.get("InvoiceSKU") is None:
            item["InvoiceSKU"] = product.get("SKU")
        for key, scale in ITEM_DECIMALS.items():
            item[key] = to_decimal(item.get(key), scale)
        return item

    def _normalise_shipment(self, raw: dict[str, Any]) -> dict[str, Any]:
        shipment = dict.fromkeys(SHIPMENT_FIELDS)
        shipment.update({"TrackingUrl": "-", "ShipmentType": 0})
        shipment.update({k: v for k, v in raw.items() if k in SHIPMENT_FIELDS})
        if shipment["BillbeeId"] is None:
            shipment["BillbeeId"] = self._new_id("shipment")
        else:
            self._see_id("shipment", int(shipment["BillbeeId"]))
        shipment["Created"] = parse_time(shipment.get("Created"), self.zone) or self.now()
        return shipment

    def _order(self, order_id: int | str) -> dict[str, Any] | None:
        try:
            return self.orders.get(int(order_id))
        except (TypeError, ValueError):
            return None

    def has_order(self, order_id: int | str) -> bool:
        with self.ctx.lock:
            return self._order(order_id) is not None

    def _public_order(self, order: dict[str, Any], title_source: int) -> dict[str, Any]:
        out = public(order)
        if not self._setting("order_web_url", True):
            del out["WebUrl"]
        if title_source in (1, 2):
            for item in out["OrderItems"]:
                article = self.products.get(item["Product"].get("BillbeeId") or -1)
                if article is not None:
                    text = title_text(article.get("Title" if title_source == 1 else "InvoiceText"))
                    if text:
                        item["Product"]["Title"] = text
        return out

    def get_order(self, order_id: int | str, title_source: int = 0) -> dict[str, Any] | None:
        with self.ctx.lock:
            order = self._order(order_id)
            return self._public_order(order, title_source) if order else None

    def list_orders(self, flt: OrderFilter, title_source: int = 0) -> Rows:
        with self.ctx.lock:
            rows = [self.orders[k] for k in sorted(self.orders) if flt.matches(self.orders[k])]
            return Rows(self.ctx.lock, rows, lambda order: self._public_order(order, title_source))

    def add_tags(self, order_id: int | str, tags: list[str], bump: bool) -> bool:
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return False
            order["Tags"] = dedupe_tags([*order["Tags"], *tags])
            if bump:
                self._bump(order)
            return True

    def replace_tags(self, order_id: int | str, tags: list[str], bump: bool) -> bool:
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return False
            order["Tags"] = dedupe_tags(tags)
            if bump:
                self._bump(order)
            return True

    def set_state(self, order_id: int | str, state: int) -> bool:
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return False
            self._reserve(order, -1)
            order["State"] = state
            self._bump(order)
            self._sync_stock(order)
            self._reserve(order, 1)
            return True

    def provider_problem(self, body: dict[str, Any]) -> str | None:
        """Why a shipment's provider/product ids do not exist in the account, or None."""
        with self.ctx.lock:
            pid, ppid = body.get("ShippingProviderId"), body.get("ShippingProviderProductId")
            provider = next((p for p in self.providers if p["id"] == pid), None) if pid is not None else None
            if pid is not None and provider is None:
                return f"unknown ShippingProviderId {pid}"
            if ppid is not None:
                pool = provider["products"] if provider else [x for p in self.providers for x in p["products"]]
                if not any(x["id"] == ppid for x in pool):
                    return f"unknown ShippingProviderProductId {ppid}"
            return None

    def add_shipment(self, order_id: int | str, body: dict[str, Any]) -> dict[str, Any] | None:
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return None
            pid, ppid = body.get("ShippingProviderId"), body.get("ShippingProviderProductId")
            provider = next((p for p in self.providers if p["id"] == pid), None)
            product = None
            for prov in self.providers:
                for prod in prov["products"]:
                    if prod["id"] == ppid:
                        product, provider = prod, provider or prov
            carrier = body.get("CarrierId")
            if carrier is None and product is not None:
                carrier = product.get("_carrierId")
            shipment = {"BillbeeId": self._new_id("shipment"), "ShippingId": body.get("ShippingId"),
                        "Shipper": provider["name"] if provider else None, "Created": self.now(),
                        "TrackingUrl": "-", "ShippingProviderId": provider["id"] if provider else pid,
                        "ShippingProviderProductId": ppid, "ShippingCarrier": carrier,
                        "ShipmentType": body.get("ShipmentType") or 0}
            order["ShippingIds"].append(shipment)
            self.shipment_requests.append({"Time": shipment["Created"], "BillBeeOrderId": order["BillBeeOrderId"],
                                           "Body": copy.deepcopy(body)})
            self._bump(order)
            return copy.deepcopy(shipment)

    def add_message(self, order_id: int | str, body: dict[str, Any]) -> bool:
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return False
            self.messages.setdefault(order["BillBeeOrderId"], []).append(
                {"Created": self.now(), "IsInternal": body.get("IsInternal"), "SenderName": body.get("SenderName"),
                 "Text": body.get("Text")})
            self._bump(order)
            return True

    # -- merchant edits (admin) ---------------------------------------------------------------------------
    def patch_order(self, order_id: int | str, changes: dict[str, Any]) -> dict[str, Any] | None:
        if not isinstance(changes, dict):
            raise ScenarioError("order changes must be an object")
        unknown = set(changes) - set(ORDER_FIELDS)
        if unknown:
            raise ScenarioError(f"unknown order fields: {sorted(unknown)}")
        if "BillBeeOrderId" in changes:
            raise ScenarioError("BillBeeOrderId cannot be changed")
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return None
            merged = public(order)  # renormalise through the same path as new orders
            for key, value in changes.items():
                if key in ("ShippingAddress", "InvoiceAddress") and isinstance(value, dict) and merged.get(key):
                    merged[key] = {**merged[key], **value}
                else:
                    merged[key] = value
            if "OrderItems" in changes:
                merged["TotalCost"] = changes.get("TotalCost")
            merged["LastModifiedAt"] = order["LastModifiedAt"]
            new = self._normalise_order(merged)
            if "LastModifiedAt" in changes and changes["LastModifiedAt"] is not None:
                new["LastModifiedAt"] = parse_time(changes["LastModifiedAt"], self.zone)
            else:
                self._bump(new)
            new["_Taken"] = order.get("_Taken")  # edited items move no stock; a state change does
            self._reserve(order, -1)
            self.orders[new["BillBeeOrderId"]] = new
            self._sync_stock(new)
            self._reserve(new, 1)
            return copy.deepcopy(new)

    def delete_order(self, order_id: int | str) -> bool:
        with self.ctx.lock:
            order = self._order(order_id)
            if order is None:
                return False
            self._reserve(order, -1)
            del self.orders[order["BillBeeOrderId"]]
            self.messages.pop(order["BillBeeOrderId"], None)
            return True
