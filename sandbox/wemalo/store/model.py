"""wemalo's data model as the simulator keeps it: the order statuses and lifecycle, product and order fields,
the stock attributes, the time formats, and the business error (:class:`WemaloError`) app.py renders."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.wemalo.spec import PRODUCT_BOOLEANS, PRODUCT_NUMBERS, PRODUCT_STRINGS

BERLIN = ZoneInfo("Europe/Berlin")
DATETIME_FORMAT = "%d.%m.%Y %H:%M:%S"
HOUR_FORMAT = "%d%m%Y%H"

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
# Return bookings (returns/booked, getBookings): the field list's fields in its order, and the fields of the
# example's row in the example's order. The example is not JSON (`id=8219212`, `"bookingDate"="..."`), spells
# the first key `externaProductlId` (setting returns_external_product_key) and swaps productName's pair
# (`"test product": "productName"`): read as the field productName holding the product's name.
RETURN_FIELDS = ("externalProductId", "productId", "productName", "id", "bookingDate", "attributeCode",
                 "attributeDefault", "attributePackagingCode", "reasonCode", "serialNumber", "goodsReceiptExternalId",
                 "goodsReceiptDeliveryNumber", "goodsReceiptOrderNumber", "goodsOrderExternalId", "goodsOrderNumber",
                 "readyForShipment")
EXAMPLE_RETURN_FIELDS = ("externalProductId", "productId", "productName", "id", "bookingDate", "attributeCode",
                         "attributeDefault", "reasonCode")
# The attribute code of the default attribute ("e.g. 1. choice", the example's attributeCode with
# attributeDefault true); any other code is booked as B-stock (the simulator's one other attribute).
DEFAULT_ATTRIBUTE_CODE = "1. choice"
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


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
